"""Archive scale (issue 12): a synthetic archive of N articles through the CLI and the HTTP API, and the figures.

    python bench/bench_scale.py --articles N [--out DIR] [--keep] [--questions Q] [--seed S]
                                [--real-corpus PATH | --no-real-corpus] [--json FILE] [--reuse WORKDIR]

It touches newsdesk only from outside (``newsdesk ingest`` as whole
processes, ``newsdesk serve`` over HTTP, ``NEWSDESK_*`` settings), so the
same script measures today's store and any store behind the same surfaces.
One run:

1. exports the ONNX model once, into a models dir every store here shares
   (timed with an ingest of the bundled 5-article sample, which part 4 uses);
2. writes N articles (``scale_archive.py``: section/YYYY/MM/DD/slug.md or
   .txt with front matter, a needle fact per article) and ingests them;
   prints chunks/s (wall and per CPU second), the store's size on disk, the
   re-ingest of the unchanged archive and of the archive with one article
   changed (the catalog commit), each a whole process;
3. starts ``newsdesk serve`` on the archive, asks one question, restarts it
   and times the start to ``/api/health`` ok and the first ``POST /api/ask``;
   then asks Q needle questions (each new, so caches are cold per question)
   for warm p50/p95 of retrieval and of the whole answer, needle accuracy,
   and the server's RSS;
4. unless ``--no-real-corpus``: the whole-answer p50 of the sample store
   and of a real corpus store (the ``.txt`` files under PATH, read in place)
   over the fixed questions in ``scale_questions.yaml``, and their ratio.

``--reuse WORKDIR`` repeats parts 3 and 4 on a work dir that an earlier run
kept, so a change to the query path is measured at 100,000 articles without
another 45-minute ingest. A table goes to stdout, progress to stderr; ``--json FILE`` keeps the figures.
Exit 2 with one sentence when a step fails (a failed ingest shows its log's tail).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from app.eval.evaluation import percentile  # noqa: E402
from bench_core import Measured, run_measured  # noqa: E402
from live_server import NewsdeskServer  # noqa: E402
from scale_archive import Needle, generate_articles, write_archive  # noqa: E402
from soak import BBC, process_status  # noqa: E402

QUESTIONS = Path(__file__).resolve().parent / "scale_questions.yaml"
HEARTBEAT_SECONDS = 30
LOG_TAIL_LINES = 15
ASK_TIMEOUT_S = 300
PARAMS_FILE = "bench-scale.json"  # the archive's size and seed, for --reuse


class BenchFailure(Exception):
    """A step failed; the message is one sentence for the user."""


def progress(message: str) -> None:
    print(f"bench_scale: {message}", file=sys.stderr, flush=True)


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process, from ``/proc``: beside wall time on a shared host."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log_tail(log: Path) -> str:
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    return "\n".join(lines[-LOG_TAIL_LINES:])


def disk_usage_mb(path: Path) -> float:
    """What ``du`` counts (allocated blocks), in MB; a file that vanishes mid-walk (a running ingest) counts 0."""
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total / 1e6


@dataclass
class Store:
    """One data dir under the work dir; every store shares one models dir, so the ONNX export happens once."""

    label: str
    data_dir: Path
    models_dir: Path

    def env(self) -> dict[str, str]:
        """Settings for the CLI and server of this store; with a Chroma server, its own collection."""
        values = {"NEWSDESK_DATA_DIR": str(self.data_dir), "NEWSDESK_MODELS_DIR": str(self.models_dir),
                  "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
        if os.environ.get("NEWSDESK_CHROMA_URL"):
            values["NEWSDESK_COLLECTION"] = f"bench_scale_{self.label}_{os.getpid()}"
        return values


@dataclass
class IngestRun:
    """A whole ``newsdesk ingest`` process and the counts of its summary line."""

    run: Measured
    chunks: int
    counts: dict[str, int]

    def describe(self) -> str:
        return f"{self.run.wall:.1f} s wall, {self.run.cpu:.1f} CPU s"


@contextmanager
def heartbeat(what: str, store: Store) -> Iterator[None]:
    """A line every HEARTBEAT_SECONDS on stderr while a long step runs (the CLI shows no bar when piped)."""
    done = threading.Event()
    started = time.monotonic()

    def beat() -> None:
        while not done.wait(HEARTBEAT_SECONDS):
            progress(f"{what}: {time.monotonic() - started:.0f} s, store {disk_usage_mb(store.data_dir):.0f} MB")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def ingest(store: Store, paths: list[Path], what: str) -> IngestRun:
    """``newsdesk ingest PATHS`` as one process; a failure shows the tail of its stderr and stops the bench."""
    log = store.data_dir.parent / f"{store.label}-ingest.log"
    progress(f"{what} ...")
    with log.open("w") as stderr, heartbeat(what, store):
        command = [sys.executable, "-m", "app", "ingest", *map(str, paths)]
        run = run_measured(command, {**os.environ, **store.env()}, stderr=stderr, check=False)
    if run.returncode:
        print(log_tail(log), file=sys.stderr)
        raise BenchFailure(f"`newsdesk ingest` ({what}) exited with {run.returncode}; its stderr ends above")
    counts = {name: int(n) for n, name in re.findall(r"(\d+) (added|updated|unchanged|skipped|removed)", run.stdout)}
    chunks = re.search(r"(\d+) chunks written", run.stdout)
    if chunks is None:
        raise BenchFailure(f"`newsdesk ingest` ({what}) printed no summary line: {run.stdout.strip()[-200:]!r}")
    return IngestRun(run, int(chunks.group(1)), counts)


def start_server(store: Store) -> tuple[NewsdeskServer, float]:
    """``newsdesk serve`` on a free port, and the seconds from process start to ``/api/health`` ok."""
    log = store.data_dir.parent / f"{store.label}-serve.log"
    started = time.perf_counter()
    try:
        server = NewsdeskServer.start(store.data_dir, log, **store.env())
    except RuntimeError:
        print(log_tail(log), file=sys.stderr)
        raise BenchFailure(f"`newsdesk serve` on the {store.label} store did not become healthy; its log ends above")
    return server, time.perf_counter() - started


@contextmanager
def serving(store: Store) -> Iterator[tuple[NewsdeskServer, float]]:
    server, to_health = start_server(store)
    try:
        yield server, to_health
    finally:
        server.stop()


@dataclass
class Asked:
    """One ``POST /api/ask``: client-side milliseconds and the answer object."""

    client_ms: float
    answer: dict

    def timing(self, stage: str) -> float | None:
        return self.answer.get("timings_ms", {}).get(stage)

    def cited(self) -> list[str]:
        return [c["source"] for c in self.answer.get("citations", [])]


def ask(client: httpx.Client, url: str, question: str) -> Asked:
    started = time.perf_counter()
    response = client.post(f"{url}/api/ask", json={"question": question})
    client_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise BenchFailure(f"POST /api/ask answered {response.status_code} to {question!r}: {response.text[:200]}")
    return Asked(client_ms, response.json())


def p50_p95(values: list[float | None]) -> dict[str, float | None]:
    known = [v for v in values if v is not None]
    if not known:
        return {"p50": None, "p95": None}
    return {"p50": round(percentile(known, 0.5), 1), "p95": round(percentile(known, 0.95), 1)}


@dataclass
class Figures:
    """Every measured figure, by name; ``rows`` keeps the printable table in order."""

    values: dict = field(default_factory=dict)
    rows: list[tuple[str, str]] = field(default_factory=list)

    def add(self, key: str, value: object, label: str, shown: str) -> None:
        self.values[key] = value
        self.rows.append((label, shown))

    def note(self, label: str, shown: str) -> None:
        self.rows.append((label, shown))

    def print_table(self) -> None:
        width = max(len(label) for label, _ in self.rows)
        for label, shown in self.rows:
            print(f"{label:<{width}}  {shown}")


def ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


def export_model(store: Store, figures: Figures) -> None:
    """The sample store's ingest also exports the ONNX model into the shared models dir, once per run."""
    run = ingest(store, [], "one-time ONNX export + ingest of the 5-article sample")
    figures.add("export_and_sample_ingest_s", round(run.run.wall, 1), "one-time model export + sample ingest",
                run.describe())


def bench_archive_ingest(store: Store, archive: Path, changed: Path, figures: Figures) -> None:
    first = ingest(store, [archive], f"ingest of {archive}")
    figures.add("articles_added", first.counts.get("added"), "articles ingested", f"{first.counts.get('added')} "
                f"({first.chunks} chunks)")
    figures.values["chunks"] = first.chunks
    figures.add("ingest", {"wall_s": round(first.run.wall, 1), "cpu_s": round(first.run.cpu, 1),
                           "chunks_per_s": round(first.chunks / first.run.wall, 1),
                           "chunks_per_cpu_s": round(first.chunks / first.run.cpu, 1),
                           "peak_rss_mb": round(first.run.rss_mb)},
                "ingest (whole process)", f"{first.chunks / first.run.wall:.1f} chunks/s wall, "
                f"{first.chunks / first.run.cpu:.1f} chunks per CPU s ({first.describe()}, peak RSS "
                f"{first.run.rss_mb:.0f} MB)")
    size = disk_usage_mb(store.data_dir)
    figures.add("store_mb", round(size, 1), "store size on disk (du of the data dir)", f"{size:.1f} MB"
                + (" (the chunks are on the Chroma server)" if os.environ.get("NEWSDESK_CHROMA_URL") else ""))
    unchanged = ingest(store, [archive], "re-ingest of the unchanged archive")
    figures.add("reingest_unchanged_s", round(unchanged.run.wall, 1), "re-ingest, archive unchanged",
                f"{unchanged.describe()}; {unchanged.counts.get('unchanged')} unchanged (target at 100k: <= 60 s)")
    changed.write_text(changed.read_text(encoding="utf-8") + "\nThis article was updated after publication.\n",
                       encoding="utf-8")
    one = ingest(store, [archive], "re-ingest with one article changed")
    figures.add("catalog_commit", {"wall_s": round(one.run.wall, 1), "cpu_s": round(one.run.cpu, 1),
                                   "updated": one.counts.get("updated")},
                "catalog commit (re-ingest, 1 article changed)", f"{one.describe()}; {one.counts.get('updated')} updated")


def bench_serving(store: Store, needles: list[Needle], figures: Figures) -> None:
    """Start, one question, restart; time the restart and its first answer, then the warm needle questions."""
    first, restart, *warm = needles
    progress("starting newsdesk serve on the archive")
    with serving(store) as (server, to_health), httpx.Client(timeout=ASK_TIMEOUT_S) as client:
        opening = ask(client, server.url, first.question)
    figures.add("first_start", {"to_health_s": round(to_health, 2), "first_answer_ms": round(opening.client_ms)},
                "first start after ingest", f"health ok after {to_health:.1f} s; first answer {ms(opening.client_ms)}")
    progress("restarting newsdesk serve")
    with serving(store) as (server, to_health), httpx.Client(timeout=ASK_TIMEOUT_S) as client:
        rss_at_health, cpu_at_health = process_status(server.process.pid)[0], process_cpu_s(server.process.pid)
        cold = ask(client, server.url, restart.question)
        figures.add("restart", {"to_health_s": round(to_health, 2), "to_health_cpu_s": round(cpu_at_health, 1),
                                "first_answer_ms": round(cold.client_ms),
                                "first_answer_timings_ms": cold.answer.get("timings_ms")},
                    "restart: start to /api/health ok", f"{to_health:.2f} s ({cpu_at_health:.1f} CPU s of the server)")
        figures.note("restart: first question", f"{ms(cold.client_ms)} client-side (timings_ms total "
                     f"{ms(cold.timing('total'))}; target at 100k: <= 2 s)")
        progress(f"asking {len(warm)} needle questions")
        cpu_before = process_cpu_s(server.process.pid)
        asked = [ask(client, server.url, needle.question) for needle in warm]
        rss = process_status(server.process.pid)[0]
        cpu_per_answer_ms = (process_cpu_s(server.process.pid) - cpu_before) * 1000 / len(warm)
    figures.add("server_rss_mb", {"at_health": round(rss_at_health), "after_questions": round(rss)},
                "server RSS (VmRSS)", f"{rss_at_health:.0f} MB at health ok, {rss:.0f} MB after the questions")
    report_warm(asked, warm, cpu_per_answer_ms, figures)


def report_warm(asked: list[Asked], needles: list[Needle], cpu_per_answer_ms: float, figures: Figures) -> None:
    retrieve = p50_p95([a.timing("retrieve") for a in asked])
    total = p50_p95([a.timing("total") for a in asked])
    client = p50_p95([a.client_ms for a in asked])
    count = len(asked)
    figures.add("warm", {"questions": count, "retrieve_ms": retrieve, "total_ms": total, "client_ms": client},
                f"warm, {count} needle questions (new each, caches cold)", "")
    figures.note("  retrieval (timings_ms retrieve) p50 / p95", f"{ms(retrieve['p50'])} / {ms(retrieve['p95'])}")
    figures.note("  whole answer (timings_ms total) p50 / p95", f"{ms(total['p50'])} / {ms(total['p95'])}")
    figures.note("  whole answer (client-side) p50 / p95", f"{ms(client['p50'])} / {ms(client['p95'])}")
    figures.add("server_cpu_ms_per_answer", round(cpu_per_answer_ms, 1), "  server CPU per answer (mean)",
                ms(cpu_per_answer_ms))
    first = sum(a.cited()[:1] == [n.source] for a, n in zip(asked, needles)) / count
    anywhere = sum(n.source in a.cited() for a, n in zip(asked, needles)) / count
    figure_said = sum(n.figure in a.answer.get("answer", "") for a, n in zip(asked, needles)) / count
    figures.add("needle_accuracy", {"first_citation": round(first, 4), "any_citation": round(anywhere, 4),
                                    "answer_has_figure": round(figure_said, 4)},
                "needle accuracy: first citation right", f"{first:.1%} (any citation: {anywhere:.1%}; "
                f"answer quotes the figure: {figure_said:.1%})")


def answer_p50(store: Store, questions: list[str]) -> float | None:
    """Whole-answer p50 (client-side) on a fresh server, each question asked once."""
    with serving(store) as (server, _), httpx.Client(timeout=ASK_TIMEOUT_S) as client:
        return p50_p95([ask(client, server.url, q).client_ms for q in questions])["p50"]


def bench_real_corpus(corpus: Path, sample: Store, real: Store, figures: Figures) -> None:
    """Issue 12's target: the real corpus's whole-answer p50 within 1.5x of the 5-article store's, same run."""
    files = sorted(corpus.rglob("*.txt"))
    if not files:
        raise BenchFailure(f"the real corpus {corpus} holds no .txt files")
    run = ingest(real, files, f"ingest of the real corpus ({len(files)} files in {corpus})")
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    progress("asking the fixed questions of the sample and the real corpus stores")
    sample_p50 = answer_p50(sample, questions["sample"])
    real_p50 = answer_p50(real, questions["real"])
    ratio = real_p50 / sample_p50 if sample_p50 and real_p50 else None
    stored = sum(run.counts.get(status, 0) for status in ("added", "updated", "unchanged"))
    figures.add("real_corpus", {"path": str(corpus), "articles": stored, "chunks": run.chunks,
                                "ingest_chunks_per_s": round(run.chunks / run.run.wall, 1) if run.chunks else None,
                                "sample_answer_p50_ms": sample_p50, "real_answer_p50_ms": real_p50,
                                "ratio": None if ratio is None else round(ratio, 2)},
                f"real corpus vs 5-article sample ({len(questions['real'])} / {len(questions['sample'])} questions, "
                "each asked once, caches cold)", "")
    written = f"{run.chunks} chunks" if run.chunks else "ingested before"
    figures.note(f"  {corpus.name}: {stored} articles ({written}), whole answer p50", ms(real_p50))
    figures.note("  sample (5 articles), whole answer p50", ms(sample_p50))
    figures.note("  ratio real / sample", "n/a" if ratio is None else f"{ratio:.2f}x (target <= 1.5x)")


def run(args: argparse.Namespace, workdir: Path, figures: Figures) -> None:
    models = workdir / "models"
    sample, archive_store, real = (Store(label, workdir / label / "data", models) for label in ("sample", "archive", "real"))
    if args.reuse:
        progress(f"reusing the archive and stores kept in {workdir}: nothing is generated or ingested anew")
        needles = [needle for _, _, needle in generate_articles(args.articles, args.seed)]
    else:
        needles = generate_and_ingest(args, workdir, (sample, archive_store, real), figures)
    asked = random.Random(args.seed).sample(needles, min(args.questions + 2, len(needles)))
    bench_serving(archive_store, asked, figures)
    if args.real_corpus is not None:
        bench_real_corpus(args.real_corpus, sample, real, figures)


def generate_and_ingest(
    args: argparse.Namespace, workdir: Path, stores: tuple[Store, Store, Store], figures: Figures
) -> list[Needle]:
    sample, archive_store, _ = stores
    for store in stores:
        store.data_dir.parent.mkdir(parents=True)
    (workdir / PARAMS_FILE).write_text(json.dumps({"articles": args.articles, "seed": args.seed}) + "\n", encoding="utf-8")
    export_model(sample, figures)
    archive = workdir / "archive"
    progress(f"writing {args.articles} articles under {archive}")
    started, cpu = time.perf_counter(), time.process_time()
    needles = write_archive(archive, args.articles, args.seed)
    figures.add("generation_s", round(time.perf_counter() - started, 1), "archive generation",
                f"{args.articles} articles in {time.perf_counter() - started:.1f} s "
                f"({time.process_time() - cpu:.1f} CPU s), seed {args.seed}")
    bench_archive_ingest(archive_store, archive, archive / needles[0].source, figures)
    return needles


def check_reusable(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A kept work dir is reused only with the archive it holds (the needles are generated again from the
    seed) and only for local stores (on a Chroma server each run has collections of its own)."""
    params = args.reuse / PARAMS_FILE
    if not params.is_file():
        parser.error(f"{args.reuse} is not a work dir kept by bench_scale (it has no {PARAMS_FILE})")
    kept = json.loads(params.read_text(encoding="utf-8"))
    if (kept["articles"], kept["seed"]) != (args.articles, args.seed):
        parser.error(f"{args.reuse} holds {kept['articles']} articles of seed {kept['seed']}; "
                     f"pass --articles {kept['articles']} --seed {kept['seed']}")
    if os.environ.get("NEWSDESK_CHROMA_URL"):
        parser.error("--reuse works on local stores only; unset NEWSDESK_CHROMA_URL")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, required=True, help="synthetic articles to generate and ingest")
    parser.add_argument("--out", type=Path, help="make the work dir here (default: the system temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (archive, stores, logs)")
    parser.add_argument("--questions", type=int, default=200, help="warm needle questions to ask")
    parser.add_argument("--seed", type=int, default=1, help="the archive's random seed")
    parser.add_argument("--real-corpus", type=Path, default=BBC, help="a real corpus folder, read in place")
    parser.add_argument("--no-real-corpus", dest="real_corpus", action="store_const", const=None,
                        help="skip the real corpus comparison")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--reuse", type=Path, metavar="WORKDIR",
                        help="a work dir kept by an earlier run (--keep, same --articles and --seed): measure serving "
                             "and the real corpus again on its stores, without generating or ingesting the archive")
    args = parser.parse_args()
    if args.articles < 3 or args.questions < 1:
        parser.error("--articles must be at least 3 and --questions at least 1")
    if args.reuse is not None:
        check_reusable(parser, args)
    if args.real_corpus is not None and not args.real_corpus.is_dir():
        parser.error(f"the real corpus folder {args.real_corpus} does not exist (or pass --no-real-corpus)")
    return args


def main() -> None:
    args = parse_args()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    workdir = args.reuse or Path(tempfile.mkdtemp(prefix="bench-scale-", dir=args.out))
    figures = Figures()
    figures.values.update(articles=args.articles, seed=args.seed, cores=os.cpu_count(),
                          reused=str(args.reuse) if args.reuse else None)
    try:
        run(args, workdir, figures)
    except BenchFailure as failure:
        print(f"bench_scale: {failure}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        if args.keep or args.reuse:
            progress(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    figures.values["load_average"] = round(os.getloadavg()[0], 1)
    print(f"bench_scale: {args.articles} synthetic articles, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    figures.print_table()
    if args.json:
        args.json.write_text(json.dumps(figures.values, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
