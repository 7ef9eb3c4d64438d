"""Walking folder trees from the wild: symlinks, loops, unreadable entries, many files (issue 17, row 8)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.discovery import discover

ARTICLE = "Harbour reopens\n\nBASRA (Reuters) - The harbour reopened on Friday after dock workers ended their strike, officials said.\n"


def build_wild_tree(tmp_path: Path) -> tuple[Path, Path]:
    """A tree with a folder loop, a file loop, a dangling link, links inside and outside, and a FIFO named .txt."""
    root, outside = tmp_path / "tree", tmp_path / "outside"
    (root / "a" / "b").mkdir(parents=True)
    outside.mkdir()
    (root / "a" / "b" / "story.txt").write_text(ARTICLE)
    (outside / "private.txt").write_text(ARTICLE)
    (root / "a" / "b" / "up").symlink_to("../..")  # loops back to the root
    (root / "self.txt").symlink_to("self.txt")  # a link to itself
    (root / "gone.txt").symlink_to("nowhere.txt")  # dangling
    (root / "inside.txt").symlink_to("a/b/story.txt")  # the same file again
    (root / "outside").symlink_to(outside)  # leaves the tree
    os.mkfifo(root / "pipe.txt")  # reading it would block forever
    return root, outside


def test_a_wild_tree_is_walked_once_with_each_problem_reported(tmp_path):
    root, outside = build_wild_tree(tmp_path)
    found = discover([root])
    assert [(f.source, f.path) for f in found.files] == [("a/b/story.txt", root / "a/b/story.txt")]
    reasons = {str(p.path.relative_to(root)): p.reason for p in found.problems}
    assert reasons == {
        "a/b/up": f"a link to {root.resolve()}, which is ingested under its own name",
        "self.txt": "the link is a loop",
        "gone.txt": "the link points to nowhere.txt, which does not exist",
        "inside.txt": f"a link to {(root / 'a/b/story.txt').resolve()}, which is ingested under its own name",
        "outside": f"a link to {outside.resolve()}, outside the ingested folder; "
        "set NEWSDESK_FOLLOW_EXTERNAL_LINKS=true to follow it",
        "pipe.txt": "not a regular file",
    }
    followed = discover([root], follow_external_links=True)
    assert sorted(f.source for f in followed.files) == ["a/b/story.txt", "outside/private.txt"]


def test_an_external_link_loop_is_entered_once(tmp_path):
    root, outside = tmp_path / "tree", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "note.md").write_text(ARTICLE)
    (root / "out").symlink_to(outside)
    (outside / "back").symlink_to(root / "out")  # outside -> root/out -> outside ...
    found = discover([root], follow_external_links=True)
    assert [f.source for f in found.files] == ["out/note.md"]
    assert [(p.path, p.reason) for p in found.problems] == [
        (root / "out" / "back", "the folder was already walked through another link")
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders whatever their permissions")
def test_an_unreadable_folder_is_reported_and_the_rest_walked(tmp_path):
    (tmp_path / "locked").mkdir()
    (tmp_path / "open.txt").write_text(ARTICLE)
    (tmp_path / "locked").chmod(0)
    try:
        found = discover([tmp_path])
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert [f.source for f in found.files] == ["open.txt"]
    assert found.problems[0].reason.startswith("cannot read the folder")


def test_ten_thousand_files_each_found_once(tmp_path):
    root = tmp_path / "big"
    for folder in range(100):
        day = root / f"2019/{folder // 30 + 1:02d}/{folder % 30 + 1:02d}"
        day.mkdir(parents=True)
        for number in range(100):
            (day / f"{number:03d}.txt").touch()
    (root / "2019" / "01" / "01" / "loop").symlink_to("../..")
    found = discover([root])
    sources = [f.source for f in found.files]
    assert len(sources) == len(set(sources)) == 10_000
    assert [p.path.name for p in found.problems] == ["loop"]


def test_the_rest_of_a_wild_tree_is_ingested(make_newsdesk, tmp_path):
    root, _ = build_wild_tree(tmp_path)
    newsdesk = make_newsdesk()
    report = newsdesk.ingest([root])
    assert report.counts["added"] == 1 and report.counts["skipped"] == 6
    assert [r.source for r in newsdesk.sources()] == ["a/b/story.txt"]
