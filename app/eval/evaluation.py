"""Run a question set and score it offline: the same inputs always give the same scored results.

No LLM judge is involved. Every metric is computed from the answer object
and the store's own metadata:

* pass rate: a case passes when every ``expect`` key holds;
* hit@k and MRR at file level over the files named in ``cite_any``/``cite_all``
  (chunks collapse to their file's best rank);
* citation validity: the cited file was retrieved, its outlet equals the
  stored outlet, and the quote appears verbatim in the file's stored text;
* abstention accuracy, with correct and wrong refusals counted apart;
* for a generative backend, the answers per backend (fallbacks show as
  ``openai+extractive-fallback``) and the generated sentences checked,
  kept and dropped.

Latencies vary from run to run, so they are kept apart from the scored
results (``EvalRun.timings``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from app.eval.expectations import CheckResult, check_answer, check_comparison
from app.eval.questionset import Case, QuestionSet
from app.schemas import Answer, Citation, Comparison
from vectorstore.catalog import ArticleRecord


class AnswerSource(Protocol):
    """What evaluation needs: a local ``Newsdesk``, or ``app.web.client.RemoteNewsdesk`` for ``eval --url``."""

    def ask(self, question: str, history: list[str] | None = None, outlets: list[str] | None = None) -> Answer: ...

    def compare(self, question: str, history: list[str] | None = None, outlets: list[str] | None = None) -> Comparison: ...

    def sources(self) -> list[ArticleRecord]: ...

    def chunk_texts(self, source: str) -> list[str]: ...

    def describe(self) -> dict: ...


@dataclass
class CaseResult:
    case: Case
    answer: Answer | Comparison  # a Comparison for ``mode: compare`` cases
    checks: list[CheckResult]
    ranked_files: list[str]
    citation_validity: list[bool]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def expected_files(self) -> list[str]:
        return sorted(set(self.case.expect.cite_any) | set(self.case.expect.cite_all))


@dataclass
class EvalRun:
    k: int
    results: list[CaseResult] = field(default_factory=list)


def ranked_files(answer: Answer | Comparison) -> list[str]:
    """Retrieved files in order of their best-ranked chunk."""
    files: list[str] = []
    for chunk in sorted(answer.retrieved, key=lambda r: r.rank):
        if chunk.source not in files:
            files.append(chunk.source)
    return files


def hit_at_k(files: list[str], expected: list[str], k: int) -> float:
    """1.0 when any expected file is among the first k retrieved files."""
    return 1.0 if set(files[:k]) & set(expected) else 0.0


def reciprocal_rank(files: list[str], expected: list[str]) -> float:
    """1/rank of the first expected file among the retrieved files, 0 when none was retrieved."""
    return next((1.0 / rank for rank, name in enumerate(files, start=1) if name in expected), 0.0)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class CitationJudge:
    """Checks citations against the store: retrieved, right outlet, verbatim quote."""

    def __init__(self, newsdesk: AnswerSource) -> None:
        self.newsdesk = newsdesk
        self.records = {record.source: record for record in newsdesk.sources()}
        self._texts: dict[str, list[str]] = {}

    def valid(self, citation: Citation, retrieved: list[str]) -> bool:
        record = self.records.get(citation.source)
        return (
            record is not None
            and citation.source in retrieved
            and citation.outlet == record.outlet
            and any(citation.quote in text for text in self._chunk_texts(citation.source))
        )

    def _chunk_texts(self, source: str) -> list[str]:
        """Chunks are exact slices of the cleaned text and hold whole sentences."""
        if source not in self._texts:
            self._texts[source] = self.newsdesk.chunk_texts(source)
        return self._texts[source]


def ask_case(newsdesk: AnswerSource, case: Case) -> Answer | Comparison:
    """Earlier turns are asked first, in one conversation, then the case's question (compared in ``mode: compare``)."""
    respond = newsdesk.compare if case.mode == "compare" else newsdesk.ask
    for turn, question in enumerate(case.history):
        respond(question, case.history[:turn])
    return respond(case.question, case.history)


def run_question_set(
    newsdesk: AnswerSource, question_set: QuestionSet, on_case: Callable[[CaseResult], None] | None = None
) -> EvalRun:
    judge = CitationJudge(newsdesk)
    run = EvalRun(k=question_set.defaults.k)
    for case in question_set.cases:
        answer = ask_case(newsdesk, case)
        files = ranked_files(answer)
        result = CaseResult(
            case=case,
            answer=answer,
            checks=check_comparison(answer, case.expect) if case.mode == "compare" else check_answer(answer, case.expect),
            ranked_files=files,
            citation_validity=[judge.valid(citation, files) for citation in answer.citations],
        )
        run.results.append(result)
        if on_case:
            on_case(result)
    return run


def summarize(run: EvalRun) -> dict:
    """The scored summary: deterministic for the same corpus, settings and question set."""
    results = run.results
    with_files = [r for r in results if r.expected_files]
    refusal_cases = [r for r in results if r.case.expect.abstain is not None]
    validity = [valid for r in results for valid in r.citation_validity]
    tags: dict[str, dict[str, int]] = {}
    for result in results:
        for tag in result.case.tags or ["(untagged)"]:
            counts = tags.setdefault(tag, {"passed": 0, "failed": 0})
            counts["passed" if result.passed else "failed"] += 1
    return {
        "cases": len(results),
        "passed": sum(r.passed for r in results),
        "pass_rate": _ratio(sum(r.passed for r in results), len(results)),
        f"hit@{run.k}": _ratio(sum(hit_at_k(r.ranked_files, r.expected_files, run.k) for r in with_files), len(with_files)),
        "mrr": _ratio(sum(reciprocal_rank(r.ranked_files, r.expected_files) for r in with_files), len(with_files)),
        "citation_validity": _ratio(sum(validity), len(validity)),
        "citations": len(validity),
        "abstention": {
            "cases": len(refusal_cases),
            "accuracy": _ratio(sum(r.answer.abstained == r.case.expect.abstain for r in refusal_cases), len(refusal_cases)),
            "correct_refusals": sum(r.answer.abstained and r.case.expect.abstain for r in refusal_cases),
            "wrong_refusals": sum(r.answer.abstained and not r.case.expect.abstain for r in refusal_cases),
            "missed_refusals": sum(not r.answer.abstained and r.case.expect.abstain for r in refusal_cases),
        },
        "by_tag": dict(sorted(tags.items())),
        "backends": dict(sorted(Counter(r.answer.backend for r in results).items())),
        "sentences": sentence_counts(results),
    }


def sentence_counts(results: list[CaseResult]) -> dict[str, int]:
    """Generated sentences checked, kept, dropped and marked over all answers (zero for extractive quotes)."""
    checks = [r.answer.check for r in results if getattr(r.answer, "check", None) is not None]
    return {key: sum(getattr(c, key) for c in checks) for key in ("checked", "kept", "dropped", "marked")}


def timings(run: EvalRun) -> dict:
    """Latency figures; they differ between runs, so reports keep them in their own block."""
    totals = [r.answer.timings_ms["total"] for r in run.results]
    return {
        "latency_ms": {"p50": round(percentile(totals, 0.5), 2), "p95": round(percentile(totals, 0.95), 2)},
        "cases": {r.case.id: r.answer.timings_ms for r in run.results},
    }


def corpus_fingerprint(newsdesk: AnswerSource) -> str:
    """sha256 over every committed article's name and cleaned-text hash."""
    digest = hashlib.sha256()
    for record in newsdesk.sources():
        digest.update(f"{record.source}\0{record.doc_hash}\n".encode())
    return digest.hexdigest()


def _ratio(numerator: float, denominator: int) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0
