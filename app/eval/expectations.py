"""Check one answer against a case's ``expect`` block: one named result per key, with a reason."""

from __future__ import annotations

from dataclasses import dataclass

from app.eval.questionset import Expect
from app.schemas import Answer, Comparison


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    reason: str


def check_answer(answer: Answer, expect: Expect) -> list[CheckResult]:
    """Results for every key the case sets, in the order of the format's table."""
    return _checks(answer, answer.answer, expect)


def check_comparison(comparison: Comparison, expect: Expect) -> list[CheckResult]:
    """The answer keys over all sections' text and citations, then the comparison's own keys."""
    text = "\n".join(section.answer for section in comparison.outlets)
    results = _checks(comparison, text, expect)
    speaking = {section.outlet for section in comparison.outlets}

    def add(name: str, passed: bool, reason: str) -> None:
        results.append(CheckResult(name, passed, "ok" if passed else reason))

    if expect.outlets_all:
        missing = sorted(set(expect.outlets_all) - speaking)
        add("outlets_all", not missing, f"no section for {missing}; sections: {sorted(speaking)}")
    if expect.silent_any:
        add("silent_any", bool(set(comparison.silent) & set(expect.silent_any)),
            f"silent {comparison.silent}, none of {expect.silent_any}")
    if expect.disagreement is not None:
        found = bool(comparison.disagreements)
        add("disagreement", found == expect.disagreement, f"{len(comparison.disagreements)} disagreements, expected {expect.disagreement}")
    return results


def _checks(answer: Answer | Comparison, answer_text: str, expect: Expect) -> list[CheckResult]:
    cited = {c.source for c in answer.citations}
    outlets = {c.outlet for c in answer.citations}
    text = answer_text.replace("**", "").casefold()  # bold marks are layout, not words: "**two** rockets" has "two rockets"
    results = []

    def add(name: str, passed: bool, reason: str) -> None:
        results.append(CheckResult(name, passed, "ok" if passed else reason))

    if expect.cite_any:
        add("cite_any", bool(cited & set(expect.cite_any)), f"cited {sorted(cited)}, none of {expect.cite_any}")
    if expect.cite_all:
        missing = sorted(set(expect.cite_all) - cited)
        add("cite_all", not missing, f"not cited: {missing}")
    if expect.cite_none:
        wrong = sorted(cited & set(expect.cite_none))
        add("cite_none", not wrong, f"cited: {wrong}")
    if expect.outlets_any:
        add("outlets_any", bool(outlets & set(expect.outlets_any)), f"outlets {sorted(outlets)}, none of {expect.outlets_any}")
    if expect.contains_any:
        add("contains_any", any(s.casefold() in text for s in expect.contains_any), f"answer has none of {expect.contains_any}")
    if expect.contains_all:
        missing = [s for s in expect.contains_all if s.casefold() not in text]
        add("contains_all", not missing, f"answer lacks {missing}")
    if expect.not_contains:
        present = [s for s in expect.not_contains if s.casefold() in text]
        add("not_contains", not present, f"answer has {present}")
    if expect.abstain is not None:
        add("abstain", answer.abstained == expect.abstain, f"abstained={answer.abstained}, expected {expect.abstain}")
    if expect.max_ms is not None:
        total = answer.timings_ms.get("total", 0.0)
        add("max_ms", total <= expect.max_ms, f"took {total:.0f} ms, budget {expect.max_ms:.0f} ms")
    return results
