"""The lexical index: a local SQLite FTS5 table of the committed chunks, kept in step with the catalog.

Why FTS5 (measured by ``bench/bench_lexical.py``; the figures are in the
README's "Benchmarks"): rank-bm25 and bm25s are in-memory indexes that are
built whole, so every committed article means a rebuild that grows with the
archive (8.8 s at 2,225 articles for rank-bm25) and a restart rebuilds
everything. bm25s queries fastest, but it has no incremental add or remove
either. FTS5 ships with Python's ``sqlite3``, adds and removes rows in place,
lives in a file that a restart re-opens instead of rebuilding, keeps only
page cache in memory, and scores with ``bm25()`` inside the query, so the
outlet filter is plain SQL. At 100,000 chunks: adding or removing 100 chunks
0.7 CPU s (rank-bm25 and bm25s rebuild: 22 to 41 CPU s), re-open 0.2 s,
about 130 bytes of memory per chunk (rank-bm25 8.6 KB), 2.6 KB per chunk on
disk, query 32 ms CPU (bm25s 4 ms, rank-bm25 215 ms) under the earlier rule that left out terms in over
a fifth of the chunks. A query now matches only its rarest terms within a budget of postings
(``selective_terms``), so its cost is bounded however large the archive grows.

Text goes in pre-tokenised: the caller's analyzer (``app.answer.text.terms``:
folded, stop words out) turns each chunk into space-separated terms, and the
``unicode61`` tokenizer with the apostrophe as a token character splits them
back into exactly those terms. So BM25, its document frequencies and the
answerer's term weights all count the same words as before.

The index holds, per chunk: id, version, outlet, text, metadata and terms;
and per article version a stamp (a digest of its catalog record), so an article
re-chunked or re-tagged under the same version key is re-read too. ``sync`` diffs that set against the catalog only when the
catalog's generation moved, so a store that does not change costs a query
nothing but one integer comparison and one ``PRAGMA data_version``.

The file is a cache of the store, never a source of truth: a missing,
damaged or foreign file (another collection, Chroma server or format) is
deleted and rebuilt from the store, and a replica on a shared Chroma server
keeps its own copy.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from vectorstore.records import Row
from vectorstore.store import ChunkStore, StoredChunk

FORMAT = "1"
TOKENIZE = "unicode61 remove_diacritics 0 tokenchars ''''"  # FTS5 quoting: '''' is one apostrophe
DELETE_BATCH = 500
PRUNE_FROM = 10_000
POSTINGS_BUDGET = 10_000
FREQUENCY_CACHE_SIZE = 100_000
CORRUPTION = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}

SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles(version TEXT PRIMARY KEY, stamp TEXT NOT NULL);
CREATE TABLE chunks(
  rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, version TEXT NOT NULL, outlet TEXT NOT NULL,
  text TEXT NOT NULL, metadata TEXT NOT NULL, terms TEXT NOT NULL
);
CREATE INDEX chunks_version ON chunks(version);
CREATE VIRTUAL TABLE fts USING fts5(terms, content='chunks', content_rowid='rowid', tokenize="{TOKENIZE}");
CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, 'row');
CREATE TRIGGER chunks_added AFTER INSERT ON chunks BEGIN
  INSERT INTO fts(rowid, terms) VALUES (new.rowid, new.terms);
END;
CREATE TRIGGER chunks_deleted AFTER DELETE ON chunks BEGIN
  INSERT INTO fts(fts, rowid, terms) VALUES ('delete', old.rowid, old.terms);
END;
"""

Analyzer = Callable[[str], list[str]]


@dataclass
class SyncCounts:
    """What syncs did since the index was opened: tests and benchmarks read it to see that nothing was redone."""

    syncs: int = 0
    versions_added: int = 0
    versions_removed: int = 0
    chunks_inserted: int = 0
    rebuilds: int = 0
    history: list[tuple[int, int, int]] = field(default_factory=list)  # (added, removed, inserted) per sync


def article_stamp(row: Row) -> str:
    """Changes whenever the article's record changes under the same version key: re-chunked under new ingest
    settings (the fingerprint holds them) or re-tagged in place (new outlet or title, same text), so its chunks
    are indexed again with their new metadata. A digest of the row's record JSON, so a sync parses no record
    however large the archive."""
    return hashlib.blake2b(row.record_json.encode(), digest_size=12).hexdigest()


def selective_terms(query_terms: list[str], frequency: Callable[[str], int], total: int) -> list[str]:
    """The query terms a search matches on, so that its cost stays bounded however large the archive grows.

    Below ``PRUNE_FROM`` chunks every term is matched (a query costs a few milliseconds whole). From there on
    the rarest terms go in first, as long as the chunks they are found in (their postings, which FTS5 scores
    one by one) add up to at most ``POSTINGS_BUDGET``; the rarest term always goes in, so a question made
    only of common words still costs that one term's postings. The terms left out are the common ones,
    whose idf is small beside a name's (at 100,000 chunks BM25 weighs a term in 10,000 of them about
    log(9), a name in one about log(66,667)), and dense search still reads the whole question. On the
    100,000-article bench_scale archive (123,252 chunks) the FTS5 query of 30 needle questions alone took
    43 ms p50 when every term in at most a fifth of the chunks was matched, and 0.1 ms like this; in the
    server, the lexical part of retrieval went from 80 to 0.7 ms p50.
    """
    if total < PRUNE_FROM:
        return query_terms
    counts = {term: frequency(term) for term in query_terms}  # each looked up once (absent terms are not cached)
    chosen, postings = [], 0
    for term in sorted(query_terms, key=counts.__getitem__):
        count = counts[term]
        if chosen and postings + count > POSTINGS_BUDGET:
            break  # the terms after it are at least as common
        chosen.append(term)
        postings += count
    return chosen


class LexicalIndex:
    """BM25 over the committed chunks of one store, persisted in ``path`` and synced incrementally (thread-safe).

    One connection serves every thread under a lock: a query takes
    milliseconds, the machine has few cores, and one connection means the
    in-memory view of what is indexed can never disagree with the file.
    """

    def __init__(self, path: Path, store: ChunkStore, analyzer: Analyzer, prune: bool = True) -> None:
        """``prune=False`` always matches every query term (the benchmark compares both)."""
        self.path = Path(path)
        self.prune = prune
        self.store = store
        self.analyzer = analyzer
        self.identity = f"{FORMAT}|{store.chroma_url or 'local'}|{store.collection}"
        self.counts = SyncCounts()
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self._indexed: dict[str, str] = {}  # version -> stamp, as in the file
        self._generation: int | None = None  # catalog generation the file reflects
        self._data_version: int | None = None  # the file as this connection last saw it (another process may write)
        self._doc_count: int | None = None
        self._frequencies: dict[str, int] = {}  # term -> chunks holding it, for the file as last synced

    # Public

    def sync(self) -> None:
        """Bring the index to the catalog's committed state; free when nothing changed."""
        generation = self.store.catalog.generation  # read before the articles: a newer set under an older stamp is safe
        with self._lock:
            self._recovering(lambda: self._sync(generation))

    def search(self, query_terms: Iterable[str], k: int, outlets: list[str] | None = None) -> list[StoredChunk]:
        """The ``k`` best chunks by BM25 holding any of ``query_terms`` (of the given outlets), best first."""
        unique = list(dict.fromkeys(query_terms))
        if not unique or k <= 0:
            return []
        self.sync()
        with self._lock:
            rows = self._recovering(lambda: self._search(unique, k, outlets))
        return [StoredChunk(id=row[0], text=row[1], metadata=json.loads(row[2])) for row in rows]

    def document_count(self) -> int:
        """Chunks in the index (BM25's N)."""
        self.sync()
        with self._lock:
            return self._recovering(self._count)

    def document_frequency(self, term: str) -> int:
        """Chunks that hold ``term`` (an analyzer term)."""
        self.sync()
        with self._lock:
            return self._recovering(lambda: self._frequency(term))

    def document_frequencies(self) -> Iterator[int]:
        """The document frequency of every indexed term (for BM25Okapi's average idf)."""
        self.sync()
        with self._lock:
            rows = self._recovering(lambda: self._db().execute("SELECT doc FROM vocab").fetchall())
        return (row[0] for row in rows)

    @property
    def generation(self) -> int | None:
        """The catalog generation the index reflects; weights derived from it are valid until it changes."""
        return self._generation

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # Queries (the caller holds the lock and has synced)

    def _search(self, query_terms: list[str], k: int, outlets: list[str] | None) -> list[tuple[str, str, str]]:
        match = " OR ".join(f'"{term}"' for term in self._selective(query_terms))
        outlet_filter = f"AND c.outlet IN ({','.join('?' * len(outlets))})" if outlets else ""
        sql = (
            "SELECT c.id, c.text, c.metadata FROM fts JOIN chunks c ON c.rowid = fts.rowid "
            f"WHERE fts MATCH ? {outlet_filter} ORDER BY bm25(fts), c.id LIMIT ?"
        )
        return self._db().execute(sql, [match, *(outlets or []), k]).fetchall()

    def _selective(self, query_terms: list[str]) -> list[str]:
        return selective_terms(query_terms, self._frequency, self._count()) if self.prune else query_terms

    def _count(self) -> int:
        if self._doc_count is None:
            self._doc_count = self._db().execute("SELECT count(*) FROM chunks").fetchone()[0]
        return self._doc_count

    def _frequency(self, term: str) -> int:
        """Cached until the index changes: fts5vocab counts a term's chunks by reading its whole posting list.
        A term in no chunk is cheap to look up and is not kept, and the cache starts over when it is full, so a
        server on an unchanging store does not grow with every new word it is asked."""
        known = self._frequencies.get(term)
        if known is not None:
            return known
        row = self._db().execute("SELECT doc FROM vocab WHERE term = ?", (term,)).fetchone()
        count = row[0] if row else 0
        if count:
            if len(self._frequencies) >= FREQUENCY_CACHE_SIZE:
                self._frequencies.clear()
            self._frequencies[term] = count
        return count

    # Sync

    def _sync(self, generation: int) -> None:
        db = self._db()
        data_version = db.execute("PRAGMA data_version").fetchone()[0]
        if generation == self._generation and data_version == self._data_version:
            return
        wanted = {row.version: article_stamp(row) for row in self.store.catalog.view().articles.rows().values()}
        with db:  # one transaction: a failure (the store going away mid-read) leaves the file as it was
            db.execute("BEGIN IMMEDIATE")  # another process syncing the same file waits instead of interleaving
            if db.execute("PRAGMA data_version").fetchone()[0] != self._data_version:
                self._indexed = dict(db.execute("SELECT version, stamp FROM articles"))
            gone = [version for version, stamp in self._indexed.items() if wanted.get(version) != stamp]
            new = [version for version, stamp in wanted.items() if self._indexed.get(version) != stamp]
            self._delete(db, gone)
            inserted = self._insert(db, new, wanted)
        for version in gone:
            self._indexed.pop(version)
        self._indexed.update((version, wanted[version]) for version in new)
        self._generation, self._data_version, self._doc_count = generation, db.execute("PRAGMA data_version").fetchone()[0], None
        self._frequencies = {}
        counts = self.counts
        counts.syncs += 1
        counts.versions_added += len(new)
        counts.versions_removed += len(gone)
        counts.chunks_inserted += inserted
        counts.history.append((len(new), len(gone), inserted))

    def _delete(self, db: sqlite3.Connection, versions: list[str]) -> None:
        for start in range(0, len(versions), DELETE_BATCH):
            batch = versions[start : start + DELETE_BATCH]
            marks = ",".join("?" * len(batch))
            db.execute(f"DELETE FROM chunks WHERE version IN ({marks})", batch)
            db.execute(f"DELETE FROM articles WHERE version IN ({marks})", batch)

    def _insert(self, db: sqlite3.Connection, versions: list[str], stamps: dict[str, str]) -> int:
        rows = (
            (c.id, c.metadata["version"], c.metadata["outlet"], c.text, json.dumps(c.metadata), " ".join(self.analyzer(c.text)))
            for c in self.store.chunks_of_versions(versions)
        )
        insert = "INSERT INTO chunks(id, version, outlet, text, metadata, terms) VALUES (?,?,?,?,?,?)"
        inserted = db.executemany(insert, rows).rowcount  # rows of this statement, not the triggers' FTS writes
        db.executemany("INSERT INTO articles(version, stamp) VALUES (?,?)", ((v, stamps[v]) for v in versions))
        return inserted

    # The file

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = self._open()
        return self._connection

    def _open(self) -> sqlite3.Connection:
        """The index file, created if missing; a foreign or unreadable one is replaced by a new, empty one.

        A (re)opened file is diffed against the catalog at the next sync: this process may not be the one
        that last wrote it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._generation, self._data_version, self._doc_count, self._frequencies = None, None, None, {}
        existed = self.path.exists()
        try:
            db = self._connect()
            if self._identity_of(db) == self.identity:
                return db
            db.close()
        except sqlite3.DatabaseError:
            pass
        self._remove_files()
        self._indexed = {}
        self.counts.rebuilds += existed
        db = self._connect()
        identity = self.identity.replace("'", "''")
        db.executescript(f"BEGIN; {SCHEMA} INSERT INTO meta(key, value) VALUES ('identity', '{identity}'); COMMIT;")
        return db

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: transactions are opened explicitly, so a read never holds a lock it did not ask for.
        db = sqlite3.connect(self.path, check_same_thread=False, timeout=60, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    @staticmethod
    def _identity_of(db: sqlite3.Connection) -> str | None:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" not in tables:
            return None
        row = db.execute("SELECT value FROM meta WHERE key = 'identity'").fetchone()
        return row[0] if row else None

    def _recovering(self, operation: Callable[[], object]):
        """Run ``operation``; if the file turns out damaged, rebuild it from the store and run it once more."""
        try:
            return operation()
        except sqlite3.DatabaseError as error:
            if getattr(error, "sqlite_errorcode", 0) & 0xFF not in CORRUPTION:  # extended codes carry the primary in the low byte
                raise
        self._reset()
        self._sync(self.store.catalog.generation)
        return operation()

    def _reset(self) -> None:
        """Drop the damaged file; the next use creates a new one and the sync refills it from the store."""
        self.close()
        self._remove_files()

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
