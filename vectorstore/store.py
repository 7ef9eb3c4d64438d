"""The chunk store: a Chroma collection of chunks plus the catalog of committed articles.

Readers only ever see chunks of committed article versions, which is what
makes article writes all-or-nothing (see ``catalog.py``). The Chroma client is
local (``PersistentClient`` in the data dir) unless a server URL is given,
in which case ``HttpClient`` is used and the server holds everything: the
chunks and the catalog's rows, so the data dir keeps only caches.

Writing a version: announce it (a pending marker in the catalog), write its
chunks, check that Chroma holds exactly the expected chunks, commit its row,
delete the article's superseded versions, settle the marker. A writer killed
anywhere in between leaves a marker; the next ingest deletes what it left,
unless its writer is still alive (another worker on a shared server).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from filelock import FileLock

from vectorstore.catalog import TOMBSTONE_GRACE_S, Catalog
from vectorstore.catalog_rows import RECORDS_SUFFIX, CatalogRows, PendingWrite
from vectorstore.embeddings import MiniLMEmbeddings, reference_provenance, runtime_setting
from vectorstore.errors import CatalogDamaged, StoreUnavailable, chroma_failures
from vectorstore.legacy import LEGACY_FILE, read_legacy_catalog, retire
from vectorstore.records import ArticleRecord
from vectorstore.snapshot import SnapshotFile

if TYPE_CHECKING:
    import chromadb

__all__ = [
    "CatalogDamaged", "ChunkStore", "EmbedderMismatch", "StagedArticle", "StoreUnavailable", "StoredChunk", "chroma_failures",
]

COLLECTION_CONFIGURATION = {"hnsw": {"space": "cosine"}}
EMBEDDER_KEY = "newsdesk_embedder"
EMBEDDER_FILE = "embedder.json"  # where stores from before the catalog moved into Chroma recorded their embedder
READ_PAGE = 5000
CANDIDATES = 2  # dense search asks Chroma for this many times k candidates, and more only if too few are committed
MAX_CANDIDATES = 64


@dataclass(frozen=True)
class StagedArticle:
    """An article version ready to be written: its catalog record and its chunks."""

    record: ArticleRecord
    texts: list[str]
    metadatas: list[dict]


@dataclass(frozen=True)
class _ChunkRow:
    """One chunk as Chroma stores it: id (``version#index``), vector, text and metadata."""

    id: str
    vector: object  # a numpy row
    text: str
    metadata: dict


def _chunk_rows(articles: list[StagedArticle], vectors) -> list[_ChunkRow]:
    """The articles' chunks in order, each with its row of ``vectors``."""
    texts_and_metadatas = [(text, meta) for article in articles for text, meta in zip(article.texts, article.metadatas, strict=True)]
    return [
        _ChunkRow(f"{meta['version']}#{meta['chunk_index']}", vector, text, meta)
        for (text, meta), vector in zip(texts_and_metadatas, vectors, strict=True)
    ]


class EmbedderMismatch(Exception):
    """The store holds vectors from another runtime or model file than the one configured."""


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from the store."""

    id: str
    text: str
    metadata: dict


def ensure_writable_dir(path: Path) -> Path:
    """Create ``path`` if needed and prove we can write there, with a one-sentence error if not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StoreUnavailable(f"cannot write to the data dir {path}: {exc.strerror or exc} (set NEWSDESK_DATA_DIR)") from exc
    return path


def open_chroma_client(data_dir: Path, chroma_url: str | None) -> chromadb.ClientAPI:
    """A local persistent client, or an HTTP client when a server URL is configured."""
    import chromadb  # half a second of imports, paid only by commands that touch vectors

    settings = chromadb.Settings(anonymized_telemetry=False)
    if not chroma_url:
        return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=settings)
    url = urlparse(chroma_url)
    try:
        return chromadb.HttpClient(
            host=url.hostname or "localhost", port=url.port or 8000, ssl=url.scheme == "https", settings=settings
        )
    except Exception as exc:  # chromadb raises several transport errors
        raise StoreUnavailable(f"cannot reach the Chroma server at {chroma_url}: {exc}") from exc


class ChunkStore:
    """Write whole articles, remove them, and read committed chunks."""

    def __init__(
        self,
        data_dir: Path,
        embeddings: MiniLMEmbeddings,
        collection: str = "newsdesk_chunks",
        chroma_url: str | None = None,
        refresh_s: float = 2.0,
        stale_s: float = 3600.0,
    ) -> None:
        self.data_dir = ensure_writable_dir(Path(data_dir))
        self.embeddings = embeddings
        self.collection = collection
        self.chroma_url = chroma_url
        self.stale_s = stale_s
        self._embedder_checked = False
        self.catalog = self._catalog(refresh_s, self._open_rows)
        if chroma_url:
            self.chunks  # a remote server is reached at once, so a wrong URL is the first thing reported

    def _catalog(self, refresh_s: float, open_rows) -> Catalog:
        key = hashlib.sha256(f"{self.chroma_url or 'local'}|{self.collection}".encode()).hexdigest()[:16]
        snapshot = SnapshotFile(self.data_dir / "catalog-cache" / f"{key}.json")
        return Catalog(open_rows, snapshot, refresh_s)

    @property
    def rows_label(self) -> str:
        """Where the catalog lives, as error messages name it."""
        return f"Chroma collection '{self.collection}{RECORDS_SUFFIX}' at {self.chroma_url or self.data_dir / 'chroma'}"

    @cached_property
    def client(self) -> chromadb.ClientAPI:
        with chroma_failures("opening the store", "nothing was changed"):
            return open_chroma_client(self.data_dir, self.chroma_url)

    @cached_property
    def chunks(self) -> chromadb.Collection:
        """The chunk collection, opened (or made) on first use. Chroma is called directly, not through LangChain's
        vector store: every vector comes computed by ``embeddings``, the answer chain reads chunks through
        ``dense_search``, and an ingest then never imports LangChain. No embedding function is attached, since
        Chroma's default one would download a model."""
        with chroma_failures("opening the collection", "nothing was changed"):
            return self.client.get_or_create_collection(
                self.collection, embedding_function=None, configuration=COLLECTION_CONFIGURATION
            )

    def _open_rows(self, repairing: bool = False) -> CatalogRows:
        """The catalog's rows collection. A store with chunks but no rows (and no ``catalog.json`` to migrate) is
        damaged, never empty; a new store gets its rows collection before its first chunk."""
        from chromadb.errors import NotFoundError

        name = self.collection + RECORDS_SUFFIX
        legacy = self.data_dir / LEGACY_FILE
        with chroma_failures("opening the catalog", "nothing was changed"):
            try:
                collection = self.client.get_collection(name, embedding_function=None)
            except NotFoundError:
                if not repairing and not legacy.exists() and self.stored_chunks() > 0:
                    raise CatalogDamaged(f"({self.rows_label})", "is missing") from None
                collection = self.client.get_or_create_collection(name, embedding_function=None)
        rows = CatalogRows(collection, self.rows_label)
        if legacy.exists() and not repairing:
            self._migrate(rows, legacy)
        return rows

    def _migrate(self, rows: CatalogRows, legacy: Path) -> None:
        """Move an old ``catalog.json`` into the rows collection; the file is renamed last, so a migration killed
        half-way runs again (every step is idempotent)."""
        records = read_legacy_catalog(legacy)
        rows.write(records)
        self._mark_leftovers(rows, {record.version for record in records})
        retire(legacy)

    def _mark_leftovers(self, rows: CatalogRows, kept: set[str]) -> None:
        """Chunk versions no row names and no writer announced (an interrupted write of an older release, or a
        version ``repair`` could not restore) get an abandoned marker, so the next ingest deletes them."""
        announced = {p.version for p in rows.pending()}
        leftovers = {}
        for meta in self.iter_metadatas():
            version = meta.get("version") if meta else None
            if version and version not in kept and version not in announced:
                leftovers[version] = PendingWrite(version, meta.get("source", ""), host="", pid=0, started_at=0.0)
        rows.announce(list(leftovers.values()))

    def check_embedder(self) -> None:
        """Refuse to mix vector spaces: the configured runtime and model file must be the ones that wrote the store.

        The first write records them in the chunk collection's metadata, where
        they stay with the vectors (on a shared server, for every process); a
        store with articles but no record predates it (``embedder.json`` in the
        data dir, or nothing at all: the reference). An empty store takes on
        whatever embeds into it next; an embedder given no runtime takes on the
        store's (``MiniLMEmbeddings.adopt``).
        """
        if self._embedder_checked:
            return
        with chroma_failures("reading the store's embedder"):
            recorded = json.loads((self.chunks.metadata or {}).get(EMBEDDER_KEY, "null"))
        written = recorded or self._legacy_embedder()
        has_articles = bool(self.catalog.articles())
        if has_articles:
            self.embeddings.adopt(written)
        current = self.embeddings.provenance
        if has_articles and written != current:
            raise EmbedderMismatch(
                f"the store in {self.chroma_url or self.data_dir} was embedded by {written['runtime']} ({written['model_file']}, "
                f"sha256 {written['sha256'][:12]}), not by {current['runtime']} ({current['model_file']}, "
                f"sha256 {current['sha256'][:12]}); set NEWSDESK_EMBED_RUNTIME={runtime_setting(written)} to use it, or ingest into a new "
                "NEWSDESK_DATA_DIR"
            )
        if recorded != current:
            with chroma_failures("recording the store's embedder"):
                self.chunks.modify(metadata={EMBEDDER_KEY: json.dumps(current)})
        self._embedder_checked = True

    def _legacy_embedder(self) -> dict:
        record = self.data_dir / EMBEDDER_FILE
        return json.loads(record.read_text(encoding="utf-8")) if record.exists() else reference_provenance()

    def write_lock(self) -> FileLock:
        """Held for a whole ingest, so two ingests from this data dir never interleave their writes."""
        return FileLock(str(self.data_dir / "ingest.lock"))

    # Writing

    def embed(self, articles: list[StagedArticle]):  # -> numpy.ndarray, a row per chunk in order of ``_chunk_rows``
        """The vectors of the articles' chunks, computed apart from writing them so that an ingest embeds the next
        group of articles while the writer stores this one (see ``ingest.pipeline``)."""
        self.check_embedder()
        return self.embeddings.encode([text for article in articles for text in article.texts])

    def embedding_processes(self, min_texts: int) -> AbstractContextManager[None]:
        """Held for an ingest, so that ``embed`` runs groups of at least ``min_texts`` chunks in worker processes
        (see ``vectorstore.embedding_processes``), which end with it."""
        return self.embeddings.worker_processes(min_texts)

    def replace_articles(self, articles: list[StagedArticle], vectors, batch_size: int = 64) -> None:
        """Store new versions of several articles with their chunks' ``vectors`` (from ``embed``); each becomes
        visible only when all of them are complete.

        Chunks of several short articles share embedding runs and writes (a
        group of one three-chunk article wastes most of the runtime's
        parallelism), and every step after the chunk writes is one Chroma call
        for the whole group.
        """
        if not articles:
            return
        self.check_embedder()
        rows = self.catalog.rows
        records = [article.record for article in articles]
        sources = [record.source for record in records]
        versions = [record.version for record in records]
        rows.announce([PendingWrite.mine(record.version, record.source) for record in records])
        chunks = _chunk_rows(articles, vectors)
        with chroma_failures(f"writing {', '.join(sources)}"):
            self._add(chunks, batch_size)
            self._verify(articles, chunks, batch_size)
        self.catalog.commit(*records)
        self._drop_other_versions(rows, sources, keep=versions, mine=versions)
        rows.settle(versions)

    def _add(self, chunks: list[_ChunkRow], batch_size: int) -> None:
        """Write the chunks, ``batch_size`` to a Chroma call."""
        for start in range(0, len(chunks), batch_size):
            batch = chunks[start : start + batch_size]
            self._write_chunks(
                ids=[c.id for c in batch], vectors=[c.vector for c in batch], texts=[c.text for c in batch],
                metadatas=[c.metadata for c in batch],
            )

    def _write_chunks(self, ids: list[str], vectors: list, texts: list[str], metadatas: list[dict]) -> None:
        """The one place chunks reach Chroma, with the vectors ``embed`` computed."""
        self.chunks.upsert(ids=ids, embeddings=vectors, documents=texts, metadatas=metadatas)

    def _verify(self, articles: list[StagedArticle], chunks: list[_ChunkRow], batch_size: int) -> None:
        """Chroma must hold exactly the chunks of each version before it is committed: missing ones are written
        again, extra ones (a version re-chunked under other settings) deleted; what cannot be mended stays
        uncommitted."""
        expected = {chunk.id for chunk in chunks}
        where = {"version": {"$in": [a.record.version for a in articles]}}
        for _ in range(2):
            present = set(self.chunks.get(where=where, include=[])["ids"])
            if present - expected:
                self.chunks.delete(ids=sorted(present - expected))
            if not expected - present:
                return
            self._add([chunk for chunk in chunks if chunk.id not in present], batch_size)
        raise StoreUnavailable(f"the Chroma store did not keep every chunk of {', '.join(a.record.source for a in articles)}; "
                               "nothing of them was committed (run the ingest again)")

    def _drop_other_versions(self, rows: CatalogRows, sources: list[str], keep: list[str], mine: list[str]) -> None:
        """Delete the chunks of ``sources`` except the versions in ``keep`` and those another writer announced
        (not the caller: ``mine``); a filter as long as the group, never as long as the archive."""
        busy = {p.version for p in rows.pending(sources)} - set(keep) - set(mine)
        spared = [*keep, *sorted(busy)]
        where = {"source": {"$in": sources}}
        if spared:
            where = {"$and": [where, {"version": {"$nin": spared}}]}
        with chroma_failures(f"deleting the old versions of {', '.join(sources)}", "the new versions are committed"):
            self.chunks.delete(where=where)

    def retag_article(self, record: ArticleRecord, shared_metadata: dict) -> None:
        """Give a committed article new metadata (outlet, title, ...) without re-embedding its chunks.

        Chroma merges metadata on update and deletes keys set to None, so a
        field that is no longer known disappears instead of keeping an old value.
        """
        ids = self.chunks.get(where={"version": record.version}, include=[])["ids"]
        if ids:
            self.chunks.update(ids=ids, metadatas=[dict(shared_metadata) for _ in ids])
        self.catalog.commit(record)

    def remove_article(self, source: str) -> None:
        """Un-commit first (a tombstone row), then delete, so a crash in between only leaves announced garbage."""
        record = self.catalog.record(source)
        rows = self.catalog.rows
        own = [record.version] if record else []
        rows.announce([PendingWrite.mine(record.version, source)] if record else [])
        self.catalog.remove(source)
        self._drop_other_versions(rows, [source], keep=[], mine=own)
        rows.settle(own)

    def collect_garbage(self) -> None:
        """Delete what dead writers left: chunks of versions they announced but never committed, and superseded
        versions they committed but did not delete. A live worker's writes are left alone.

        The catalog is refreshed first: a missing or damaged one raises ``CatalogDamaged`` here, so a
        damaged catalog can never make stored chunks look like garbage.
        """
        view = self.catalog.refresh()
        rows = self.catalog.rows
        now = time.time()
        rows.purge_tombstones(now - TOMBSTONE_GRACE_S)
        abandoned = [p for p in rows.pending() if p.abandoned(now, self.stale_s)]
        with chroma_failures("removing chunks left by an interrupted ingest", "no article was changed"):
            for write in abandoned:
                if write.version in view.versions:
                    self._drop_other_versions(rows, [write.source], keep=[write.version], mine=[write.version])
                else:
                    self.chunks.delete(where={"version": write.version})
        rows.settle([write.version for write in abandoned])

    def rebuild_catalog(self) -> list[ArticleRecord]:
        """Write the catalog anew from the stored chunks' metadata (no re-embedding) and return its records."""
        from vectorstore.repair import records_from_chunks

        records = records_from_chunks(self.iter_metadatas())
        rows = self._open_rows(repairing=True)
        catalog = self._catalog(self.catalog.refresh_s, lambda: rows)
        catalog.replace_all(records)
        self._mark_leftovers(rows, {record.version for record in records})
        legacy = self.data_dir / LEGACY_FILE
        if legacy.exists():
            retire(legacy)
        self.catalog = catalog
        return records

    # Reading

    def iter_chunks(self, where: dict) -> Iterator[StoredChunk]:
        """All chunks matching ``where`` (texts and metadata, no vectors)."""
        with chroma_failures("reading chunks"):
            result = self.chunks.get(where=where, include=["documents", "metadatas"])
        for chunk_id, text, meta in zip(result["ids"], result["documents"], result["metadatas"], strict=True):
            yield StoredChunk(id=chunk_id, text=text, metadata=meta)

    def chunks_of_versions(self, versions: list[str], batch: int = 200) -> Iterator[StoredChunk]:
        """The chunks of the given article versions, fetched ``batch`` versions at a time so no filter grows
        with the list (the lexical index syncs new articles through this)."""
        for start in range(0, len(versions), batch):
            yield from self.iter_chunks({"version": {"$in": versions[start : start + batch]}})

    def dense_search(
        self, query_vector: list[float], k: int, visible: frozenset[str], outlets: list[str] | None = None
    ) -> list[tuple[StoredChunk, float]]:
        """The ``k`` nearest chunks of committed versions (``visible``), with their cosine similarity.

        Chroma is asked for a few more candidates than ``k``, filtered by
        outlet at most, and the uncommitted ones (being written, or left for
        the next ingest to collect) are dropped here; only when too few
        survive is it asked again for more.
        """
        self.check_embedder()
        where = {"outlet": {"$in": outlets}} if outlets else None
        wanted = CANDIDATES * k
        while True:
            with chroma_failures("searching"):
                found = self.chunks.query(
                    query_embeddings=[query_vector], n_results=wanted, where=where, include=["documents", "metadatas", "distances"]
                )
            hits = [
                (StoredChunk(id=chunk_id, text=text, metadata=meta or {}), 1.0 - distance)
                for chunk_id, text, meta, distance in zip(
                    found["ids"][0], found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True
                )
                if text is not None  # newsdesk always stores the text; a row without it is not a chunk it wrote
            ]
            kept = [(chunk, similarity) for chunk, similarity in hits if chunk.metadata.get("version") in visible]
            if len(kept) >= k or len(hits) < wanted or wanted >= MAX_CANDIDATES * k:
                return kept[:k]
            wanted *= 4

    def iter_metadatas(self) -> Iterator[dict]:
        """Every stored chunk's metadata, committed or not, a page at a time."""
        offset = 0
        while True:
            with chroma_failures("reading chunk metadata"):
                page = self.chunks.get(include=["metadatas"], limit=READ_PAGE, offset=offset)["metadatas"]
            yield from page
            if len(page) < READ_PAGE:
                return
            offset += READ_PAGE

    def stored_chunks(self) -> int:
        """Chunks physically in the collection (committed or not): also a live check that the store answers."""
        with chroma_failures("counting chunks"):
            return self.chunks.count()
