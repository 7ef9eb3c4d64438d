"""Does a question ask for a comparison of outlets? And what is it about, once the comparison wording is gone?

"Who is to blame, according to each outlet?" should be compared even when
the reader did not tick "Compare outlets". The comparison wording must also
be removed before the question is scored: "outlet" and "disagree" are words
the articles never use, and left in they would pull every section under the
abstention bar. A question that names two ingested outlets ("What does
Press TV say versus The Washington Times about ...") compares those two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SOURCES = r"(?:outlets?|sources?|papers?|newspapers?|publications?|media|articles|reports|sides)"
COMPARISON = re.compile(
    "|".join([
        rf"\b(?:according to|in the view of|as seen by|for) (?:each|every|all|all the|the different|different|the various) {SOURCES}\b",
        rf"\b(?:each|every|per|by) {SOURCES}\b",
        rf"\b(?:how|where|why|on what|in what way) (?:do|did|does) (?:the )?{SOURCES} (?:differ|disagree|agree|compare|contrast)\b",
        rf"\b(?:do|did|does) (?:the )?{SOURCES} (?:differ|disagree|agree|contradict each other|contradict)\b",
        rf"\bcompare (?:the )?{SOURCES}\b",
        rf"\b(?:which|what) {SOURCES} (?:say|says|said|report|claim|blame)\b",
        rf"\b{SOURCES} (?:disagree|differ)\b",
        r"\b(?:what|how) (?:do|did) (?:the |different |the different )?(?:outlets|newspapers|papers|publications|media) "
        r"(?:say|report|claim|write)\b",
        r"\bside by side\b",
        r"\bwho says what\b",
    ]),
    re.IGNORECASE,
)
VERSUS = re.compile(r"\b(?:versus|vs\.?|compared (?:to|with)|as opposed to)\b", re.IGNORECASE)
LEFTOVER = re.compile(r"^[\s,;:–—-]+|[\s,;:–—-]+(?=[?.!]?$)")
EMPTY_TOPIC = re.compile(r"^\W*(?:what|how)?\W*$", re.IGNORECASE)


@dataclass(frozen=True)
class Route:
    compare: bool
    topic: str  # the question without its comparison wording
    outlets: list[str] = field(default_factory=list)  # outlets the question names, when it names two or more


def route(question: str, outlets: list[str]) -> Route:
    """Whether ``question`` asks to compare ``outlets`` (the ingested ones), and its topic."""
    named = [o for o in outlets if re.search(rf"\b{re.escape(o)}\b", question, re.IGNORECASE)]
    asks = bool(COMPARISON.search(question)) or (len(named) >= 2 and bool(VERSUS.search(question) or " and " in question))
    if not asks:
        return Route(False, question.strip())
    return Route(True, topic(question, named), named if len(named) >= 2 else [])


def topic(question: str, named: list[str] = ()) -> str:
    """The question with comparison wording (and the outlets it names) taken out; unchanged if nothing is left."""
    text = COMPARISON.sub(" ", question)
    text = VERSUS.sub(" ", text)
    for outlet in named:
        text = re.sub(rf"\b{re.escape(outlet)}\b", " ", text, flags=re.IGNORECASE)
    text = LEFTOVER.sub("", " ".join(text.split()))
    return question.strip() if EMPTY_TOPIC.match(text) else text
