"""Page clutter goes, article text and photo captions stay."""

from __future__ import annotations

import pytest

from conftest import FIXTURES
from ingest import sample_corpus_dir
from ingest.cleaning import clean_text
from ingest.reading import read_article_file

CLUTTER = [
    "Support SouthFront",
    "DAYS LEFT",
    "2,500 $",
    "Click to see full-size image",
    "Would love your thoughts",
    "Notify of",
    "Sign up for Daily Newsletters",
    "Manage Newsletters",
    "Click here for reprint permission",
    "[ad_1]",
    "[ad_2]",
    "Source link",
    "website can also be accessed",
    "News   /   Interviews",
    "comment policy",
]
# Words that only the reader comments under 001 contain.
COMMENT_TEXT = ["Americunt", "FlorianGeyer", "Cortez", "EmilyEnso", "operation liberate iraq"]


def test_blog_fixture_loses_banners_comments_and_navigation():
    cleaned = clean_text((FIXTURES / "articles" / "blog_with_comments.txt").read_text())
    for clutter in ["Home / World", "DONATE NOW", "Click to enlarge", "Advertisement", "Related articles", "Subscribe",
                    "7 Comments", "Karim_77", "disgrace", "Would love your thoughts"]:
        assert clutter not in cleaned
    assert cleaned.startswith("Water crisis deepens in southern Iraq")
    assert "blamed provincial authorities for years of mismanagement." in cleaned


def test_photo_captions_stay():
    cleaned = clean_text((FIXTURES / "articles" / "wire_dateline.txt").read_text())
    assert "A lawmaker casts a ballot in the parliament building in Baghdad, Iraq. (Khalid al-Mousily / AP)" in cleaned
    assert "Reporting by" not in cleaned and "By Jane Roe" not in cleaned


def test_footer_marker_above_article_text_is_not_a_footer():
    text = "Read more:\n\nThe minister resigned on Monday after weeks of protests over power cuts in the south, officials said. " * 3
    assert "The minister resigned" in clean_text(text)


def test_lines_that_only_look_like_clutter_are_kept():
    text = "Support for the new government grows\n\nCopyright law in Iraq dates from 1971, a lawyer said."
    assert clean_text(text) == text


@pytest.mark.parametrize("path", sorted(sample_corpus_dir().iterdir()), ids=lambda p: p.name)
def test_sample_articles_lose_all_clutter(path):
    cleaned = clean_text(read_article_file(path, 10**7).text)
    for clutter in CLUTTER + COMMENT_TEXT:
        assert clutter not in cleaned, clutter
    assert len(cleaned.split()) > 200


def test_no_stored_chunk_holds_comment_or_banner_text(sample_newsdesk):
    store = sample_newsdesk.store
    chunks = list(store.chunks_of_versions(sorted(store.catalog.versions())))
    assert len(chunks) >= 20
    for chunk in chunks:
        for clutter in CLUTTER + COMMENT_TEXT:
            assert clutter not in chunk.text, (chunk.id, clutter)
