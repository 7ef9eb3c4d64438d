"""Ingest throughput: newsdesk against the LangChain tutorial pipeline, same files, whole processes.

    python bench/bench_ingest.py FOLDER [FOLDER ...] [--rounds N]

The tutorial pipeline is RecursiveCharacterTextSplitter (1000 characters,
200 overlap) + HuggingFaceEmbeddings over the same packaged MiniLM weights +
Chroma.from_documents; it needs the ``bench`` extra (``pip install -e .[bench]``).
Each side runs as a fresh process (imports and model loading included) into
a fresh store, and the rates are chunks written per wall-clock second.

With ``--rounds N`` the two sides take turns N times, the first to run
alternating, and the median ratio is printed: this shared machine's speed
drifts by a quarter within minutes, which a single pair of runs measures as
much as the pipelines. The two splitters cut chunks of different sizes, so
the mean wordpieces per chunk (read back from both stores after the runs)
and the ratio per wordpiece embedded are printed beside the ratio per chunk.

newsdesk exports its ONNX model once per data dir; that one-time step is
timed on its own (a warm-up ingest of the sample corpus), and the timed runs
start with the export already in their data dir, as every ingest after the
first does.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench_core import Measured


TUTORIAL_COLLECTION = "langchain"  # langchain-chroma's default collection name
NEWSDESK_COLLECTION = "newsdesk_chunks"  # the default; the newsdesk process gets no NEWSDESK_COLLECTION or _CHROMA_URL


def tutorial_pipeline(folder: Path, store: Path) -> int:
    """The LangChain tutorial's ingest, as written there; returns the number of chunks stored."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from vectorstore.embeddings import packaged_model_dir

    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".txt", ".md", ".html"))
    docs = [Document(page_content=p.read_text(encoding="utf-8", errors="replace"), metadata={"source": str(p)}) for p in files]
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
    embeddings = HuggingFaceEmbeddings(
        model=str(packaged_model_dir()), model_kwargs={"device": "cpu"}, encode_kwargs={"normalize_embeddings": True}
    )
    Chroma.from_documents(splits, embeddings, persist_directory=str(store))
    return len(splits)


def run_measured(command: list[str], env: dict[str, str]) -> Measured:
    """bench_core's measurement, imported here so the tutorial's child process does not pay for newsdesk's imports."""
    from bench_core import run_measured as measure  # bench/ is on sys.path when this file runs as a script

    return measure(command, env)


def run_newsdesk(folder: Path, data_dir: Path, models: Path, env: dict[str, str]) -> tuple[int, Measured]:
    data_dir.mkdir()
    shutil.copytree(models, data_dir / "models")
    run = run_measured([sys.executable, "-m", "app", "ingest", str(folder)], {**env, "NEWSDESK_DATA_DIR": str(data_dir)})
    return int(re.search(r"(\d+) chunks written", run.stdout).group(1)), run


def run_tutorial(folder: Path, store: Path, env: dict[str, str]) -> tuple[int, Measured]:
    run = run_measured([sys.executable, __file__, "--tutorial", str(folder), str(store)], env)
    return int(run.stdout.split()[-1]), run


def describe(name: str, chunks: int, run: Measured) -> str:
    return (f"{name} {chunks} chunks in {run.wall:.1f} s wall = {chunks / run.wall:.1f} chunks/s "
            f"({run.cpu:.1f} CPU s = {chunks / run.cpu:.1f} chunks per CPU s, peak RSS {run.rss_mb:.0f} MB)")


def mean_wordpieces(store: Path, collection_name: str) -> float:
    """Mean wordpieces the model saw per chunk (its 256 cap included), from the chunk texts a store holds."""
    import chromadb

    from vectorstore.embeddings import MAX_WORDPIECES, load_tokenizer, packaged_model_dir

    client = chromadb.PersistentClient(path=str(store), settings=chromadb.Settings(anonymized_telemetry=False))
    texts = client.get_collection(collection_name).get(include=["documents"])["documents"]
    encoded = load_tokenizer(packaged_model_dir()).encode_batch([text.strip() for text in texts])
    return sum(min(len(e.ids), MAX_WORDPIECES) for e in encoded) / len(texts)


def compare_once(folder: Path, work: Path, models: Path, env: dict[str, str], tutorial_first: bool) -> float:
    """One turn of each side on ``folder``; prints both and returns the chunk-rate ratio by wall clock."""
    work.mkdir()
    ran = {}
    for side in ("tutorial", "newsdesk") if tutorial_first else ("newsdesk", "tutorial"):
        ran[side] = run_newsdesk(folder, work / side, models, env) if side == "newsdesk" else run_tutorial(folder, work / side, env)
    (ours, ours_run), (theirs, their_run) = ran["newsdesk"], ran["tutorial"]
    wall_ratio = (ours / ours_run.wall) / (theirs / their_run.wall)
    cpu_ratio = (ours / ours_run.cpu) / (theirs / their_run.cpu)
    our_size = mean_wordpieces(work / "newsdesk" / "chroma", NEWSDESK_COLLECTION)
    their_size = mean_wordpieces(work / "tutorial", TUTORIAL_COLLECTION)
    print(f"  {describe('newsdesk', ours, ours_run)}\n  {describe('tutorial', theirs, their_run)}\n"
          f"  ratio per chunk {wall_ratio:.2f} by wall clock, {cpu_ratio:.2f} by CPU time; the same files took "
          f"{their_run.wall / ours_run.wall:.2f}x less time\n"
          f"  chunks hold {our_size:.0f} wordpieces on average against {their_size:.0f}: ratio per wordpiece "
          f"{wall_ratio * our_size / their_size:.2f} by wall clock, {cpu_ratio * our_size / their_size:.2f} by CPU time; "
          f"{'tutorial' if tutorial_first else 'newsdesk'} ran first, load average {os.getloadavg()[0]:.1f} at the end")
    return wall_ratio


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--rounds", type=positive, default=1, help="turns of each side per folder (default 1)")
    parser.add_argument("--tutorial", action="store_true", help=argparse.SUPPRESS)  # the child process of run_tutorial
    args = parser.parse_args()
    if args.tutorial:
        print(tutorial_pipeline(args.folders[0], args.folders[1]))
        return
    env = {name: value for name, value in os.environ.items() if name not in ("NEWSDESK_COLLECTION", "NEWSDESK_CHROMA_URL")}
    env |= {"PYTHONPATH": str(Path(__file__).resolve().parent.parent), "HF_HUB_OFFLINE": "1"}  # both write local stores
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm-up"
        export = run_measured([sys.executable, "-m", "app", "ingest"], {**env, "NEWSDESK_DATA_DIR": str(warm)})
        print(f"one-time ONNX export + sample ingest into a new data dir: {export.wall:.1f} s wall, {export.cpu:.1f} CPU s")
        for number, folder in enumerate(args.folders):
            print(f"{folder}:")
            ratios = [
                compare_once(folder, Path(tmp) / f"{number}-{turn}", warm / "models", env, tutorial_first=turn % 2 == 1)
                for turn in range(args.rounds)
            ]
            if args.rounds > 1:
                print(f"  median ratio per chunk by wall clock over {args.rounds} rounds: {statistics.median(ratios):.2f} "
                      f"({', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    main()
