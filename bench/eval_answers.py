"""Score the answer-quality question sets (bench/questions/) and print pass rates per split.

    python bench/eval_answers.py [--bbc-corpus PATH] [--bbc-data-dir DIR] [--show-failures]

The sample set runs over the bundled sample corpus, ingested into a temporary
folder. The BBC set runs over the public BBC politics corpus, which is never
copied into the repo: it is ingested from ``--bbc-corpus`` into
``--bbc-data-dir``, which is kept between runs (ingesting 417 articles takes
minutes; re-ingesting an unchanged folder only checks it). Cases are tagged
``tune`` (looked at while tuning the sentence scoring) or ``heldout`` (only
ever scored), so the held-out figure says whether a change generalises.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from app.eval.evaluation import EvalRun, run_question_set
from app.eval.questionset import load_question_set
from app.service import Newsdesk
from app.settings import Settings
from ingest import sample_corpus_dir
from vectorstore.embeddings import MiniLMEmbeddings

QUESTIONS = Path(__file__).resolve().parent / "questions"
SPLITS = ("tune", "heldout")


def split_rates(run: EvalRun) -> dict[str, tuple[int, int]]:
    """Passed and total cases per split tag."""
    rates = {}
    for split in SPLITS:
        results = [r for r in run.results if split in r.case.tags]
        rates[split] = (sum(r.passed for r in results), len(results))
    return rates


def score(name: str, newsdesk: Newsdesk, corpus: Path, show_failures: bool) -> None:
    newsdesk.ingest([corpus])
    run = run_question_set(newsdesk, load_question_set(QUESTIONS / f"{name}.yaml"))
    figures = ", ".join(f"{split} {p}/{n} = {p / n:.2f}" for split, (p, n) in split_rates(run).items() if n)
    total = sum(r.passed for r in run.results)
    print(f"{name}: {figures}; all {total}/{len(run.results)} = {total / len(run.results):.2f}")
    for result in run.results if show_failures else []:
        if not result.passed:
            reasons = "; ".join(c.reason for c in result.checks if not c.passed)
            print(f"  FAIL {result.case.id} [{','.join(result.case.tags)}]: {reasons}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bbc-corpus", type=Path, default=Path("/work/shared/corpora/bbc-politics-2005"))
    parser.add_argument("--bbc-data-dir", type=Path, default=Path(tempfile.gettempdir()) / "newsdesk-bench-bbc")
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()
    settings = Settings()  # NEWSDESK_EMBED_RUNTIME and NEWSDESK_MODELS_DIR choose the runtime being scored
    embeddings = MiniLMEmbeddings(runtime=settings.embed_runtime, onnx_dir=settings.models_dir)
    with tempfile.TemporaryDirectory() as folder:
        score("sample", Newsdesk(Settings(data_dir=Path(folder)), embeddings=embeddings), sample_corpus_dir(), args.show_failures)
    if args.bbc_corpus.is_dir():
        bbc = Newsdesk(Settings(data_dir=args.bbc_data_dir), embeddings=embeddings)
        score("bbc", bbc, args.bbc_corpus, args.show_failures)
    else:
        print(f"bbc: skipped, no corpus at {args.bbc_corpus}")


if __name__ == "__main__":
    main()
