"""Comparing outlets: the comparison object's contract, its question set, the CLI and the HTTP API.

Everything runs on the real model and a real Chroma store of the sample
corpus; expectations are properties of the object (markers resolve to the
section's own outlet, ids are unique, silent outlets had nothing), never
hard-coded answer text.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from app.errors import BadInput, TooLarge
from app.eval.evaluation import run_question_set
from app.eval.questionset import QuestionSetError, load_question_set
from conftest import DATA
from test_cli import assert_one_line_error, newsdesk

BLAME = "Who is to blame for the closure of the US consulate in Basra?"
REASON = "Why did the US close its consulate in Basra?"
WORLD_CUP = "Who won the 2018 World Cup, according to each outlet?"
MARKER = re.compile(r"\[(\d+)\]")


def assert_contract(comparison, outlets: list[str]) -> None:
    """Every marker resolves to a citation of its section's outlet; ids are unique; silent + speaking = compared."""
    by_id = {c.id: c for c in comparison.citations}
    assert len(by_id) == len(comparison.citations)
    for section in comparison.outlets:
        markers = {int(n) for n in MARKER.findall(section.answer)}
        assert markers and all(by_id[n].outlet == section.outlet for n in markers), section
        assert section.articles == len({by_id[n].source for n in markers})
    for disagreement in comparison.disagreements:
        assert len({c.outlet for c in disagreement.claims}) == 2
        assert all(by_id[c.citation].outlet == c.outlet for c in disagreement.claims)
    speaking = [s.outlet for s in comparison.outlets]
    assert sorted(speaking + comparison.silent) == sorted(outlets)


@pytest.mark.parametrize("question", [BLAME, REASON])
def test_sections_cite_only_their_own_outlet(sample_newsdesk, question):
    comparison = sample_newsdesk.compare(question)
    assert not comparison.abstained and len(comparison.outlets) >= 2
    assert_contract(comparison, sample_newsdesk.ingested_outlets())
    assert set(comparison.timings_ms) >= {"retrieve", "answer", "disagree", "total"}


def test_a_disagreement_is_found_and_cited(sample_newsdesk):
    comparison = sample_newsdesk.compare(REASON)
    assert comparison.disagreements, "Press TV reports the stated security reason; the Iraqi official denies a credible threat"
    cited = {c.id for c in comparison.citations}
    assert all(claim.citation in cited for d in comparison.disagreements for claim in d.claims)


def test_outlets_telling_the_event_in_their_own_words_get_sections(sample_newsdesk):
    """The Washington Times never writes "closure": its sentences that echo what another outlet's sentence
    established count as its account, and at least one checkable disagreement is found."""
    comparison = sample_newsdesk.compare(BLAME)
    assert_contract(comparison, sample_newsdesk.ingested_outlets())
    assert len(comparison.outlets) >= 3 and comparison.disagreements
    times = next(s for s in comparison.outlets if s.outlet == "The Washington Times")
    cited = {c.id: c.outlet for c in comparison.citations}
    assert {cited[int(n)] for n in MARKER.findall(times.answer)} == {"The Washington Times"}


@pytest.mark.parametrize("question", [WORLD_CUP, "When did the US consulate in Basra reopen, according to each outlet?"])
def test_nothing_established_leaves_every_outlet_silent(sample_newsdesk, question):
    comparison = sample_newsdesk.compare(question)
    assert comparison.abstained and comparison.outlets == [] and comparison.disagreements == []


def test_nothing_relevant_abstains_with_every_outlet_silent(sample_newsdesk):
    comparison = sample_newsdesk.compare(WORLD_CUP)
    assert comparison.abstained and comparison.outlets == [] and comparison.citations == []
    assert comparison.disagreements == [] and comparison.silent == sample_newsdesk.ingested_outlets()
    assert comparison.standalone_question == "Who won the 2018 World Cup?"  # comparison wording is not searched for


def test_filter_compares_only_the_chosen_outlets(sample_newsdesk):
    chosen = ["Press TV", "SouthFront"]
    comparison = sample_newsdesk.compare(REASON, [], chosen)
    assert_contract(comparison, chosen)
    assert {r.outlet for r in comparison.retrieved} <= set(chosen)
    assert "SouthFront" in comparison.silent  # it writes about US policy, not the consulate


def test_evidence_is_retrieved_per_outlet(sample_newsdesk):
    """Every outlet gets its own top-k, so one with few articles is never crowded out of the pool."""
    comparison = sample_newsdesk.compare(REASON)
    assert {r.outlet for r in comparison.retrieved} == set(sample_newsdesk.ingested_outlets())
    top_k = sample_newsdesk.settings.top_k
    for outlet in sample_newsdesk.ingested_outlets():
        ranks = [r.rank for r in comparison.retrieved if r.outlet == outlet]
        assert ranks == list(range(1, len(ranks) + 1)) and len(ranks) <= top_k


@pytest.mark.parametrize(
    ("question", "outlets", "error", "fragment"),
    [("  ", [], BadInput, "the question is empty"), ("why " * 600, [], TooLarge, "the limit is 2000"),
     (REASON, ["Daily Planet"], BadInput, "unknown outlet 'Daily Planet'")],
    ids=["empty", "oversized", "unknown-outlet"],
)
def test_bad_input_is_refused_like_ask(sample_newsdesk, question, outlets, error, fragment):
    with pytest.raises(error, match=fragment):
        sample_newsdesk.compare(question, [], outlets)


def test_the_compare_question_set_passes(sample_newsdesk):
    question_set = load_question_set(DATA / "compare.yaml")
    assert sum(case.mode == "compare" for case in question_set.cases) >= 10
    run = run_question_set(sample_newsdesk, question_set)
    failed = {r.case.id: [c.reason for c in r.checks if not c.passed] for r in run.results if not r.passed}
    assert not failed
    assert all(all(r.citation_validity) for r in run.results)


def test_compare_keys_need_compare_mode(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\ncases:\n  - id: a\n    question: Why?\n    expect: {outlets_all: [Press TV]}\n")
    with pytest.raises(QuestionSetError, match="need 'mode: compare'"):
        load_question_set(path)


def test_cli_prints_blocks_disagreements_and_sources(tmp_path):
    data_dir = tmp_path / "store"
    text = newsdesk("compare", REASON, data_dir=data_dir)
    assert text.returncode == 0, text.stderr
    as_json = json.loads(newsdesk("compare", REASON, "--json", data_dir=data_dir).stdout)
    blocks = text.stdout.split("\n\n")
    for section, block in zip(as_json["outlets"], blocks, strict=False):
        assert block.startswith(f"{section['outlet']} (") and section["answer"] in block
    assert "Where they disagree:" in text.stdout and "\nSources:\n" in text.stdout
    assert text.stdout.index("Where they disagree:") < text.stdout.index("Sources:")
    assert_one_line_error(newsdesk("compare", REASON, "--outlet", "Daily Planet", data_dir=data_dir), "unknown outlet")
    assert_one_line_error(newsdesk("compare", " ", data_dir=data_dir), "the question is empty")


def test_api_compare_matches_the_cli_and_refuses_like_ask(sample_server):
    def post(body: dict) -> httpx.Response:
        return httpx.post(f"{sample_server.url}/api/compare", json=body, timeout=60)

    response = post({"question": REASON, "history": [], "outlets": []})
    assert response.status_code == 200
    cli = json.loads(newsdesk("compare", REASON, "--json", data_dir=sample_server.data_dir).stdout)
    for key in ("outlets", "silent", "disagreements", "citations", "abstained", "standalone_question"):
        assert response.json()[key] == cli[key], key
    assert post({"question": "Why?", "outlets": ["Daily Planet"]}).status_code == 422
    assert post({"question": "q", "outlet": ["Press TV"]}).status_code == 422
    assert post({"question": "why " * 25_000}).status_code == 413
    assert post({"question": WORLD_CUP}).json()["abstained"] is True


def test_with_an_llm_each_section_is_generated_checked_and_falls_back_alone(sample_newsdesk):
    """A careful model quotes its outlet's first source (kept) and invents a reopening (dropped by the checker);
    for one outlet it returns garbage, and only that section falls back to quotes."""
    from live_llm import CannedServer, chat_completion, quoting_reply
    from test_llm import llm_newsdesk

    def reply(request: dict) -> bytes:
        prompt = request["messages"][-1]["content"]
        return chat_completion("no json, no citations") if 'outlet="unknown"' in prompt else quoting_reply(request)

    canned = CannedServer(reply)
    try:
        newsdesk = llm_newsdesk(sample_newsdesk, llm="openai", llm_base_url=canned.base_url, llm_model="careful")
        comparison = newsdesk.compare(REASON)
    finally:
        canned.stop()
    assert_contract(comparison, newsdesk.ingested_outlets())
    sections = {s.outlet: s for s in comparison.outlets}
    assert sections["Press TV"].answer.startswith("According to Press TV, ") and "2019" not in sections["Press TV"].answer
    quotes = sample_newsdesk.compare(REASON).outlets[-1].answer
    assert MARKER.sub("", sections["unknown"].answer) == MARKER.sub("", quotes)  # the quotes stand in, renumbered
    assert comparison.notice.startswith("unknown: ") and "extractive-fallback" in comparison.backend
