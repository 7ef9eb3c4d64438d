"""The synthetic archive of bench/bench_scale.py: nested layout, one article per needle fact, seeded, ingestible."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import frontmatter

from test_cli import newsdesk

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from scale_archive import OUTLETS, generate_articles, write_archive  # noqa: E402

LAYOUT = re.compile(r"^[a-z]+/(\d{4})/(\d{2})/(\d{2})/[a-z0-9-]+\.(md|txt)$")


def test_articles_are_nested_by_section_and_date_with_front_matter(tmp_path):
    needles = write_archive(tmp_path, 40, seed=3)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == sorted(n.source for n in needles)
    known_outlets = {name for name, _ in OUTLETS}
    for source in files:
        year, month, day, _ = LAYOUT.match(source).groups()
        meta = frontmatter.loads((tmp_path / source).read_text(encoding="utf-8")).metadata
        assert meta["published"] == f"{year}-{month}-{day}"
        assert meta["outlet"] in known_outlets
        assert meta["url"].startswith("https://") and meta["title"]
    assert len({p.split("/")[0] for p in files}) > 1


def test_every_needle_answer_occurs_in_exactly_one_article():
    articles = list(generate_articles(300, seed=5))
    texts = [text for _, text, _ in articles]
    for source, text, needle in articles:
        for answer in (needle.figure, needle.person, needle.town):
            pattern = re.compile(rf"(?<![\w£]){re.escape(answer)}(?!\w)")
            holders = [i for i, other in enumerate(texts) if pattern.search(other)]
            assert holders == [texts.index(text)], (source, answer)
        assert needle.town in needle.question


def test_the_same_seed_gives_the_same_archive_and_another_seed_another():
    assert list(generate_articles(25, seed=11)) == list(generate_articles(25, seed=11))
    assert list(generate_articles(25, seed=11)) != list(generate_articles(25, seed=12))


def test_generated_articles_ingest_with_their_declared_metadata(tmp_path):
    archive = tmp_path / "archive"
    needles = write_archive(archive, 5, seed=2)
    result = newsdesk("ingest", str(archive), data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert "5 added" in result.stdout
    records = json.loads(newsdesk("sources", "--json", data_dir=tmp_path / "data").stdout)
    assert sorted(r["source"] for r in records) == sorted(n.source for n in needles)
    for record in records:
        meta = frontmatter.loads((archive / record["source"]).read_text(encoding="utf-8")).metadata
        assert (record["outlet"], record["title"], record["url"]) == (meta["outlet"], meta["title"], meta["url"])
        assert 1 <= record["chunks"] <= 3
