"""The publisher comes from self-identification only: never a mention, never a photo credit."""

from __future__ import annotations

import pytest

from conftest import FIXTURES
from ingest import sample_corpus_dir
from ingest.attribution import attribute, clean_declared_name
from ingest.outlets import Attribution, OutletRegistry, RegistryError
from ingest.reading import read_article_file


@pytest.fixture(scope="module")
def registry() -> OutletRegistry:
    return OutletRegistry.load()


def test_registry_covers_wires_majors_and_state_broadcasters(registry):
    names = {o.name for o in registry.outlets}
    assert len(names) >= 120
    assert {"Reuters", "Associated Press", "AFP", "dpa", "Press TV", "RT", "Al Jazeera", "SouthFront", "The Washington Times"} <= names
    assert {"The Atlantic", "Der Spiegel", "Die Zeit", "Le Monde", "Le Figaro", "Al-Ahram", "Al Mayadeen"} <= names


@pytest.mark.parametrize(
    ("declared", "outlet"),
    [("BBC News", "BBC News"), ("bbc.co.uk", "BBC News"), ("@BBCWorld", "BBC News"), ("@bbcworld", "BBC News"),
     ("www.spiegel.de", "Der Spiegel"), ("ZEIT ONLINE", "Die Zeit"), ("Daily Planet", None)],
)
def test_names_handles_and_domains_resolve_to_one_outlet(registry, declared, outlet):
    assert registry.canonical(declared) == outlet


@pytest.mark.parametrize(
    ("file", "outlet"),
    [
        ("000_241feade111a06cc.txt", "Press TV"),
        ("001_1efb1abfaaf2b239.txt", "SouthFront"),
        ("002_aecccf6268888169.txt", "The Washington Times"),
        ("003_7a30f19d73eded28.txt", "unknown"),
        ("004_11a4c25ae7ed3fe9.txt", "Press TV"),
    ],
)
def test_sample_corpus_outlets(registry, file, outlet):
    assert registry.detect((sample_corpus_dir() / file).read_text()).outlet == outlet


@pytest.mark.parametrize(
    ("text", "outlet"),
    [
        ("BAGHDAD (Reuters) - Iraq's parliament met on Saturday.", "Reuters"),
        ("WASHINGTON (AP) — The State Department said on Friday.", "Associated Press"),
        ("Press TV – The US State Department has announced a closure.", "Press TV"),
        ("- The Washington Times - Wednesday, October 3, 2018\n\nA top Iraqi diplomat said.", "The Washington Times"),
        ("Story text here.\n\nSource: Al Jazeera", "Al Jazeera"),
        ("Story text here.\n\nSource: Al Jazeera and news agencies", "Al Jazeera"),
        ("Story text here.\n\nSource: AFP and wires", "AFP"),
        ("Story text here.\n\nCopyright © 2019 The Guardian", "The Guardian"),
        ("Story.\n\nSupport SouthFront", "SouthFront"),
        ("The Washington Post quoted the official as saying the move was political.", "unknown"),
        ("Protesters gathered outside. (Essam al-Sudani / Reuters)", "unknown"),
        ("A soldier stands guard. (AFP photo)", "unknown"),
        ("The Wall Street Journal quoted a senior administration official.", "unknown"),
    ],
)
def test_self_identification_versus_mentions(registry, text, outlet):
    assert registry.detect(text).outlet == outlet


def test_fixture_articles(registry):
    wire = (FIXTURES / "articles" / "wire_dateline.txt").read_text()
    assert registry.detect(wire) == Attribution("Reuters", "dateline")  # the AP mention and photo credit do not count
    assert registry.detect((FIXTURES / "articles" / "no_publisher.txt").read_text()) == Attribution("unknown", "none")
    signoff = (FIXTURES / "articles" / "agencies_signoff.txt").read_text()
    assert attribute(registry, signoff)[0] == Attribution("Al Jazeera", "sign-off")
    page = read_article_file(FIXTURES / "articles" / "aljazeera_page.html", 10**7)
    assert attribute(registry, page.text, publishers=page.publishers)[0] == Attribution("Al Jazeera", "og:site_name")


def test_url_domain_identifies_outlet(registry):
    assert attribute(registry, "Some text.", url="https://www.presstv.ir/Detail/2018/09/29/575")[0].outlet == "Press TV"
    assert attribute(registry, "Some text.", url="https://notpresstv.ir.example.com/x")[0].outlet == "unknown"


def test_declarations_beat_text_and_registry_hits_beat_unknown_names(registry):
    wire = "BAGHDAD (Reuters) - Iraq's parliament met on Saturday."
    assert attribute(registry, wire, front_matter="guardian")[0] == Attribution("The Guardian", "front matter")
    assert attribute(registry, wire, sidecar="Daily Planet")[0] == Attribution("Daily Planet", "sidecar")
    claims = [("og:site_name", "Home"), ("application-name", "Harbour Gazette"), ("twitter:site", "@AJEnglish")]
    assert attribute(registry, wire, publishers=claims)[0] == Attribution("Al Jazeera", "twitter:site")
    on_bbc = attribute(registry, wire, publishers=claims[:2], url="https://www.bbc.co.uk/news/x")
    assert on_bbc[0] == Attribution("BBC News", "url domain")
    unknown, notes = attribute(registry, wire, publishers=claims[:2])
    assert unknown == Attribution("Harbour Gazette", "application-name") and "not in the outlet registry" in notes[0]


@pytest.mark.parametrize(
    ("declared", "cleaned"),
    [("Salon | Latest news", "Salon"), ("Coastline Courier - Home", "Coastline Courier"), ("Home | Rivertown Post", "Rivertown Post"),
     ("  The  Harbour   Gazette ", "The Harbour Gazette"), ("Tom &amp; Jerry Weekly", "Tom & Jerry Weekly"),
     ("<script>alert(1)</script>", None), ("&lt;b&gt;Bold&lt;/b&gt;", None), ("Very Long Name " * 10, None), ("2024", None),
     ("Latest news", None)],
)
def test_declared_publishers_are_cleaned_or_ignored(declared, cleaned):
    assert clean_declared_name(declared) == cleaned


def test_aliases_resolve_to_canonical_names(registry):
    assert registry.canonical("guardian") == "The Guardian"
    assert registry.canonical("AP") == "Associated Press"
    assert registry.canonical("Daily Planet") is None


def test_users_add_outlets_without_code(tmp_path):
    extra = tmp_path / "my_outlets.yaml"
    extra.write_text("outlets:\n  - name: Daily Planet\n    aliases: [The Planet]\n    domains: [dailyplanet.example]\n")
    registry = OutletRegistry.load(extra)
    assert registry.detect("METROPOLIS (The Planet) - A story.") == Attribution("Daily Planet", "dateline")
    assert registry.canonical("the planet") == "Daily Planet"


def test_malformed_user_registry_names_the_file(tmp_path):
    extra = tmp_path / "broken.yaml"
    extra.write_text("outlets:\n  - nam: typo\n")
    with pytest.raises(RegistryError, match="broken.yaml"):
        OutletRegistry.load(extra)
