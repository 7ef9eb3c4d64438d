"""``POST /api/ask/stream``: Server-Sent Events in order, ending in exactly the answer ``POST /api/ask`` gives.

Against a real ``newsdesk serve``; the disconnect test serves the app in
process against a slow scripted model server, so it can see the server's own
worker count and whether the model was still being read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from app.answer.compare_render import render_comparison
from app.schemas import Comparison
from live_llm import DrippingServer
from live_server import InProcessServer
from test_llm import llm_newsdesk

QUESTION = "Who ordered the evacuation of US diplomats from Basra?"
BLAME = "Who is to blame for the closure of the US consulate in Basra?"
FOLLOW_UP = "What reason did he give for it?"
UNANSWERABLE = "Who won the 2018 FIFA World Cup?"
COMPARED = ("question", "standalone_question", "answer", "abstained", "support", "citations", "retrieved", "backend", "check", "notice")


def events(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    """(event name, JSON data) pairs; every newsdesk event is one ``event:`` line and one ``data:`` line."""
    kind = "message"
    for line in response.iter_lines():
        if line.startswith("event:"):
            kind = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            yield kind, json.loads(line.removeprefix("data:"))


def stream(url: str, body: dict, route: str = "/api/ask/stream") -> list[tuple[str, dict]]:
    with httpx.stream("POST", f"{url}{route}", json=body, timeout=120) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        return list(events(response))


@pytest.mark.parametrize(("question", "history"), [(QUESTION, []), (FOLLOW_UP, [QUESTION]), (UNANSWERABLE, [])])
def test_events_arrive_in_order_and_end_with_the_ask_answer(sample_server, question, history):
    body = {"question": question, "history": history, "outlets": []}
    received = stream(sample_server.url, body)
    kinds = [kind for kind, _ in received]
    assert kinds[:2] == ["progress", "progress"]
    assert [data["stage"] for _, data in received[:2]] == ["retrieving", "drafting"]
    assert kinds[-1] == "answer" and set(kinds[2:-1]) == {"text"}, kinds
    final = received[-1][1]
    assert "".join(data["text"] for kind, data in received if kind == "text") == final["answer"]
    expected = httpx.post(f"{sample_server.url}/api/ask", json=body, timeout=60).json()
    assert {key: final[key] for key in COMPARED} == {key: expected[key] for key in COMPARED}


def test_a_comparison_streams_its_text_and_ends_with_the_compare_object(sample_server):
    body = {"question": BLAME, "history": [], "outlets": []}
    received = stream(sample_server.url, body, "/api/compare/stream")
    kinds = [kind for kind, _ in received]
    assert received[0] == ("progress", {"stage": "retrieving"})
    assert kinds[-1] == "comparison" and set(kinds[1:-1]) == {"text"}, kinds
    final = received[-1][1]
    assert "".join(data["text"] for kind, data in received if kind == "text") == render_comparison(Comparison(**final))
    expected = httpx.post(f"{sample_server.url}/api/compare", json=body, timeout=60).json()
    assert final["outlets"] and {**final, "timings_ms": {}} == {**expected, "timings_ms": {}}


def test_bad_input_is_an_error_event_and_a_malformed_body_a_422(sample_server):
    received = stream(sample_server.url, {"question": "   "})
    assert received == [("progress", {"stage": "retrieving"}), ("error", {"message": "the question is empty", "status": 422})]
    received = stream(sample_server.url, {"question": QUESTION, "outlets": ["No Such Outlet"]})
    [_, (kind, data)] = received
    assert kind == "error" and data["status"] == 422 and "unknown outlet 'No Such Outlet'" in data["message"]
    response = httpx.post(f"{sample_server.url}/api/ask/stream", json={"query": QUESTION}, timeout=30)
    assert response.status_code == 422 and "question: Field required" in response.json()["detail"]


def test_a_client_that_disconnects_mid_stream_frees_the_worker(sample_newsdesk):
    """A model that would write for a long time: hanging up stops it, and the worker is free again."""
    from app.web.server import create_app

    model = DrippingServer()
    app = create_app(llm_newsdesk(sample_newsdesk, llm="openai", llm_base_url=model.base_url, llm_model="drip"))
    workers = app.state.answer_workers
    server = InProcessServer.start(app)
    try:
        with httpx.stream("POST", f"{server.url}/api/ask/stream", json={"question": QUESTION}, timeout=120) as response:
            for kind, _ in events(response):
                if kind == "draft":  # the model is writing: hang up now
                    break
            assert workers.active == 1
        assert workers.wait_idle(timeout=120), "the worker kept waiting on the model for a client that had gone"
        assert workers.stopped == 1
        assert model.hung_up.wait(timeout=120), "newsdesk kept reading the model's reply"
    finally:
        server.stop()
        model.stop()


def test_streams_and_plain_asks_share_one_cap_on_answers_at_once(sample_newsdesk):
    """With one answer slot, a plain ``/api/ask`` waits while a streamed answer holds it, then runs once it is free."""
    from concurrent.futures import ThreadPoolExecutor

    from app.web.server import create_app

    model = DrippingServer()
    newsdesk = llm_newsdesk(sample_newsdesk, llm="openai", llm_base_url=model.base_url, llm_model="drip", ui_concurrency=1)
    server = InProcessServer.start(create_app(newsdesk))
    try:
        with ThreadPoolExecutor(1) as pool:
            with httpx.stream("POST", f"{server.url}/api/ask/stream", json={"question": QUESTION}, timeout=120) as response:
                drafts = 0
                waiting = None
                for kind, _ in events(response):
                    if kind != "draft":
                        continue
                    drafts += 1
                    if waiting is None:  # the stream holds the only slot: ask something that needs no model
                        waiting = pool.submit(httpx.post, f"{server.url}/api/ask", json={"question": UNANSWERABLE}, timeout=120)
                    elif waiting.done() or drafts >= 200:
                        break
                assert not waiting.done(), "a plain ask ran while a streamed answer held the only answer slot"
            reply = waiting.result(timeout=120)  # hanging up frees the slot
        assert reply.status_code == 200 and reply.json()["abstained"] is True
    finally:
        server.stop()
        model.stop()
