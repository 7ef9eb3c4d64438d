"""Real archives: nested folders with reused file names, outlets declared by pages, links back, registry re-tags, old stores."""

from __future__ import annotations

import json
import shutil

from app.schemas import Citation
from app.web.chat_messages import source_message
from conftest import FIXTURES
from legacy_store import as_written_by_main

ARCHIVE = FIXTURES / "archive"
PAGES = FIXTURES / "pages"
NESTED = {"business/001.txt", "sport/001.txt", "2019/08/14/index.html"}


def chunk_metadatas(newsdesk, source: str) -> list[dict]:
    return newsdesk.store.chunks.get(where={"source": source}, include=["metadatas"])["metadatas"]


def test_nested_archive_stores_every_file_under_its_relative_path(make_newsdesk, tmp_path):
    newsdesk = make_newsdesk()
    report = newsdesk.ingest([ARCHIVE])
    assert report.counts["added"] == 3 and not report.skipped
    assert {r.source for r in newsdesk.sources()} == NESTED
    answer = newsdesk.ask("Who won the autumn regatta?")
    assert answer.citations[0].source == "sport/001.txt"

    copy = tmp_path / "elsewhere"
    shutil.copytree(ARCHIVE, copy)
    (copy / "sport" / "001.txt").write_text("A different article that happens to share the path.\n\n" * 3)
    clash = newsdesk.ingest([copy])
    reasons = {o.path: o.reason for o in clash.skipped}
    assert str(copy / "sport" / "001.txt") in reasons and "is already stored from" in reasons[str(copy / "sport" / "001.txt")]
    assert clash.counts["skipped"] == 3  # per file; nothing stored is replaced
    assert {r.source for r in newsdesk.sources()} == NESTED
    assert "regatta" in next(newsdesk.store.iter_chunks({"source": "sport/001.txt"})).text


def test_pages_declare_their_outlet_title_and_address(make_newsdesk):
    newsdesk = make_newsdesk()
    newsdesk.ingest([PAGES])
    got = {r.source: (r.outlet, r.outlet_basis, r.title, r.url) for r in newsdesk.sources()}
    assert got == {
        "application_name_cms_title.html": ("Wired", "application-name", None, None),
        "canonical_domain.html": (
            "Der Spiegel", "url domain", "Bundestag debates rail funding",
            "https://www.spiegel.de/politik/deutschland/bahn-a-123.html",
        ),
        "hostile_declarations.html": ("unknown", "none", "Council approves new bus lanes", None),
        "jsonld_graph_known.html": ("The Atlantic", "json-ld publisher", "Why city libraries are lending tools", None),
        "jsonld_unknown.html": (
            "Harbour Gazette", "json-ld publisher", "Harbour dredging resumes after winter pause",
            "https://harbourgazette.example/2021/03/dredging",
        ),
        "og_site_name_suffix.html": (
            "Coastline Courier", "og:site_name", "Tide barrier tested ahead of storm season",
            "https://coastlinecourier.example/news/tide-barrier",
        ),
        "twitter_site.html": ("South China Morning Post", "twitter:site", "Ferry operators add night crossings", None),
    }
    answer = newsdesk.ask("Which bridges need repairs according to the transport ministry?")
    cited = next(c for c in answer.citations if c.source == "canonical_domain.html")
    assert (cited.url, cited.outlet_basis) == ("https://www.spiegel.de/politik/deutschland/bahn-a-123.html", "url domain")


def test_registry_change_retags_without_reembedding_and_force_rebuilds(make_newsdesk, tmp_path, monkeypatch):
    article = tmp_path / "flood.txt"
    article.write_text((FIXTURES / "articles" / "agencies_signoff.txt").read_text().replace("Al Jazeera", "Daily Planet"))
    data_dir = tmp_path / "store"
    first = make_newsdesk(data_dir=data_dir)
    first.ingest([article])
    assert first.sources()[0].outlet == "unknown"

    registry = tmp_path / "outlets.yaml"
    registry.write_text("outlets:\n  - name: Daily Planet\n    domains: [dailyplanet.example]\n")
    retagging = make_newsdesk(data_dir=data_dir, outlets_file=registry)

    def no_embedding(*_args, **_kwargs):
        raise AssertionError("re-tagging must not embed")

    monkeypatch.setattr(retagging.store, "embed", no_embedding)
    report = retagging.ingest([article])
    assert report.counts["retagged"] == 1
    (record,) = retagging.sources()
    assert (record.outlet, record.outlet_basis) == ("Daily Planet", "sign-off")
    assert {m["outlet"] for m in chunk_metadatas(retagging, "flood.txt")} == {"Daily Planet"}
    assert retagging.ask("Where did the flooding cut roads?", outlets=["Daily Planet"]).citations
    assert retagging.ingest([article]).counts["unchanged"] == 1
    monkeypatch.undo()
    assert retagging.ingest([article], force=True).counts["updated"] == 1


def test_store_written_by_the_previous_version_is_migrated_on_the_next_ingest(make_newsdesk, tmp_path):
    """The previous version keyed articles by bare file name and had no outlet_basis; it is rewritten on next ingest.

    A file given directly keeps its bare name, so ingesting a nested file directly writes exactly what the
    previous version wrote for it; the catalog and chunk fields it did not have are then taken out.
    """
    archive = tmp_path / "archive"
    shutil.copytree(ARCHIVE, archive)
    data_dir = tmp_path / "store"
    old = make_newsdesk(data_dir=data_dir)
    old.ingest([archive / "business" / "001.txt"])
    catalog = as_written_by_main(old)
    payload = json.loads(catalog.read_text())
    for record in payload["articles"].values():
        del record["outlet_basis"], record["tagging"]
    catalog.write_text(json.dumps({"format": 1, "articles": payload["articles"]}))
    ids = old.store.chunks.get(include=[])["ids"]
    old.store.chunks.update(ids=ids, metadatas=[{"outlet_basis": None, "url": None}] * len(ids))

    current = make_newsdesk(data_dir=data_dir)
    (legacy,) = current.sources()
    assert (legacy.source, legacy.outlet_basis) == ("001.txt", "not recorded")
    assert current.ask("How many bottles does the brewery ship?").citations[0].source == "001.txt"

    report = current.ingest([archive])
    assert {r.source for r in current.sources()} == NESTED
    moved = next(o for o in report.outcomes if o.path.endswith("business/001.txt"))
    assert "was stored as '001.txt'" in moved.notes[-1]
    assert all(r.tagging for r in current.sources())
    assert sorted({m["source"] for m in current.store.chunks.get(include=["metadatas"])["metadatas"]}) == sorted(NESTED)
    assert current.ingest([archive]).counts["unchanged"] == 3


def test_sample_corpus_keeps_its_names_and_outlets(sample_newsdesk):
    assert all("/" not in r.source for r in sample_newsdesk.sources())
    assert {r.outlet for r in sample_newsdesk.sources()} == {"Press TV", "SouthFront", "The Washington Times", "unknown"}


def test_only_http_addresses_become_links():
    def title_line(url):
        citation = Citation(id=1, source="a.html", outlet="Wired", title="Cells [v2]", url=url, quote="q", chunk_id="a.html#0", score=1)
        return next(line for line in source_message(citation).content.split("\n") if line.startswith("Title:"))

    assert title_line("https://example.org/a b(1)") == r"Title: [Cells \[v2\]](<https://example.org/a%20b%281%29>)  "
    for url in ("javascript:alert(1)", "file:///etc/passwd", "/relative/path", None):
        assert title_line(url) == r"Title: Cells \[v2\]  "
