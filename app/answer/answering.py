"""What every answerer returns, and the shape an answerer has.

The chain does not care whether the reply was quoted (extractive) or written
by a model (generative): both hand back an ``AnswerResult`` whose citations
were built from stored metadata, never from model output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from app.answer.retrieval import Evidence
from app.answer.text import named_outlets
from app.schemas import Citation, RetrievedChunk, SentenceCheck
from ingest.outlets import UNKNOWN_OUTLET

TokenSink = Callable[[str], None]
"""Receives generated text as it arrives, for a UI that streams the draft."""


@dataclass
class AnswerResult:
    answer: str
    citations: list[Citation]
    abstained: bool
    support: float
    backend: str
    check: SentenceCheck | None = None  # None when nothing was generated (verbatim quotes need no check)
    notice: str | None = None  # a reader-facing sentence, e.g. why the extractive answer stands in


class Answerer(Protocol):
    def answer(
        self, question: str, evidence: list[Evidence], on_token: TokenSink | None = None, established: Sequence[Any] = ()
    ) -> AnswerResult:
        """``established``: sentences of other evidence that cleared the bar (extractive ``Candidate``s); the
        evidence's sentences that echo them count as its account of the topic they establish."""
        ...


def named_evidence(question: str, evidence: list[Evidence]) -> tuple[list[str], list[Evidence]]:
    """The outlets ``question`` names and their evidence; all of it when it names none.

    For a question that names an outlet the chain also hands over other outlets' passages (they can only
    establish the topic); an answer speaks from the named outlet's alone.
    """
    named = named_outlets(question, {e.outlet for e in evidence if e.outlet != UNKNOWN_OUTLET})
    return named, [e for e in evidence if e.outlet in named] if named else evidence


def cite(number: int, evidence: Evidence, quote: str, score: float) -> Citation:
    """A citation of a retrieved chunk: file, outlet, title and date from its stored metadata, never from a model."""
    meta = evidence.chunk.metadata
    return Citation(
        id=number,
        source=meta["source"],
        outlet=meta["outlet"],
        outlet_basis=meta.get("outlet_basis"),
        title=meta.get("title"),
        url=meta.get("url"),
        published=meta.get("published"),
        quote=quote,
        chunk_id=meta["chunk_id"],
        score=round(score, 4),
    )


def retrieved_chunk(evidence: Evidence) -> RetrievedChunk:
    """How a retrieved chunk is reported in answer and comparison objects."""
    meta = evidence.chunk.metadata
    return RetrievedChunk(
        rank=evidence.rank, source=meta["source"], outlet=evidence.outlet, chunk_id=meta["chunk_id"], score=round(evidence.score, 4)
    )
