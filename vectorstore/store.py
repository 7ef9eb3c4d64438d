"""The chunk store: Chroma (through langchain-chroma) plus the catalog of committed articles.

Readers only ever see chunks of committed article versions, which is what
makes article writes all-or-nothing (see ``catalog.py``). The Chroma client is
local (``PersistentClient`` in the data dir) unless a server URL is given,
in which case ``HttpClient`` is used and only the catalog stays local.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from filelock import FileLock

from vectorstore.catalog import ArticleRecord, Catalog
from vectorstore.embeddings import MiniLMEmbeddings, reference_provenance, runtime_setting
from vectorstore.errors import CatalogDamaged, StoreUnavailable

if TYPE_CHECKING:
    import chromadb

__all__ = ["CatalogDamaged", "ChunkStore", "EmbedderMismatch", "StagedArticle", "StoreUnavailable", "StoredChunk"]

COLLECTION_CONFIGURATION = {"hnsw": {"space": "cosine"}}
EMBEDDER_FILE = "embedder.json"
READ_PAGE = 5000


def chroma_failure_types() -> tuple[type[Exception], ...]:
    """What Chroma raises when its server is down or dying, or its disk is full: transport errors, its own error
    types, and (for the local database) OS and SQLite errors. Anything else is a bug and surfaces as one.
    Imported here, not at the top, so that `newsdesk sources` never imports chromadb."""
    import httpx
    from chromadb.errors import ChromaError

    return (ChromaError, httpx.HTTPError, OSError, sqlite3.Error)


@contextmanager
def chroma_failures(action: str, consequence: str = "") -> Iterator[None]:
    """Turn a failing store into ``StoreUnavailable``: one sentence naming what was being done (and what it left)."""
    try:
        yield
    except StoreUnavailable:
        raise
    except Exception as error:
        if not isinstance(error, chroma_failure_types()):
            raise
        detail = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        tail = f"; {consequence}" if consequence else ""
        raise StoreUnavailable(f"the Chroma store failed while {action} ({detail}){tail}") from error


@dataclass(frozen=True)
class StagedArticle:
    """An article version ready to be written: its catalog record and its chunks."""

    record: ArticleRecord
    texts: list[str]
    metadatas: list[dict]


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
        self, data_dir: Path, embeddings: MiniLMEmbeddings, collection: str = "newsdesk_chunks", chroma_url: str | None = None
    ) -> None:
        self.data_dir = ensure_writable_dir(Path(data_dir))
        self.embeddings = embeddings
        self.catalog = Catalog(self.data_dir)
        self.collection = collection
        self.chroma_url = chroma_url
        self._embedder_checked = False
        if chroma_url:
            self.vectors  # a remote server is reached at once, so a wrong URL is the first thing reported
        if not self.catalog.exists() and self.stored_chunks() == 0:
            self.catalog.replace_all([])  # a new store: from now on a missing catalog means damage

    @cached_property
    def vectors(self):  # -> langchain_chroma.Chroma; opened on first use so `sources` never imports chromadb
        from langchain_chroma import Chroma

        with chroma_failures("opening the collection", "nothing was changed"):
            return Chroma(
                client=open_chroma_client(self.data_dir, self.chroma_url),
                collection_name=self.collection,
                embedding_function=self.embeddings,
                collection_configuration=COLLECTION_CONFIGURATION,
            )

    def check_embedder(self) -> None:
        """Refuse to mix vector spaces: the configured runtime and model file must be the ones that wrote the store.

        The first write records them in ``embedder.json``; a store with
        articles but no record predates it and was written by the reference.
        An empty store takes on whatever embeds into it next.
        """
        if self._embedder_checked:
            return
        current = self.embeddings.provenance
        record = self.data_dir / EMBEDDER_FILE
        articles = self.catalog.articles()
        if articles:
            written = json.loads(record.read_text(encoding="utf-8")) if record.exists() else reference_provenance()
            if written != current:
                raise EmbedderMismatch(
                    f"the store in {self.data_dir} was embedded by {written['runtime']} ({written['model_file']}, "
                    f"sha256 {written['sha256'][:12]}), not by {current['runtime']} ({current['model_file']}, "
                    f"sha256 {current['sha256'][:12]}); set NEWSDESK_EMBED_RUNTIME={runtime_setting(written)} to use it, or ingest into a new "
                    "NEWSDESK_DATA_DIR"
                )
        if not articles or not record.exists():
            record.write_text(json.dumps(current, indent=1) + "\n", encoding="utf-8")
        self._embedder_checked = True

    def write_lock(self) -> FileLock:
        """Held for a whole ingest, so two ingests never interleave their writes."""
        return FileLock(str(self.data_dir / "ingest.lock"))

    # Writing

    def replace_articles(self, articles: list[StagedArticle], batch_size: int = 64) -> None:
        """Store new versions of several articles; each becomes visible only when all of them are complete.

        Chunks of several short articles share embedding batches (a batch of
        one three-chunk article wastes most of the runtime's parallelism), and
        the catalog is rewritten once for the group instead of once per article.
        """
        if not articles:
            return
        self.check_embedder()
        texts = [text for article in articles for text in article.texts]
        metadatas = [meta for article in articles for meta in article.metadatas]
        ids = [f"{meta['version']}#{meta['chunk_index']}" for meta in metadatas]
        sources = [article.record.source for article in articles]
        with chroma_failures(f"writing {', '.join(sources)}"):
            for start in range(0, len(texts), batch_size):
                end = start + batch_size
                self.vectors.add_texts(texts[start:end], metadatas=metadatas[start:end], ids=ids[start:end])
        try:
            self.catalog.commit(*(article.record for article in articles))
        except OSError as error:
            raise StoreUnavailable(f"cannot write the catalog {self.catalog.path} ({error.strerror or error})") from error
        versions = [article.record.version for article in articles]
        with chroma_failures(f"deleting the old versions of {', '.join(sources)}"):
            self.vectors.delete(where={"$and": [{"source": {"$in": sources}}, {"version": {"$nin": versions}}]})

    def retag_article(self, record: ArticleRecord, shared_metadata: dict) -> None:
        """Give a committed article new metadata (outlet, title, ...) without re-embedding its chunks.

        Chroma merges metadata on update and deletes keys set to None, so a
        field that is no longer known disappears instead of keeping an old value.
        """
        ids = self.vectors.get(where={"version": record.version}, include=[])["ids"]
        if ids:
            self.vectors._collection.update(ids=ids, metadatas=[dict(shared_metadata) for _ in ids])
        self.catalog.commit(record)

    def remove_article(self, source: str) -> None:
        """Un-commit first, then delete, so a crash in between only leaves invisible garbage."""
        self.catalog.remove(source)
        with chroma_failures(f"deleting {source}"):
            self.vectors.delete(where={"source": source})

    def collect_garbage(self) -> None:
        """Delete chunks no committed version owns (left by an interrupted ingest).

        The catalog is read first: a missing or damaged one raises ``CatalogDamaged`` here, so a
        damaged catalog can never make every stored chunk look like garbage.
        """
        versions = [record.version for record in self.catalog.articles().values()]
        where = {"version": {"$nin": versions}} if versions else {"version": {"$ne": ""}}
        with chroma_failures("removing chunks left by an interrupted ingest", "no article was changed"):
            self.vectors.delete(where=where)

    def rebuild_catalog(self) -> list[ArticleRecord]:
        """Write a new catalog from the stored chunks' metadata (no re-embedding) and return its records."""
        from vectorstore.repair import records_from_chunks

        records = records_from_chunks(self.iter_metadatas())
        self.catalog.replace_all(records)
        return records

    # Reading

    def committed_filter(self, outlets: list[str] | None = None) -> dict | None:
        """A Chroma ``where`` that admits only committed chunks (of the given outlets)."""
        records = [r for r in self.catalog.articles().values() if not outlets or r.outlet in outlets]
        if not records:
            return None
        return {"version": {"$in": [record.version for record in records]}}

    def iter_chunks(self, where: dict) -> Iterator[StoredChunk]:
        """All chunks matching ``where`` (texts and metadata, no vectors)."""
        with chroma_failures("reading chunks"):
            result = self.vectors.get(where=where, include=["documents", "metadatas"])
        for chunk_id, text, meta in zip(result["ids"], result["documents"], result["metadatas"], strict=True):
            yield StoredChunk(id=chunk_id, text=text, metadata=meta)

    def chunks_of_versions(self, versions: list[str], batch: int = 200) -> Iterator[StoredChunk]:
        """The chunks of the given article versions, fetched ``batch`` versions at a time so no filter grows
        with the list (the lexical index syncs new articles through this)."""
        for start in range(0, len(versions), batch):
            yield from self.iter_chunks({"version": {"$in": versions[start : start + batch]}})

    def dense_search(self, query_vector: list[float], k: int, where: dict) -> list[tuple[StoredChunk, float]]:
        """Nearest committed chunks with their cosine similarity."""
        self.check_embedder()
        with chroma_failures("searching"):
            hits = self.vectors.similarity_search_by_vector_with_relevance_scores(query_vector, k=k, filter=where)
        return [(StoredChunk(id=doc.id, text=doc.page_content, metadata=doc.metadata), 1.0 - distance) for doc, distance in hits]

    def iter_metadatas(self) -> Iterator[dict]:
        """Every stored chunk's metadata, committed or not, a page at a time."""
        offset = 0
        while True:
            with chroma_failures("reading chunk metadata"):
                page = self.vectors.get(include=["metadatas"], limit=READ_PAGE, offset=offset)["metadatas"]
            yield from page
            if len(page) < READ_PAGE:
                return
            offset += READ_PAGE

    def chunk_count(self) -> int:
        return sum(record.chunks for record in self.catalog.articles().values())

    def stored_chunks(self) -> int:
        """Chunks physically in the collection (committed or not): also a live check that the store answers."""
        with chroma_failures("counting chunks"):
            return self.vectors._collection.count()
