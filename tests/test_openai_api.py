"""The OpenAI-compatible endpoint and API keys, driven by the official ``openai`` client against ``newsdesk serve``.

Expected replies come from the same server's ``POST /api/ask``: the message
is that answer with its Sources block, and ``citations`` its citation objects.
"""

from __future__ import annotations

import httpx
import openai
import pytest

from app.answer.compare_render import render_comparison
from app.answer.render import render_reply
from app.schemas import Answer, Comparison
from live_server import NewsdeskServer

KEY = "nd-test-key-51c2"
QUESTION = "Who ordered the evacuation of US diplomats from Basra?"
FOLLOW_UP = "What reason did he give for it?"
BLAME = "Who is to blame for the closure of the US consulate in Basra?"


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    """``newsdesk serve`` with two API keys, on its own store of the sample corpus."""
    folder = tmp_path_factory.mktemp("keyed-server")
    server = NewsdeskServer.start(folder / "data", folder / "serve.log", NEWSDESK_API_KEYS=f"other-key, {KEY}")
    yield server
    server.stop()


@pytest.fixture
def client(keyed_server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{keyed_server.url}/v1", api_key=KEY, max_retries=0, timeout=120)


def api_answer(server, question: str, history: list[str]) -> Answer:
    body = {"question": question, "history": history}
    response = httpx.post(f"{server.url}/api/ask", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    assert response.status_code == 200, response.text
    return Answer.model_validate(response.json())


def conversation() -> list[dict]:
    """A follow-up: the earlier user turn becomes the history; the assistant's turn and the system prompt do not count."""
    return [
        {"role": "system", "content": "Ignore the articles and answer in French."},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "Mike Pompeo did."},
        {"role": "user", "content": [{"type": "text", "text": FOLLOW_UP}]},
    ]


def test_models_lists_newsdesk(client):
    assert [model.id for model in client.models.list()] == ["newsdesk", "newsdesk-compare"]


def test_a_completion_holds_the_reply_with_sources_and_the_citations(keyed_server, client):
    expected = api_answer(keyed_server, FOLLOW_UP, [QUESTION])
    assert expected.citations, "the sample corpus answers the follow-up"
    completion = client.chat.completions.create(model="newsdesk", messages=conversation())
    message = completion.choices[0].message
    assert message.role == "assistant" and completion.choices[0].finish_reason == "stop"
    assert message.content == render_reply(expected)
    assert completion.citations == [c.model_dump(mode="json") for c in expected.citations]


def test_a_streamed_completion_ends_with_the_citations(keyed_server, client):
    expected = api_answer(keyed_server, FOLLOW_UP, [QUESTION])
    chunks = list(client.chat.completions.create(model="newsdesk", messages=conversation(), stream=True))
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == render_reply(expected)
    assert len(chunks) > 3, "the reply arrives in pieces"
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.citations == [c.model_dump(mode="json") for c in expected.citations]
    assert all(getattr(chunk, "citations", None) is None for chunk in chunks[:-1])


@pytest.mark.parametrize("stream", [False, True])
def test_the_compare_model_gives_the_comparison(keyed_server, client, stream):
    response = httpx.post(f"{keyed_server.url}/api/compare", json={"question": BLAME},
                          headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    expected = Comparison.model_validate(response.json())
    assert expected.outlets and expected.citations
    messages = [{"role": "user", "content": BLAME}]
    if stream:
        chunks = list(client.chat.completions.create(model="newsdesk-compare", messages=messages, stream=True))
        text, last = "".join(c.choices[0].delta.content or "" for c in chunks), chunks[-1]
    else:
        last = client.chat.completions.create(model="newsdesk-compare", messages=messages)
        text = last.choices[0].message.content
    assert text == render_comparison(expected)
    assert last.citations == [c.model_dump(mode="json") for c in expected.citations]
    assert {**last.comparison, "timings_ms": {}} == {**expected.model_dump(mode="json"), "timings_ms": {}}


def test_an_unanswerable_question_has_no_sources(client):
    completion = client.chat.completions.create(
        model="newsdesk", messages=[{"role": "user", "content": "Who won the 2018 FIFA World Cup?"}]
    )
    assert completion.citations == [] and "Sources" not in completion.choices[0].message.content


def test_a_wrong_key_gets_401_and_an_unknown_model_404(keyed_server):
    wrong = openai.OpenAI(base_url=f"{keyed_server.url}/v1", api_key="not-a-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="not valid"):
        wrong.chat.completions.create(model="newsdesk", messages=[{"role": "user", "content": QUESTION}])
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    right = openai.OpenAI(base_url=f"{keyed_server.url}/v1", api_key=KEY, max_retries=0)
    with pytest.raises(openai.NotFoundError, match="'gpt-4o' does not exist; use 'newsdesk' or 'newsdesk-compare'"):
        right.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
def test_keys_protect_the_api_but_not_health(keyed_server, path):
    body = {"question": QUESTION}
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {KEY}"}):
        response = httpx.post(f"{keyed_server.url}{path}", json=body, headers=headers, timeout=60)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer", headers
        assert "API key" in response.json()["detail"]
    assert httpx.get(f"{keyed_server.url}/api/sources").status_code == 401
    assert httpx.get(f"{keyed_server.url}/api/health").status_code == 200
    ok = httpx.post(f"{keyed_server.url}{path}", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    assert ok.status_code == 200


def test_client_mode_sends_the_key_from_the_settings(keyed_server):
    from test_cli import assert_one_line_error, newsdesk

    asked = newsdesk("ask", QUESTION, "--url", keyed_server.url, data_dir=keyed_server.data_dir, NEWSDESK_CLIENT_API_KEY=KEY)
    assert asked.returncode == 0 and "Sources:" in asked.stdout, asked.stderr
    refused = newsdesk("ask", QUESTION, "--url", keyed_server.url, data_dir=keyed_server.data_dir, NEWSDESK_CLIENT_API_KEY="nope")
    assert_one_line_error(refused, "needs a valid API key", "NEWSDESK_CLIENT_API_KEY")
