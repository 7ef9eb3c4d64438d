"""``newsdesk ingest`` while ``newsdesk serve`` runs: the CLI hands the work to the server that owns the store.

See ``vectorstore.owner`` for why a local store has one writer process. The
route is ``POST /admin/ingest``; it takes absolute paths on the server's
own machine, so it answers only to the bearer token in the data dir's
``serve.json`` (mode 0600): only the user who runs the server can read it,
and a web page can neither read it nor guess it. The ingest runs inside the
server like any other request, so new articles are answerable the moment each
one is committed, and the chat keeps answering meanwhile.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict
from pathlib import Path

import httpx
from fastapi import APIRouter, Header, HTTPException, status
from pydantic import BaseModel, ConfigDict

from app.service import Newsdesk
from ingest.pipeline import FileOutcome, IngestReport
from vectorstore.owner import ServerHandle
from vectorstore.store import StoreUnavailable

ADMIN_INGEST = "/admin/ingest"  # outside /api, so NEWSDESK_API_KEYS (for visitors) does not apply to it


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[str]
    prune: bool = False
    force: bool = False


def build_admin_router(newsdesk: Newsdesk, token: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.post(ADMIN_INGEST)
    def ingest(request: IngestRequest, authorization: str = Header(default="")) -> dict:
        """Run an ingest for the CLI of the user who started this server; the report comes back as JSON."""
        if not hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this route needs the token in the data dir's serve.json")
        try:
            report = newsdesk.ingest([Path(p) for p in request.paths] or None, prune=request.prune, force=request.force)
        except StoreUnavailable as error:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from None
        return asdict(report)

    return router


def hand_over_ingest(server: ServerHandle, paths: list[Path], prune: bool, force: bool = False) -> IngestReport:
    """Ask the owning server to ingest ``paths`` (made absolute: the server has its own working dir)."""
    body = {"paths": [str(Path(p).absolute()) for p in paths], "prune": prune, "force": force}
    try:
        response = httpx.post(f"{server.url}{ADMIN_INGEST}", json=body, timeout=None,
                              headers={"Authorization": f"Bearer {server.token}"})
    except httpx.HTTPError as error:
        raise StoreUnavailable(f"the server (pid {server.pid}) that owns this data dir did not take the ingest "
                               f"at {server.url} ({error}); nothing was ingested") from None
    if response.status_code != 200:
        detail = response.json().get("detail", response.text) if response.headers.get("content-type", "").startswith(
            "application/json") else response.text
        raise StoreUnavailable(f"the server at {server.url} refused the ingest ({response.status_code}: {detail})")
    data = response.json()
    return IngestReport(outcomes=[FileOutcome(**o) for o in data["outcomes"]], failure=data.get("failure"))
