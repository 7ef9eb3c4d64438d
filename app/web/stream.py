"""``POST /api/ask/stream`` and ``/api/compare/stream``: one reply as Server-Sent Events, shared with ``/v1``.

Events, in this order (docs/contracts.md):

* ``progress`` ``{"stage": "retrieving"}``, then for an answer ``{"stage": "drafting"}`` when the answerer starts;
* ``draft`` ``{"text": ...}``: a generative backend's unchecked draft as it is written (none for extractive);
* ``text`` ``{"text": ...}``: pieces of the final text; joined, they equal ``answer.answer``, or for a
  comparison the text ``newsdesk compare`` prints;
* ``answer`` (or ``comparison``): the full object, exactly what ``POST /api/ask`` (``/api/compare``)
  returns; always the last event.

Any failure after the stream has started is an ``error`` event ``{"message", "status"}`` and the end of
the stream, never a broken connection. The answer is computed in a worker thread. When the client
goes away, the next draft token raises inside that thread, so a generative backend stops writing
and the worker is free again (``AnswerWorkers`` counts them, which is how the tests see it).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.sse import EventSourceResponse, ServerSentEvent

from app.answer.answering import TokenSink
from app.answer.compare_render import render_comparison
from app.errors import BadInput, TooLarge
from app.schemas import Answer, Comparison
from app.service import Newsdesk
from app.web.api import AskRequest
from vectorstore.store import StoreUnavailable

PIECE_WORDS = 4
STAGE_EVENTS = {"answer": "drafting"}  # "retrieving" is sent first, before any stage starts
log = logging.getLogger(__name__)


class ClientGone(Exception):
    """Raised inside the worker thread when nobody is listening any more, to stop a generating model."""


class AnswerWorkers:
    """The server's answer slots, shared by every answering route, and the streamed answers being computed now.

    One semaphore for ``/api/ask``, ``/api/compare``, their streams and ``/v1/chat/completions``: answering is
    CPU-bound, so however a request arrives it waits for a slot instead of slowing every answer in progress.
    """

    def __init__(self, limit: int) -> None:
        self.slots = asyncio.Semaphore(limit)
        self.active = 0
        self.stopped = 0
        self._changed = threading.Condition()

    def started(self) -> None:
        with self._changed:
            self.active += 1

    def finished(self, stopped: bool) -> None:
        with self._changed:
            self.active -= 1
            self.stopped += stopped
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once no answer is being computed; for tests and orderly shutdown."""
        with self._changed:
            return self._changed.wait_for(lambda: self.active == 0, timeout)


@dataclass(frozen=True)
class StreamEvent:
    kind: str  # progress, draft, text, answer, comparison or error
    data: Any


Reply = Answer | Comparison


@dataclass(frozen=True)
class Job:
    """One streamed request: the work (given the token and stage sinks), its last event's name, its text."""

    work: Callable[[TokenSink, Callable[[str], None]], Reply]
    final: str
    text: Callable[[Any], str]


def ask_job(newsdesk: Newsdesk, request: AskRequest) -> Job:
    return Job(lambda on_token, on_stage: newsdesk.ask(request.question, request.history, request.outlets, on_token, on_stage),
               "answer", lambda answer: answer.answer)


def compare_job(newsdesk: Newsdesk, request: AskRequest) -> Job:
    """Comparing has no draft and no stages to report; its text is the comparison as people read it."""
    return Job(lambda _token, _stage: newsdesk.compare(request.question, request.history, request.outlets),
               "comparison", render_comparison)


def text_pieces(text: str, words: int = PIECE_WORDS) -> list[str]:
    """``text`` in pieces of a few words that join back to exactly ``text``."""
    parts = text.split(" ")
    return [" ".join(parts[i:i + words]) + (" " if i + words < len(parts) else "") for i in range(0, len(parts), words)]


def error_status(error: Exception) -> int:
    """The HTTP status the same failure gets from ``POST /api/ask``."""
    if isinstance(error, TooLarge):
        return 413
    if isinstance(error, BadInput):
        return 422
    return 503 if isinstance(error, StoreUnavailable) else 500


def error_message(error: Exception) -> str:
    if isinstance(error, (BadInput, StoreUnavailable)):
        return getattr(error, "message", str(error))
    return "the answer could not be computed because of an internal error; the server log has the details"


async def job_events(job: Job, workers: AnswerWorkers) -> AsyncIterator[StreamEvent]:
    """Progress, drafts, text pieces and the final object for one request; errors become one ``error`` event."""
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[StreamEvent] = asyncio.Queue()
    gone = threading.Event()

    def post(kind: str, data: Any) -> None:
        loop.call_soon_threadsafe(inbox.put_nowait, StreamEvent(kind, data))

    def on_token(piece: str) -> None:
        if gone.is_set():
            raise ClientGone
        post("draft", {"text": piece})

    def on_stage(stage: str) -> None:
        if stage in STAGE_EVENTS:
            post("progress", {"stage": STAGE_EVENTS[stage]})

    def work() -> None:
        try:
            post(job.final, job.work(on_token, on_stage))
        except ClientGone:
            pass
        except Exception as error:  # noqa: BLE001 - every failure must reach the client as an event
            if not isinstance(error, (BadInput, StoreUnavailable)):
                log.exception("streamed answer failed")
            post("error", {"message": error_message(error), "status": error_status(error)})
        finally:
            workers.finished(stopped=gone.is_set())
            loop.call_soon_threadsafe(workers.slots.release)

    try:
        yield StreamEvent("progress", {"stage": "retrieving"})
        await workers.slots.acquire()  # waiting holds no thread; a client gone while waiting never takes the slot
        workers.started()
        threading.Thread(target=work, name="newsdesk-stream", daemon=True).start()
        while True:
            event = await inbox.get()
            if event.kind == job.final:
                for piece in text_pieces(job.text(event.data)):
                    yield StreamEvent("text", {"text": piece})
            yield event
            if event.kind in (job.final, "error"):
                return
    finally:
        gone.set()  # a disconnect cancels us at ``inbox.get()``; the worker stops at its next token


def sse(event: StreamEvent) -> ServerSentEvent:
    data = event.data.model_dump(mode="json") if isinstance(event.data, (Answer, Comparison)) else event.data
    return ServerSentEvent(event=event.kind, data=data)


def build_stream_router(newsdesk: Newsdesk, workers: AnswerWorkers) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["newsdesk"])

    @router.post("/ask/stream", response_class=EventSourceResponse)
    async def ask_stream(request: AskRequest) -> AsyncIterator[ServerSentEvent]:
        """The answer of ``POST /api/ask`` as Server-Sent Events: progress, text pieces, then the answer object."""
        async for event in job_events(ask_job(newsdesk, request), workers):
            yield sse(event)

    @router.post("/compare/stream", response_class=EventSourceResponse)
    async def compare_stream(request: AskRequest) -> AsyncIterator[ServerSentEvent]:
        """The comparison of ``POST /api/compare`` as Server-Sent Events: progress, text pieces, then the comparison object."""
        async for event in job_events(compare_job(newsdesk, request), workers):
            yield sse(event)

    return router
