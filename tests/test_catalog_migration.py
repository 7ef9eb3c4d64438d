"""A store written before the catalog moved into Chroma (``catalog.json`` beside the chunks) is migrated once."""

from __future__ import annotations

import pytest

from conftest import FIXTURES
from legacy_store import as_written_by_main
from vectorstore.errors import CatalogDamaged

ARCHIVE = FIXTURES / "archive"


def chunk_sources(newsdesk) -> set[str]:
    return {meta["source"] for meta in newsdesk.store.chunks.get(include=["metadatas"])["metadatas"]}


def test_a_store_written_by_main_is_migrated_once_and_its_leftovers_collected(make_newsdesk, tmp_path):
    data_dir = tmp_path / "store"
    old = make_newsdesk(data_dir=data_dir)
    old.ingest([ARCHIVE])
    before = old.sources()
    # what an interrupted ingest of the old release left: chunks of a version its catalog never named
    leftover = {**old.store.chunks.get(include=["metadatas"], limit=1)["metadatas"][0], "source": "left.txt",
                "version": "0123456789abcdef:left.txt", "chunk_index": 0}
    half_written = "A half-written article."
    old.store.chunks.add(ids=["0123456789abcdef:left.txt#0"], documents=[half_written], metadatas=[leftover],
                         embeddings=old.embeddings.encode([half_written]))
    catalog = as_written_by_main(old)
    migrated = catalog.with_name("catalog.json.migrated")

    current = make_newsdesk(data_dir=data_dir)
    assert current.sources() == before
    assert not catalog.exists() and migrated.exists()
    assert current.ask("Who won the autumn regatta?").citations[0].source == "sport/001.txt"

    migrated.rename(catalog)  # as if killed after the upserts, before the rename: the next open runs them again
    again = make_newsdesk(data_dir=data_dir)
    assert again.sources() == before and not catalog.exists()
    assert "left.txt" in chunk_sources(again)  # invisible until the next ingest collects it
    report = again.ingest([ARCHIVE])
    assert report.counts["unchanged"] == 3 and report.counts["added"] == 0
    assert chunk_sources(again) == {record.source for record in before}


def test_a_damaged_old_catalog_is_named_and_repair_replaces_it(make_newsdesk, tmp_path):
    data_dir = tmp_path / "store"
    old = make_newsdesk(data_dir=data_dir)
    old.ingest([ARCHIVE])
    before = old.sources()
    catalog = as_written_by_main(old)
    catalog.write_text(catalog.read_text()[:200], encoding="utf-8")

    damaged = make_newsdesk(data_dir=data_dir)
    with pytest.raises(CatalogDamaged, match=rf"the catalog {catalog} is not valid JSON.*`newsdesk repair`"):
        damaged.sources()
    assert len(chunk_sources(damaged)) == 3  # nothing was deleted

    repaired = make_newsdesk(data_dir=data_dir)
    records = repaired.repair()
    assert [r.model_copy(update={"notes": []}) for r in records] == [r.model_copy(update={"notes": []}) for r in before]
    assert not catalog.exists()
    assert make_newsdesk(data_dir=data_dir).ingest([ARCHIVE]).counts["unchanged"] == 3
