"""Soak a real ``newsdesk serve``: N clients asking for T seconds while one ``newsdesk ingest`` runs on the same data dir.

    python bench/soak.py [--clients 8] [--seconds 30] [--ingest-files 20] [--corpus DIR]

It starts its own server on a free 127.0.0.1 port over a temporary store
holding the sample corpus, then runs the clients (each a thread with its own
connection, cycling through the project question set) and, a few seconds in,
``newsdesk ingest`` of the first ``--ingest-files`` articles of ``--corpus``
(default: the BBC politics corpus when present, else the test fixtures). The
ingest goes through the server (see ``vectorstore.owner``). It prints
requests, errors, throughput, latency percentiles, the ingest's outcome and
the server's RSS and thread count before and after.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from itertools import cycle
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from app.eval.evaluation import percentile  # noqa: E402
from bench_server import request_bodies  # noqa: E402
from live_server import NewsdeskServer  # noqa: E402

BBC = Path("/work/shared/corpora/bbc-politics-2005")
INGEST_DELAY_S = 3.0


def process_status(pid: int) -> tuple[float, int]:
    """RSS in MB and thread count of a process, from ``/proc``."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


def run_client(url: str, bodies: list[dict], until: float, offset: int, results: list[tuple[float, int]]) -> None:
    """Ask until ``until``; record (latency ms, status) per request, status 0 for a transport error."""
    with httpx.Client(timeout=300) as client:
        for body in cycle(bodies[offset:] + bodies[:offset]):
            if time.monotonic() >= until:
                return
            started = time.perf_counter()
            try:
                status = client.post(f"{url}/api/ask", json=body).status_code
            except httpx.HTTPError:
                status = 0
            results.append(((time.perf_counter() - started) * 1000, status))


def run_ingest(files: list[Path], data_dir: Path, outcome: dict) -> None:
    time.sleep(INGEST_DELAY_S)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "app", "ingest", *map(str, files)], capture_output=True, text=True,
                          env={**os.environ, "NEWSDESK_DATA_DIR": str(data_dir)})
    outcome.update(seconds=time.perf_counter() - started, code=done.returncode,
                   summary=(done.stdout.strip().splitlines() or [done.stderr.strip()])[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--ingest-files", type=int, default=20)
    parser.add_argument("--corpus", type=Path, default=BBC if BBC.is_dir() else ROOT / "tests" / "fixtures" / "articles")
    args = parser.parse_args()
    files = sorted(p for p in args.corpus.iterdir() if p.suffix in (".txt", ".md", ".html"))[: args.ingest_files]

    with tempfile.TemporaryDirectory() as workdir:
        print("starting newsdesk serve over the sample corpus ...", flush=True)
        server = NewsdeskServer.start(Path(workdir) / "data", Path(workdir) / "serve.log")
        try:
            bodies = request_bodies()
            rss_before, threads_before = process_status(server.process.pid)
            results: list[tuple[float, int]] = []
            ingest: dict = {}
            until = time.monotonic() + args.seconds
            workers = [threading.Thread(target=run_client, args=(server.url, bodies, until, i, results))
                       for i in range(args.clients)]
            workers.append(threading.Thread(target=run_ingest, args=(files, server.data_dir, ingest)))
            started = time.perf_counter()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            elapsed = time.perf_counter() - started
            rss_after, threads_after = process_status(server.process.pid)
            health = httpx.get(f"{server.url}/api/health").json()
        finally:
            server.stop()

    latencies = [ms for ms, status in results if status == 200]
    statuses = Counter(status for _, status in results)
    errors = sum(count for status, count in statuses.items() if status != 200)
    print(f"{args.clients} clients for {args.seconds:.0f} s, plus `newsdesk ingest` of {len(files)} files from {args.corpus}")
    print(f"requests {len(results)}, errors {errors} {dict(statuses)}, {len(results) / elapsed:.1f} answers/s")
    print(f"latency p50 {percentile(latencies, 0.5):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
          f"max {max(latencies, default=0):.0f} ms")
    print(f"ingest: exit {ingest.get('code')} in {ingest.get('seconds', 0):.1f} s: {ingest.get('summary')}")
    print(f"after: {health}")
    print(f"server RSS {rss_before:.0f} MB -> {rss_after:.0f} MB, threads {threads_before} -> {threads_after}")


if __name__ == "__main__":
    main()
