"""Ingest a real archive as a nested tree and print what was stored and how long each pass took.

    python bench/bench_archive.py [--corpus ../shared/corpora/bbc-politics-2005] [--copies 5]

The corpus is copied into a temporary tree (never into the repo) laid out the
way real archives are: ``parent/politics/2005/NNN.txt``, plus a second copy
of the first ``--copies`` files under ``parent/elsewhere/NNN.txt``, so the
same file names stand in two folders. It then runs, against one temporary
store: a first ingest, an unchanged re-ingest, and a re-ingest under a
changed outlet registry that claims every article (all re-tagged, none
re-embedded).
It prints the counts (every file must be stored once, under its relative
path) and the time of each pass.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.service import Newsdesk  # noqa: E402
from app.settings import Settings  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "bbc-politics-2005"


def build_tree(corpus: Path, parent: Path, copies: int) -> int:
    """Lay the corpus out as a nested archive; returns the number of article files placed."""
    articles = sorted(corpus.glob("*.txt"))
    nested = parent / "politics" / "2005"
    nested.mkdir(parents=True)
    for path in articles:
        shutil.copy2(path, nested / path.name)
    (parent / "elsewhere").mkdir()
    for path in articles[:copies]:
        shutil.copy2(path, parent / "elsewhere" / path.name)
    return len(articles) + copies


def timed(label: str, run) -> object:
    start = time.perf_counter()
    report = run()
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts.items()))
    print(f"{label:<32} {time.perf_counter() - start:7.1f} s   {counts}; {report.chunks_written} chunks written")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--copies", type=int, default=5, help="files also copied, same name, into a second folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="newsdesk-archive-") as tmp:
        tmp = Path(tmp)
        placed = build_tree(args.corpus, tmp / "parent", args.copies)
        print(f"tree: {placed} article files under {tmp / 'parent'} ({args.copies} file names in two folders)")
        newsdesk = Newsdesk(Settings(data_dir=tmp / "store"))
        newsdesk.embeddings.embed_query("warm up")  # the model load is not part of any pass
        timed("first ingest", lambda: newsdesk.ingest([tmp / "parent"]))
        timed("unchanged re-ingest", lambda: newsdesk.ingest([tmp / "parent"]))

        registry = tmp / "outlets.yaml"
        # A pattern every article matches, so every article is re-tagged: the worst case of a registry change.
        registry.write_text("outlets:\n  - name: Bench Gazette\n    patterns: ['\\A\\S']\n")
        retagging = Newsdesk(Settings(data_dir=tmp / "store", outlets_file=registry), embeddings=newsdesk.embeddings)
        timed("re-ingest, registry changed", lambda: retagging.ingest([tmp / "parent"]))

        sources = [record.source for record in retagging.sources()]
        by_folder = Counter(source.rsplit("/", 1)[0] for source in sources)
        print(f"stored: {len(sources)} articles, {len(set(sources))} distinct sources, placed {placed}")
        print("by folder: " + ", ".join(f"{folder}: {n}" for folder, n in sorted(by_folder.items())))
        print("outlets: " + ", ".join(f"{o}: {n}" for o, n in Counter(r.outlet for r in retagging.sources()).most_common()))
        if len(sources) != placed or len(set(sources)) != placed:
            raise SystemExit("FAIL: not every file was stored once under its relative path")


if __name__ == "__main__":
    main()
