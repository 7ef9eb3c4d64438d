"""Hostile requests against a real ``newsdesk serve``: DNS rebinding, odd origins, endless bodies, bad text, wrong methods."""

from __future__ import annotations

import httpx
import pytest

QUESTION = "Who ordered the evacuation of US diplomats from Basra?"


def post_ask(server, headers: dict[str, str] | None = None, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.url}/api/ask", headers=headers, timeout=60, **kwargs)


def test_a_rebinding_host_is_refused_even_when_origin_agrees(sample_server):
    port = sample_server.url.rsplit(":", 1)[1]
    rebound = f"rebind.attacker.example:{port}"
    for headers in ({"Host": rebound}, {"Host": rebound, "Origin": f"http://{rebound}"}):
        response = post_ask(sample_server, headers, json={"question": QUESTION})
        assert response.status_code == 400 and "NEWSDESK_ALLOWED_HOSTS" in response.json()["detail"]
    assert httpx.get(f"{sample_server.url}/api/sources", headers={"Host": rebound}).status_code == 400
    assert httpx.get(f"{sample_server.url}/api/health", headers={"Host": f"localhost:{port}"}).status_code == 200


@pytest.mark.parametrize("origin", [
    "evil://127.0.0.1:{port}", "https://127.0.0.1:{port}", "http://127.0.0.1:{other}", "null", "http://127.0.0.1.attacker.example:{port}",
])
def test_origins_must_match_scheme_host_and_port(sample_server, origin):
    port = int(sample_server.url.rsplit(":", 1)[1])
    origin = origin.format(port=port, other=port + 1)
    response = post_ask(sample_server, {"Origin": origin}, json={"question": QUESTION})
    assert response.status_code == 403 and "NEWSDESK_ALLOWED_ORIGINS" in response.json()["detail"]


def test_own_origins_under_every_loopback_name_are_allowed(sample_server):
    port = sample_server.url.rsplit(":", 1)[1]
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"HTTP://LOCALHOST:{port}"):
        assert post_ask(sample_server, {"Origin": origin}, json={"question": QUESTION}).status_code == 200


def endless(chunk: bytes = b" " * 65536, count: int = 4000):
    """A chunked body with no Content-Length (about 260 MB if it were all read)."""
    for _ in range(count):
        yield chunk


@pytest.mark.parametrize("route", ["/api/ask", "/gradio_api/queue/join", "/gradio_api/run/ask"])
def test_chunked_oversized_bodies_are_stopped_at_the_limit(sample_server, route):
    response = httpx.post(f"{sample_server.url}{route}", content=endless(), timeout=60,
                          headers={"content-type": "application/json"})
    assert response.status_code == 413 and "NEWSDESK_MAX_REQUEST_KB" in response.json()["detail"]
    assert httpx.get(f"{sample_server.url}/api/health").json()["status"] == "ok"


def test_uploads_are_refused(sample_server):
    response = httpx.post(f"{sample_server.url}/gradio_api/upload", files={"files": ("a.txt", b"x" * 100_000)})
    assert response.status_code == 403 and "no file uploads" in response.json()["detail"]


@pytest.mark.parametrize(("body", "fragment"), [
    (b'{"question": "\\ud800 why?"}', "the question holds a character that is not valid Unicode"),
    (b'{"question": "why?", "history": ["\\udc80"]}', "the history turn holds a character"),
    (b'{"question": "why?", "outlets": ["Press\\ud800TV"]}', "the outlet name holds a character"),
    (b'{"question": "\xff\xfe"}', "error parsing the body"),
], ids=["question", "history", "outlet", "not-utf8"])
def test_any_client_text_gets_a_4xx_sentence(sample_server, body, fragment):
    response = post_ask(sample_server, {"content-type": "application/json"}, content=body)
    assert 400 <= response.status_code < 500 and fragment in response.json()["detail"]


@pytest.mark.parametrize(("method", "route"), [
    ("GET", "/api/ask"), ("PUT", "/api/ask"), ("DELETE", "/api/sources"), ("POST", "/api/health"), ("GET", "/admin/ingest"),
])
def test_wrong_methods_get_405(sample_server, method, route):
    response = httpx.request(method, f"{sample_server.url}{route}")
    assert response.status_code == 405 and "is not allowed" in response.json()["detail"]


def test_the_admin_route_needs_the_token(sample_server):
    response = httpx.post(f"{sample_server.url}/admin/ingest", json={"paths": ["/etc"]},
                          headers={"Authorization": "Bearer guessed"})
    assert response.status_code == 401 and "serve.json" in response.json()["detail"]
    assert (sample_server.data_dir / "serve.json").stat().st_mode & 0o777 == 0o600
