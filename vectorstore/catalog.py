"""The catalog: which version of which article is committed, in one atomically replaced JSON file.

Chroma has no multi-batch transactions, so "a document is written whole or
not at all" is built on top of it: an article's chunks are written first,
tagged with a version key, and only become visible when the catalog names
that version. The catalog is replaced with ``os.replace``, which is atomic on
POSIX, so a crash leaves either the old catalog or the new one, never half.
Chunks whose version no catalog names are garbage from an interrupted run and
are removed by the next ingest.

A store always has a catalog file once it exists (``ChunkStore`` writes an
empty one for a new store), so a missing or unreadable file is damage, never
"nothing ingested": reading it raises ``CatalogDamaged`` instead of returning
an empty catalog that an ingest would then garbage-collect every chunk against.
The interface is ``articles``, ``commit``, ``remove`` and ``replace_all``, so
the catalog can move into another backend without touching its callers.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, Field, ValidationError

from vectorstore.errors import CatalogDamaged

CATALOG_FILE = "catalog.json"
CATALOG_FORMAT = 1
_UNREAD = object()  # the stamp before the first read, so a missing file is read (and reported) too


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
    path: str = Field(default="", description="Where the file was read from; not shown by the API, so a remote copy has none.")
    doc_hash: str = Field(description="sha256 of the cleaned text.")
    fingerprint: str = Field(description="sha256 of the file bytes, declared metadata and ingest settings.")
    tagging: str | None = Field(default=None, description="Tagging rules and outlet registry the metadata came from.")
    notes: list[str] = Field(default_factory=list, description="Warnings raised while ingesting.")

    def public(self) -> dict:
        """The record as ``sources --json`` and ``GET /api/sources`` show it: without the server's own file path."""
        return self.model_dump(mode="json", exclude={"path"})

    @property
    def version(self) -> str:
        """The key that ties stored chunks to this exact version of the article."""
        return f"{self.doc_hash[:16]}:{self.source}"


@dataclass(frozen=True)
class CatalogView:
    """One committed state, with what the query path derives from it computed once per change, not per question.

    ``generation`` grows by one with every change this process sees, so a
    reader (the lexical index) can tell cheaply whether it must sync.
    """

    articles: Mapping[str, ArticleRecord]
    versions: frozenset[str]
    outlets: tuple[str, ...]
    generation: int

    @classmethod
    def of(cls, articles: dict[str, ArticleRecord], generation: int) -> CatalogView:
        records = articles.values()
        return cls(
            articles=MappingProxyType(articles),
            versions=frozenset(record.version for record in records),
            outlets=tuple(sorted({record.outlet for record in records})),
            generation=generation,
        )


class Catalog:
    """Committed articles keyed by source; reloaded from disk when another process changed it.

    The server reads it from many threads, so the view and the file stamp it
    belongs to change together under one lock. Readers get a read-only view,
    never a copy, so a large archive costs nothing per question.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / CATALOG_FILE
        self._view = CatalogView.of({}, 0)
        self._loaded_stamp: object = _UNREAD
        self._lock = threading.Lock()

    def view(self) -> CatalogView:
        """The current committed state (a fresh read if the file changed)."""
        with self._lock:
            stamp = self._stamp()
            if stamp != self._loaded_stamp:
                self._view = CatalogView.of(self._read(), self._view.generation + 1)
                self._loaded_stamp = stamp
            return self._view

    def articles(self) -> Mapping[str, ArticleRecord]:
        """The committed articles by source (read-only)."""
        return self.view().articles

    def versions(self) -> frozenset[str]:
        """The committed version keys: what a chunk must carry to be visible."""
        return self.view().versions

    def outlets(self) -> tuple[str, ...]:
        """The outlets of the committed articles, sorted."""
        return self.view().outlets

    @property
    def generation(self) -> int:
        return self.view().generation

    def commit(self, *records: ArticleRecord) -> None:
        """Make each record the committed version of its article, in one atomic write."""
        articles = dict(self.articles())
        articles.update((record.source, record) for record in records)
        self._write(articles)

    def remove(self, source: str) -> None:
        articles = dict(self.articles())
        articles.pop(source, None)
        self._write(articles)

    def replace_all(self, records: list[ArticleRecord]) -> None:
        """Write a whole new catalog (``newsdesk repair``, and the empty one of a new store)."""
        self._write({record.source: record for record in records})

    def exists(self) -> bool:
        return self.path.exists()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def _read(self) -> dict[str, ArticleRecord]:
        """The committed articles; a missing, truncated or malformed file is ``CatalogDamaged``, never empty."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {str(source): ArticleRecord.model_validate(item) for source, item in data["articles"].items()}
        except FileNotFoundError:
            raise CatalogDamaged(self.path, "is missing") from None
        except OSError as error:
            raise CatalogDamaged(self.path, f"cannot be read ({error.strerror or error})") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CatalogDamaged(self.path, f"is not valid JSON ({error})") from None
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"]) or "record"
            raise CatalogDamaged(self.path, f"has an invalid article record ({where}: {problem['msg']})") from None
        except (KeyError, TypeError, AttributeError) as error:
            raise CatalogDamaged(self.path, f"does not have the catalog's shape ({type(error).__name__}: {error})") from None

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
            self._view = CatalogView.of(articles, self._view.generation + 1)
            self._loaded_stamp = self._stamp()
