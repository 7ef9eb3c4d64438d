"""Benchmark the core pipeline and print the figures.

    python bench/bench_core.py [--copies 20] [--cold-runs 3]

Prints:
  * ingest throughput (chunks/s) over the sample corpus copied ``--copies``
    times under new names, and the share of that time spent embedding
    (the same chunk texts embedded alone, divided by the ingest time);
  * warm query latency p50/p95 for retrieval and for the whole answer, over
    tests/data/questions.yaml, first with new questions (model loaded,
    caches cold) and then the same questions again;
  * cold start of ``newsdesk ask``: a fresh process answering one question
    against an already-ingested store, wall clock.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from app.eval.evaluation import percentile
from app.eval.questionset import load_question_set
from app.service import Newsdesk
from app.settings import Settings
from ingest import sample_corpus_dir
from vectorstore.embeddings import MiniLMEmbeddings

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "questions.yaml"


def make_corpus(folder: Path, copies: int) -> None:
    for copy in range(copies):
        for article in sample_corpus_dir().iterdir():
            shutil.copy(article, folder / f"copy{copy:03d}_{article.name}")


def bench_ingest(embeddings: MiniLMEmbeddings, copies: int, workdir: Path) -> Newsdesk:
    corpus = workdir / "corpus"
    corpus.mkdir()
    make_corpus(corpus, copies)
    newsdesk = Newsdesk(Settings(data_dir=workdir / "store"), embeddings=embeddings)
    started = time.perf_counter()
    report = newsdesk.ingest([corpus])
    seconds = time.perf_counter() - started
    store = newsdesk.store
    texts = [c.text for c in store.iter_chunks(store.committed_filter())]
    started = time.perf_counter()
    embeddings.embed_documents(texts)
    embed_seconds = time.perf_counter() - started
    print(f"ingest: {report.counts['added']} articles, {report.chunks_written} chunks in {seconds:.2f} s "
          f"= {report.chunks_written / seconds:.1f} chunks/s; embedding alone {embed_seconds:.2f} s "
          f"= {100 * embed_seconds / seconds:.0f}% of ingest time")
    return newsdesk


def bench_queries(newsdesk: Newsdesk) -> None:
    cases = load_question_set(QUESTIONS).cases
    newsdesk.ask("Warm-up: why did the consulate close?")
    for label in ("new questions", "repeated questions"):
        answers = [newsdesk.ask(case.question, case.history) for case in cases]
        retrieve = [a.timings_ms["retrieve"] for a in answers]
        total = [a.timings_ms["total"] for a in answers]
        print(f"warm query ({label}, n={len(answers)}): retrieve p50 {percentile(retrieve, 0.5):.1f} ms, "
              f"p95 {percentile(retrieve, 0.95):.1f} ms; whole answer p50 {percentile(total, 0.5):.1f} ms, "
              f"p95 {percentile(total, 0.95):.1f} ms")


def bench_cold_start(data_dir: Path, runs: int) -> None:
    executable = shutil.which("newsdesk")
    if executable is None:
        print("cold start: skipped, the newsdesk console script is not installed")
        return
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir)}
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([executable, "ask", "Why did the US close its consulate in Basra?"], env=env, check=True,
                       capture_output=True)
        seconds.append(time.perf_counter() - started)
    print(f"cold start of `newsdesk ask` (n={runs}): median {statistics.median(seconds):.2f} s, "
          f"min {min(seconds):.2f} s, max {max(seconds):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=20, help="copies of the 5 sample articles to ingest")
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh processes to time")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; torch threads default")
    with tempfile.TemporaryDirectory() as tmp:
        embeddings = MiniLMEmbeddings()
        embeddings.embed_query("load the model before timing")
        newsdesk = bench_ingest(embeddings, args.copies, Path(tmp))
        sample = Newsdesk(Settings(data_dir=Path(tmp) / "sample"), embeddings=embeddings)
        sample.ingest()
        bench_queries(sample)
        bench_cold_start(Path(tmp) / "sample", args.cold_runs)
        del newsdesk


if __name__ == "__main__":
    main()
