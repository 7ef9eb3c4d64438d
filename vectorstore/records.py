"""What the catalog holds about one article: the public record, and the compact row kept in memory per article.

A replica serving 100,000 articles keeps one ``Row`` each (the record's JSON
plus the few fields the query path reads) and parses an ``ArticleRecord`` only
when one is asked for: a parsed record costs about 1.9 KB, its JSON about 0.7 KB.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, Field


class ArticleRecord(BaseModel):
    """One ingested article, as ``newsdesk sources --json`` lists it."""

    source: str = Field(description="The path relative to the folder it was ingested from, with / separators.")
    outlet: str
    outlet_basis: str = Field(
        default="not recorded",
        description="How the outlet was found (front matter, og:site_name, url domain, sign-off, none, ...).",
    )
    title: str | None = None
    published: date | None = None
    author: str | None = None
    url: str | None = None
    chunks: int = Field(description="Number of chunks stored.")
    path: str = Field(default="", description="Where the file was read from; not shown by the API, so a remote copy has none.")
    doc_hash: str = Field(description="sha256 of the cleaned text.")
    fingerprint: str = Field(description="sha256 of the file bytes, declared metadata and ingest settings.")
    tagging: str | None = Field(default=None, description="Tagging rules and outlet registry the metadata came from.")
    notes: list[str] = Field(default_factory=list, description="Warnings raised while ingesting.")

    def public(self) -> dict:
        """The record as ``sources --json`` and ``GET /api/sources`` show it: without the server's own file path."""
        return self.model_dump(mode="json", exclude={"path"})

    @property
    def version(self) -> str:
        """The key that ties stored chunks to this exact version of the article."""
        return f"{self.doc_hash[:16]}:{self.source}"


@dataclass(frozen=True, slots=True)
class Row:
    """One committed article as the catalog keeps it: when it was committed, its record's JSON, and the fields
    that answering reads for every question (version, outlet, chunk count) without parsing the JSON."""

    source: str
    committed_at: float
    version: str
    outlet: str
    chunks: int
    record_json: str

    @classmethod
    def of(cls, record: ArticleRecord, committed_at: float) -> Row:
        return cls(record.source, committed_at, record.version, record.outlet, record.chunks, record.model_dump_json())

    def record(self) -> ArticleRecord:
        return ArticleRecord.model_validate_json(self.record_json)


class Records(Mapping[str, ArticleRecord]):
    """A read-only mapping source -> ``ArticleRecord`` over rows, parsing a record only when it is read."""

    def __init__(self, rows: dict[str, Row]) -> None:
        self._rows = rows

    def __getitem__(self, source: str) -> ArticleRecord:
        return self._rows[source].record()

    def __contains__(self, source: object) -> bool:
        return source in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def rows(self) -> Mapping[str, Row]:
        return self._rows
