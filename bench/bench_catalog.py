"""Catalog costs at archive scale, on synthetic records written straight into a temp Chroma (no embedding).

Prints, for each size: the commit cost per article (one upsert per article,
and per article in a group of 20 as ingest commits), the first full read of
the catalog, the start from a snapshot, and a refresh that finds nothing /
100 changes. Wall and CPU seconds are both shown: the host is shared.

    python bench/bench_catalog.py --records 10000 100000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import chromadb

from vectorstore.catalog import SKEW_S, Catalog
from vectorstore.catalog_rows import CatalogRows
from vectorstore.records import ArticleRecord
from vectorstore.snapshot import SnapshotFile


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Timer:
    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), cpu()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, cpu() - self.cpu

    def __str__(self) -> str:
        return f"{self.wall * 1000:.1f} ms wall, {self.cpu * 1000:.1f} ms CPU"


def record(i: int, edition: int = 0) -> ArticleRecord:
    source = f"section{i % 40}/{2000 + i % 25}/{i:07d}.txt"
    return ArticleRecord(
        source=source, outlet=f"Outlet {i % 30}", outlet_basis="sign-off", title=f"Town{i} council approves a budget of {i * 7} pounds",
        published="2024-05-01", author="A. Reporter", url=f"https://news{i % 30}.example/{i}", chunks=3,
        path=f"/archive/{source}", doc_hash=f"{i:032x}{edition:032x}", fingerprint=f"{i * 3:064x}", tagging="0123456789abcdef",
    )


def measure(count: int, folder: Path) -> None:
    client = chromadb.PersistentClient(path=str(folder / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False))
    collection = client.get_or_create_collection(f"bench{count}_articles", embedding_function=None)
    rows = CatalogRows(collection, "bench")
    with Timer() as bulk:
        for start in range(0, count, 1000):
            rows.write([record(i) for i in range(start, min(count, start + 1000))])
    print(f"{count} articles: writing the rows in groups of 1000: {bulk.wall:.1f} s wall, {bulk.cpu:.1f} s CPU")
    time.sleep(SKEW_S)  # the steady state: no other commit inside the window a refresh looks back over

    def catalog(snapshot: bool) -> Catalog:
        return Catalog(lambda: rows, SnapshotFile(folder / f"snapshot{count}.json") if snapshot else None)

    with Timer() as full:
        writer = catalog(snapshot=False)
        view = writer.view()
    print(f"  first read, every row from Chroma: {full} ({len(view.articles)} articles)")
    with Timer() as single:
        for i in range(50):
            writer.commit(record(i, edition=1))
    print(f"  commit of one article (one upsert): {single.wall * 20:.1f} ms wall, {single.cpu * 20:.1f} ms CPU per article")
    with Timer() as grouped:
        for start in range(50, 250, 20):
            writer.commit(*(record(i, edition=1) for i in range(start, start + 20)))
    print(f"  commit in groups of 20: {grouped.wall * 5:.1f} ms wall, {grouped.cpu * 5:.1f} ms CPU per article")

    reader = catalog(snapshot=True)
    reader.view()
    reader._saving.join()
    with Timer() as from_snapshot:
        restarted = catalog(snapshot=True)
        restarted.view()
    print(f"  first read from the snapshot, then a refresh: {from_snapshot}")
    time.sleep(SKEW_S)
    restarted.refresh()  # the first refresh after a burst of commits still looks back over its end
    with Timer() as idle:
        restarted.refresh()
    print(f"  refresh, nothing changed: {idle}")
    writer.commit(*(record(i, edition=2) for i in range(1000, 1100)))
    with Timer() as busy:
        restarted.refresh()
    print(f"  refresh, 100 articles changed by another process: {busy}")
    print(f"  peak RSS so far: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[10_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for count in args.records:
            measure(count, Path(folder))


if __name__ == "__main__":
    main()
