"""The chunk store: Chroma (through langchain-chroma) plus the catalog of committed articles.

Readers only ever see chunks of committed article versions, which is what
makes article writes all-or-nothing (see ``catalog.py``). The Chroma client is
local (``PersistentClient`` in the data dir) unless a server URL is given,
in which case ``HttpClient`` is used and only the catalog stays local.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import chromadb
from filelock import FileLock
from langchain_chroma import Chroma

from vectorstore.catalog import ArticleRecord, Catalog
from vectorstore.embeddings import MiniLMEmbeddings

COLLECTION_CONFIGURATION = {"hnsw": {"space": "cosine"}}


class StoreUnavailable(Exception):
    """The data dir cannot be created or written, or the Chroma server cannot be reached."""


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
        self.vectors = Chroma(
            client=open_chroma_client(self.data_dir, chroma_url),
            collection_name=collection,
            embedding_function=embeddings,
            collection_configuration=COLLECTION_CONFIGURATION,
        )

    def write_lock(self) -> FileLock:
        """Held for a whole ingest, so two ingests never interleave their writes."""
        return FileLock(str(self.data_dir / "ingest.lock"))

    # Writing

    def replace_article(
        self,
        record: ArticleRecord,
        texts: list[str],
        metadatas: list[dict],
        batch_size: int = 64,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """Store a new version of an article; it becomes visible only when complete."""
        ids = [f"{record.version}#{meta['chunk_index']}" for meta in metadatas]
        for start in range(0, len(texts), batch_size):
            end = start + batch_size
            self.vectors.add_texts(texts[start:end], metadatas=metadatas[start:end], ids=ids[start:end])
            if on_batch:
                on_batch(len(texts[start:end]))
        self.catalog.commit(record)
        self.vectors.delete(where={"$and": [{"source": record.source}, {"version": {"$ne": record.version}}]})

    def remove_article(self, source: str) -> None:
        """Un-commit first, then delete, so a crash in between only leaves invisible garbage."""
        self.catalog.remove(source)
        self.vectors.delete(where={"source": source})

    def collect_garbage(self) -> None:
        """Delete chunks no committed version owns (left by an interrupted ingest)."""
        versions = [record.version for record in self.catalog.articles().values()]
        where = {"version": {"$nin": versions}} if versions else {"version": {"$ne": ""}}
        self.vectors.delete(where=where)

    # Reading

    def committed_filter(self, outlets: list[str] | None = None) -> dict | None:
        """A Chroma ``where`` that admits only committed chunks (of the given outlets)."""
        records = [r for r in self.catalog.articles().values() if not outlets or r.outlet in outlets]
        if not records:
            return None
        return {"version": {"$in": [record.version for record in records]}}

    def iter_chunks(self, where: dict) -> Iterator[StoredChunk]:
        """All chunks matching ``where`` (texts and metadata, no vectors)."""
        result = self.vectors.get(where=where, include=["documents", "metadatas"])
        for chunk_id, text, meta in zip(result["ids"], result["documents"], result["metadatas"], strict=True):
            yield StoredChunk(id=chunk_id, text=text, metadata=meta)

    def dense_search(self, query_vector: list[float], k: int, where: dict) -> list[tuple[StoredChunk, float]]:
        """Nearest committed chunks with their cosine similarity."""
        hits = self.vectors.similarity_search_by_vector_with_relevance_scores(query_vector, k=k, filter=where)
        return [(StoredChunk(id=doc.id, text=doc.page_content, metadata=doc.metadata), 1.0 - distance) for doc, distance in hits]

    def chunk_count(self) -> int:
        return sum(record.chunks for record in self.catalog.articles().values())
