"""Find the article files under the paths a user gives, and name each one by its place in its folder.

An article's ``source`` is its path relative to the folder it was ingested
from (``sport/001.txt``), because news archives are nested by section or by
date and reuse file names (``2019/08/14/index.html``). A file given directly
keeps its bare name.

Folder trees from the wild hold symlinks, loops and unreadable corners, so
the walk is an explicit ``os.scandir`` loop rather than ``rglob``: every
folder is entered at most once, and every problem becomes a per-entry
``Problem`` while the rest of the tree is still walked.

* A link that leaves the ingested folder is skipped unless
  ``NEWSDESK_FOLLOW_EXTERNAL_LINKS`` allows it: ingesting a folder should not
  quietly pull in someone's home directory.
* A link to something inside the folder is skipped, because that file or
  folder is ingested under its own name; following it would store it twice.
* Dangling links and link loops are reported, never followed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.reading import ARTICLE_SUFFIXES


@dataclass(frozen=True)
class FoundFile:
    """An article file, the name it is stored under, and the folder (or file) the user gave."""

    path: Path
    source: str
    root: Path


@dataclass(frozen=True)
class Problem:
    """A path that yields no article, and why; ``is_file`` is False for folders and missing paths."""

    path: Path
    reason: str
    is_file: bool = True


@dataclass
class Discovery:
    files: list[FoundFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def is_article_name(name: str) -> bool:
    return not name.startswith(".") and Path(name).suffix.lower() in ARTICLE_SUFFIXES


def discover(paths: Iterable[Path], follow_external_links: bool = False) -> Discovery:
    """Article files under ``paths`` (folders are walked recursively), and the paths that yield none."""
    found = Discovery()
    for path in paths:
        path = Path(path)
        if path.is_dir():
            before = len(found.files)
            _Walk(path, follow_external_links, found).run()
            if len(found.files) == before and not any(p.path.is_relative_to(path) for p in found.problems):
                found.problems.append(Problem(path, "the folder holds no .txt, .md or .html articles", is_file=False))
        elif path.is_file():
            found.files.append(FoundFile(path, path.name, path))
        elif path.is_symlink():
            found.problems.append(Problem(path, _broken_link_reason(path)))
        else:
            found.problems.append(Problem(path, "no such file or folder", is_file=False))
    return found


class _Walk:
    """One folder tree, walked once; links are judged against the tree's real location."""

    def __init__(self, root: Path, follow_external: bool, found: Discovery) -> None:
        self.root = root
        self.real_root = root.resolve()
        self.follow_external = follow_external
        self.found = found
        self.entered: set[tuple[int, int]] = set()

    def run(self) -> None:
        stack = [(self.root, "")]
        while stack:
            folder, prefix = stack.pop()
            stat = folder.stat()
            if (stat.st_dev, stat.st_ino) in self.entered:
                self.found.problems.append(Problem(folder, "the folder was already walked through another link", is_file=False))
                continue
            self.entered.add((stat.st_dev, stat.st_ino))
            subfolders = self._scan(folder, prefix)
            stack.extend(reversed(subfolders))  # depth first, in name order

    def _scan(self, folder: Path, prefix: str) -> list[tuple[Path, str]]:
        """Record the articles in ``folder``; return the subfolders to walk next."""
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as error:
            self.found.problems.append(Problem(folder, f"cannot read the folder ({error.strerror or error})", is_file=False))
            return []
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path, source = Path(entry.path), prefix + entry.name
            try:
                if entry.is_symlink() and not self._may_follow(path):
                    continue
                if entry.is_dir():
                    subfolders.append((path, source + "/"))
                elif is_article_name(entry.name):
                    self._add_file(path, source)
            except OSError as error:
                self.found.problems.append(Problem(path, f"cannot read it ({error.strerror or error})"))
        return subfolders

    def _add_file(self, path: Path, source: str) -> None:
        if path.is_file():
            self.found.files.append(FoundFile(path, source, self.root))
        else:  # a FIFO or device named like an article would block or never end
            self.found.problems.append(Problem(path, "not a regular file"))

    def _may_follow(self, link: Path) -> bool:
        """Whether to follow ``link``; when not, the reason is recorded against it."""
        reason = _broken_link_reason(link)
        if not reason:
            target = link.resolve()
            if target.is_relative_to(self.real_root):
                reason = f"a link to {target}, which is ingested under its own name"
            elif not self.follow_external:
                reason = f"a link to {target}, outside the ingested folder; set NEWSDESK_FOLLOW_EXTERNAL_LINKS=true to follow it"
        if reason and (link.suffix.lower() in ARTICLE_SUFFIXES or not link.suffix or link.is_dir()):
            self.found.problems.append(Problem(link, reason, is_file=not link.is_dir()))
        return not reason


def _broken_link_reason(link: Path) -> str:
    """Why a link cannot be followed at all (loop, dangling), or "" when it can."""
    try:
        link.resolve(strict=True)
    except RuntimeError:  # Python 3.11 reports a symlink loop this way
        return "the link is a loop"
    except FileNotFoundError:
        return f"the link points to {os.readlink(link)}, which does not exist"
    except OSError as error:
        return "the link is a loop" if error.errno == 40 else f"cannot follow the link ({error.strerror or error})"
    return ""
