"""Where outlets disagree, found offline: pairs of sentences about the same thing that differ in a checkable way.

Two sentences from different outlets are *about the same thing* when their
embeddings are close and they share key terms (both thresholds calibrated
by ``bench/calibrate_disagreement.py`` on hand-labelled pairs). They
*disagree* only when the difference can be pointed at:

* **who is responsible**: both use a responsibility cue ("blames",
  "responsible", "the work of") and name different parties next to it;
* **a number**: both count the same thing ("two rockets" / "three rockets");
* **a date**: both date the event, on different days or years;
* **a denial**: one states what the other denies (one is negated, the other not).

Meaning alone cannot tell "Iran fired the rockets" from "protesters fired the
rockets", and wording alone flags every pair of unrelated numbers; requiring
both keeps the list short and each entry justifiable. An empty list is an
honest answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from app.answer.text import WORD, fold, terms

MIN_SIMILARITY = 0.45
MIN_SHARED_TERMS = 3
NEGATION_SIMILARITY = 0.6  # a denial must restate the other claim closely, or any "not" would count
PARTY_WINDOW = 6  # words either side of a responsibility cue that may name the party

RESPONSIBILITY_CUE = re.compile(
    r"\b(?:blam\w*|responsib\w*|accus\w*|culprit\w*|scapegoat\w*|perpetrat\w*|behind|fault|caused|work of)\b", re.I
)
GROUP_PARTIES = frozenset(
    fold(w) for w in "protesters demonstrators militias militants terrorists saboteurs rebels insurgents government "
    "police army troops".split()
)
NOT_PARTIES = frozenset(
    fold(w) for w in "january february march april may june july august september october november december monday "
    "tuesday wednesday thursday friday saturday sunday mr mrs ms dr col gen the a an in on at".split()
)
NEGATION = re.compile(r"\b(?:not|never|no|denied|denies|deny|rejected|rejects|n't)\b|n’t\b", re.I)
NUMBER_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
NUMBER = re.compile(r"^\d[\d,]*(?:\.\d+)?$")
MONTHS = "january february march april may june july august september october november december".split()
DATE = re.compile(r"\b(" + "|".join(MONTHS) + r")\s+(\d{1,2})\b|\b((?:19|20)\d\d)\b", re.I)


@dataclass(frozen=True)
class Statement:
    """A sentence one outlet stands behind, as quoted in the comparison under citation ``citation``."""

    outlet: str
    citation: int
    text: str
    vector: np.ndarray


@dataclass(frozen=True)
class Conflict:
    kind: str  # "who is responsible", "a number", "a date", "a denial"
    shared: tuple[str, ...]  # the key terms both sentences use
    first: Statement
    second: Statement
    similarity: float

    @property
    def about(self) -> str:
        return f"{self.kind}: {', '.join(self.shared[:4])}"


@dataclass(frozen=True)
class Thresholds:
    min_similarity: float = MIN_SIMILARITY
    min_shared_terms: int = MIN_SHARED_TERMS
    negation_similarity: float = NEGATION_SIMILARITY


def find_conflicts(statements: list[Statement], thresholds: Thresholds = Thresholds()) -> list[Conflict]:
    """At most one conflict per pair of outlets and kind, the most similar pair first."""
    best: dict[tuple[str, str, str], Conflict] = {}
    for a, b in combinations(statements, 2):
        if a.outlet == b.outlet:
            continue
        conflict = compare_pair(a, b, thresholds)
        if conflict:
            key = (*sorted((a.outlet, b.outlet)), conflict.kind)
            if key not in best or conflict.similarity > best[key].similarity:
                best[key] = conflict
    return sorted(best.values(), key=lambda c: -c.similarity)


def compare_pair(a: Statement, b: Statement, thresholds: Thresholds = Thresholds()) -> Conflict | None:
    """The checkable difference between two sentences about the same thing, or None."""
    similarity = float(a.vector @ b.vector)
    shared = tuple(dict.fromkeys(t for t in terms(a.text) if t in set(terms(b.text))))
    if similarity < thresholds.min_similarity or len(shared) < thresholds.min_shared_terms:
        return None
    kind = (
        ("who is responsible" if _different(responsible_parties(a.text), responsible_parties(b.text)) else None)
        or ("a number" if _different_counts(counts(a.text), counts(b.text)) else None)
        or ("a date" if _different(dates(a.text), dates(b.text)) else None)
        or ("a denial" if similarity >= thresholds.negation_similarity and negated(a.text) != negated(b.text) else None)
    )
    return Conflict(kind, shared, a, b, similarity) if kind else None


def responsible_parties(text: str) -> set[str]:
    """Parties named within a few words of a responsibility cue: proper names and groups like "protesters"."""
    return {fold(text[start:end]) for start, end in responsible_spans(text)}


def responsible_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` names a responsible party: the words ``responsible_parties`` reads, as character spans.

    "Who is to blame?" is answered by these spans, so the reply marks the party and a sentence that names
    no one next to a responsibility cue (a photo caption naming a guard) is not taken for an answer.
    """
    words = list(WORD.finditer(text))
    spans: list[tuple[int, int]] = []
    for cue in RESPONSIBILITY_CUE.finditer(text):
        at = next((i for i, word in enumerate(words) if word.start() >= cue.start()), len(words))
        for position in range(max(0, at - PARTY_WINDOW), min(len(words), at + PARTY_WINDOW + 1)):
            if _is_party(words[position].group(), position) and words[position].span() not in spans:
                spans.append(words[position].span())
    return sorted(spans)


def _is_party(word: str, position: int) -> bool:
    folded = fold(word)
    if folded in NOT_PARTIES or len(folded) < 2:
        return False
    return folded in GROUP_PARTIES or (position > 0 and word[0].isupper())


def counts(text: str) -> dict[str, set[float]]:
    """What the sentence counts: the content term right after each number ("two rocket attacks" → rocket: {2})."""
    words = WORD.findall(text)
    found: dict[str, set[float]] = {}
    for position, word in enumerate(words[:-1]):
        value = _number(word)
        if value is None or DATE.fullmatch(word):
            continue
        counted = next((t for w in words[position + 1 : position + 3] for t in terms(w)), None)
        if counted:
            found.setdefault(counted, set()).add(value)
    return found


def _number(word: str) -> float | None:
    lowered = word.lower()
    if lowered in NUMBER_WORDS:
        return float(NUMBER_WORDS[lowered])
    return float(word.replace(",", "")) if NUMBER.match(word) else None


def dates(text: str) -> set[str]:
    """Calendar dates and years the sentence names, normalised ("September 7" → "september 7")."""
    return {" ".join(part.lower() for part in match.groups() if part) for match in DATE.finditer(text)}


def negated(text: str) -> bool:
    return bool(NEGATION.search(text))


def _different(first: set[str], second: set[str]) -> bool:
    """Both name something, and nothing in common."""
    return bool(first) and bool(second) and not first & second


def _different_counts(first: dict[str, set[float]], second: dict[str, set[float]]) -> bool:
    """The same thing counted with no value in common."""
    return any(not first[thing] & second[thing] for thing in first.keys() & second.keys())
