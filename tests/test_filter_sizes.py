"""No query sent to Chroma carries a filter whose size grows with the archive (issue 12).

The same operations run against one store at two sizes, N and 2N articles,
each time from a fresh ``Newsdesk`` (a new process's first read of the
catalog): an ingest that adds, changes and prunes a few articles, garbage
collection, dense search and whole answers. Every ``where`` and every id list
sent to the chunk and catalog collections is recorded. N is above every batch
bound (a write group, a page of versions), so a filter bounded by a batch is
as large at N as at 2N, and one that grows with the archive is larger at 2N.
"""

from __future__ import annotations

from collections import defaultdict

import pytest


N = 210  # above the 200 versions per read of ChunkStore.chunks_of_versions and the 16-chunk write groups below
TOWNS = ["Arden", "Brill", "Corran", "Dunmore", "Esk", "Fallow", "Garth", "Hollin", "Ives", "Jarrow"]


def article(i: int) -> str:
    town = f"{TOWNS[i % len(TOWNS)]}{i}"
    return (f"{town} council approves budget\n\n{town} council approved a budget of {i * 7} thousand pounds on "
            f"Monday, said mayor Ann Roe{i}. The vote was {i % 9} to 2 after a long debate about the harbour.\n")


def size(where: object) -> int:
    """Values in a filter: a list counts its items, an operator or field one per value."""
    if isinstance(where, dict):
        return sum(size(value) for value in where.values())
    if isinstance(where, list):
        return sum(size(value) for value in where)
    return 1


class FilterLog:
    """Wraps ``query``, ``get`` and ``delete`` of Chroma collections and keeps the largest filter per call site."""

    def __init__(self, monkeypatch) -> None:
        self.monkeypatch = monkeypatch
        self.largest: dict[str, int] = defaultdict(int)
        self.phase = ""

    def watch(self, name: str, collection) -> None:
        for method in ("query", "get", "delete"):
            real = getattr(collection, method)

            def recorded(*args, _real=real, _site=f"{name}.{method}", **kwargs):
                for key in ("where", "where_document", "ids"):
                    if kwargs.get(key) is not None:
                        site = f"{self.phase}:{_site}.{key}"
                        self.largest[site] = max(self.largest[site], size(kwargs[key]))
                return _real(*args, **kwargs)

            self.monkeypatch.setattr(collection, method, recorded)


@pytest.fixture(scope="module")
def measured(tmp_path_factory, embeddings):
    """The largest filter per call site at N and at 2N articles."""
    from app.service import Newsdesk
    from app.settings import Settings

    folder = tmp_path_factory.mktemp("archive")
    data_dir = tmp_path_factory.mktemp("store")

    def open_store() -> Newsdesk:
        return Newsdesk(Settings(data_dir=data_dir, embed_batch_size=16), embeddings=embeddings)

    results = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        for step in (1, 2):
            for i in range((step - 1) * N, step * N):
                (folder / f"{i:05d}.txt").write_text(article(i), encoding="utf-8")
            assert not open_store().ingest([folder]).skipped
            results.append(run_operations(open_store(), folder, step, FilterLog(monkeypatch)))
    return results


def run_operations(newsdesk, folder, step: int, log: FilterLog) -> dict[str, int]:
    """Add, change and prune a few articles, collect garbage, search and answer; with every filter recorded."""
    store = newsdesk.store
    log.watch("chunks", store.chunks)
    log.watch("catalog", store.catalog.rows.collection)
    log.phase = "write"
    base = 10_000 * step
    for i in range(base, base + 2):
        (folder / f"{i:05d}.txt").write_text(article(i), encoding="utf-8")
    (folder / "00000.txt").write_text(article(0) + f"Changed in step {step}.\n", encoding="utf-8")
    (folder / f"{100 + step:05d}.txt").unlink()
    report = newsdesk.ingest([folder], prune=True)
    assert (report.counts["added"], report.counts["updated"], report.counts["removed"]) == (2, 1, 1)
    store.collect_garbage()
    log.phase = "dense"
    view = store.catalog.view()
    vector = newsdesk.embeddings.embed_query("What budget did the Arden0 council approve?")
    assert store.dense_search(vector, 20, view.versions)
    assert store.dense_search(vector, 20, view.versions, outlets=["unknown"])
    log.phase = "ask"
    assert newsdesk.ask("What budget did the Brill11 council approve?").citations
    assert newsdesk.ask("Who is the mayor of Corran2?", outlets=["unknown"]).citations
    return dict(log.largest)


def compare(measured, phases: tuple[str, ...]) -> None:
    small, large = measured
    grown = {site: (small.get(site, 0), n) for site, n in large.items() if site.split(":")[0] in phases and n > small.get(site, 0)}
    assert not grown, f"filters that grow with the archive (site: size at {N}, at {2 * N} articles): {grown}"
    assert any(site.startswith(phases) for site in large)  # the recorder saw the calls it checks


def test_writes_garbage_collection_and_dense_search_send_no_growing_filter(measured):
    compare(measured, ("write", "dense"))


def test_answers_send_no_growing_filter(measured):
    compare(measured, ("ask",))
