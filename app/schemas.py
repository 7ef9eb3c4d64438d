"""The answer object of ``docs/contracts.md``, as pydantic models.

``ask --json``, ``POST /api/ask`` and ``eval`` all emit exactly these, so the
contract is enforced in one place.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Citation(BaseModel):
    """A quoted passage; ``source``, ``outlet`` and ``title`` come from stored metadata only."""

    id: int = Field(description="The n of the [n] marker in the answer.")
    source: str = Field(description="The article's path relative to the folder it was ingested from.")
    outlet: str
    outlet_basis: str | None = Field(default=None, description="How the outlet was found, e.g. 'og:site_name', 'dateline'.")
    title: str | None = None
    url: str | None = Field(default=None, description="The article's own http(s) address, when known.")
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


class DroppedSentence(BaseModel):
    text: str
    reason: str = Field(description="Why the checker refused it, e.g. 'the number 300 is not in the cited evidence'.")


class SentenceCheck(BaseModel):
    """What the support checker did to a generated answer before anyone saw it."""

    checked: int = Field(description="Sentences the model wrote.")
    kept: int = Field(description="Sentences shown as written, each supported by the chunk it cites.")
    dropped: int = Field(description="Unsupported sentences removed (NEWSDESK_UNSUPPORTED_SENTENCES=drop).")
    marked: int = Field(default=0, description="Unsupported sentences shown with a warning (=mark).")
    unsupported: list[DroppedSentence] = Field(default_factory=list)


class Answer(BaseModel):
    question: str
    standalone_question: str
    answer: str
    abstained: bool
    support: float = Field(description="Best evidence score; the reply abstains below NEWSDESK_ABSTAIN_THRESHOLD.")
    citations: list[Citation]
    retrieved: list[RetrievedChunk]
    backend: str = Field(description="extractive, openai, gguf, or e.g. openai+extractive-fallback.")
    check: SentenceCheck | None = Field(default=None, description="Sentence check of a generated answer; null for extractive.")
    notice: str | None = Field(default=None, description="A message for the reader, e.g. why the LLM was not used.")
    language_notice: str | None = Field(
        default=None, description="Set when the question is not in English: questions are answered in English."
    )
    timings_ms: dict[str, float]


class OutletSection(BaseModel):
    """One outlet's own account in a comparison; every ``[n]`` in ``answer`` cites this outlet's articles."""

    outlet: str
    answer: str
    abstained: bool
    articles: int = Field(description="How many of this outlet's articles the section quotes.")


class Claim(BaseModel):
    outlet: str
    citation: int = Field(description="Id of the citation holding this outlet's side.")


class Disagreement(BaseModel):
    about: str = Field(description="What the outlets differ on, e.g. 'who is responsible: consulate, closure'.")
    claims: list[Claim]


class Comparison(BaseModel):
    """The comparison object of docs/contracts.md: one section per outlet with evidence, the silent ones, and the conflicts."""

    question: str
    standalone_question: str
    abstained: bool
    outlets: list[OutletSection]
    silent: list[str] = Field(description="Ingested outlets (within the filter) with no evidence that clears the bar.")
    disagreements: list[Disagreement]
    citations: list[Citation] = Field(description="Ids unique across the comparison.")
    retrieved: list[RetrievedChunk] = Field(default_factory=list, description="Every outlet's retrieved chunks, ranked per outlet.")
    backend: str
    notice: str | None = Field(default=None, description="A message for the reader, e.g. a section's LLM fallback.")
    timings_ms: dict[str, float]
