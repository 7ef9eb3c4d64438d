"""The catalog: which version of which article is committed, in one atomically replaced JSON file.

Chroma has no multi-batch transactions, so "a document is written whole or
not at all" is built on top of it: an article's chunks are written first,
tagged with a version key, and only become visible when the catalog names
that version. The catalog is replaced with ``os.replace``, which is atomic on
POSIX, so a crash leaves either the old catalog or the new one, never half.
Chunks whose version no catalog names are garbage from an interrupted run and
are removed by the next ingest.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field

CATALOG_FILE = "catalog.json"
CATALOG_FORMAT = 1


class ArticleRecord(BaseModel):
    """One ingested article, as ``newsdesk sources --json`` lists it."""

    source: str = Field(description="The path relative to the folder it was ingested from, with / separators.")
    outlet: str
    outlet_basis: str = Field(
        default="not recorded",
        description="How the outlet was found (front matter, og:site_name, url domain, sign-off, none, ...).",
    )
    title: str | None = None
    published: date | None = None
    author: str | None = None
    url: str | None = None
    chunks: int = Field(description="Number of chunks stored.")
    path: str = Field(description="Where the file was read from.")
    doc_hash: str = Field(description="sha256 of the cleaned text.")
    fingerprint: str = Field(description="sha256 of the file bytes, declared metadata and ingest settings.")
    tagging: str | None = Field(default=None, description="Tagging rules and outlet registry the metadata came from.")
    notes: list[str] = Field(default_factory=list, description="Warnings raised while ingesting.")

    @property
    def version(self) -> str:
        """The key that ties stored chunks to this exact version of the article."""
        return f"{self.doc_hash[:16]}:{self.source}"


class Catalog:
    """Committed articles keyed by source; reloaded from disk when another process changed it.

    The server reads it from many threads, so the in-memory copy and the file
    stamp it belongs to change together under one lock.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / CATALOG_FILE
        self._articles: dict[str, ArticleRecord] = {}
        self._loaded_stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def articles(self) -> dict[str, ArticleRecord]:
        """The current committed articles (a fresh read if the file changed)."""
        with self._lock:
            stamp = self._stamp()
            if stamp != self._loaded_stamp:
                self._articles = self._read()
                self._loaded_stamp = stamp
            return dict(self._articles)

    def commit(self, *records: ArticleRecord) -> None:
        """Make each record the committed version of its article, in one atomic write."""
        articles = self.articles()
        articles.update((record.source, record) for record in records)
        self._write(articles)

    def remove(self, source: str) -> None:
        articles = self.articles()
        articles.pop(source, None)
        self._write(articles)

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def _read(self) -> dict[str, ArticleRecord]:
        if not self.path.exists():
            return {}
        data = json.loads(self.path.read_text(encoding="utf-8"))
        return {source: ArticleRecord.model_validate(item) for source, item in data["articles"].items()}

    def _write(self, articles: dict[str, ArticleRecord]) -> None:
        payload = {
            "format": CATALOG_FORMAT,
            "articles": {source: articles[source].model_dump(mode="json") for source in sorted(articles)},
        }
        fd, tmp = tempfile.mkstemp(prefix=".catalog-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, indent=1, ensure_ascii=False)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        with self._lock:
            self._articles = articles
            self._loaded_stamp = self._stamp()
