"""Who may call the server and frame it: origin checks, CSP ``frame-ancestors`` and a body-size cap.

Browsers attach an ``Origin`` header to cross-origin requests (and to
same-origin POSTs). CORS headers alone only stop a foreign page from *reading*
an answer; it could still make the server do the work. So a request whose
origin is neither the server's own nor in ``NEWSDESK_ALLOWED_ORIGINS`` is
refused with 403 here, before any route runs. Framing is governed separately
by ``Content-Security-Policy: frame-ancestors``, which browsers enforce on
every response that could be put in an iframe.

These are plain ASGI middlewares so they also cover the mounted Gradio app
and its streaming responses without buffering them.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send


async def refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def frame_ancestors_policy(allowed_origins: list[str]) -> str:
    """``frame-ancestors 'self' https://a.example ...``: who may put these pages in a frame."""
    return " ".join(["frame-ancestors", "'self'", *allowed_origins])


class OriginPolicy:
    """Refuse requests from origins that are not allowed, and add the framing policy to every response."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str]) -> None:
        self.app = app
        self.allowed = set(allowed_origins)
        self.csp = frame_ancestors_policy(allowed_origins).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is not None and not self.is_allowed(origin, headers.get("host")):
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            return await refuse(send, 403, f"origin {origin} is not allowed; add it to NEWSDESK_ALLOWED_ORIGINS")

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-security-policy"]
                message["headers"] = [*headers, (b"content-security-policy", self.csp)]
            await send(message)

        await self.app(scope, receive, send_with_policy)

    def is_allowed(self, origin: str, host: str | None) -> bool:
        """Same origin as the server (its Host header), or listed in the settings."""
        origin = origin.lower()
        own = host is not None and origin.split("://", 1)[-1] == host.lower()
        return own or origin in self.allowed


class BodySizeLimit:
    """Refuse request bodies declared over the limit with 413, before they are read into memory.

    Browsers and HTTP clients declare ``Content-Length`` for JSON bodies. A
    chunked body without it still meets the question-length check in
    ``Newsdesk.ask``.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = Headers(scope=scope).get("content-length") if scope["type"] == "http" else None
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await refuse(send, 413, f"the request body is {declared} bytes; the limit is {self.max_bytes} bytes "
                                           "(NEWSDESK_MAX_REQUEST_KB)")
        await self.app(scope, receive, send)
