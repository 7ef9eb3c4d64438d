"""Title, date and author detection, and declared metadata overriding it."""

from __future__ import annotations

from datetime import date

from conftest import FIXTURES
from ingest import sample_corpus_dir
from ingest.cleaning import clean_text
from ingest.metadata import detect_metadata, is_caption


def detect(path):
    text = path.read_text()
    return detect_metadata(text, clean_text(text))


def test_sample_titles_skip_breadcrumbs_banners_and_captions():
    assert detect(sample_corpus_dir() / "000_241feade111a06cc.txt").title == (
        "Basra closure shows US ‘messed up’ in Iraq: Ex-Pentagon official"
    )
    assert detect(sample_corpus_dir() / "001_1efb1abfaaf2b239.txt").title == (
        "US Policy in Iraq Is Failing, The Time May Have Come For Another Regime Change"
    )


def test_byline_date_is_the_published_date_and_no_headline_means_no_title():
    meta = detect(sample_corpus_dir() / "002_aecccf6268888169.txt")
    assert meta.published == date(2018, 10, 3)
    assert meta.title is None  # the first line is a paragraph, not a headline; nothing is invented


def test_date_in_a_caption_is_not_the_published_date():
    assert detect(sample_corpus_dir() / "000_241feade111a06cc.txt").published is None


def test_author_line():
    meta = detect(FIXTURES / "articles" / "wire_dateline.txt")
    assert meta.author == "Jane Roe"
    assert meta.title == "Iraq's parliament elects new speaker after weeks of deadlock"


def test_caption_is_never_the_title():
    text = "A soldier stands guard in Basra. (AFP photo)\n\nThe city was calm on Sunday, officials said."
    assert is_caption(text.split("\n\n")[0])
    assert detect_metadata(text, clean_text(text)).title is None


def test_declared_metadata_overrides_detection(make_newsdesk):
    newsdesk = make_newsdesk()
    report = newsdesk.ingest([FIXTURES / "articles" / "front_matter.md", FIXTURES / "sidecar"])
    assert not report.skipped
    records = {r.source: r for r in newsdesk.sources()}
    front = records["front_matter.md"]
    assert (front.outlet, front.title, front.published, front.author) == (
        "The Guardian", "Basra residents count the cost of a summer of protest", date(2018, 9, 20), "Sam Writer"
    )
    sidecar = records["local_report.txt"]
    assert (sidecar.outlet, sidecar.title, sidecar.published) == ("Rudaw", "Port workers strike in Basra", date(2018, 10, 9))


def test_html_metadata_comes_from_the_page(make_newsdesk):
    newsdesk = make_newsdesk()
    newsdesk.ingest([FIXTURES / "articles" / "aljazeera_page.html"])
    (record,) = newsdesk.sources()
    assert record.outlet == "Al Jazeera"
    assert record.title == "Iraq protests: Basra demonstrators storm government building"
    assert record.published == date(2018, 9, 6)
    chunks = list(newsdesk.store.chunks_of_versions(sorted(newsdesk.store.catalog.versions())))
    assert not any("Reader123" in c.text or "Donate" in c.text for c in chunks)
