"""The catalog's rows in Chroma: one row per article in a collection beside the chunks, plus pending-write markers.

The catalog lives with the chunks so that a Chroma server holds the whole
state, and any number of replicas and ingest workers can share it. Upserting
an article's row is its commit point: one small write, whatever the size of
the archive. A removal is a tombstone row (``removed`` with a fresh
``committed_at``) rather than a delete, so other processes learn of it through
the same "what changed since" query as of a commit. Every query here has a
filter of constant size.

A pending marker (id ``pending:<version>``) announces a version before its
chunks are written and names its writer (host, pid, start time), so that the
next ingest can tell a dead writer's leftovers from a live worker's chunks.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pydantic import ValidationError

from vectorstore.errors import CatalogDamaged, chroma_failures
from vectorstore.records import ArticleRecord, Row

RECORDS_SUFFIX = "_articles"
PENDING = "pending:"
PAGE = 5000  # Chroma refuses one read of more than about 30,000 rows ("too many SQL variables")
POINT = [1.0]  # rows are found by id and metadata, never by similarity: one number, so nothing is ever embedded
SLOW_COMMIT_S = 2.0  # a commit that took longer is stamped again, so readers' look-back window (catalog.SKEW_S) covers it


@dataclass(frozen=True)
class Change:
    """A row as read back: the article's committed row, or None for a removal."""

    source: str
    committed_at: float
    row: Row | None


@dataclass(frozen=True)
class PendingWrite:
    """A version being written (or removed) and who is doing it."""

    version: str
    source: str
    host: str
    pid: int
    started_at: float

    @classmethod
    def mine(cls, version: str, source: str) -> PendingWrite:
        return cls(version, source, socket.gethostname(), os.getpid(), time.time())

    def abandoned(self, now: float, stale_s: float) -> bool:
        """Its writer is gone (same host, process dead) or it is older than ``stale_s``, whoever wrote it."""
        if self.started_at < now - stale_s:
            return True
        return self.host == socket.gethostname() and (self.pid == os.getpid() or not _alive(self.pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class CatalogRows:
    """The rows collection (``<collection>_articles``) of one chunk collection."""

    def __init__(self, collection, label: str) -> None:  # collection: chromadb Collection
        self.collection = collection
        self.label = label

    @property
    def id(self) -> str:
        return str(self.collection.id)

    @contextmanager
    def _guard(self, action: str, consequence: str = "") -> Iterator[None]:
        """A vanished rows collection is damage (``newsdesk repair``), any other failure a store failure."""
        from chromadb.errors import NotFoundError

        with chroma_failures(action, consequence):
            try:
                yield
            except NotFoundError as error:
                raise CatalogDamaged(f"({self.label})", "is missing") from error

    # Commits and removals

    def write(self, records: list[ArticleRecord]) -> list[Change]:
        """Commit ``records``: after this returns, every reader's next refresh sees them."""
        return self._stamped([r.source for r in records], lambda now: [_article_meta(r, now) for r in records],
                             lambda now: [Change(r.source, now, Row.of(r, now)) for r in records], "committing")

    def tombstone(self, sources: list[str]) -> list[Change]:
        """Mark ``sources`` removed, with a time so that other processes' refresh sees the removal."""
        return self._stamped(sources, lambda now: [{"kind": "article", "removed": True, "committed_at": now,
                                                    "record": "", "version": "", "outlet": ""} for _ in sources],
                             lambda now: [Change(s, now, None) for s in sources], "removing")

    def _stamped(self, ids: list[str], metas, changes, action: str) -> list[Change]:
        """Upsert with ``committed_at`` = now; if the write itself was slow, once more with a fresh stamp, so a
        row never becomes visible much later than its stamp says (readers look back a fixed window)."""
        if not ids:
            return []
        with self._guard(f"{action} {', '.join(ids[:3])}{' ...' if len(ids) > 3 else ''} in the catalog"):
            for _ in range(3):
                now = time.time()
                stamped = metas(now)
                for start in range(0, len(ids), PAGE):
                    part = slice(start, start + PAGE)
                    self.collection.upsert(ids=ids[part], embeddings=[POINT] * len(ids[part]), metadatas=stamped[part])
                if time.time() - now <= SLOW_COMMIT_S:
                    break
        return changes(now)

    # Reading

    def changed_since(self, since: float) -> Iterator[tuple[str, dict]]:
        """Raw rows (id, metadata) committed or removed at or after ``since``."""
        return self._pages({"committed_at": {"$gte": since}}, "refreshing the catalog")

    def everything(self) -> Iterator[tuple[str, dict]]:
        """Every article row, tombstones included, a page at a time."""
        return self._pages({"kind": "article"}, "reading the catalog")

    def _pages(self, where: dict, action: str) -> Iterator[tuple[str, dict]]:
        offset = 0
        while True:
            with self._guard(action, "nothing was changed"):
                page = self.collection.get(where=where, include=["metadatas"], limit=PAGE, offset=offset)
            yield from zip(page["ids"], page["metadatas"], strict=True)
            if len(page["ids"]) < PAGE:
                return
            offset += PAGE

    def decode(self, row_id: str, meta: dict | None) -> Change:
        """One stored row; a row that is not what this module writes is ``CatalogDamaged`` naming it."""
        what = f"record '{row_id}' ({self.label})"
        try:
            committed_at = float(meta["committed_at"])
            if meta.get("removed"):
                return Change(row_id, committed_at, None)
            record = ArticleRecord.model_validate_json(meta["record"])
        except ValidationError as error:
            problem = error.errors()[0]
            if problem["type"] == "json_invalid":
                raise CatalogDamaged(what, "is not valid JSON") from None
            where = ".".join(str(part) for part in problem["loc"]) or "record"
            raise CatalogDamaged(what, f"has an invalid field ({where}: {problem['msg']})") from None
        except (KeyError, TypeError, ValueError) as error:
            raise CatalogDamaged(what, f"lacks a valid {error} field") from None
        if record.source != row_id:
            raise CatalogDamaged(what, f"holds the record of another article ('{record.source}')")
        return Change(row_id, committed_at, Row.of(record, committed_at))

    def article_ids(self) -> Iterator[str]:
        """The id of every article row (tombstones included)."""
        return (row_id for row_id, _ in self.everything())

    # Pending writes

    def announce(self, writes: list[PendingWrite]) -> None:
        """Say that these versions are being written, before any of their chunks is."""
        if writes:
            with self._guard("announcing a write in the catalog", "nothing was changed"):
                self.collection.upsert(
                    ids=[PENDING + w.version for w in writes], embeddings=[POINT] * len(writes),
                    metadatas=[{"kind": "pending", "version": w.version, "source": w.source, "host": w.host,
                                "pid": w.pid, "started_at": w.started_at} for w in writes],
                )

    def pending(self, sources: list[str] | None = None) -> list[PendingWrite]:
        """Announced writes not yet settled (of some sources, or all)."""
        where = {"$and": [{"kind": "pending"}, {"source": {"$in": sources}}]} if sources else {"kind": "pending"}
        return [
            PendingWrite(m["version"], m["source"], m["host"], int(m["pid"]), float(m["started_at"]))
            for _, m in self._pages(where, "listing writes in progress")
        ]

    def settle(self, versions: list[str]) -> None:
        """The writes of ``versions`` are over (committed, or their leftovers deleted)."""
        if versions:
            with self._guard("closing a write in the catalog"):
                self.collection.delete(ids=[PENDING + v for v in versions])

    def purge_tombstones(self, before: float) -> None:
        """Forget removals older than ``before``: every reader has long applied them."""
        with self._guard("purging old removals from the catalog"):
            self.collection.delete(where={"$and": [{"removed": True}, {"committed_at": {"$lt": before}}]})


def _article_meta(record: ArticleRecord, now: float) -> dict:
    """Every key is written each time: Chroma merges metadata on upsert, so a key left out would keep an old value."""
    return {"kind": "article", "removed": False, "committed_at": now, "record": record.model_dump_json(),
            "version": record.version, "outlet": record.outlet}
