"""Client mode: ``newsdesk ask --url`` and ``eval --url`` ask a running ``newsdesk serve`` instead of the local store.

``RemoteNewsdesk`` offers the part of ``Newsdesk`` that answering and
evaluation use, over the HTTP API, so an evaluator can score a deployment
exactly as it serves, and the CLI never loads the embedding model. Every
failure (unreachable, refused key, bad input) is one ``BadInput`` sentence.
"""

from __future__ import annotations

from typing import Any

import httpx

from app.errors import BadInput
from app.schemas import Answer, Comparison
from vectorstore.catalog import ArticleRecord

TIMEOUT_S = 120.0


class RemoteNewsdesk:
    """``ask``, ``compare``, ``sources``, ``chunk_texts`` and ``describe``, answered by the server at ``url``."""

    def __init__(self, url: str, api_key: str | None = None) -> None:
        self.url = url.rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise BadInput(f"--url {url} is not an http(s) address like http://127.0.0.1:7860")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT_S)

    def ask(self, question: str, history: list[str] | None = None, outlets: list[str] | None = None) -> Answer:
        body = {"question": question, "history": history or [], "outlets": outlets or []}
        return Answer.model_validate(self._call("POST", "/api/ask", json=body))

    def compare(self, question: str, history: list[str] | None = None, outlets: list[str] | None = None) -> Comparison:
        body = {"question": question, "history": history or [], "outlets": outlets or []}
        return Comparison.model_validate(self._call("POST", "/api/compare", json=body))

    def sources(self) -> list[ArticleRecord]:
        return [ArticleRecord.model_validate(record) for record in self._call("GET", "/api/sources")]

    def chunk_texts(self, source: str) -> list[str]:
        return self._call("GET", "/api/chunks", params={"source": source})

    def describe(self) -> dict:
        """The server's own settings are not published; the report names the server instead."""
        return {"settings": {}, "models": {"server": self.url}}

    def _call(self, method: str, path: str, **request: Any) -> Any:
        try:
            response = self.http.request(method, path, **request)
        except httpx.HTTPError as error:
            raise BadInput(f"cannot reach the newsdesk server at {self.url} ({type(error).__name__})") from None
        if response.status_code == 401:
            raise BadInput(f"the server at {self.url} needs a valid API key; set NEWSDESK_CLIENT_API_KEY")
        if response.status_code >= 400:
            raise BadInput(f"the server at {self.url} answered {response.status_code}: {detail(response)}")
        return response.json()


def detail(response: httpx.Response) -> str:
    """The server's one-sentence ``detail``, or the start of whatever else it sent."""
    try:
        return str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase
