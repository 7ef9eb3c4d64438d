"""The JSON API of docs/contracts.md: ``POST /api/ask``, ``POST /api/compare``, ``GET /api/sources``, ``GET /api/chunks``,
``GET /api/health``.

Request bodies are pydantic models, so a malformed body is a 422 before any
work is done; ``app.web.server`` turns FastAPI's error list into one readable
sentence. The routes call the same ``Newsdesk`` as the CLI and the chat UI,
so all three give the same answers and citations.

Answering is CPU-bound: on two cores, eight answers at once take four times
as long each as two at once, and every client waits for the slowest. So
``/api/ask`` and ``/api/compare`` compute at most ``NEWSDESK_UI_CONCURRENCY`` answers at a time,
like the chat UI's queue; the others wait their turn without holding a worker
thread, and each answer is as fast as on an idle server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app.errors import BadInput, TooLarge
from app.schemas import Answer, Comparison
from app.service import Newsdesk
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


def build_api_router(newsdesk: Newsdesk, answer_slots: asyncio.Semaphore) -> APIRouter:
    """``answer_slots`` is the server's one cap on answers computed at once, shared with the streaming routes."""
    router = APIRouter(prefix="/api", tags=["newsdesk"])

    async def answered(work: Callable, request: AskRequest):
        """Run ``work`` in the thread pool once an answer slot is free; waiting holds no thread."""
        with http_errors():
            async with answer_slots:
                return await run_in_threadpool(work, request.question, request.history, request.outlets)

    @router.post("/ask", response_model=Answer, responses={
        413: {"description": "Question or history too long."}, 503: {"description": "The store is unavailable."}})
    async def ask(request: AskRequest) -> Answer:
        """Answer a question; the reply cites outlet and file for each claim, or abstains."""
        return await answered(newsdesk.ask, request)

    @router.post("/compare", response_model=Comparison, responses={
        413: {"description": "Question or history too long."}, 503: {"description": "The store is unavailable."}})
    async def compare(request: AskRequest) -> Comparison:
        """Each outlet's own account with citations to its own articles, the silent outlets, and the disagreements."""
        return await answered(newsdesk.compare, request)

    @router.get("/sources", responses={503: {"description": "The store is unavailable."}})
    def sources() -> list[dict]:
        """The ingested articles, as ``newsdesk sources --json`` prints them (no server paths)."""
        with http_errors():
            return [record.public() for record in newsdesk.sources()]

    @router.get("/chunks", response_model=list[str], responses={404: {"description": "No such article."}})
    def chunks(source: str) -> list[str]:
        """The stored chunk texts of one article (``source`` as in /api/sources): ``eval --url`` checks quotes against them."""
        with http_errors():
            texts = newsdesk.chunk_texts(source)
        if not texts:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ingested article is called '{source}'")
        return texts

    @router.get("/health", response_model=Health, responses={503: {"description": "The store does not answer."}})
    def health() -> Health | JSONResponse:
        """``ok`` only when the store answers now; otherwise 503 with the reason."""
        try:
            return Health(status="ok", **newsdesk.health())
        except StoreUnavailable as error:
            return JSONResponse({"status": "unavailable", "detail": str(error)}, status.HTTP_503_SERVICE_UNAVAILABLE)

    return router
