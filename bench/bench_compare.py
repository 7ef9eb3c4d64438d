"""How long a comparison takes, by stage, against ``ask`` for the same questions.

    python bench/bench_compare.py

Ingests the sample corpus into a temporary store, warms the model up with one
question, then runs the questions of tests/data/compare.yaml through
``compare`` twice (new questions, then the same again: the sentence-vector
cache is warm) and through ``ask`` once, printing p50/p95 in ms. A
comparison answers once per outlet, so it costs about that many answers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from app.eval.evaluation import percentile
from app.eval.questionset import load_question_set
from app.service import Newsdesk
from app.settings import Settings

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "compare.yaml"
STAGES = ("retrieve", "answer", "disagree", "total")


def figures(label: str, timings: list[dict[str, float]]) -> None:
    parts = []
    for stage in STAGES:
        values = [t[stage] for t in timings if stage in t]
        if values:
            parts.append(f"{stage} p50 {percentile(values, 0.5):.0f} / p95 {percentile(values, 0.95):.0f}")
    print(f"{label} ({len(timings)} questions): " + "; ".join(parts) + " ms")


def main() -> None:
    cases = [c for c in load_question_set(QUESTIONS).cases if not c.history]
    with tempfile.TemporaryDirectory() as folder:
        newsdesk = Newsdesk(Settings(data_dir=Path(folder)))
        newsdesk.ingest()
        newsdesk.ask("What happened?")
        print(f"{len(newsdesk.ingested_outlets())} outlets in the sample corpus")
        figures("compare, new questions", [newsdesk.compare(c.question).timings_ms for c in cases])
        figures("compare, repeated", [newsdesk.compare(c.question).timings_ms for c in cases])
        figures("ask, same questions", [newsdesk.ask(c.question).timings_ms for c in cases])


if __name__ == "__main__":
    main()
