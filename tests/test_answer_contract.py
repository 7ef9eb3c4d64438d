"""The answer object of CONTRACTS.md: shape, citation integrity, abstention, outlet filter, bad questions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.errors import BadInput
from app.answer.render import render_reply
from ingest.cleaning import clean_text
from ingest.reading import read_article_file


def cleaned_text(newsdesk, source: str) -> str:
    record = {r.source: r for r in newsdesk.sources()}[source]
    return clean_text(read_article_file(Path(record.path), 10**8).text)


def test_answer_fields_and_citation_integrity(sample_newsdesk):
    answer = sample_newsdesk.ask("Why did the US close its consulate in Basra?")
    data = answer.model_dump(mode="json")
    assert set(data) >= {"question", "standalone_question", "answer", "abstained", "citations", "retrieved", "backend", "timings_ms"}
    assert data["backend"] == "extractive" and not data["abstained"]
    assert set(data["timings_ms"]) >= {"retrieve", "answer", "total"}

    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers == {c.id for c in answer.citations} and markers  # every [n] has its citation and back
    stored = {r.source: r for r in sample_newsdesk.sources()}
    retrieved_chunks = {r.chunk_id for r in answer.retrieved}
    for citation in answer.citations:
        assert citation.outlet == stored[citation.source].outlet  # from metadata, not from text
        assert citation.title == stored[citation.source].title
        assert citation.chunk_id in retrieved_chunks
        assert citation.quote in cleaned_text(sample_newsdesk, citation.source)  # verbatim
        # attributed in the reply: by outlet, or unattributed copy by its title (its file when it has none)
        assert citation.outlet in answer.answer or (citation.title or citation.source) in answer.answer
    assert [r.rank for r in answer.retrieved] == list(range(1, len(answer.retrieved) + 1))


def test_unknown_outlet_is_attributed_by_title(sample_newsdesk):
    answer = sample_newsdesk.ask("Who ordered the evacuation of US diplomats from Basra?")
    unknown = [c for c in answer.citations if c.outlet == "unknown"]
    assert unknown and f"An article with no identified publisher, “{unknown[0].title}”, reports:" in answer.answer
    assert "unknown" not in answer.answer


def test_abstention_cites_nothing(sample_newsdesk):
    answer = sample_newsdesk.ask("What is a good recipe for banana bread?")
    assert answer.abstained and answer.citations == []
    assert "do not answer" in answer.answer
    assert render_reply(answer) == answer.answer  # no Sources block


def test_reply_has_a_sources_block_naming_outlet_and_file(sample_newsdesk):
    answer = sample_newsdesk.ask("What did State Department spokeswoman Heather Nauert announce?")
    reply = render_reply(answer)
    block = reply.split("\nSources:\n", 1)[1].splitlines()
    assert len(block) == len(answer.citations)
    for line, citation in zip(block, answer.citations):
        assert line.startswith(f"[{citation.id}] {citation.outlet}, ") and line.endswith(citation.source)


def test_outlet_filter_limits_evidence(sample_newsdesk):
    answer = sample_newsdesk.ask("Why did the US close its consulate in Basra?", outlets=["The Washington Times"])
    assert {r.outlet for r in answer.retrieved} == {"The Washington Times"}
    assert {c.outlet for c in answer.citations} <= {"The Washington Times"}
    alias = sample_newsdesk.ask("Why did the US close its consulate in Basra?", outlets=["presstv"])
    assert {r.outlet for r in alias.retrieved} == {"Press TV"}


def test_outlet_diversity_in_retrieval(sample_newsdesk):
    answer = sample_newsdesk.ask("Who is to blame for the attacks on the US consulate in Basra?")
    assert len({r.outlet for r in answer.retrieved}) >= 3


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "the question is empty"), ("   ", "the question is empty"), ("x" * 102_400, "102400 characters long; the limit is 2000")],
)
def test_bad_questions(sample_newsdesk, question, message):
    with pytest.raises(BadInput, match=message):
        sample_newsdesk.ask(question)


def test_unknown_outlet_lists_the_known_ones(sample_newsdesk):
    with pytest.raises(BadInput, match="unknown outlet 'Fox News'; the ingested outlets are: Press TV, SouthFront"):
        sample_newsdesk.ask("Why?", outlets=["Fox News"])


def test_answers_are_deterministic(sample_newsdesk):
    first = sample_newsdesk.ask("What did Pompeo say the United States would hold Iran responsible for?")
    second = sample_newsdesk.ask("What did Pompeo say the United States would hold Iran responsible for?")
    assert first.model_dump(exclude={"timings_ms"}) == second.model_dump(exclude={"timings_ms"})
