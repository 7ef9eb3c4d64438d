"""The persistent lexical index against real Chroma stores: incremental sync, restarts, damage, outlets, BM25 agreement."""

from __future__ import annotations

import math

import numpy as np
from rank_bm25 import BM25Okapi

from app.answer.text import terms
from app.eval.questionset import load_question_set
from conftest import DATA

ARTICLE = (
    "---\noutlet: {outlet}\ntitle: {title}\n---\n{title}\n\n"
    "{body} Officials said the talks would resume next week. The ministry gave no further details.\n"
)


def write(folder, name, outlet, title, body):
    (folder / name).write_text(ARTICLE.format(outlet=outlet, title=title, body=body), encoding="utf-8")


def sources(chunks) -> set[str]:
    return {c.metadata["source"] for c in chunks}


def corpus(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write(folder, "a.txt", "Reuters", "Harbour strike ends", "Dockers at Qasimport ended their strike over unpaid wages.")
    write(folder, "b.txt", "BBC News", "Dam project approved", "Engineers at Velmora approved the dam after a long review.")
    return folder


def test_added_changed_and_removed_articles_reach_search_and_idf_without_a_rebuild(make_newsdesk, tmp_path):
    folder = corpus(tmp_path)
    newsdesk = make_newsdesk()
    newsdesk.ingest([folder])
    bm25 = newsdesk.retriever.bm25
    assert sources(bm25.search("Qasimport dockers", 5, None)) == {"a.txt"}
    first = bm25.index.counts.chunks_inserted
    assert first == sum(r.chunks for r in newsdesk.sources())
    unseen = bm25.idf("zephyrine")

    write(folder, "c.txt", "Reuters", "Zephyrine mine reopens", "Miners at the Zephyrine pit returned to work on Monday.")
    newsdesk.ingest([folder])
    assert sources(bm25.search("Zephyrine miners", 5, None)) == {"c.txt"}
    assert bm25.index.counts.history[-1] == (1, 0, newsdesk.store.catalog.articles()["c.txt"].chunks)  # only c.txt read
    assert bm25.idf("zephyrine") < unseen

    write(folder, "a.txt", "Reuters", "Harbour strike goes on", "Dockers at Brannock voted to continue their strike.")
    newsdesk.ingest([folder])
    assert sources(bm25.search("Brannock dockers", 5, None)) == {"a.txt"}
    assert bm25.search("Qasimport", 5, None) == []  # the old version is gone
    assert bm25.index.counts.history[-1][:2] == (1, 1)

    (folder / "c.txt").unlink()
    newsdesk.ingest([folder], prune=True)
    assert bm25.search("Zephyrine", 5, None) == []
    assert bm25.idf("zephyrine") == unseen
    assert bm25.index.counts.history[-1] == (0, 1, 0)
    assert bm25.index.counts.rebuilds == 0


def test_a_question_on_an_unchanged_store_does_no_sync_work(make_newsdesk, tmp_path):
    newsdesk = make_newsdesk()
    newsdesk.ingest([corpus(tmp_path)])
    bm25 = newsdesk.retriever.bm25
    bm25.sync()
    syncs = bm25.index.counts.syncs
    for question in ("Qasimport dockers", "Velmora dam", "talks next week"):
        assert bm25.search(question, 5, None)
    assert bm25.index.counts.syncs == syncs


def test_a_restart_reuses_the_persisted_index(make_newsdesk, tmp_path):
    data_dir = tmp_path / "store"
    first = make_newsdesk(data_dir=data_dir)
    first.ingest([corpus(tmp_path)])
    before = [c.id for c in first.retriever.bm25.search("strike dam talks", 5, None)]
    first.retriever.bm25.index.close()

    restarted = make_newsdesk(data_dir=data_dir)
    index = restarted.retriever.bm25.index  # the retriever syncs when it is built, before any question
    assert index.counts.syncs == 1 and index.counts.chunks_inserted == 0 and index.counts.rebuilds == 0
    assert [c.id for c in restarted.retriever.bm25.search("strike dam talks", 5, None)] == before


def test_a_damaged_or_deleted_index_file_is_rebuilt_from_the_store(make_newsdesk, tmp_path):
    data_dir = tmp_path / "store"
    newsdesk = make_newsdesk(data_dir=data_dir)
    newsdesk.ingest([corpus(tmp_path)])
    index = newsdesk.retriever.bm25.index
    path, chunks = index.path, index.counts.chunks_inserted
    index.close()

    path.write_bytes(b"this is not an SQLite database" * 100)
    damaged = make_newsdesk(data_dir=data_dir)
    assert damaged.ask("Why did the dockers strike at Qasimport?").citations
    assert damaged.retriever.bm25.index.counts.chunks_inserted == chunks
    damaged.retriever.bm25.index.close()

    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    deleted = make_newsdesk(data_dir=data_dir)
    assert sources(deleted.retriever.bm25.search("Velmora", 5, None)) == {"b.txt"}


def test_a_page_damaged_while_serving_is_rebuilt_at_the_next_query(make_newsdesk, tmp_path):
    newsdesk = make_newsdesk()
    newsdesk.ingest([corpus(tmp_path)])
    index = newsdesk.retriever.bm25.index
    index.close()
    raw = bytearray(index.path.read_bytes())
    raw[4096:] = b"\xff" * (len(raw) - 4096)  # every page after the first is garbage
    index.path.write_bytes(bytes(raw))
    assert sources(newsdesk.retriever.bm25.search("Velmora dam", 5, None)) == {"b.txt"}
    assert index.counts.rebuilds == 1


def test_outlet_filter_is_applied_in_the_query(make_newsdesk, tmp_path):
    newsdesk = make_newsdesk()
    newsdesk.ingest([corpus(tmp_path)])
    bm25 = newsdesk.retriever.bm25
    question = "strike dam talks ministry"
    assert sources(bm25.search(question, 5, None)) == {"a.txt", "b.txt"}
    assert sources(bm25.search(question, 5, ["BBC News"])) == {"b.txt"}
    assert bm25.search(question, 5, ["Al Jazeera"]) == []


def test_top_hits_and_term_weights_agree_with_rank_bm25(sample_newsdesk):
    """FTS5's bm25() is BM25Okapi with k1 = 1.2 where idf is positive, so their best chunks must match there.

    Below that they differ by design: for a term in over half the chunks FTS5 floors idf near zero and
    BM25Okapi uses a quarter of the average idf, which in a 24-chunk corpus flips near-ties. The answerer's
    term weights must be BM25Okapi's own, exactly.
    """
    bm25 = sample_newsdesk.retriever.bm25
    store = sample_newsdesk.store
    chunks = list(store.chunks_of_versions(sorted(store.catalog.versions())))
    corpus_terms = [terms(c.text) or ["_"] for c in chunks]
    fts_k1 = BM25Okapi(corpus_terms, k1=1.2)
    cases = [*load_question_set(DATA / "questions.yaml").cases, *load_question_set(DATA / "compare.yaml").cases]
    compared = 0
    for question in (case.question for case in cases):
        asked = terms(question)
        scores = fts_k1.get_scores(asked)
        if not asked or scores.max() <= 0 or any(bm25.index.document_frequency(t) > len(chunks) / 2 for t in asked):
            continue
        compared += 1
        assert bm25.search(question, 1, None)[0].id == chunks[int(np.argmax(scores))].id, question
    assert compared >= 10

    okapi = BM25Okapi(corpus_terms)
    unseen = math.log((len(chunks) + 0.5) / 0.5)
    for term in {t for c in corpus_terms for t in c} | {"neverusedword"}:
        assert math.isclose(bm25.idf(term), max(okapi.idf.get(term, unseen), 0.0) + 0.1, rel_tol=1e-9), term


def test_a_large_archive_matches_the_rarest_terms_within_a_postings_budget():
    """Search cost must not grow with the archive: common terms are left out once a rarer one fills the budget."""
    from vectorstore.lexical import POSTINGS_BUDGET, PRUNE_FROM, selective_terms

    frequency = {"stebabiton": 1, "food": 2 * POSTINGS_BUDGET // 3, "sale": POSTINGS_BUDGET // 2, "annual": 3, "unseen": 0}.get
    asked = ["annual", "sale", "stebabiton", "food", "unseen"]
    large = 10 * PRUNE_FROM
    assert selective_terms(asked, frequency, large) == ["unseen", "stebabiton", "annual", "sale"]
    assert sum(frequency(t) for t in selective_terms(asked, frequency, large)) <= POSTINGS_BUDGET
    assert selective_terms(["food", "sale"], frequency, large) == ["sale"]  # the rarest always goes in
    assert selective_terms(["food"], lambda term: 5 * POSTINGS_BUDGET, large) == ["food"]
    assert selective_terms(asked, frequency, PRUNE_FROM - 1) == asked  # a small store matches every term


def test_document_frequencies_follow_what_another_process_indexes(make_newsdesk, tmp_path):
    """Frequencies are cached per term; an index file another process brings up to date must not leave them stale."""
    folder = corpus(tmp_path)
    server = make_newsdesk(catalog_refresh_s=0)
    server.ingest([folder])
    index, dockers = server.retriever.bm25.index, terms("dockers")[0]
    assert index.document_frequency(dockers) == 1
    worker = make_newsdesk(data_dir=server.settings.data_dir, catalog_refresh_s=0)
    write(folder, "c.txt", "Reuters", "Dockers strike in Velmora", "Dockers at Velmora joined the strike on Monday.")
    worker.ingest([folder])
    worker.retriever.bm25.sync()  # the worker's own index object writes the shared file first
    assert index.document_frequency(dockers) == 2
