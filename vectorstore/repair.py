"""Rebuild the catalog from the chunks themselves, for ``newsdesk repair``.

Every chunk carries its article's source, outlet, title, date and version key
(and, since this module exists, the article's chunk count, fingerprint, path,
author, url and ingest time), so a lost or damaged catalog can be rebuilt
without reading a file or embedding anything. Only complete versions are
restored: a version missing a chunk is what an interrupted ingest leaves, and
stays invisible garbage for the next ingest to remove.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from vectorstore.catalog import ArticleRecord


def records_from_chunks(metadatas: Iterable[dict]) -> list[ArticleRecord]:
    """One record per source: its newest complete stored version."""
    by_version: dict[str, list[dict]] = defaultdict(list)
    for meta in metadatas:
        if meta and meta.get("version") and meta.get("source"):
            by_version[meta["version"]].append(meta)
    best: dict[str, tuple[tuple[float, int], ArticleRecord]] = {}
    for chunks in by_version.values():
        record = _complete_record(chunks)
        if record is None:
            continue
        rank = (float(chunks[0].get("ingested_at", 0.0)), record.chunks)
        if record.source not in best or rank > best[record.source][0]:
            best[record.source] = (rank, record)
    return sorted((record for _, record in best.values()), key=lambda r: r.source)


def _complete_record(chunks: list[dict]) -> ArticleRecord | None:
    """The record of one version, or None when some of its chunks are missing."""
    first = chunks[0]
    indices = {int(meta.get("chunk_index", -1)) for meta in chunks}
    expected = int(first.get("chunk_count", max(indices) + 1))
    if indices != set(range(expected)):
        return None
    return ArticleRecord(
        source=first["source"],
        outlet=first.get("outlet", "unknown"),
        outlet_basis=first.get("outlet_basis", "none"),
        title=first.get("title"),
        published=first.get("published"),
        author=first.get("author"),
        url=first.get("url"),
        chunks=expected,
        path=first.get("path", first["source"]),
        doc_hash=first.get("doc_hash", ""),
        fingerprint=first.get("fingerprint", ""),
        tagging=first.get("tagging"),
        notes=["rebuilt by `newsdesk repair` from the stored chunks"],
    )
