"""The HTTP API of CONTRACTS.md against a real ``newsdesk serve`` on 127.0.0.1."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from gradio_client import Client

from test_cli import assert_one_line_error, newsdesk

QUESTION = "Who ordered the evacuation of US diplomats from Basra?"


def post_ask(server, body, **headers) -> httpx.Response:
    return httpx.post(f"{server.url}/api/ask", json=body, headers=headers, timeout=60)


def test_health_and_sources_match_the_cli(sample_server):
    sources = httpx.get(f"{sample_server.url}/api/sources").json()
    health = httpx.get(f"{sample_server.url}/api/health").json()
    assert health == {"status": "ok", "articles": len(sources), "chunks": sum(s["chunks"] for s in sources)}
    cli = newsdesk("sources", "--json", data_dir=sample_server.data_dir)
    assert cli.returncode == 0 and json.loads(cli.stdout) == sources
    assert {s["source"] for s in sources} and all(s["outlet"] for s in sources)


def test_ask_gives_the_cli_answer(sample_server):
    response = post_ask(sample_server, {"question": QUESTION, "history": [], "outlets": []})
    assert response.status_code == 200
    answer = response.json()
    cli = json.loads(newsdesk("ask", QUESTION, "--json", data_dir=sample_server.data_dir).stdout)
    for key in ("answer", "citations", "retrieved", "abstained", "standalone_question", "backend"):
        assert answer[key] == cli[key], key
    assert answer["citations"] and set(answer["timings_ms"]) >= {"retrieve", "answer", "total"}
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])}
    assert markers == {c["id"] for c in answer["citations"]}


def test_follow_up_and_outlet_filter(sample_server):
    follow_up = post_ask(sample_server, {"question": "What reason did he give for it?", "history": [QUESTION]}).json()
    alone = post_ask(sample_server, {"question": "What reason did he give for it?"}).json()
    assert not follow_up["abstained"] and alone["abstained"] and alone["citations"] == []
    outlets = sorted({s["outlet"] for s in httpx.get(f"{sample_server.url}/api/sources").json()})
    only = post_ask(sample_server, {"question": "Why did the US close its consulate in Basra?", "outlets": [outlets[0]]}).json()
    assert {c["outlet"] for c in only["retrieved"]} == {outlets[0]}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"history": []}, "question: Field required"),
        ({"question": 42}, "question: Input should be a valid string"),
        ({"question": "q", "history": "not a list"}, "history: Input should be a valid list"),
        ({"question": "q", "outlet": ["Press TV"]}, "outlet: Extra inputs are not permitted"),
        ({"question": "   "}, "the question is empty"),
        ({"question": "Why?", "outlets": ["Daily Planet"]}, "unknown outlet 'Daily Planet'"),
    ],
    ids=["missing-question", "wrong-type", "history-not-list", "unknown-key", "blank", "unknown-outlet"],
)
def test_malformed_body_gets_422_with_a_readable_message(sample_server, body, fragment):
    response = post_ask(sample_server, body)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_body_that_is_not_json_gets_422(sample_server):
    response = httpx.post(f"{sample_server.url}/api/ask", content=b"question=hi", headers={"content-type": "application/json"})
    assert response.status_code == 422 and "JSON decode error" in response.json()["detail"]


def test_oversized_question_and_body_get_413(sample_server):
    question = post_ask(sample_server, {"question": "why " * 25_000})  # 100 KB
    assert question.status_code == 413 and "the limit is 2000" in question.json()["detail"]
    body = post_ask(sample_server, {"question": "why", "history": ["x" * 1000] * 400})  # over 256 KB
    assert body.status_code == 413 and "NEWSDESK_MAX_REQUEST_KB" in body.json()["detail"]
    assert httpx.get(f"{sample_server.url}/api/health").json()["status"] == "ok"


def test_origins_are_enforced_for_cors_and_framing(sample_server, other_sites):
    allowed, refused = other_sites[0].origin, other_sites[1].origin
    ok = post_ask(sample_server, {"question": QUESTION}, Origin=allowed)
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == allowed
    preflight = httpx.options(f"{sample_server.url}/api/ask", headers={
        "Origin": allowed, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == allowed

    denied = post_ask(sample_server, {"question": QUESTION}, Origin=refused)
    assert denied.status_code == 403 and refused in denied.json()["detail"]
    assert "access-control-allow-origin" not in denied.headers
    assert post_ask(sample_server, {"question": QUESTION}, Origin=sample_server.url).status_code == 200  # own origin

    page = httpx.get(f"{sample_server.url}/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == f"frame-ancestors 'self' {allowed}"


def test_gradio_client_calls_the_chat_with_a_stable_api_name(sample_server):
    client = Client(f"{sample_server.url}/", verbose=False)
    assert "/ask" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    reply = client.predict(QUESTION, [], api_name="/ask")
    api = post_ask(sample_server, {"question": QUESTION}).json()
    text = "\n".join(m["content"] + " " + m.get("metadata", {}).get("title", "") for m in reply).replace("\\", "")
    for citation in api["citations"]:
        assert citation["source"] in text and citation["outlet"] in text
    assert api["answer"].split(":")[0] in text


def test_serve_on_a_taken_port_fails_with_one_sentence(sample_server, tmp_path):
    port = sample_server.url.rsplit(":", 1)[1]
    assert_one_line_error(newsdesk("serve", "--port", port, data_dir=tmp_path / "store"), f"127.0.0.1:{port}", "--port")
