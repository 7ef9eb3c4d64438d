"""Strip page clutter from scraped article text, keeping the article and its photo captions.

Scraped plain text carries the page around the article: donation counters,
"Support X" banners, breadcrumbs, ad markers, newsletter and copyright
footers, and whole reader-comment sections. They would otherwise be chunked,
retrieved and quoted as if the outlet had published them.

The rules are general patterns, in three kinds:

* inline markers removed wherever they stand (``[ad_1]``);
* clutter lines dropped wherever they stand (a line that is only "Manage Newsletters");
* footer markers: the first one after some article text ends the article, so
  everything below it (comments with commenter names and vote counts, "more
  on this topic" lists, mirror-site addresses) goes too.
"""

from __future__ import annotations

import re

from ingest.dates import is_byline

HEADER_LINES = 6  # non-empty lines at the top where bylines and repeated headlines live
MIN_BODY_WORDS_BEFORE_FOOTER = 40  # a footer marker above this much text is navigation, not a footer


def _full_line(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"^\s*(?:" + "|".join(patterns) + r")\s*$", re.IGNORECASE)


INLINE_MARKERS = re.compile(r"\[ad_\d+\]|^#{1,6}\s+", re.IGNORECASE)  # ad markers, Markdown heading marks

CLUTTER_LINE = _full_line(
    r"[$€£]?\s?\d[\d,.]*\s?[$€£]?",  # donation counters ("2,500 $") and bare vote counts
    r"\d+\s+days?\s+left\b.*",  # "11 DAYS LEFT UNTIL THE END OF SEPTEMBER"
    r"support\s+(?-i:[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*){0,2})",  # "Support SouthFront" banners (names only)
    r"(?:donate|make a donation|become a patron)(?:\s+now)?[.!]?",
    r"click\s+(?:here\s+)?to\s+(?:see|view|enlarge|expand)\b.*",  # "Click to see full-size image"
    r"click\s+to\s+(?:hide|show)\b.*",
    r"(?:sign up for|subscribe to)\b.*newsletters?\b.*",
    r"manage\s+newsletters?",
    r"subscribe(?:\s+now)?",
    r"(?:copyright\s*(?:©\s*)?\d{4}|©).{0,200}",  # "Copyright © 2021 The Washington Times, LLC. Click here ..."
    r"all rights reserved\.?",
    r"advertisement|sponsored content|story continues below(?: advertisement)?",
    r"source\s+link",  # what remains of "[ad_2]Source link"
    r"(?:reporting|writing|editing|additional reporting)\s+by\b.{0,200}",  # wire credit lines
    r"(?-i:[A-Z][\w'’&.-]*(?:\s+[\w'’&.-]+){0,3}(?:\s+/\s+[A-Z][\w'’&.-]*(?:\s+[\w'’&.-]+){0,3})+)",  # breadcrumbs
)

FOOTER_MARKER = _full_line(
    r"\d+\s+comments?",
    r"notify\s+of",
    r"view\s+all\s+comments",
    r"inline\s+feedbacks",
    r"would love your thoughts.*",
    r"leave\s+a\s+(?:comment|reply)",
    r"please read our comment policy.*",
    r"click\s+to\s+read\s+more\b.*",
    r"(?:more\s+on\s+(?:the|this)\s+topic|related\s+(?:articles|stories|posts)|read\s+more)\s*:?",
    r"(?:sign up for|subscribe to)\b.*newsletters?\b.*",
    r".{2,40}['’]s\s+website\s+can\s+also\s+be\s+accessed\b.*",  # mirror-address footers
    r"\[ad_\d+\]\s*source\s+link",
)

BY_AUTHOR_LINE = re.compile(r"^\s*by\s+[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}\s*$", re.IGNORECASE)


def clean_text(text: str) -> str:
    """Return the article text without clutter, as paragraphs separated by blank lines."""
    lines = [line.replace("\u00a0", " ").rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = _cut_at_footer(lines)
    lines = [INLINE_MARKERS.sub("", line).strip() for line in lines]
    kept = [line for line in lines if line and not CLUTTER_LINE.match(line)]
    kept = _drop_header_bylines(kept)
    kept = _drop_repeated_short_lines(kept)
    return "\n\n".join(kept)


def _cut_at_footer(lines: list[str]) -> list[str]:
    """Cut at the first footer marker that follows real article text."""
    words_so_far = 0
    for index, line in enumerate(lines):
        if words_so_far >= MIN_BODY_WORDS_BEFORE_FOOTER and FOOTER_MARKER.match(line):
            return lines[:index]
        if not CLUTTER_LINE.match(line):
            words_so_far += len(line.split())
    return lines


def _drop_header_bylines(lines: list[str]) -> list[str]:
    """Bylines ("- Outlet - Wednesday, October 3, 2018", "By Jane Roe") are metadata, not prose."""
    head, tail = lines[:HEADER_LINES], lines[HEADER_LINES:]
    return [line for line in head if not (is_byline(line) or BY_AUTHOR_LINE.match(line))] + tail


def _drop_repeated_short_lines(lines: list[str]) -> list[str]:
    """A headline printed twice (page title plus article title) is kept once."""
    seen: set[str] = set()
    kept = []
    for line in lines:
        if len(line.split()) <= 25 and line in seen:
            continue
        seen.add(line)
        kept.append(line)
    return kept
