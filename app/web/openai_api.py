"""An OpenAI-compatible front door: ``GET /v1/models`` and ``POST /v1/chat/completions``.

Two models: ``newsdesk`` answers (as ``POST /api/ask``); ``newsdesk-compare``
compares the outlets (as ``POST /api/compare``), and its response also holds
the whole comparison object in a ``comparison`` field.

Chat front-ends (Open WebUI, LibreChat, promptfoo) and every OpenAI SDK speak
this protocol, so they can talk to newsdesk unchanged. The mapping
(docs/contracts.md): the last user message is the question, earlier user
messages are the history, other roles are ignored (the reply is always built
from the articles, never steered by a system prompt). The reply text is the
answer plus its Sources block, as ``newsdesk ask`` prints it, and the
structured citations travel in a ``citations`` field of the response, or of
the final chunk when streaming, so references are not lost on the way.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from app.answer.compare_render import render_comparison
from app.answer.render import render_reply
from app.answer.text import message_text
from app.errors import BadInput
from app.schemas import Comparison
from app.service import MAX_HISTORY_TURNS, Newsdesk
from app.web.api import AskRequest
from app.web.stream import AnswerWorkers, Job, Reply, ask_job, compare_job, error_message, error_status, job_events
from vectorstore.store import StoreUnavailable

MODEL = "newsdesk"
COMPARE_MODEL = "newsdesk-compare"
CREATED = 1_700_000_000  # models carry a fixed creation time; it is informational only


class ChatMessage(BaseModel):
    """One message; ``content`` may be a string or OpenAI's list of content parts."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The fields newsdesk reads; the rest of OpenAI's options (temperature, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    outlets: list[str] = Field(default_factory=list, description="newsdesk extension: only answer from these outlets.")


def openai_error(status_code: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> JSONResponse:
    """OpenAI's error shape, which its SDKs turn into the matching exception."""
    return JSONResponse(status_code=status_code, content={"error": {"message": message, "type": kind, "param": None, "code": code}})


def ask_request(chat: ChatRequest) -> AskRequest:
    """The last user message is the question; earlier user messages, oldest first, are the history."""
    if chat.model not in (MODEL, COMPARE_MODEL):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"the model '{chat.model}' does not exist; use '{MODEL}' or '{COMPARE_MODEL}'")
    turns = [message_text(m.content) for m in chat.messages if m.role == "user"]
    turns = [t for t in turns if t.strip()]
    if not turns:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "messages: there is no user message to answer")
    return AskRequest(question=turns[-1], history=turns[:-1][-MAX_HISTORY_TURNS:], outlets=chat.outlets)


def reply_text(reply: Reply) -> str:
    """What people read: the answer and its Sources block, or the comparison as ``newsdesk compare`` prints it."""
    return render_comparison(reply) if isinstance(reply, Comparison) else render_reply(reply)


def structured(reply: Reply) -> dict[str, Any]:
    """The fields added to OpenAI's response: ``citations``, and for a comparison the whole object."""
    extra: dict[str, Any] = {"citations": [c.model_dump(mode="json") for c in reply.citations]}
    if isinstance(reply, Comparison):
        extra["comparison"] = reply.model_dump(mode="json")
    return extra


def completion(model: str, reply: Reply) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply_text(reply)}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        **structured(reply),
    }


def chunk(completion_id: str, model: str, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra,
    }


def sse_data(data: dict[str, Any] | str) -> str:
    """One ``data:`` event; OpenAI streams carry no event names and end with ``data: [DONE]``."""
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


async def completion_chunks(model: str, job: Job, workers: AnswerWorkers) -> AsyncIterator[str]:
    """Text pieces as content deltas, then the rest of the reply (its Sources block), then a last chunk with ``citations``."""
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    yield sse_data(chunk(completion_id, model, {"role": "assistant", "content": ""}))
    streamed = ""
    async for event in job_events(job, workers):
        if event.kind == "text":
            streamed += event.data["text"]
            yield sse_data(chunk(completion_id, model, {"content": event.data["text"]}))
        elif event.kind == job.final:
            rest = reply_text(event.data).removeprefix(streamed)
            if rest:
                yield sse_data(chunk(completion_id, model, {"content": rest}))
            yield sse_data(chunk(completion_id, model, {}, "stop", **structured(event.data)))
        elif event.kind == "error":
            yield sse_data({"error": {"message": event.data["message"], "type": "server_error", "code": event.data["status"]}})
    yield sse_data("[DONE]")


def build_openai_router(newsdesk: Newsdesk, workers: AnswerWorkers) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

    @router.get("/models")
    def models() -> dict[str, Any]:
        """``newsdesk`` (cited answers) and ``newsdesk-compare`` (each outlet's account and where they disagree)."""
        return {"object": "list", "data": [
            {"id": name, "object": "model", "created": CREATED, "owned_by": "newsdesk"} for name in (MODEL, COMPARE_MODEL)
        ]}

    @router.post("/chat/completions", response_model=None)
    async def chat_completions(chat: ChatRequest) -> JSONResponse | StreamingResponse:
        """The reply with its Sources block as the message, and the citations in ``citations``."""
        try:
            request = ask_request(chat)
        except HTTPException as error:
            return openai_error(error.status_code, error.detail, code="model_not_found" if error.status_code == 404 else None)
        job = (compare_job if chat.model == COMPARE_MODEL else ask_job)(newsdesk, request)
        if chat.stream:
            return StreamingResponse(completion_chunks(chat.model, job, workers), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        try:
            async with workers.slots:
                reply = await run_in_threadpool(job.work, None, None)
        except (BadInput, StoreUnavailable) as error:
            return openai_error(error_status(error), error_message(error))
        return JSONResponse(completion(chat.model, reply))

    return router
