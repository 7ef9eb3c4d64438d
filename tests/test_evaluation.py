"""`newsdesk eval`: metrics on hand-built cases, reproducible scoring, report formats, exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from app.eval.expectations import check_answer
from app.eval.evaluation import CaseResult, CitationJudge, EvalRun, hit_at_k, percentile, reciprocal_rank, run_question_set, summarize
from app.eval.questionset import Case, Expect, load_question_set
from app.eval.reports import build_report, compare_to_baseline, to_csv, to_json, to_junit
from app.schemas import Answer, Citation, RetrievedChunk
from conftest import DATA
from test_cli import assert_one_line_error, newsdesk


def answer(abstained: bool, sources: list[str] = ()) -> Answer:
    return Answer(
        question="q", standalone_question="q", answer="a", abstained=abstained, support=0.5, citations=[],
        retrieved=[RetrievedChunk(rank=i, source=s, outlet="X", chunk_id=f"{s}#0", score=0.5) for i, s in enumerate(sources, 1)],
        backend="extractive", timings_ms={"total": 10.0},
    )


def test_file_level_ranks():
    assert reciprocal_rank(["b.txt", "a.txt"], ["a.txt"]) == 0.5
    assert reciprocal_rank(["b.txt"], ["a.txt"]) == 0.0
    assert hit_at_k(["b.txt", "c.txt", "a.txt"], ["a.txt"], 2) == 0.0
    assert hit_at_k(["b.txt", "c.txt", "a.txt"], ["a.txt"], 3) == 1.0
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0 and percentile([], 0.95) == 0.0


def test_summary_on_hand_built_cases():
    def result(case_id, expect, ans, files, validity=(), tags=()):
        case = Case(id=case_id, question="q", expect=expect, tags=list(tags))
        return CaseResult(case=case, answer=ans, checks=check_answer(ans, expect),
                          ranked_files=files, citation_validity=list(validity))

    run = EvalRun(k=1, results=[
        result("second", Expect(cite_any=["a.txt"]), answer(False, ["b.txt", "a.txt"]), ["b.txt", "a.txt"], [True, False], ["x"]),
        result("first", Expect(cite_any=["a.txt"]), answer(False, ["a.txt"]), ["a.txt"], [True], ["x"]),
        result("refused", Expect(abstain=True), answer(True), []),
        result("wrongly-refused", Expect(abstain=False), answer(True), []),
    ])
    summary = summarize(run)
    assert summary["mrr"] == 0.75  # (1/2 + 1) / 2
    assert summary["hit@1"] == 0.5
    assert summary["citation_validity"] == round(2 / 3, 4)
    assert summary["abstention"] == {"cases": 2, "accuracy": 0.5, "correct_refusals": 1, "wrong_refusals": 1, "missed_refusals": 0}
    assert summary["by_tag"]["(untagged)"] == {"passed": 1, "failed": 1}


def test_citation_judge(sample_newsdesk):
    real = sample_newsdesk.ask("What did State Department spokeswoman Heather Nauert announce?").citations[0]
    judge = CitationJudge(sample_newsdesk)
    assert judge.valid(real, [real.source])
    assert not judge.valid(real, ["other.txt"])  # not retrieved
    assert not judge.valid(real.model_copy(update={"outlet": "Reuters"}), [real.source])  # wrong outlet
    assert not judge.valid(real.model_copy(update={"quote": real.quote + " and more"}), [real.source])  # not verbatim
    assert not judge.valid(Citation(id=1, source="ghost.txt", outlet="X", quote="q", chunk_id="ghost.txt#0", score=1), ["ghost.txt"])


def test_two_runs_score_identically(sample_newsdesk):
    questions = load_question_set(DATA / "questions.yaml")
    first = build_report(sample_newsdesk, run_question_set(sample_newsdesk, questions), DATA / "questions.yaml")
    second = build_report(sample_newsdesk, run_question_set(sample_newsdesk, questions), DATA / "questions.yaml")
    assert to_json(first["scored"]) == to_json(second["scored"])
    assert to_json(first["provenance"]) == to_json(second["provenance"])
    summary = first["scored"]["summary"]
    assert summary["pass_rate"] >= 0.9 and summary["citation_validity"] == 1.0 and summary["abstention"]["accuracy"] == 1.0
    assert compare_to_baseline(first, second) == {"newly_failing": [], "newly_passing": []}
    flipped = json.loads(to_json(first))
    flipped["scored"]["cases"][0]["passed"] = False
    assert compare_to_baseline(first, flipped)["newly_passing"] == [flipped["scored"]["cases"][0]["id"]]

    rows = to_csv(first).splitlines()
    assert rows[0].startswith("id,passed,") and len(rows) == len(questions.cases) + 1
    suite = ET.fromstring(to_junit(first).split("\n", 1)[1])
    assert int(suite.get("tests")) == len(questions.cases) and len(suite.findall("testcase")) == len(questions.cases)


def test_eval_cli_exit_codes_and_reports(tmp_path):
    data_dir = tmp_path / "store"
    report = tmp_path / "report.json"
    ok = newsdesk("eval", str(DATA / "questions.yaml"), "-o", str(report), "--fail-under", "0.9", data_dir=data_dir)
    assert ok.returncode == 0, ok.stderr
    assert "cases passed" in ok.stdout and json.loads(report.read_text())["scored"]["summary"]["cases"] >= 20
    strict = newsdesk("eval", str(DATA / "questions.yaml"), "--fail-under", "1.0", "--baseline", str(report), data_dir=data_dir)
    assert strict.returncode == 1 and "below --fail-under" in strict.stderr
    assert "against baseline: newly failing []" in strict.stdout


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("version: 1\ncases:\n  - id: one\n    question: q\n  - id: two\n    question: q\n    expect: {cite_anyy: [a]}\n",
         ("case 'two'", "line 7", "cite_anyy")),
        ("version: 1\ncases:\n  - id: dup\n    question: q\n  - id: dup\n    question: r\n", ("duplicate case id 'dup'",)),
        ("version: 1\ncases:\n  - question: no id here\n", ("case #1", "line 3", "id")),
    ],
    ids=["wrong-key", "duplicate-id", "missing-id"],
)
def test_malformed_question_set_exits_2_naming_the_case(tmp_path, content, fragments):
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    assert_one_line_error(newsdesk("eval", str(bad), data_dir=tmp_path / "store"), *fragments)


def test_unsupported_report_format_is_refused_before_running(tmp_path):
    result = newsdesk("eval", str(DATA / "questions.yaml"), "-o", str(tmp_path / "r.pdf"), data_dir=tmp_path / "store")
    assert_one_line_error(result, "format '.pdf' is not supported")
    assert not (tmp_path / "store" / "catalog.json").exists()
