"""The JSON API of docs/contracts.md: ``POST /api/ask``, ``POST /api/compare``, ``GET /api/sources``, ``GET /api/chunks``,
``GET /api/health``.

Request bodies are pydantic models, so a malformed body is a 422 before any
work is done; ``app.web.server`` turns FastAPI's error list into one readable
sentence. The routes call the same ``Newsdesk`` as the CLI and the chat UI,
so all three give the same answers and citations.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from app.errors import BadInput, TooLarge
from app.schemas import Answer, Comparison
from app.service import Newsdesk
from vectorstore.catalog import ArticleRecord
from vectorstore.store import StoreUnavailable


class AskRequest(BaseModel):
    """The body of ``POST /api/ask``; unknown keys are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question to answer.")
    history: list[str] = Field(default_factory=list, description="Earlier questions of the conversation, oldest first.")
    outlets: list[str] = Field(default_factory=list, description="Only answer from these outlets; empty means all.")


class Health(BaseModel):
    status: str
    articles: int
    chunks: int


@contextmanager
def http_errors() -> Iterator[None]:
    """The same status codes for ``/ask`` and ``/compare``: 413 too long, 422 bad input, 503 store down."""
    try:
        yield
    except TooLarge as error:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, error.message) from None
    except BadInput as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, error.message) from None
    except StoreUnavailable as error:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from None


def build_api_router(newsdesk: Newsdesk) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["newsdesk"])

    @router.post("/ask", response_model=Answer, responses={413: {"description": "Question or history too long."}})
    def ask(request: AskRequest) -> Answer:
        """Answer a question; the reply cites outlet and file for each claim, or abstains."""
        with http_errors():
            return newsdesk.ask(request.question, request.history, request.outlets)

    @router.post("/compare", response_model=Comparison, responses={413: {"description": "Question or history too long."}})
    def compare(request: AskRequest) -> Comparison:
        """Each outlet's own account with citations to its own articles, the silent outlets, and the disagreements."""
        with http_errors():
            return newsdesk.compare(request.question, request.history, request.outlets)

    @router.get("/sources", response_model=list[ArticleRecord])
    def sources() -> list[ArticleRecord]:
        """The ingested articles, as ``newsdesk sources --json`` prints them."""
        return newsdesk.sources()

    @router.get("/chunks", response_model=list[str], responses={404: {"description": "No such article."}})
    def chunks(source: str) -> list[str]:
        """The stored chunk texts of one article (``source`` as in /api/sources): ``eval --url`` checks quotes against them."""
        texts = newsdesk.chunk_texts(source)
        if not texts:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ingested article is called '{source}'")
        return texts

    @router.get("/health", response_model=Health)
    def health() -> Health:
        records = newsdesk.sources()
        return Health(status="ok", articles=len(records), chunks=sum(r.chunks for r in records))

    return router
