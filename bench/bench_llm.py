"""Benchmark generative answering and print the figures.

    python bench/bench_llm.py [--llm gguf|openai] [--limit N]

Runs the single-turn questions of tests/data/questions.yaml against the
bundled sample corpus (in a temporary store) with the configured model:
``gguf`` uses NEWSDESK_LLM_MODEL_PATH or the bundled SmolLM2; ``openai`` uses
NEWSDESK_LLM_BASE_URL / NEWSDESK_LLM_MODEL. Prints p50/p95 of:
  * time to the first streamed piece of the draft (what a chat reader waits);
  * the whole answer;
  * the checking after the last piece (sentence check, composition);
and the streamed pieces per second, the fallbacks, and the sentences kept
and dropped. Questions the extractive gate refuses never reach the model and
are counted apart.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from app.eval.evaluation import percentile
from app.eval.questionset import load_question_set
from app.service import Newsdesk
from app.settings import Settings

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "questions.yaml"


def line(name: str, values: list[float], unit: str = "ms") -> str:
    return f"{name:34} p50 {percentile(values, 0.5):8.0f} {unit}   p95 {percentile(values, 0.95):8.0f} {unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm", choices=["gguf", "openai"], default="gguf")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    args = parser.parse_args()
    questions = [c.question for c in load_question_set(QUESTIONS).cases if not c.history]
    questions = questions[: args.limit] if args.limit else questions
    with tempfile.TemporaryDirectory() as data_dir:
        newsdesk = Newsdesk(Settings(data_dir=Path(data_dir), llm=args.llm))
        newsdesk.ingest()
        newsdesk.ask(questions[0])  # load the embedding model and the LLM
        first, total, checking, rates = [], [], [], []
        kept = dropped = fallbacks = gated = 0
        for question in questions:
            stamps: list[float] = []
            started = time.perf_counter()
            answer = newsdesk.ask(question, on_token=lambda _: stamps.append(time.perf_counter()))
            finished = time.perf_counter()
            if answer.check is None and answer.abstained:
                gated += 1
                continue
            fallbacks += answer.backend.endswith("+extractive-fallback")
            if answer.check:
                kept, dropped = kept + answer.check.kept, dropped + answer.check.dropped
            total.append((finished - started) * 1000)
            if stamps:
                first.append((stamps[0] - started) * 1000)
                checking.append((finished - stamps[-1]) * 1000)
                if len(stamps) > 1:
                    rates.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
    print(f"backend {newsdesk.backend_description()}; {len(questions)} questions, {gated} refused before the model")
    print(line("first draft piece", first))
    print(line("whole answer", total))
    print(line("checking after the last piece", checking))
    print(line("streamed pieces per second", rates, unit="/s"))
    print(f"fallbacks to extractive: {fallbacks} of {len(total)}; generated sentences kept {kept}, dropped {dropped}")


if __name__ == "__main__":
    main()
