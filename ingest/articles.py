"""Build one ready-to-store article from a file: read, clean, tag, chunk.

This is the only place that decides which metadata wins: declared (sidecar
manifest, then front matter, then the page's own markup) over detected. The
outlet is always a registry canonical name when the registry knows it, so
citations agree across files; ``ingest.attribution`` decides it and records
how.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dateutil import parser as date_parser

from ingest.chunking import Chunk, Chunker
from ingest.cleaning import clean_text
from ingest.attribution import attribute
from ingest.metadata import detect_metadata, page_title
from ingest.outlets import OutletRegistry
from ingest.pagemeta import is_web_url
from ingest.reading import ArticleRejected, read_article_file
from vectorstore.catalog import ArticleRecord

# Bump when title, date or outlet rules change: stored articles are then re-tagged, not re-embedded.
TAGGING_VERSION = "2"


@dataclass
class PreparedArticle:
    record: ArticleRecord
    cleaned: str
    chunks: list[Chunk]

    def chunk_metadatas(self) -> list[dict]:
        """What each stored chunk carries.

        Beyond the shared fields, everything else the catalog record holds rides along (author, path,
        fingerprint, tagging stamp, chunk count, ingest time), so ``newsdesk repair`` can rebuild the catalog from the chunks.
        """
        record = self.record
        extra = {"author": record.author, "path": record.path, "fingerprint": record.fingerprint,
                 "tagging": record.tagging, "chunk_count": len(self.chunks), "ingested_at": time.time()}
        shared = {key: value for key, value in {**shared_metadata(record), **extra}.items() if value is not None}
        source = record.source
        return [
            {**shared, "chunk_index": c.index, "chunk_id": f"{source}#{c.index}", "start": c.start, "end": c.end}
            for c in self.chunks
        ]


def shared_metadata(record: ArticleRecord) -> dict:
    """The article-level fields every chunk carries; None means "not known" (Chroma cannot store None)."""
    return {
        "source": record.source,
        "outlet": record.outlet,
        "outlet_basis": record.outlet_basis,
        "title": record.title,
        "published": record.published.isoformat() if record.published else None,
        "url": record.url,
        "doc_hash": record.doc_hash,
        "version": record.version,
    }


def file_fingerprint(raw: bytes, declared: dict[str, str], ingest_signature: str) -> str:
    """Changes when the bytes, the declared metadata or the ingest settings change.

    The outlet registry is deliberately not part of it: a registry change
    re-tags articles (see ``ArticleBuilder.tagging``) without re-embedding them.
    """
    digest = hashlib.sha256(raw)
    digest.update(repr(sorted(declared.items())).encode())
    digest.update(ingest_signature.encode())
    return digest.hexdigest()


class ArticleBuilder:
    """Turns files into ``PreparedArticle``s, or raises ``ArticleRejected`` with a reason."""

    def __init__(self, registry: OutletRegistry, chunker: Chunker, max_bytes: int) -> None:
        self.registry = registry
        self.chunker = chunker
        self.max_bytes = max_bytes

    @property
    def tagging(self) -> str:
        """Identifies the tagging rules and registry an article's metadata was derived with."""
        return f"{TAGGING_VERSION}:{self.registry.digest[:16]}"

    def build(self, path: Path, source: str, sidecar: dict[str, str], fingerprint: str) -> PreparedArticle:
        """Read, clean, tag and chunk one file."""
        article = self.describe(path, source, sidecar, fingerprint)
        article.chunks = self.chunker.split(article.cleaned)
        article.record.chunks = len(article.chunks)
        return article

    def describe(self, path: Path, source: str, sidecar: dict[str, str], fingerprint: str) -> PreparedArticle:
        """Read, clean and tag one file, without chunking: enough to re-tag a stored article."""
        file_text = read_article_file(path, self.max_bytes)
        cleaned = clean_text(file_text.text)
        if not cleaned.strip():
            raise ArticleRejected("no article text is left after removing page clutter")
        declared = {**file_text.declared, **sidecar}
        detected = detect_metadata(file_text.text, cleaned)
        url = declared.get("url")
        attribution, notes = attribute(
            self.registry,
            file_text.text,
            front_matter=file_text.declared.get("outlet"),
            sidecar=sidecar.get("outlet"),
            publishers=file_text.publishers,
            url=url,
        )
        notes = [*file_text.notes, *notes]
        site_names = [attribution.outlet, *(name for _, name in file_text.publishers)]
        record = ArticleRecord(
            source=source,
            outlet=attribution.outlet,
            outlet_basis=attribution.basis,
            title=declared.get("title") or page_title(file_text.titles, site_names) or detected.title,
            published=_parse_declared_date(declared.get("published"), notes) or detected.published,
            author=declared.get("author") or detected.author,
            url=url if url and is_web_url(url) else None,
            chunks=0,
            path=str(path.resolve()),
            doc_hash=hashlib.sha256(cleaned.encode()).hexdigest(),
            fingerprint=fingerprint,
            tagging=self.tagging,
            notes=notes,
        )
        return PreparedArticle(record=record, cleaned=cleaned, chunks=[])


def _parse_declared_date(value: str | None, notes: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date_parser.parse(value).date()
    except (ValueError, OverflowError):
        notes.append(f"published date '{value}' is not a date; ignored")
        return None
