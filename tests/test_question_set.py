"""The project's question set over the sample corpus (tests/data/questions.yaml)."""

from __future__ import annotations

import pytest

from app.eval.expectations import check_answer
from app.eval.questionset import QuestionSetError, load_question_set
from conftest import DATA

QUESTIONS = load_question_set(DATA / "questions.yaml")
ANSWERABLE = [c for c in QUESTIONS.cases if not c.expect.abstain]
UNANSWERABLE = [c for c in QUESTIONS.cases if c.expect.abstain]


def test_the_set_is_big_enough():
    assert len(QUESTIONS.cases) >= 20
    assert len(UNANSWERABLE) >= 5 and any(c.history for c in QUESTIONS.cases)


@pytest.mark.parametrize("case", ANSWERABLE, ids=lambda c: c.id)
def test_answerable_questions_cite_the_right_file(sample_newsdesk, case):
    answer = sample_newsdesk.ask(case.question, case.history)
    assert not answer.abstained, answer.support
    assert {c.source for c in answer.citations} & set(case.expect.cite_any), answer.answer


@pytest.mark.parametrize("case", UNANSWERABLE, ids=lambda c: c.id)
def test_unanswerable_questions_abstain(sample_newsdesk, case):
    answer = sample_newsdesk.ask(case.question, case.history)
    assert answer.abstained and not answer.citations, answer.answer


def test_all_expectations_pass_rate(sample_newsdesk):
    """Every expect key (quotes, outlets, abstention) — the bar `newsdesk eval --fail-under 0.9` sets."""
    failures = {}
    for case in QUESTIONS.cases:
        results = check_answer(sample_newsdesk.ask(case.question, case.history), case.expect)
        failed = [r.reason for r in results if not r.passed]
        if failed:
            failures[case.id] = failed
    assert 1 - len(failures) / len(QUESTIONS.cases) >= 0.9, failures


def test_follow_up_uses_the_history(sample_newsdesk):
    alone = sample_newsdesk.ask("What reason did he give for it?")
    follow_up = sample_newsdesk.ask("What reason did he give for it?", ["Who ordered the evacuation of US diplomats from Basra?"])
    assert "evacuation" in follow_up.standalone_question and "Basra" in follow_up.standalone_question
    assert alone.abstained  # on its own the question is about nothing in particular
    assert "threat" in follow_up.answer.lower()
    assert {c.source for c in follow_up.citations} & {"003_7a30f19d73eded28.txt", "004_11a4c25ae7ed3fe9.txt"}


def test_malformed_question_sets_name_the_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ncases:\n  - id: a\n    question: q\n    expect: {cite_anyy: [x]}\n")
    with pytest.raises(QuestionSetError, match=r"cases\.0\.expect\.cite_anyy"):
        load_question_set(bad)
    bad.write_text("version: 1\ncases:\n  - {id: a, question: q}\n  - {id: a, question: r}\n")
    with pytest.raises(QuestionSetError, match="duplicate case id 'a'"):
        load_question_set(bad)
