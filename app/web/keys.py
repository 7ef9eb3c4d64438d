"""Optional API keys: with ``NEWSDESK_API_KEYS`` set, ``/api`` and ``/v1`` need ``Authorization: Bearer KEY``.

An ASGI middleware rather than a route dependency, so routes added later under
either prefix are covered without anyone remembering to. Left open on purpose:
``/api/health`` (load balancers probe it), the API docs, and CORS preflights
(browsers never send credentials on them). The origin policy still applies to
browsers on top of this: a key does not make a refused site allowed.
"""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

PROTECTED = ("/api/", "/v1/")
OPEN = frozenset({"/api/health", "/api/docs", "/api/openapi.json"})


def presented_key(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def refusal(path: str, message: str) -> JSONResponse:
    """OpenAI's error shape under ``/v1`` (its SDKs raise ``AuthenticationError``), FastAPI's elsewhere."""
    body = ({"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}
            if path.startswith("/v1/") else {"detail": message})
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})


class ApiKeys:
    """Refuse requests to the protected prefixes without one of the configured keys (401)."""

    def __init__(self, app: ASGIApp, keys: list[str]) -> None:
        self.app = app
        self.keys = [key.encode() for key in keys]

    def guards(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        return (bool(self.keys) and scope["type"] == "http" and scope.get("method") != "OPTIONS"
                and path.startswith(PROTECTED) and path not in OPEN)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.guards(scope):
            key = presented_key(Headers(scope=scope))
            if key is None:
                return await refusal(scope["path"], "this server needs an API key: send Authorization: Bearer KEY")(scope, receive, send)
            if not any(hmac.compare_digest(key.encode(), known) for known in self.keys):
                return await refusal(scope["path"], "the API key is not valid")(scope, receive, send)
        await self.app(scope, receive, send)
