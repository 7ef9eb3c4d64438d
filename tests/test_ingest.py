"""Incremental re-ingest, all-or-nothing article writes, and bad input that never costs stored data."""

from __future__ import annotations

import shutil

import pytest

from conftest import FIXTURES
from vectorstore.store import StoreUnavailable

ARTICLE = (
    "Basra port reopens after strike\n\n"
    "BASRA (Reuters) - Dock workers at Umm Qasr ended their strike on Friday after the ministry agreed to pay wages. "
    "Ships began unloading again within hours, port officials said.\n\n"
)


def stored_chunk_sources(newsdesk) -> list[str]:
    """Every chunk physically in Chroma (committed or not), by source."""
    return sorted(m["source"] for m in newsdesk.store.chunks.get(include=["metadatas"])["metadatas"])


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_add_change_unchanged_and_prune(make_newsdesk, tmp_path):
    newsdesk = make_newsdesk()
    folder = tmp_path / "articles"
    folder.mkdir()
    write(folder, "a.txt", ARTICLE)
    write(folder, "b.txt", ARTICLE.replace("Friday", "Saturday"))

    first = newsdesk.ingest([folder])
    assert (first.counts["added"], first.chunks_written) == (2, 2)

    second = newsdesk.ingest([folder])
    assert second.counts["unchanged"] == 2 and second.chunks_written == 0

    write(folder, "a.txt", ARTICLE + "The ministry said the wages would be paid by Sunday. " * 30)
    (folder / "b.txt").unlink()
    third = newsdesk.ingest([folder])
    assert third.counts["updated"] == 1
    assert {r.source for r in newsdesk.sources()} == {"a.txt", "b.txt"}  # no --prune: b stays

    fourth = newsdesk.ingest([folder], prune=True)
    assert fourth.counts["removed"] == 1
    (record,) = newsdesk.sources()
    assert record.source == "a.txt" and record.chunks > 1
    assert stored_chunk_sources(newsdesk) == ["a.txt"] * record.chunks  # the old version's chunks are gone


def test_changing_a_chunk_setting_rebuilds_articles(make_newsdesk, tmp_path):
    data_dir = tmp_path / "store"
    write(tmp_path, "a.txt", ARTICLE * 5)
    assert make_newsdesk(data_dir=data_dir).ingest([tmp_path / "a.txt"]).counts["added"] == 1
    report = make_newsdesk(data_dir=data_dir, chunk_tokens=60).ingest([tmp_path / "a.txt"])
    assert report.counts["updated"] == 1


def test_interrupted_write_leaves_the_old_version_whole(make_newsdesk, tmp_path, monkeypatch):
    newsdesk = make_newsdesk(embed_batch_size=1)
    path = write(tmp_path, "a.txt", ARTICLE)
    newsdesk.ingest([path])
    (old,) = newsdesk.sources()

    write(tmp_path, "a.txt", ARTICLE + "The ministry said the wages would be paid by Sunday. " * 30)
    real_write = newsdesk.store._write_chunks
    calls = []

    def crash_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user pressed Ctrl-C mid-article
        return real_write(*args, **kwargs)

    monkeypatch.setattr(newsdesk.store, "_write_chunks", crash_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        newsdesk.ingest([path])

    (current,) = newsdesk.sources()
    assert current == old  # the catalog still names the old version
    visible = list(newsdesk.store.chunks_of_versions(sorted(newsdesk.store.catalog.versions())))
    assert [c.text for c in visible] == [c.text for c in visible if "Sunday" not in c.text]
    assert len(visible) == old.chunks
    assert newsdesk.ask("When did the dock workers end their strike?").citations[0].source == "a.txt"

    monkeypatch.setattr(newsdesk.store, "_write_chunks", real_write)
    assert newsdesk.ingest([path]).counts["updated"] == 1
    (new,) = newsdesk.sources()
    assert stored_chunk_sources(newsdesk) == ["a.txt"] * new.chunks  # the half-written batch was collected


def test_a_store_failing_mid_run_reports_exactly_the_articles_it_stored(make_newsdesk, tmp_path, monkeypatch):
    """Groups are embedded ahead of the writer; when one write fails, the groups queued behind it are not written,
    and the report names as added exactly the articles the catalog holds."""
    import sqlite3

    newsdesk = make_newsdesk(embed_batch_size=1)  # every article is a group of its own
    folder = tmp_path / "articles"
    folder.mkdir()
    for day in range(6):
        write(folder, f"{day}.txt", ARTICLE.replace("Friday", f"day {day}"))
    real_write = newsdesk.store._write_chunks
    calls = []

    def disk_full_on_third_group(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise sqlite3.OperationalError("database or disk is full")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(newsdesk.store, "_write_chunks", disk_full_on_third_group)
    report = newsdesk.ingest([folder])

    assert "database or disk is full" in report.failure and "run the ingest again" in report.failure
    added = {outcome.path.rsplit("/", 1)[-1] for outcome in report.outcomes if outcome.status == "added"}
    assert added == {record.source for record in newsdesk.sources()} == {"0.txt", "1.txt"}
    assert len(calls) == 3  # nothing queued behind the failed group was written
    monkeypatch.setattr(newsdesk.store, "_write_chunks", real_write)
    again = newsdesk.ingest([folder])
    assert again.failure is None and again.counts["added"] == 4 and again.counts["unchanged"] == 2
    assert stored_chunk_sources(newsdesk) == [f"{day}.txt" for day in range(6)]


def test_a_store_failing_on_the_main_thread_reports_the_groups_written_meanwhile(make_newsdesk, tmp_path, monkeypatch):
    """The main thread reads the catalog for each file while earlier groups are embedded and written; when that
    read fails, the groups in flight are waited for and reported as what they became (stored, or not written
    because the run had stopped)."""
    newsdesk = make_newsdesk(embed_batch_size=1)
    folder = tmp_path / "articles"
    folder.mkdir()
    for day in range(6):
        write(folder, f"{day}.txt", ARTICLE.replace("Friday", f"day {day}"))
    real_record = newsdesk.store.catalog.record
    calls = []

    def fails_on_the_fourth_file(source):
        calls.append(source)
        if len(calls) == 7:  # each file is looked up twice (claim, then change check): the fourth file's first look
            raise StoreUnavailable("the Chroma store failed while reading the catalog (connection reset)")
        return real_record(source)

    monkeypatch.setattr(newsdesk.store.catalog, "record", fails_on_the_fourth_file)
    report = newsdesk.ingest([folder])
    monkeypatch.setattr(newsdesk.store.catalog, "record", real_record)

    assert "connection reset" in report.failure
    added = {outcome.path.rsplit("/", 1)[-1] for outcome in report.outcomes if outcome.status == "added"}
    stored = {record.source for record in newsdesk.sources()}
    assert added == stored  # whether the groups in flight got written before the stop is timing; the report says which
    assert {"0.txt"} <= stored <= {"0.txt", "1.txt", "2.txt"}  # the first group was stored before the failing read


def test_bad_files_are_skipped_with_reasons_and_the_rest_ingests(make_newsdesk, tmp_path):
    newsdesk = make_newsdesk()
    newsdesk.ingest([FIXTURES / "articles" / "wire_dateline.txt"])
    before = newsdesk.sources()

    bad = tmp_path / "batch"
    bad.mkdir()
    write(bad, "empty.txt", "")
    (bad / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (bad / "latin1.txt").write_bytes("Café owners in Basra said the protests were about water shortages.".encode("latin-1"))
    (bad / "huge.txt").write_bytes(b"word " * 10_400_000)  # 52 MB
    write(bad, "clutter_only.txt", "[ad_1]\n\nSupport SouthFront\n\n2,500 $\n")
    write(bad, "good.txt", ARTICLE)
    (tmp_path / "no_articles").mkdir()

    report = newsdesk.ingest([bad, tmp_path / "no_articles", tmp_path / "missing.txt"])
    reasons = {outcome.path.rsplit("/", 1)[-1]: outcome.reason for outcome in report.skipped}
    assert reasons == {
        "empty.txt": "the file is empty",
        "binary.txt": "the file looks binary, not text",
        "huge.txt": "the file is 52.0 MB, over the 10 MB limit (NEWSDESK_MAX_FILE_MB)",
        "clutter_only.txt": "no article text is left after removing page clutter",
        "no_articles": "the folder holds no .txt, .md or .html articles",
        "missing.txt": "no such file or folder",
    }
    assert report.files_seen == 6  # the empty folder and the missing path are not files
    latin = next(o for o in report.outcomes if o.path.endswith("latin1.txt"))
    assert latin.status == "added" and "Windows-1252" in latin.notes[0]
    after = {r.source: r for r in newsdesk.sources()}
    assert set(after) == {"wire_dateline.txt", "latin1.txt", "good.txt"}
    assert after["wire_dateline.txt"] == before[0]  # nothing already stored was touched
    assert "Café" in next(newsdesk.store.iter_chunks({"source": "latin1.txt"})).text


def test_two_roots_with_one_file_name_are_a_conflict_not_a_replacement(make_newsdesk, tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        write(tmp_path / folder, "same.txt", ARTICLE)
    report = make_newsdesk().ingest([tmp_path / "one", tmp_path / "two"])
    assert report.counts["added"] == 1
    assert "'same.txt' is also the relative path of" in report.skipped[0].reason


def test_unwritable_data_dir_is_a_clear_error(make_newsdesk, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    newsdesk = make_newsdesk(data_dir=blocker / "store")
    with pytest.raises(StoreUnavailable, match="cannot write to the data dir .*a-file/store"):
        newsdesk.ingest()


def test_moved_file_keeps_its_article_and_survives_prune(make_newsdesk, tmp_path):
    newsdesk = make_newsdesk()
    (tmp_path / "old").mkdir()
    path = write(tmp_path / "old", "a.txt", ARTICLE)
    newsdesk.ingest([path])
    (tmp_path / "new").mkdir()
    shutil.move(path, tmp_path / "new" / "a.txt")
    report = newsdesk.ingest([tmp_path / "new"], prune=True)
    assert report.counts["unchanged"] == 1 and report.counts["removed"] == 0 and not report.skipped
    (record,) = newsdesk.sources()
    assert record.path == str((tmp_path / "new" / "a.txt").resolve())
