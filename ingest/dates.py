"""Find dates in text and recognise byline lines ("- The Washington Times - Wednesday, October 3, 2018").

A date is only a *publication* date when it stands in a byline near the top;
a date inside a photo caption or a sentence is an event date. Both the
metadata detector and the cleaner need that distinction, so it lives here.
"""

from __future__ import annotations

import re
from datetime import date

from dateutil import parser as date_parser

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?,?\s+)?"
DATE_PATTERN = re.compile(
    rf"\b{_WEEKDAY}(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}})\b"
)
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?\b", re.IGNORECASE)
_BYLINE_FILLER = re.compile(r"\b(?:published|updated|posted|last|on|at|by)\b|[-–—|•·:,/]", re.IGNORECASE)
BYLINE_MAX_CHARS = 120
BYLINE_MAX_WORDS = 6


def parse_date(text: str) -> date | None:
    """The first date written in ``text``, or None."""
    match = DATE_PATTERN.search(text)
    if not match:
        return None
    try:
        return date_parser.parse(match.group(0), fuzzy=True).date()
    except (ValueError, OverflowError):
        return None


def is_byline(line: str) -> bool:
    """A short line made of a date plus a few name words (outlet, author) and separators."""
    line = line.strip()
    if not line or len(line) > BYLINE_MAX_CHARS or not DATE_PATTERN.search(line):
        return False
    rest = _BYLINE_FILLER.sub(" ", _TIME.sub(" ", DATE_PATTERN.sub(" ", line)))
    return len(rest.split()) <= BYLINE_MAX_WORDS
