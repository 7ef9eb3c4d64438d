"""``newsdesk serve``: one FastAPI app on one port with the JSON API, the embed page and the Gradio UI.

Routes (docs/contracts.md): ``/api/*`` (``app.web.api``, ``app.web.stream``), ``/v1/*``
(``app.web.openai_api``), ``/widget.js`` (``app.web.widget``), ``/embed`` (how to put the
chat on another site, with the live widget), ``/gradio.js`` (Gradio's own
web-component loader, served locally because the usual CDN copy is not
reachable offline), and the chat UI mounted at ``/``. ``app.web.http_policy``
wraps all of it, so the Gradio routes obey the same allowed origins as the API.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import gradio as gr
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from app.web.api import build_api_router
from app.errors import BadInput
from app.html_pages import render_page
from app.web.handover import build_admin_router
from app.web.http_policy import BodySizeLimit, MethodNotAllowed, OriginPolicy, default_allowed_hosts
from app.service import Newsdesk
from app.web.keys import ApiKeys
from app.web.openai_api import build_openai_router
from app.web.stream import AnswerWorkers, build_stream_router
from app.web.ui import CSS, build_ui
from app.web.widget import build_widget_router

GRADIO_LOADER = Path(gr.__file__).parent / "templates" / "frontend" / "gradio.js"
WARM_UP_QUESTION = "What happened?"


def readable_validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's error list, plus one sentence a person can act on (the list stays under ``errors``)."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"] if part != "body") or "body"
        problems.append(f"{where}: {item['msg']}")
    message = "invalid request: " + "; ".join(problems)
    return JSONResponse(status_code=422, content={"detail": message, "errors": [
        {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]} for item in error.errors()
    ]})


def embed_snippets(base: str) -> dict[str, str]:
    """The markup a site owner pastes; the page shows it as (escaped) text."""
    return {
        "script": f'<script src="{base}/widget.js" data-title="Ask our archive" async></script>',
        "web_component": f'<script type="module" src="{base}/gradio.js"></script>\n<gradio-app src="{base}/"></gradio-app>',
        "iframe": f'<iframe src="{base}/" title="newsdesk chat" style="width: 100%; height: 720px; border: 0;"></iframe>',
    }


def create_app(newsdesk: Newsdesk, host: str = "127.0.0.1", port: int = 7860, admin_token: str | None = None) -> FastAPI:
    """The whole site for a server listening on ``host:port``; ``admin_token`` enables the CLI's ingest route."""
    settings = newsdesk.settings
    app = FastAPI(title="newsdesk", summary="Cited answers about a collection of news articles.", docs_url="/api/docs",
                  openapi_url="/api/openapi.json", redoc_url=None)
    app.add_exception_handler(RequestValidationError, readable_validation_error)
    app.state.answer_workers = AnswerWorkers(settings.ui_concurrency)
    app.include_router(build_api_router(newsdesk, app.state.answer_workers.slots))
    app.include_router(build_stream_router(newsdesk, app.state.answer_workers))
    app.include_router(build_openai_router(newsdesk, app.state.answer_workers))
    app.include_router(build_widget_router())
    if admin_token:
        app.include_router(build_admin_router(newsdesk, admin_token))

    @app.get("/embed", response_class=HTMLResponse, include_in_schema=False)
    def embed(request: Request) -> HTMLResponse:
        base = str(request.base_url).rstrip("/")
        page = render_page(
            "embed.html",
            base=base, snippets=embed_snippets(base), allowed_origins=settings.allowed_origins
        )
        return HTMLResponse(page)

    @app.get("/gradio.js", include_in_schema=False)
    def gradio_loader() -> FileResponse:
        return FileResponse(GRADIO_LOADER, media_type="text/javascript")

    demo = build_ui(newsdesk)
    demo.queue(default_concurrency_limit=settings.ui_concurrency, max_size=64)
    app.add_middleware(MethodNotAllowed, routes=app.router.routes)  # inside CORS, so preflight OPTIONS still works
    # CORS headers for the allowed origins; Gradio adds none of its own when the parent app has this middleware.
    app.add_middleware(ApiKeys, keys=[key.get_secret_value() for key in settings.api_keys])
    app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins, allow_methods=["GET", "POST"],
                       allow_headers=["*"], allow_credentials=False)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_kb * 1024)
    app.add_middleware(OriginPolicy, allowed_origins=settings.allowed_origins,
                       allowed_hosts=settings.allowed_hosts or default_allowed_hosts(host), port=port)
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    return gr.mount_gradio_app(app, demo, path="/", footer_links=["api"], run_history=False, ssr_mode=False,
                               theme=theme, css=CSS)


def warm_up(newsdesk: Newsdesk) -> None:
    """Load the model and sync the lexical index before the first visitor, so no one waits for either.

    Building the retriever syncs the persisted index with the store (after a restart on an unchanged store it finds
    nothing to do); the question then loads the model and runs every stage once."""
    newsdesk.ask(WARM_UP_QUESTION)


def check_port_free(host: str, port: int) -> None:
    """Fail with one clear sentence before loading anything when the port is taken."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise BadInput(f"cannot listen on {host}:{port} ({error.strerror}); choose another with --port") from None


def serve(newsdesk: Newsdesk, host: str, port: int, admin_token: str, on_listening: Callable[[], None]) -> None:
    """Run until stopped; ``on_listening`` runs once the socket accepts connections (to publish ``serve.json``)."""
    app = create_app(newsdesk, host, port, admin_token)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=True))

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.1)
        if server.started:
            on_listening()

    threading.Thread(target=announce, name="announce", daemon=True).start()
    server.run()
