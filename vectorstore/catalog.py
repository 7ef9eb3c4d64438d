"""The catalog: which version of which article is committed, kept in Chroma and mirrored in memory.

Chroma has no multi-batch transactions, so "a document is written whole or
not at all" is built on top of it: an article's chunks are written first,
tagged with a version key, and only become visible when the article's row in
the catalog (``catalog_rows``) names that version. Readers filter the chunks
they find against the committed versions in memory, so no query carries a
filter that grows with the archive.

Each process mirrors the rows in a ``CatalogView``. Its own commits change the
view at once; what other processes commit reaches it within
``refresh_s`` seconds, by one query for the rows stamped since the newest one
it last read (less a window that covers clock skew between hosts). A first read
pages through every row, or starts from a local snapshot of a large catalog
(``snapshot``) and applies what changed since.

A store that holds chunks always has its rows collection (``ChunkStore``
creates it before the first chunk), so a missing collection or an unreadable
row is damage, never "nothing ingested": reading it raises ``CatalogDamaged``
instead of returning an empty catalog that an ingest would then
garbage-collect every chunk against. The interface is ``view`` (``articles``,
``versions``, ``outlets``, ``generation``), ``commit``, ``remove`` and
``replace_all``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from vectorstore.catalog_rows import CatalogRows, Change
from vectorstore.records import ArticleRecord, Records, Row
from vectorstore.snapshot import Snapshot, SnapshotFile

__all__ = ["ArticleRecord", "Catalog", "CatalogView"]

SKEW_S = 5.0  # how far back each refresh looks: clock differences between hosts (NTP keeps them to milliseconds)
# plus the longest a commit may take before it is stamped again (catalog_rows.SLOW_COMMIT_S)
TOMBSTONE_GRACE_S = 7 * 24 * 3600.0  # removals are kept this long; a view older than this is read again in full
SNAPSHOT_MIN_ROWS = 2000  # below this a full read takes a fraction of a second: no snapshot is kept
SNAPSHOT_EVERY = 1000  # changes between two snapshots


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
    chunks: int = 0


class _Mirror:
    """The rows this process knows, with the version set, outlet counts and chunk total kept up to date per change."""

    def __init__(self, rows: dict[str, Row]) -> None:
        self.rows = rows
        self.versions = {row.version for row in rows.values()}
        self.outlets = Counter(row.outlet for row in rows.values())
        self.chunks = sum(row.chunks for row in rows.values())

    def apply(self, change: Change) -> bool:
        """Take one row as read back from Chroma (its current state); True if anything changed."""
        old = self.rows.get(change.source)
        if old == change.row or (old is None and change.row is None):
            return False
        if old is not None:
            del self.rows[old.source]
            self.versions.discard(old.version)
            self.outlets[old.outlet] -= 1
            self.chunks -= old.chunks
        if change.row is not None:
            self.rows[change.source] = change.row
            self.versions.add(change.row.version)
            self.outlets[change.row.outlet] += 1
            self.chunks += change.row.chunks
        return True

    def view(self, generation: int) -> CatalogView:
        return CatalogView(
            articles=Records(dict(self.rows)), versions=frozenset(self.versions),
            outlets=tuple(sorted(o for o, n in self.outlets.items() if n > 0)), generation=generation, chunks=self.chunks,
        )


class Catalog:
    """Committed articles keyed by source, shared through Chroma and refreshed from it at most every ``refresh_s``.

    The server reads it from many threads, so the mirror and the view made
    from it change together under one lock. Readers get a read-only view,
    never a copy, so a large archive costs nothing per question.
    """

    def __init__(
        self, open_rows: Callable[[], CatalogRows], snapshot: SnapshotFile | None = None, refresh_s: float = 2.0
    ) -> None:
        self._open_rows = open_rows
        self.snapshot = snapshot
        self.refresh_s = refresh_s
        self._rows: CatalogRows | None = None
        self._mirror: _Mirror | None = None
        self._view = CatalogView(Records({}), frozenset(), (), 0)
        self._synced_at = 0.0  # when the last read began: every row stamped SKEW_S before it is in the mirror
        self._unsaved = 0
        self._dirty = False  # the mirror changed since the view was made: the next ``view()`` makes a new one
        self._lock = threading.RLock()
        self._saving: threading.Thread | None = None

    @property
    def rows(self) -> CatalogRows:
        if self._rows is None:
            self._rows = self._open_rows()
        return self._rows

    def view(self) -> CatalogView:
        """The current committed state: read on first use, refreshed when ``refresh_s`` has passed.

        A view copies the version set and the rows' index (milliseconds at
        100,000 articles), so it is made when someone asks for one, at most
        once per change seen, not once per commit: an ingest that commits
        article after article looks up single records instead (``record``).
        """
        with self._lock:
            self._current()
            return self._published()

    def record(self, source: str) -> ArticleRecord | None:
        """One committed record, without making a new view."""
        with self._lock:
            self._current()
            row = self._mirror.rows.get(source)
        return row.record() if row else None

    def refresh(self) -> CatalogView:
        """Apply what other processes committed, now (garbage collection must not trust a stale view)."""
        with self._lock:
            if self._mirror is None:
                self._load()
            else:
                self._refresh()
            return self._published()

    def _current(self) -> None:
        """Read the rows on first use (or after a very long gap), refresh them when ``refresh_s`` has passed."""
        now = time.time()
        if self._mirror is None or now - self._synced_at > TOMBSTONE_GRACE_S:
            self._load()
        elif now - self._synced_at >= self.refresh_s:
            self._refresh()

    def _published(self) -> CatalogView:
        if self._dirty:
            self._publish()
        return self._view

    def articles(self) -> Mapping[str, ArticleRecord]:
        """The committed articles by source (read-only, parsed when read)."""
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
        """Make each record the committed version of its article (one row upsert per article)."""
        with self._lock:
            self._current()
        self._take(self.rows.write(list(records)))

    def remove(self, source: str) -> None:
        with self._lock:
            self._current()
        self._take(self.rows.tombstone([source]))

    def replace_all(self, records: list[ArticleRecord]) -> None:
        """Make ``records`` the whole catalog (``newsdesk repair``): write them, and tombstone every other row."""
        keep = {record.source for record in records}
        stale = [source for source in self.rows.article_ids() if source not in keep]
        changes = self.rows.write(records) + self.rows.tombstone(stale)
        with self._lock:
            self._mirror = _Mirror({})
            self._take(changes)

    # Keeping the mirror

    def _load(self) -> None:
        """Start from the snapshot when there is a recent one, else read every row; then catch up."""
        rows = self.rows
        snapshot = self.snapshot.load(rows.id) if self.snapshot else None
        if snapshot is not None and time.time() - snapshot.synced_at < TOMBSTONE_GRACE_S:
            self._mirror, self._synced_at, self._dirty = _Mirror(dict(snapshot.rows)), snapshot.synced_at, True
            self._refresh()
            return
        started = time.time()
        changes = [rows.decode(row_id, meta) for row_id, meta in rows.everything()]
        self._mirror = _Mirror({c.source: c.row for c in changes if c.row is not None})
        self._synced_at = started
        self._unsaved = len(self._mirror.rows)
        self._dirty = True

    def _refresh(self) -> None:
        """Apply the rows stamped since the last read began, less the skew window (a row is visible at most that
        long after its stamp says); rows this process already holds are not parsed again."""
        started = time.time()
        mirror, changes = self._mirror, []
        for row_id, meta in self.rows.changed_since(self._synced_at - SKEW_S):
            known = mirror.rows.get(row_id)
            if known is not None and not meta.get("removed") and meta.get("committed_at") == known.committed_at:
                continue
            changes.append(self.rows.decode(row_id, meta))
        self._synced_at = started
        self._take(changes)

    def _take(self, changes: list[Change]) -> None:
        """Apply changes (read back, or written by this process) and publish a new view if anything changed."""
        with self._lock:
            changed = sum(self._mirror.apply(change) for change in changes)
            if changed:
                self._unsaved += changed
                self._dirty = True

    def _publish(self) -> None:
        self._view = self._mirror.view(self._view.generation + 1)
        self._dirty = False
        if self.snapshot and len(self._mirror.rows) >= SNAPSHOT_MIN_ROWS and self._unsaved >= SNAPSHOT_EVERY:
            self._save()

    def _save(self) -> None:
        """Write the snapshot in the background (a second or two at 100,000 articles), one write at a time."""
        if self._saving is not None and self._saving.is_alive():
            return
        snapshot = Snapshot(self._view.articles.rows(), self._synced_at)
        self._unsaved = 0
        self._saving = threading.Thread(target=self.snapshot.save, args=(self.rows.id, snapshot), name="catalog-snapshot")
        self._saving.start()
