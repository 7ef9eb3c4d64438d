"""Time the answer stage (the extractive answerer alone) on a real archive, new questions, warm model.

    python bench/bench_answer_stage.py [--corpus /work/shared/corpora/bbc-politics-2005] [--data-dir DIR]

Ingests ``--corpus`` into ``--data-dir`` (kept between runs, so a second run
only checks the folder), warms the model and the indexes with one question,
then asks every question of bench/questions/bbc.yaml once and then again,
printing p50/p95 of the ``answer`` and ``retrieve`` stages and of the whole
answer, with the process's CPU seconds for the pass beside the wall clock
(the host is shared). New questions are the case the answerer's sentence
cache cannot help, so they show what the stage costs per question.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.eval.evaluation import percentile  # noqa: E402
from app.eval.questionset import load_question_set  # noqa: E402
from app.service import Newsdesk  # noqa: E402
from app.settings import Settings  # noqa: E402

QUESTIONS = ROOT / "bench" / "questions" / "bbc.yaml"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/corpora/bbc-politics-2005"))
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "newsdesk-bench-answer-stage")
    args = parser.parse_args()
    newsdesk = Newsdesk(Settings(data_dir=args.data_dir))
    newsdesk.ingest([args.corpus])
    newsdesk.ask("Warm-up: what did the minister say?")
    cases = [case for case in load_question_set(QUESTIONS).cases if case.mode == "ask"]
    print(f"{len(newsdesk.sources())} articles; {len(cases)} questions")
    for label in ("new questions", "repeated questions"):
        wall, cpu = time.perf_counter(), cpu_seconds()
        answers = [newsdesk.ask(case.question, case.history) for case in cases]
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        figures = []
        for stage in ("answer", "retrieve", "total"):
            values = [a.timings_ms[stage] for a in answers]
            figures.append(f"{stage} p50 {percentile(values, 0.5):.1f} / p95 {percentile(values, 0.95):.1f} ms")
        print(f"{label}: {'; '.join(figures)}; pass {wall:.1f} s wall, {cpu:.1f} CPU s")


if __name__ == "__main__":
    main()
