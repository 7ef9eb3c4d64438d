"""The answer object of ``../shared/CONTRACTS.md``, as pydantic models.

``ask --json``, ``POST /api/ask`` and ``eval`` all emit exactly these, so the
contract is enforced in one place.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Citation(BaseModel):
    """A quoted passage; ``source``, ``outlet`` and ``title`` come from stored metadata only."""

    id: int = Field(description="The n of the [n] marker in the answer.")
    source: str
    outlet: str
    title: str | None = None
    published: date | None = None
    quote: str = Field(description="Verbatim text from the article's cleaned text.")
    chunk_id: str
    score: float


class RetrievedChunk(BaseModel):
    rank: int
    source: str
    outlet: str
    chunk_id: str
    score: float = Field(description="Cosine similarity of the chunk to the standalone question.")


class Answer(BaseModel):
    question: str
    standalone_question: str
    answer: str
    abstained: bool
    support: float = Field(description="Best evidence score; the reply abstains below NEWSDESK_ABSTAIN_THRESHOLD.")
    citations: list[Citation]
    retrieved: list[RetrievedChunk]
    backend: str
    timings_ms: dict[str, float]
