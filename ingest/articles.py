"""Build one ready-to-store article from a file: read, clean, tag, chunk.

This is the only place that decides which metadata wins: declared (sidecar
manifest, then front matter) over detected. The outlet is always a registry
canonical name when the registry knows it, so citations agree across files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dateutil import parser as date_parser

from ingest.chunking import Chunk, Chunker
from ingest.cleaning import clean_text
from ingest.metadata import detect_metadata
from ingest.outlets import UNKNOWN_OUTLET, OutletRegistry
from ingest.reading import ArticleRejected, read_article_file
from vectorstore.catalog import ArticleRecord


@dataclass
class PreparedArticle:
    record: ArticleRecord
    cleaned: str
    chunks: list[Chunk]

    def chunk_metadatas(self) -> list[dict]:
        """What each stored chunk carries; Chroma metadata cannot hold None, so unknowns are left out."""
        record = self.record
        shared = {
            "source": record.source,
            "outlet": record.outlet,
            "title": record.title,
            "published": record.published.isoformat() if record.published else None,
            "doc_hash": record.doc_hash,
            "version": record.version,
        }
        shared = {key: value for key, value in shared.items() if value is not None}
        return [
            {**shared, "chunk_index": c.index, "chunk_id": f"{record.source}#{c.index}", "start": c.start, "end": c.end}
            for c in self.chunks
        ]


def file_fingerprint(raw: bytes, declared: dict[str, str], ingest_signature: str) -> str:
    """Changes when the bytes, the declared metadata or the ingest settings change."""
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

    def build(self, path: Path, sidecar: dict[str, str], fingerprint: str) -> PreparedArticle:
        file_text = read_article_file(path, self.max_bytes)
        cleaned = clean_text(file_text.text)
        if not cleaned.strip():
            raise ArticleRejected("no article text is left after removing page clutter")
        declared = {**file_text.declared, **sidecar}
        detected = detect_metadata(file_text.text, cleaned)
        notes = list(file_text.notes)
        record = ArticleRecord(
            source=path.name,
            outlet=self._outlet(file_text.text, declared, notes),
            title=declared.get("title") or detected.title,
            published=_parse_declared_date(declared.get("published"), notes) or detected.published,
            author=declared.get("author") or detected.author,
            url=declared.get("url"),
            chunks=0,
            path=str(path.resolve()),
            doc_hash=hashlib.sha256(cleaned.encode()).hexdigest(),
            fingerprint=fingerprint,
            notes=notes,
        )
        chunks = self.chunker.split(cleaned)
        record.chunks = len(chunks)
        return PreparedArticle(record=record, cleaned=cleaned, chunks=chunks)

    def _outlet(self, text: str, declared: dict[str, str], notes: list[str]) -> str:
        """Declared outlet (canonicalised), else self-identification in the text or URL."""
        name = declared.get("outlet")
        if name:
            canonical = self.registry.canonical(name)
            if canonical is None and name.casefold() != UNKNOWN_OUTLET:
                notes.append(f"outlet '{name}' is not in the outlet registry; kept as declared")
            return canonical or name
        return self.registry.detect(text, url=declared.get("url"), sitename=declared.get("sitename"))


def _parse_declared_date(value: str | None, notes: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date_parser.parse(value).date()
    except (ValueError, OverflowError):
        notes.append(f"published date '{value}' is not a date; ignored")
        return None
