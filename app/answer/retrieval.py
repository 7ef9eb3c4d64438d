"""Hybrid retrieval: dense (Chroma) and BM25 (rank-bm25), fused by reciprocal rank, kept outlet-diverse.

Dense search finds paraphrases; BM25 finds rare names and numbers that a
small embedding model blurs. Reciprocal-rank fusion needs no score
calibration between the two. Because the articles disagree, the final pick
keeps the best passage of each outlet that made the candidate pool before
filling up by rank, so one outlet's framing never crowds out the others.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi

from app.answer.text import terms
from vectorstore.store import ChunkStore, StoredChunk


@dataclass(frozen=True)
class Evidence:
    """A retrieved chunk, its fused rank and its cosine similarity to the question."""

    chunk: StoredChunk
    rank: int
    score: float

    @property
    def outlet(self) -> str:
        return self.chunk.metadata["outlet"]


@dataclass(frozen=True)
class _Bm25Snapshot:
    """The committed chunks and their BM25 index, swapped in as one object so readers never mix two versions."""

    key: tuple[str, ...] | None
    chunks: list[StoredChunk]
    bm25: BM25Okapi | None


class Bm25Index:
    """BM25 over every committed chunk, rebuilt only when the committed set changes (thread-safe)."""

    def __init__(self, store: ChunkStore) -> None:
        self.store = store
        self._snapshot = _Bm25Snapshot(key=None, chunks=[], bm25=None)
        self._rebuild_lock = threading.Lock()

    def search(self, question: str, k: int, outlets: list[str] | None) -> list[StoredChunk]:
        snapshot = self._current()
        query = terms(question)
        if snapshot.bm25 is None or not query:
            return []
        scores = snapshot.bm25.get_scores(query)
        order = np.argsort(-scores, kind="stable")
        hits = [snapshot.chunks[i] for i in order if scores[i] > 0]
        return [c for c in hits if not outlets or c.metadata["outlet"] in outlets][:k]

    def idf(self, term: str) -> float:
        """How rare a folded term is in the committed corpus; a term it never uses is rarest."""
        snapshot = self._current()
        if snapshot.bm25 is None:
            return 1.0
        unseen = math.log((len(snapshot.chunks) + 0.5) / 0.5)  # BM25Okapi's idf at document frequency 0
        return max(snapshot.bm25.idf.get(term, unseen), 0.0) + 0.1

    def _current(self) -> _Bm25Snapshot:
        where = self.store.committed_filter()
        key = tuple(sorted(where["version"]["$in"])) if where else ()
        if key == self._snapshot.key:
            return self._snapshot
        with self._rebuild_lock:  # one thread rebuilds; the others wait for its result
            if key != self._snapshot.key:
                chunks = list(self.store.iter_chunks(where)) if where else []
                bm25 = BM25Okapi([terms(c.text) or ["_"] for c in chunks]) if chunks else None
                self._snapshot = _Bm25Snapshot(key=key, chunks=chunks, bm25=bm25)
            return self._snapshot


class HybridRetriever:
    """``retrieve(question) -> [Evidence]``, best first."""

    def __init__(self, store: ChunkStore, top_k: int = 5, fetch_k: int = 20, rrf_k: int = 60) -> None:
        self.store = store
        self.bm25 = Bm25Index(store)
        self.top_k = top_k
        self.fetch_k = fetch_k
        self.rrf_k = rrf_k

    def retrieve(self, question: str, query_vector: list[float], outlets: list[str] | None = None) -> list[Evidence]:
        view = self.store.catalog.view()
        if not view.versions or (outlets and not set(outlets) & set(view.outlets)):
            return []
        dense = self.store.dense_search(query_vector, self.fetch_k, view.versions, outlets)
        sparse = self.bm25.search(question, self.fetch_k, outlets)
        fused = self._fuse([c for c, _ in dense], sparse)
        chosen = self._diverse_top(fused)
        similarity = self._similarities(chosen, dict((c.id, s) for c, s in dense), query_vector)
        return [Evidence(chunk=c, rank=rank, score=similarity[c.id]) for rank, c in enumerate(chosen, start=1)]

    def _fuse(self, *rankings: list[StoredChunk]) -> list[StoredChunk]:
        scores: dict[str, float] = {}
        chunks: dict[str, StoredChunk] = {}
        for ranking in rankings:
            for rank, chunk in enumerate(ranking, start=1):
                scores[chunk.id] = scores.get(chunk.id, 0.0) + 1.0 / (self.rrf_k + rank)
                chunks[chunk.id] = chunk
        return [chunks[i] for i in sorted(scores, key=lambda i: -scores[i])]

    def _diverse_top(self, fused: list[StoredChunk]) -> list[StoredChunk]:
        """The best chunk of each outlet in the candidate pool, then the rest by fused rank."""
        pool = fused[: 2 * self.top_k]
        chosen: list[StoredChunk] = []
        for chunk in pool:
            if chunk.metadata["outlet"] not in {c.metadata["outlet"] for c in chosen}:
                chosen.append(chunk)
        chosen = chosen[: self.top_k]
        chosen += [c for c in fused if c not in chosen][: self.top_k - len(chosen)]
        return sorted(chosen, key=fused.index)

    def _similarities(self, chunks: list[StoredChunk], known: dict[str, float], query_vector: list[float]) -> dict[str, float]:
        """Cosine similarity for every chosen chunk; BM25-only ones get theirs from stored vectors."""
        missing = [c.id for c in chunks if c.id not in known]
        if missing:
            stored = self.store.vectors.get(ids=missing, include=["embeddings"])
            query = np.asarray(query_vector)
            for chunk_id, vector in zip(stored["ids"], stored["embeddings"], strict=True):
                known[chunk_id] = float(np.dot(query, vector))
        return known
