"""Who may call the server and frame it: host and origin checks, CSP ``frame-ancestors``, bounded bodies.

Browsers attach an ``Origin`` header to cross-origin requests (and to
same-origin POSTs). CORS headers alone only stop a foreign page from *reading*
an answer; it could still make the server do the work. So a request whose
origin is neither one of the exact addresses the server listens on nor in
``NEWSDESK_ALLOWED_ORIGINS`` is refused with 403 here, before any route runs.
The comparison is scheme, host and port, against the server's configuration,
never against the request's own ``Host`` header: a DNS-rebinding page sends a
``Host`` and an ``Origin`` that agree with each other, and only the
configuration knows that ``rebind.attacker.example`` is not this server. For
the same reason a ``Host`` outside ``NEWSDESK_ALLOWED_HOSTS`` (default: the
listening host and the loopback names) gets 400, as in Django's
``ALLOWED_HOSTS``. Framing is governed by ``Content-Security-Policy:
frame-ancestors``, which browsers enforce on every response.

Bodies are counted as they arrive, so a chunked body with no
``Content-Length`` is stopped at the limit instead of being buffered whole,
on every route including Gradio's. Gradio's upload route is refused
outright: the app takes no files from visitors.

These are plain ASGI middlewares so they also cover the mounted Gradio app
and its streaming responses without buffering them.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
REFUSED_PATHS = ("/gradio_api/upload",)


async def refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def frame_ancestors_policy(allowed_origins: list[str]) -> str:
    """``frame-ancestors 'self' https://a.example ...``: who may put these pages in a frame."""
    return " ".join(["frame-ancestors", "'self'", *allowed_origins])


def origin_key(origin: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an origin, with the scheme's default port filled in; None if it is not one."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None or parts.path or parts.query:
        return None
    return parts.scheme, parts.hostname, port


def host_name(host: str) -> str:
    """The name part of a ``Host`` header: ``[::1]:7860`` → ``::1``, ``Example.org:80`` → ``example.org``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def default_allowed_hosts(listen_host: str) -> list[str]:
    """The listening host and the loopback names; a wildcard address (0.0.0.0) is no name a client sends."""
    names = [] if listen_host in ("0.0.0.0", "::", "") else [listen_host.lower()]
    return [*names, *(h for h in LOOPBACK_HOSTS if h not in names)]


def own_origins(allowed_hosts: list[str], port: int) -> list[str]:
    """The exact origins of this server: plain HTTP on its port, under each name it answers to."""
    return [f"http://[{h}]:{port}" if ":" in h else f"http://{h}:{port}" for h in allowed_hosts if h != "*"]


class OriginPolicy:
    """Refuse unexpected hosts and origins, and add the framing policy to every response."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str], allowed_hosts: list[str], port: int) -> None:
        self.app = app
        self.hosts = {h.lower() for h in allowed_hosts}
        self.origins = {origin_key(o) for o in [*allowed_origins, *own_origins(allowed_hosts, port)]} - {None}
        self.csp = frame_ancestors_policy(allowed_origins).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        problem = self.problem(headers.get("host"), headers.get("origin"))
        if problem is not None:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            return await refuse(send, *problem)

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-security-policy"]
                message["headers"] = [*headers, (b"content-security-policy", self.csp)]
            await send(message)

        await self.app(scope, receive, send_with_policy)

    def problem(self, host: str | None, origin: str | None) -> tuple[int, str] | None:
        """``(status, sentence)`` when the request must be refused, else None."""
        if host is not None and "*" not in self.hosts and host_name(host) not in self.hosts:
            return 400, f"host {host!r} is not one this server answers to; add it to NEWSDESK_ALLOWED_HOSTS"
        if origin is not None and origin_key(origin) not in self.origins:
            return 403, f"origin {origin!r} is not allowed; add it to NEWSDESK_ALLOWED_ORIGINS"
        return None


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the bytes so far pass the limit; routes answer it as 413."""


class BodySizeLimit:
    """Stop request bodies at the limit with 413, counting bytes as they arrive, and refuse uploads."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.message = f"the request body is over the limit of {max_bytes} bytes (NEWSDESK_MAX_REQUEST_KB)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"].rstrip("/") in REFUSED_PATHS:
            return await refuse(send, 403, "this server takes no file uploads")
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await refuse(send, 413, self.message)
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(413, self.message)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await refuse(send, 413, self.message)


class MethodNotAllowed:
    """405 for a wrong method on the app's own routes.

    The Gradio app is mounted at ``/`` and takes every path the other routes do not fully match, so without
    this a ``GET /api/ask`` would fall through to it and get a misleading 404.
    """

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                match, _ = route.matches(scope)
                if match == Match.FULL:
                    break
                if match == Match.PARTIAL:
                    allowed = ", ".join(sorted(getattr(route, "methods", None) or []))
                    return await refuse(send, 405, f"{scope['method']} is not allowed on {scope['path']}; use {allowed}")
        await self.app(scope, receive, send)
