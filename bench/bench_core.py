"""Benchmark the core pipeline and print the figures.

    python bench/bench_core.py [--copies 20] [--cold-runs 5] [--cold-only DATA_DIR [--against CHECKOUT]]

Prints:
  * ingest throughput (chunks/s) over the sample corpus copied ``--copies``
    times under new names, and the share of that time spent embedding
    (the same chunk texts embedded alone, divided by the ingest time);
  * warm query latency p50/p95 for retrieval and for the whole answer, over
    tests/data/questions.yaml, first with new questions (model loaded,
    caches cold) and then the same questions again;
  * cold start of ``newsdesk ask`` and ``newsdesk sources``: fresh processes
    against an already-ingested store (``--cold-only DATA_DIR`` times only
    this, on a store you name; ``--against`` times another checkout in turns
    with this one), wall clock, CPU time and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from app.eval.evaluation import percentile
from app.eval.questionset import load_question_set
from app.service import Newsdesk
from app.settings import Settings
from ingest import sample_corpus_dir
from vectorstore.embeddings import MiniLMEmbeddings

ROOT = Path(__file__).resolve().parent.parent  # this checkout: its modules are the ones timed, whatever is installed
QUESTIONS = ROOT / "tests" / "data" / "questions.yaml"


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
    texts = [c.text for c in store.chunks_of_versions(sorted(store.catalog.versions()))]
    started = time.perf_counter()
    embeddings.encode(texts)
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


@dataclass(frozen=True)
class Measured:
    """One fresh process: wall seconds, CPU seconds (user + sys), peak RSS in MB, and its stdout.

    CPU time is reported beside wall time because this machine is shared: on
    a loaded host the wall clock measures the neighbours as much as newsdesk.
    """

    wall: float
    cpu: float
    rss_mb: float
    stdout: str
    returncode: int = 0


def run_measured(command: list[str], env: dict[str, str], stderr: int | IO = subprocess.DEVNULL,
                 check: bool = True) -> Measured:
    """Run ``command`` to its end; ``stderr`` may be a file to keep, and ``check=False`` returns a failed run too."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    stdout = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if check and process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return Measured(time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout,
                    process.returncode)


def bench_cold_start(data_dir: Path, runs: int, against: Path | None = None) -> None:
    """``newsdesk ask`` and ``newsdesk sources`` as fresh processes against an already-ingested store.

    With ``against`` (another checkout of newsdesk) each process of this checkout is followed by one of that
    checkout's, and both are printed: this shared machine's speed drifts by a quarter within minutes, so timing
    one version after the other measured the drift rather than the change.
    """
    executable = shutil.which("newsdesk")
    if executable is None:
        print("cold start: skipped, the newsdesk console script is not installed")
        return
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir)}
    checkouts = [ROOT] + ([against.resolve()] if against else [])
    envs = {checkout: {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(checkout), env.get("PYTHONPATH")]))}
            for checkout in checkouts}
    for args in (["ask", "Why did the US close its consulate in Basra?"], ["sources"]):
        for checkout in checkouts:  # untimed: a checkout's first run compiles its modules
            run_measured([executable, *args], envs[checkout])
        measured: dict[Path, list[Measured]] = {checkout: [] for checkout in checkouts}
        for turn in range(runs):
            for checkout in checkouts[turn % 2 :] + checkouts[: turn % 2]:  # each goes first in every other turn
                measured[checkout].append(run_measured([executable, *args], envs[checkout]))
        for checkout, runs_measured in measured.items():
            wall, cpu, rss = ([getattr(m, key) for m in runs_measured] for key in ("wall", "cpu", "rss_mb"))
            which = f" from {checkout}" if against else ""
            print(f"cold start of `newsdesk {args[0]}`{which} (n={runs}): wall median {statistics.median(wall):.2f} s "
                  f"(min {min(wall):.2f}, max {max(wall):.2f}); CPU median {statistics.median(cpu):.2f} s; "
                  f"peak RSS median {statistics.median(rss):.0f} MB; load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=20, help="copies of the 5 sample articles to ingest")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes to time")
    parser.add_argument("--cold-only", type=Path, metavar="DATA_DIR", help="only time cold starts on this ingested store")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="with --cold-only: also time another checkout of newsdesk, in turns with this one")
    args = parser.parse_args()
    if args.against and not args.cold_only:
        parser.error("--against needs --cold-only DATA_DIR")
    if args.against and not (args.against / "app" / "cli.py").is_file():
        parser.error(f"--against {args.against} is not a checkout of newsdesk (no app/cli.py there)")
    if args.cold_only:
        bench_cold_start(args.cold_only, args.cold_runs, args.against)
        return
    print(f"machine: {os.cpu_count()} cores; torch threads default")
    with tempfile.TemporaryDirectory() as tmp:
        embeddings = MiniLMEmbeddings(onnx_dir=Path(tmp) / "sample" / "models")  # where `newsdesk ask` below finds it
        embeddings.embed_query("load the model before timing")
        newsdesk = bench_ingest(embeddings, args.copies, Path(tmp))
        sample = Newsdesk(Settings(data_dir=Path(tmp) / "sample"), embeddings=embeddings)
        sample.ingest()
        bench_queries(sample)
        bench_cold_start(Path(tmp) / "sample", args.cold_runs)
        del newsdesk


if __name__ == "__main__":
    main()
