"""Detect an article's title, publication date and author, and read sidecar manifests.

Declared metadata (YAML front matter, or a ``sources.csv`` / ``sources.yaml``
next to the files) always beats detection: a person who wrote it down knows
better than a heuristic.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from ingest.attribution import GENERIC_PARTS
from ingest.dates import is_byline, parse_date
from ingest.errors import ManifestError
from ingest.reading import declared_fields

HEADER_LINES = 6
TITLE_MAX_WORDS = 25
TITLE_MAX_CHARS = 200
MANIFEST_NAMES = ("sources.csv", "sources.yaml", "sources.yml")

# A photo caption ends with a credit in parentheses: "(AFP photo)", "(Essam al-Sudani / Reuters)".
PHOTO_CREDIT = re.compile(
    r"\((?:[^()]*\b(?:photo|photograph|image|picture|file|credit|getty|via)\b[^()]*|[^()]*\s/\s[^()]*)\)\s*$",
    re.IGNORECASE,
)
CAPTION_START = re.compile(r"^\s*(?:photo|image|file photo|picture)\s*[:|]", re.IGNORECASE)
# Content-management systems that pages name in <title> when the editor left it empty.
CMS_NAMES = frozenset({"escenic", "wordpress", "drupal", "joomla", "brightspot", "arc", "ghost", "untitled", "index", "home"})
TITLE_SITE_SUFFIX = re.compile(r"\s+[|–—-]\s+([^|–—]{1,80})$")
AUTHOR_LINE = re.compile(r"^\s*by\s+([A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3})\s*$", re.IGNORECASE)


@dataclass
class DetectedMeta:
    title: str | None = None
    published: date | None = None
    author: str | None = None


def is_caption(line: str) -> bool:
    """Photo captions stay in the text but are never a title."""
    return bool(PHOTO_CREDIT.search(line) or CAPTION_START.match(line))


def is_headline(line: str) -> bool:
    """Short, unpunctuated at the end, and not a caption or byline."""
    words = line.split()
    return (
        2 <= len(words) <= TITLE_MAX_WORDS
        and len(line) <= TITLE_MAX_CHARS
        and not line.rstrip().endswith((".", ",", ";", ":"))
        and not is_caption(line)
        and not is_byline(line)
    )


def detect_metadata(raw_text: str, cleaned_text: str) -> DetectedMeta:
    """Title from the cleaned text's first lines; date and author from the raw header's bylines."""
    header = [line.strip() for line in raw_text.splitlines() if line.strip()][:HEADER_LINES]
    first_lines = [line for line in cleaned_text.split("\n\n")[:3] if line.strip()]
    return DetectedMeta(
        title=next((line.strip() for line in first_lines if is_headline(line)), None),
        published=next((parse_date(line) for line in header if is_byline(line)), None),
        author=next((m.group(1) for line in header if (m := AUTHOR_LINE.match(line))), None),
    )


def page_title(candidates: list[str], site_names: list[str]) -> str | None:
    """The first candidate that is a real title, without a trailing "| Site name".

    Pages name their CMS ("escenic") or their site in <title>; neither is the
    article's title, so such candidates are passed over.
    """
    sites = {name.casefold() for name in site_names if name} | GENERIC_PARTS
    for candidate in candidates:
        title = " ".join(candidate.split())
        suffix = TITLE_SITE_SUFFIX.search(title)
        if suffix and (suffix.group(1).strip().casefold() in sites or " | " in suffix.group(0)):
            title = title[: suffix.start()].strip()
        if title and title.casefold() not in CMS_NAMES and title.casefold() not in sites:
            return title
    return None


def read_manifest(folder: Path) -> dict[str, dict[str, str]]:
    """Declared metadata keyed by file name, from the folder's sources.csv or sources.yaml."""
    for name in MANIFEST_NAMES:
        path = folder / name
        if path.is_file():
            return _parse_manifest(path)
    return {}


def _parse_manifest(path: Path) -> dict[str, dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
        rows = list(csv.DictReader(text.splitlines())) if path.suffix == ".csv" else _yaml_rows(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, csv.Error) as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc}") from exc
    manifest = {}
    for number, row in enumerate(rows, start=1):
        file_name = (row.get("file") or "").strip()
        if not file_name:
            raise ManifestError(f"manifest {path}, entry {number}: the 'file' field is missing")
        manifest[file_name] = declared_fields(row)
    return manifest


def _yaml_rows(text: str) -> list[dict]:
    """``sources.yaml`` maps file names to fields (or is a list of rows with a ``file`` key)."""
    data = yaml.safe_load(text) or {}
    if isinstance(data, dict):
        return [{"file": name, **(fields or {})} for name, fields in data.items()]
    if isinstance(data, list) and all(isinstance(row, dict) for row in data):
        return data
    raise yaml.YAMLError("expected a mapping of file names to fields")
