"""``GET /widget.js``: the one-tag site widget (``app/web/static/widget.js``), gzipped when the browser accepts it.

The script is read and compressed once at start-up: it is the only file a
site's visitors load from newsdesk before they ask, so it must stay small
(tests/test_widget.py measures what a page transfers) and cheap to serve.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request, Response

WIDGET = Path(__file__).parent / "static" / "widget.js"
CACHE_SECONDS = 300


@cache
def widget_bytes() -> tuple[bytes, bytes]:
    """The script, plain and gzipped."""
    plain = WIDGET.read_bytes()
    return plain, gzip.compress(plain, compresslevel=9, mtime=0)


def build_widget_router() -> APIRouter:
    router = APIRouter()

    @router.get("/widget.js", include_in_schema=False)
    def widget(request: Request) -> Response:
        plain, packed = widget_bytes()
        headers = {"Cache-Control": f"public, max-age={CACHE_SECONDS}", "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(packed, media_type="text/javascript", headers={**headers, "Content-Encoding": "gzip"})
        return Response(plain, media_type="text/javascript", headers=headers)

    return router
