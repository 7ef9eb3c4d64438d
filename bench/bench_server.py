"""Benchmark ``POST /api/ask`` under concurrent clients and print throughput and latency.

    python bench/bench_server.py [--url http://127.0.0.1:7860] [--clients 1 8 32] [--requests-per-client 12]

Without ``--url`` it starts its own ``newsdesk serve`` on a free 127.0.0.1
port over a temporary store holding the sample corpus. Each client is a
thread with its own HTTP connection, sending the project question set's
questions (with their history) one after another. A warm-up pass runs first,
so the figures are for a warm server.
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle, islice
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from app.eval.evaluation import percentile  # noqa: E402
from app.eval.questionset import load_question_set  # noqa: E402
from live_server import NewsdeskServer  # noqa: E402

QUESTIONS = ROOT / "tests" / "data" / "questions.yaml"


def request_bodies() -> list[dict]:
    return [{"question": c.question, "history": c.history} for c in load_question_set(QUESTIONS).cases]


def run_client(url: str, bodies: list[dict]) -> list[float]:
    """Send ``bodies`` in order on one connection; return each request's latency in ms."""
    latencies = []
    with httpx.Client(timeout=120) as client:
        for body in bodies:
            started = time.perf_counter()
            response = client.post(f"{url}/api/ask", json=body)
            response.raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def run_level(url: str, clients: int, per_client: int, bodies: list[dict]) -> tuple[float, list[float]]:
    """Requests/s and every latency, with ``clients`` clients at once."""
    plans = [list(islice(cycle(bodies), offset, offset + per_client)) for offset in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(lambda plan: run_client(url, plan), plans))
    seconds = time.perf_counter() - started
    latencies = [ms for result in results for ms in result]
    return len(latencies) / seconds, latencies


@contextmanager
def serving(url: str | None) -> Iterator[str]:
    """``url`` itself, or a fresh ``newsdesk serve`` over the sample corpus in a temporary store, stopped afterwards."""
    if url is not None:
        yield url.rstrip("/")
        return
    with tempfile.TemporaryDirectory() as workdir:
        print("starting newsdesk serve over the sample corpus ...", flush=True)
        server = NewsdeskServer.start(Path(workdir) / "data", Path(workdir) / "serve.log")
        try:
            yield server.url
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running newsdesk serve; default: start one")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests-per-client", type=int, default=12)
    args = parser.parse_args()

    with serving(args.url) as url:
        bodies = request_bodies()
        run_client(url, bodies)  # warm-up: every question once
        print(f"{'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8}")
        for clients in args.clients:
            throughput, latencies = run_level(url, clients, args.requests_per_client, bodies)
            print(f"{clients:>7} {len(latencies):>8} {throughput:>7.1f} "
                  f"{percentile(latencies, 0.5):>8.0f} {percentile(latencies, 0.95):>8.0f}", flush=True)


if __name__ == "__main__":
    main()
