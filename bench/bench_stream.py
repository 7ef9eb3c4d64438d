"""What streaming buys a reader: time to the first event and the first text piece, against ``POST /api/ask``.

    python bench/bench_stream.py [--url http://127.0.0.1:7860] [--rounds 3]

One client, warm server (a warm-up pass runs first), the project question
set's questions with their history. For each question it times ``/api/ask``
to the whole answer, and ``/api/ask/stream`` to its first event, its first
``text`` piece and its last event; it prints p50 and p95 of each, and the
size of ``/widget.js`` as a browser receives it (gzip).
"""

from __future__ import annotations

import argparse
import time

import httpx

from bench_server import request_bodies, serving
from app.eval.evaluation import percentile


def time_stream(client: httpx.Client, url: str, body: dict) -> tuple[float, float, float]:
    """Milliseconds to the first event, the first text piece and the last event."""
    started = time.perf_counter()
    first = first_text = 0.0
    with client.stream("POST", f"{url}/api/ask/stream", json=body) as response:
        for line in response.iter_lines():
            now = (time.perf_counter() - started) * 1000
            first = first or now
            if line == "event: text":
                first_text = first_text or now
    return first, first_text, (time.perf_counter() - started) * 1000


def time_ask(client: httpx.Client, url: str, body: dict) -> float:
    started = time.perf_counter()
    client.post(f"{url}/api/ask", json=body).raise_for_status()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running newsdesk serve; default: start one")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the question set")
    args = parser.parse_args()

    with serving(args.url) as url, httpx.Client(timeout=120) as client:
        bodies = request_bodies()
        for body in bodies:  # warm-up
            time_ask(client, url, body)
        asks, firsts, first_texts, lasts = [], [], [], []
        for _ in range(args.rounds):
            for body in bodies:
                asks.append(time_ask(client, url, body))
                first, first_text, last = time_stream(client, url, body)
                firsts.append(first)
                first_texts.append(first_text)
                lasts.append(last)
        widget = client.get(f"{url}/widget.js", headers={"Accept-Encoding": "gzip"})
        print(f"{len(asks)} questions per route, one client")
        print(f"{'':32} {'p50 ms':>8} {'p95 ms':>8}")
        for name, values in [("/api/ask, whole answer", asks), ("stream, first event", firsts),
                             ("stream, first text piece", first_texts), ("stream, last event", lasts)]:
            print(f"{name:32} {percentile(values, 0.5):>8.0f} {percentile(values, 0.95):>8.0f}")
        print(f"/widget.js: {len(widget.content)} bytes uncompressed, {widget.num_bytes_downloaded} bytes transferred (gzip)")


if __name__ == "__main__":
    main()
