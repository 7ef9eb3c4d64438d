"""Hybrid retrieval: dense (Chroma) and BM25 (SQLite FTS5, ``vectorstore.lexical``), fused by reciprocal rank, kept outlet-diverse.

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

from app.answer.text import terms
from vectorstore.lexical import LexicalIndex
from vectorstore.store import ChunkStore, StoredChunk

OKAPI_EPSILON = 0.25  # rank-bm25's BM25Okapi epsilon, kept so term weights are what they were


@dataclass(frozen=True)
class Evidence:
    """A retrieved chunk, its fused rank and its cosine similarity to the question."""

    chunk: StoredChunk
    rank: int
    score: float

    @property
    def outlet(self) -> str:
        return self.chunk.metadata["outlet"]


class Bm25Index:
    """BM25 over every committed chunk, in a persistent FTS5 index synced incrementally with the catalog.

    Scores come from FTS5's ``bm25()``; term weights for the answerer keep
    rank-bm25's BM25Okapi idf (a term in over half the chunks gets a quarter
    of the average idf), so abstention stays calibrated. Weights are cached
    until the index moves to another catalog generation.
    """

    def __init__(self, store: ChunkStore) -> None:
        self.store = store
        self.index = LexicalIndex(store.data_dir / "lexical" / f"{store.collection}.sqlite", store, terms)
        self._weights: dict[str, float] = {}
        self._average_idf: float | None = None
        self._generation: int | None = None
        self._lock = threading.Lock()

    def sync(self) -> None:
        """Bring the index up to the committed articles (the server does this before its first question)."""
        self.index.sync()

    def search(self, question: str, k: int, outlets: list[str] | None) -> list[StoredChunk]:
        return self.index.search(terms(question), k, outlets)

    def idf(self, term: str) -> float:
        """How rare a folded term is in the committed corpus; a term it never uses is rarest."""
        total = self.index.document_count()  # syncs first
        with self._lock:
            if self.index.generation != self._generation:
                self._weights, self._average_idf, self._generation = {}, None, self.index.generation
            if term not in self._weights:
                self._weights[term] = self._weight(term, total)
            return self._weights[term]

    def _weight(self, term: str, total: int) -> float:
        if total == 0:
            return 1.0
        idf = _okapi_idf(total, self.index.document_frequency(term))
        if idf < 0:  # BM25Okapi's floor for terms in over half the chunks
            if self._average_idf is None:
                idfs = [_okapi_idf(total, df) for df in self.index.document_frequencies()]
                self._average_idf = sum(idfs) / len(idfs) if idfs else 0.0
            idf = OKAPI_EPSILON * self._average_idf
        return max(idf, 0.0) + 0.1


def _okapi_idf(total: int, frequency: int) -> float:
    """rank-bm25's BM25Okapi idf of a term found in ``frequency`` of ``total`` chunks."""
    return math.log(total - frequency + 0.5) - math.log(frequency + 0.5)


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
            stored = self.store.chunks.get(ids=missing, include=["embeddings"])
            query = np.asarray(query_vector)
            for chunk_id, vector in zip(stored["ids"], stored["embeddings"], strict=True):
                known[chunk_id] = float(np.dot(query, vector))
        return known
