"""Client mode: ``newsdesk ask --url`` and ``eval --url`` against a running server give what the local CLI gives.

The client runs with a data dir that cannot be created, so it is plain that
it never touches a local store.
"""

from __future__ import annotations

import json

import pytest

from conftest import DATA
from live_server import free_port
from test_cli import assert_one_line_error, newsdesk

QUESTION = "Who ordered the evacuation of US diplomats from Basra?"
NO_STORE = "/proc/newsdesk-client-has-no-store"


def test_ask_url_prints_the_local_reply(sample_server):
    local = newsdesk("ask", QUESTION, "--history", "What happened in Basra?", data_dir=sample_server.data_dir)
    remote = newsdesk("ask", QUESTION, "--history", "What happened in Basra?", "--url", sample_server.url, data_dir=NO_STORE)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and "Sources:" in remote.stdout
    as_json = json.loads(newsdesk("ask", QUESTION, "--json", "--url", sample_server.url, data_dir=NO_STORE).stdout)
    assert as_json["citations"] and as_json["question"] == QUESTION


def test_compare_url_prints_the_local_comparison(sample_server):
    question = "Who is to blame for the closure of the US consulate in Basra?"
    local = newsdesk("compare", question, data_dir=sample_server.data_dir)
    remote = newsdesk("compare", question, "--url", sample_server.url, data_dir=NO_STORE)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and "Sources:" in remote.stdout


@pytest.mark.parametrize("question_set", ["questions.yaml", "compare.yaml"])
def test_eval_url_gives_the_local_scored_section(sample_server, tmp_path, question_set):
    local, remote = tmp_path / "local.json", tmp_path / "remote.json"
    questions = str(DATA / question_set)
    ran = newsdesk("eval", questions, "-o", str(local), data_dir=sample_server.data_dir)
    assert ran.returncode == 0, ran.stderr
    ran = newsdesk("eval", questions, "-o", str(remote), "--url", sample_server.url, data_dir=NO_STORE)
    assert ran.returncode == 0, ran.stderr
    local_report, remote_report = json.loads(local.read_text()), json.loads(remote.read_text())
    assert remote_report["scored"] == local_report["scored"]
    assert remote_report["scored"]["summary"]["citations"] > 0
    assert remote_report["provenance"]["corpus_fingerprint"] == local_report["provenance"]["corpus_fingerprint"]
    assert remote_report["provenance"]["models"] == {"server": sample_server.url}


def test_client_errors_are_one_sentence(sample_server):
    dead = f"http://127.0.0.1:{free_port()}"
    assert_one_line_error(newsdesk("ask", QUESTION, "--url", dead, data_dir=NO_STORE), f"cannot reach the newsdesk server at {dead}")
    assert_one_line_error(newsdesk("ask", QUESTION, "--url", "ftp://x", data_dir=NO_STORE), "is not an http(s) address")
    assert_one_line_error(newsdesk("ask", "  ", "--url", sample_server.url, data_dir=NO_STORE), "answered 422", "question is empty")
    assert_one_line_error(newsdesk("ask", QUESTION, "--url", sample_server.url, "--llm", "gguf", data_dir=NO_STORE),
                          "--llm cannot be combined with --url")
