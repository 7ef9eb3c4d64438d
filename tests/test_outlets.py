"""The publisher comes from self-identification only: never a mention, never a photo credit."""

from __future__ import annotations

import pytest

from conftest import FIXTURES
from ingest import sample_corpus_dir
from ingest.outlets import RegistryError, OutletRegistry
from ingest.reading import read_article_file


@pytest.fixture(scope="module")
def registry() -> OutletRegistry:
    return OutletRegistry.load()


def test_registry_covers_wires_majors_and_state_broadcasters(registry):
    names = {o.name for o in registry.outlets}
    assert len(names) >= 30
    assert {"Reuters", "Associated Press", "AFP", "Press TV", "RT", "Al Jazeera", "SouthFront", "The Washington Times"} <= names


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
    assert registry.detect((sample_corpus_dir() / file).read_text()) == outlet


@pytest.mark.parametrize(
    ("text", "outlet"),
    [
        ("BAGHDAD (Reuters) - Iraq's parliament met on Saturday.", "Reuters"),
        ("WASHINGTON (AP) — The State Department said on Friday.", "Associated Press"),
        ("Press TV – The US State Department has announced a closure.", "Press TV"),
        ("- The Washington Times - Wednesday, October 3, 2018\n\nA top Iraqi diplomat said.", "The Washington Times"),
        ("Story text here.\n\nSource: Al Jazeera", "Al Jazeera"),
        ("Story text here.\n\nCopyright © 2019 The Guardian", "The Guardian"),
        ("Story.\n\nSupport SouthFront", "SouthFront"),
        ("The Washington Post quoted the official as saying the move was political.", "unknown"),
        ("Protesters gathered outside. (Essam al-Sudani / Reuters)", "unknown"),
        ("A soldier stands guard. (AFP photo)", "unknown"),
        ("The Wall Street Journal quoted a senior administration official.", "unknown"),
    ],
)
def test_self_identification_versus_mentions(registry, text, outlet):
    assert registry.detect(text) == outlet


def test_fixture_articles(registry):
    wire = (FIXTURES / "articles" / "wire_dateline.txt").read_text()
    assert registry.detect(wire) == "Reuters"  # the AP mention and the AP photo credit do not count
    assert registry.detect((FIXTURES / "articles" / "no_publisher.txt").read_text()) == "unknown"
    page = read_article_file(FIXTURES / "articles" / "aljazeera_page.html", 10**7)
    assert registry.detect(page.text, page.declared.get("url"), page.declared.get("sitename")) == "Al Jazeera"


def test_domain_identifies_outlet(registry):
    assert registry.detect("Some text.", url="https://www.presstv.ir/Detail/2018/09/29/575") == "Press TV"
    assert registry.detect("Some text.", url="https://notpresstv.ir.example.com/x") == "unknown"


def test_aliases_resolve_to_canonical_names(registry):
    assert registry.canonical("guardian") == "The Guardian"
    assert registry.canonical("AP") == "Associated Press"
    assert registry.canonical("Daily Planet") is None


def test_users_add_outlets_without_code(tmp_path):
    extra = tmp_path / "my_outlets.yaml"
    extra.write_text("outlets:\n  - name: Daily Planet\n    aliases: [The Planet]\n    domains: [dailyplanet.example]\n")
    registry = OutletRegistry.load(extra)
    assert registry.detect("METROPOLIS (The Planet) - A story.") == "Daily Planet"
    assert registry.canonical("the planet") == "Daily Planet"


def test_malformed_user_registry_names_the_file(tmp_path):
    extra = tmp_path / "broken.yaml"
    extra.write_text("outlets:\n  - nam: typo\n")
    with pytest.raises(RegistryError, match="broken.yaml"):
        OutletRegistry.load(extra)
