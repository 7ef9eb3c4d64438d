"""Calibrate NEWSDESK_ABSTAIN_THRESHOLD: print each question's evidence score and the best cut.

    python bench/calibrate_abstention.py [QUESTIONS.yaml ...]

Defaults to bench/calibration_questions.yaml. Runs against the bundled sample
corpus in a temporary store. Cases with ``expect.abstain`` true are the
unanswerable ones; the rest are answerable. The suggested threshold is the
midpoint of the widest gap that separates the two groups (or, if they
overlap, the cut with the fewest errors).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from app.eval.questionset import load_question_set
from app.service import Newsdesk
from app.settings import Settings

HERE = Path(__file__).parent


def supports(newsdesk: Newsdesk, path: Path) -> list[tuple[str, bool, float]]:
    rows = []
    for case in load_question_set(path).cases:
        answer = newsdesk.ask(case.question, case.history)
        rows.append((case.id, bool(case.expect.abstain), answer.support))
    return rows


def best_threshold(rows: list[tuple[str, bool, float]]) -> tuple[float, int]:
    """The cut with the fewest errors; among equals, the one in the middle of the widest gap."""
    scores = sorted({s for _, _, s in rows})
    cuts = [(a + b) / 2 for a, b in zip(scores, scores[1:], strict=False)] or scores

    def errors(cut: float) -> int:
        return sum((s >= cut) == unanswerable for _, unanswerable, s in rows)

    def gap(cut: float) -> float:
        return min(abs(cut - s) for s in scores)

    cut = min(cuts, key=lambda c: (errors(c), -gap(c)))
    return cut, errors(cut)


def main(paths: list[Path]) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        newsdesk = Newsdesk(Settings(data_dir=Path(data_dir), abstain_threshold=0.0))
        newsdesk.ingest()
        rows = [row for path in paths for row in supports(newsdesk, path)]
    print(f"{'case':32} {'kind':13} support")
    for case_id, unanswerable, score in sorted(rows, key=lambda r: r[2]):
        print(f"{case_id:32} {'unanswerable' if unanswerable else 'answerable':13} {score:.4f}")
    answerable = [s for _, u, s in rows if not u]
    unanswerable = [s for _, u, s in rows if u]
    print(f"\nanswerable   min {min(answerable):.4f}  unanswerable max {max(unanswerable):.4f}")
    cut, errors = best_threshold(rows)
    print(f"suggested NEWSDESK_ABSTAIN_THRESHOLD={cut:.3f} ({errors} of {len(rows)} misclassified)")


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or [HERE / "calibration_questions.yaml"])
