"""Choose the lexical index by measurement: rank-bm25 (the old index), bm25s and SQLite FTS5 (``vectorstore.lexical``).

    python bench/bench_lexical.py [--sizes 10000 100000] [--corpus /work/shared/corpora/bbc-politics-2005]

Builds synthetic chunk sets from sentences of the BBC politics corpus (read at
run time, never copied into the repo), recombined at random, each chunk with
its own invented person, town and figures so that needle questions have one
right chunk. Chunks are grouped four to an article version, as the store does.
For each library and size it prints: full build time (tokenising with
``app.answer.text.terms`` included, as the index does it), adding 100 chunks
(25 articles) and removing 100, the persisted size on disk, and, in a fresh
process that loads the persisted index as a restarted server would: load
time, resident memory per chunk (RSS growth from loading it and answering
the queries) and query p50/p95 over 50 questions (25 needles, 25 drawn from
corpus sentences), top 20. rank-bm25 and bm25s have no incremental update,
so adding or removing means a rebuild. Every library gets the same terms.
Each measurement runs in its own process; times are wall clock with CPU
seconds beside them, because the host is shared.

bm25s is in the ``[bench]`` extra only for this comparison.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pickle
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.answer.text import terms  # noqa: E402

DEFAULT_CORPUS = Path("/work/shared/corpora/bbc-politics-2005")
LIBRARIES = ("rank-bm25", "bm25s", "fts5", "fts5-all-terms")
CHUNKS_PER_ARTICLE = 4
CHANGED = 100
TOP_K = 20
SYLLABLES = "ka lo mi ren sa vo dun bel tor ash fen gri hal is jor kel mar nor pel quin".split()
OUTLETS = ("BBC News", "The Guardian", "Reuters", "Al Jazeera", "Washington Times")


# The synthetic archive


def invented(index: int, suffix: str) -> str:
    """A made-up proper name unique to ``index`` (base-20 digits spelled as syllables)."""
    parts = []
    for _ in range(4):
        index, digit = divmod(index, len(SYLLABLES))
        parts.append(SYLLABLES[digit])
    return "".join(parts).capitalize() + suffix


def corpus_sentences(corpus: Path) -> list[str]:
    sentences = []
    for path in sorted(corpus.glob("*.txt")):
        for paragraph in path.read_text(encoding="utf-8", errors="replace").split("\n")[1:]:
            sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+", paragraph) if len(s.split()) >= 6]
    return sentences


def make_chunks(sentences: list[str], count: int, seed: int = 7) -> list[dict]:
    """``count`` chunks of seven corpus sentences around one needle sentence of invented names and figures."""
    rng = random.Random(seed)
    chunks = []
    for i in range(count):
        person, town = invented(i, ""), invented(i * 7 + 3, "ton")
        needle = f"{person}, the council leader in {town}, said {1000 + i * 13} homes would cost £{i % 900 + 10}m."
        body = rng.sample(sentences, 7)
        body.insert(rng.randrange(8), needle)
        article = i // CHUNKS_PER_ARTICLE
        chunks.append({
            "id": f"v{article}#{i % CHUNKS_PER_ARTICLE}", "version": f"v{article}",
            "outlet": OUTLETS[article % len(OUTLETS)], "text": " ".join(body),
        })
    return chunks


def make_questions(sentences: list[str], count: int, chunks: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    needles = [f"What did {invented(i, '')} say about homes in {invented(i * 7 + 3, 'ton')}?"
               for i in rng.sample(range(chunks), count // 2)]
    drawn = [" ".join(rng.sample(s.rstrip(".").split(), 6)) + "?" for s in rng.sample(sentences, count - count // 2)]
    return needles + drawn


# The three indexes, behind one small interface


class RankBm25:
    """The old index: BM25Okapi over every chunk, rebuilt whole on any change."""

    def __init__(self, workdir: Path) -> None:
        self.file = workdir / "rank_bm25.pickle"

    def build(self, chunks: list[dict]) -> None:
        from rank_bm25 import BM25Okapi

        self.ids = [c["id"] for c in chunks]
        self.bm25 = BM25Okapi([terms(c["text"]) or ["_"] for c in chunks])

    def add(self, chunks: list[dict], all_chunks: list[dict]) -> None:
        self.build(all_chunks)

    def remove(self, versions: set[str], all_chunks: list[dict]) -> None:
        self.build(all_chunks)

    def save(self) -> int:
        self.file.write_bytes(pickle.dumps((self.ids, self.bm25)))
        return self.file.stat().st_size

    def load(self) -> None:
        self.ids, self.bm25 = pickle.loads(self.file.read_bytes())

    def query(self, question: str) -> list[str]:
        import numpy as np

        scores = self.bm25.get_scores(terms(question))
        return [self.ids[i] for i in np.argsort(-scores, kind="stable")[:TOP_K] if scores[i] > 0]


class Bm25s:
    """bm25s: sparse-matrix BM25, built whole on any change; saved as numpy arrays."""

    def __init__(self, workdir: Path) -> None:
        self.folder = workdir / "bm25s"

    def build(self, chunks: list[dict]) -> None:
        import bm25s

        self.ids = [c["id"] for c in chunks]
        self.model = bm25s.BM25(k1=1.5, b=0.75, method="robertson")
        self.model.index([terms(c["text"]) or ["_"] for c in chunks], show_progress=False)

    def add(self, chunks: list[dict], all_chunks: list[dict]) -> None:
        self.build(all_chunks)

    def remove(self, versions: set[str], all_chunks: list[dict]) -> None:
        self.build(all_chunks)

    def save(self) -> int:
        self.model.save(str(self.folder), corpus=None)
        (self.folder / "ids.json").write_text(json.dumps(self.ids))
        return sum(p.stat().st_size for p in self.folder.iterdir())

    def load(self) -> None:
        import bm25s

        self.model = bm25s.BM25.load(str(self.folder))
        self.ids = json.loads((self.folder / "ids.json").read_text())

    def query(self, question: str) -> list[str]:
        vocab = self.model.vocab_dict
        known = [t for t in terms(question) if t in vocab]
        if not known:
            return []
        scores = self.model.get_scores(known)
        order = scores.argsort()[::-1][:TOP_K]
        return [self.ids[i] for i in order if scores[i] > 0]


@dataclass
class Record:
    version: str
    fingerprint: str = ""
    tagging: str | None = None


@dataclass
class SyntheticCatalog:
    articles_by_version: dict[str, Record] = field(default_factory=dict)
    generation: int = 0

    def articles(self) -> dict[str, Record]:
        return self.articles_by_version


class SyntheticStore:
    """What ``LexicalIndex`` reads from a ChunkStore (catalog and chunks by version), from memory instead of Chroma,
    so the figures are the index's own."""

    chroma_url = None
    collection = "bench"

    def __init__(self) -> None:
        self.catalog = SyntheticCatalog()
        self.chunks: dict[str, list] = {}

    def set(self, chunks: list[dict]) -> None:
        from vectorstore.store import StoredChunk

        self.chunks = {}
        for c in chunks:
            meta = {"version": c["version"], "outlet": c["outlet"], "source": c["version"]}
            self.chunks.setdefault(c["version"], []).append(StoredChunk(c["id"], c["text"], meta))
        self.catalog.articles_by_version = {v: Record(v) for v in self.chunks}
        self.catalog.generation += 1

    def chunks_of_versions(self, versions: list[str]):
        for version in versions:
            yield from self.chunks.get(version, [])


class Fts5:
    """The chosen index, ``vectorstore.lexical.LexicalIndex``, synced from a synthetic store."""

    prune = True

    def __init__(self, workdir: Path) -> None:
        self.file = workdir / "lexical.sqlite"
        self.catalog_file = workdir / "catalog.json"
        self.store = SyntheticStore()

    def _index(self):
        from vectorstore.lexical import LexicalIndex

        return LexicalIndex(self.file, self.store, terms, prune=self.prune)

    def build(self, chunks: list[dict]) -> None:
        self.store.set(chunks)
        self.index = self._index()
        self.index.sync()

    def add(self, chunks: list[dict], all_chunks: list[dict]) -> None:
        self.store.set(all_chunks)
        self.index.sync()

    def remove(self, versions: set[str], all_chunks: list[dict]) -> None:
        self.add([], all_chunks)

    def save(self) -> int:
        self.index.close()
        self.catalog_file.write_text(json.dumps(sorted(self.store.catalog.articles_by_version)))
        return sum(p.stat().st_size for p in self.file.parent.glob(f"{self.file.name}*"))

    def load(self) -> None:
        """A restart: the catalog lists what the file holds, so the first sync diffs and finds nothing to do."""
        versions = json.loads(self.catalog_file.read_text())
        self.store.catalog.articles_by_version = {v: Record(v) for v in versions}
        self.index = self._index()
        self.index.sync()
        assert self.index.counts.chunks_inserted == 0, "a restart re-inserted chunks"

    def query(self, question: str) -> list[str]:
        return [c.id for c in self.index.search(terms(question), TOP_K)]


class Fts5AllTerms(Fts5):
    """The same index matching every query term, however common (what leaving common terms out saves)."""

    prune = False


INDEXES = {"rank-bm25": RankBm25, "bm25s": Bm25s, "fts5": Fts5, "fts5-all-terms": Fts5AllTerms}
IMPORTS = {"rank-bm25": ["rank_bm25", "numpy"], "bm25s": ["bm25s"], "fts5": ["vectorstore.lexical"],
           "fts5-all-terms": ["vectorstore.lexical"]}
BUILT_BY = {"fts5-all-terms": "fts5"}  # one file, queried both ways


# Measuring, one process per phase


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(action) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), cpu_s()
    action()
    return time.perf_counter() - wall, cpu_s() - cpu


def child_build(library: str, data: Path, workdir: Path) -> dict:
    chunks, extra = pickle.loads(data.read_bytes())
    index = INDEXES[library](workdir)
    figures = {"build": timed(lambda: index.build(chunks))}
    figures["add"] = timed(lambda: index.add(extra, chunks + extra))
    removed = {c["version"] for c in chunks[:CHANGED]}
    figures["remove"] = timed(lambda: index.remove(removed, chunks[CHANGED:] + extra))
    index.remove(set(), chunks)  # back to the first set, which the serving phase loads
    figures["disk_bytes"] = index.save()
    return figures


def child_serve(library: str, questions: list[str], chunks: int, workdir: Path) -> dict:
    index = INDEXES[library](workdir)
    for module in IMPORTS[library]:  # imports are not the index's memory or load time
        importlib.import_module(module)
    before = rss_kb()
    load = timed(index.load)
    times, cpu, tops = [], 0.0, []
    for question in questions:
        started, started_cpu = time.perf_counter(), cpu_s()
        tops.append(index.query(question))
        times.append((time.perf_counter() - started) * 1000)
        cpu += cpu_s() - started_cpu
    grown = rss_kb() - before
    times.sort()
    return {"load": load, "p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))],
            "query_cpu_ms": 1000 * cpu / len(questions), "bytes_per_chunk": grown * 1024 / chunks, "tops": tops}


def run_child(args: list[str]) -> dict:
    output = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure(size: int, sentences: list[str], workdir: Path) -> list[tuple[str, dict]]:
    chunks = make_chunks(sentences, size + CHANGED)
    data = workdir / f"chunks-{size}.pickle"
    data.write_bytes(pickle.dumps((chunks[:size], chunks[size:])))
    questions = make_questions(sentences, 50, size)
    rows, built = [], {}
    for library in LIBRARIES:
        builds = BUILT_BY.get(library, library)
        folder = workdir / f"{builds}-{size}"
        if builds not in built:
            folder.mkdir()
            built[builds] = run_child(["--child", "build", "--library", builds, "--data", str(data), "--workdir", str(folder)])
        figures = built[builds] | run_child(["--child", "serve", "--library", library, "--workdir", str(folder),
                                             "--chunks", str(size), "--questions", json.dumps(questions)])
        rows.append((library, figures))
        print(f"  measured {library} at {size:,} chunks", file=sys.stderr)
    return rows


def agreement(tops: list[list[str]], reference: list[list[str]]) -> tuple[int, float]:
    """Questions whose best chunk is the reference's, and the mean share of the reference's top 20 also found."""
    same = sum(bool(a) and bool(b) and a[0] == b[0] for a, b in zip(tops, reference, strict=True))
    overlap = [len(set(a) & set(b)) / len(b) for a, b in zip(tops, reference, strict=True) if b]
    return same, statistics.mean(overlap) if overlap else 1.0


def print_table(size: int, rows: list[tuple[str, dict]]) -> None:
    def pair(value: tuple[float, float]) -> str:
        return f"{value[0]:.2f} s ({value[1]:.2f} CPU)"

    reference = dict(rows)["rank-bm25"]["tops"]
    print(f"\n{size:,} chunks (times: wall, with CPU seconds; agreement: with rank-bm25 over 50 questions)")
    print("| library | full build | add 100 | remove 100 | load after restart | query p50 / p95 (CPU mean) | "
          "memory per chunk | disk | same best chunk | top-20 overlap |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for library, f in rows:
        same, overlap = agreement(f["tops"], reference)
        print(f"| {library} | {pair(f['build'])} | {pair(f['add'])} | {pair(f['remove'])} | {pair(f['load'])} | "
              f"{f['p50']:.1f} / {f['p95']:.1f} ms ({f['query_cpu_ms']:.1f}) | {f['bytes_per_chunk']:,.0f} B | "
              f"{f['disk_bytes'] / 1e6:.1f} MB | {same}/50 | {overlap:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--child", choices=("build", "serve"), help=argparse.SUPPRESS)
    parser.add_argument("--library", choices=LIBRARIES, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--chunks", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--questions", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "build":
        print(json.dumps(child_build(args.library, args.data, args.workdir)))
        return
    if args.child == "serve":
        print(json.dumps(child_serve(args.library, json.loads(args.questions), args.chunks, args.workdir)))
        return
    if not args.corpus.is_dir():
        sys.exit(f"bench_lexical: no corpus at {args.corpus}; pass --corpus")
    sentences = corpus_sentences(args.corpus)
    workdir = Path(tempfile.mkdtemp(prefix="bench-lexical-"))
    try:
        for size in args.sizes:
            print_table(size, measure(size, sentences, workdir))
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
