"""What a question asks for (a person, a place, a number, a reason, ...) and where a sentence holds it.

Quoting the sentence most *about* the question's words is not enough: for
"How far is Basra from Baghdad?" the sentence that matched "far" ("the
rockets landed far from the facilities") is about Basra but does not answer;
"roughly 300 miles south of the Iraqi capital" does. So a question is read
for its answer type, the interrogative words that only name the type ("how
far", "which country") are kept out of the key terms, and a sentence is
preferred when it holds a span of that type that the question itself does not
already contain. Those spans are also what the reply marks in bold.

Hand-written patterns, not a tagger: a spaCy pipeline cannot be installed
offline from PyPI with a pinned hash here, and these few types are regular in
news prose. ``tests/test_asked.py`` pins each pattern's behaviour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.answer.disagreement import responsible_spans

NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|"
    r"hundreds|thousand|thousands|million|millions|billion|dozen|dozens|half|double|doubled|triple"
)
NUMBER = rf"(?:\d[\d,.]*(?:\s?%|\s?(?:bn|m|k)\b)?|\b(?:{NUMBER_WORDS})\b)"
MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
DAYS = r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
NAME = r"(?:[A-Z][\w'’-]*(?:\s+(?:of|de|al|bin|van|von|the)?\s?[A-Z][\w'’-]*)*)"
PLACE_PREPOSITION = r"\b(?:in|at|near|from|to|outside|inside|across)\s+(?:the\s+)?"
NATIONALITY = r"\b[A-Z][a-z]+(?:ish|ian|ean|an|ese|i|ch)\b"

SPAN_PATTERNS: dict[str, re.Pattern[str]] = {
    "distance": re.compile(rf"(?:{NUMBER}|a few|several)\s*(?:miles?|km|kilomet(?:re|er)s?|metres?|meters?|yards?|feet)\b"
                           rf"(?:\s+(?:north|south|east|west|north-?east|north-?west|south-?east|south-?west)\b)?", re.I),
    "money": re.compile(rf"[£$€]\s?\d[\d,.]*\s?(?:bn|m|k|billion|million|trillion)?\b|\b\d[\d,.]*\s?(?:bn|m)?\s?"
                        rf"(?:pounds|dollars|euros|pence|cents)\b", re.I),
    "number": re.compile(rf"{NUMBER}(?:\s+per\s?cent)?", re.I),
    "duration": re.compile(rf"(?:{NUMBER}|a|several|many)[\s-]+(?:years?|months?|weeks?|days?|hours?|decades?)\b|\bsince\s+\w+", re.I),
    "date": re.compile(rf"\b(?:1[6-9]\d\d|20\d\d)\b|\b(?:{MONTHS})\b(?:\s+\d{{1,2}})?|\b\d{{1,2}}\s+(?:{MONTHS})\b|\b(?:{DAYS})\b|"
                       r"\b(?:yesterday|today|last (?:week|month|year)|next (?:week|month|year))\b"),
    "person": re.compile(rf"\b(?:Mr|Ms|Mrs|Dr|Sir|Lord|Lady|Col|Gen|President|Minister|Secretary)\.?\s+{NAME}|"
                         rf"\b(?!(?:{DAYS}|{MONTHS})\b)(?:[A-Z][a-z]+|[A-Z]{{2,}})(?:\s+(?:of\s+)?[A-Z][\w'’-]+)+"),
    "place": re.compile(rf"{PLACE_PREPOSITION}{NAME}|\b(?:north|south|east|west|southern|northern|eastern|western|"
                        r"south-?western|north-?western|south-?eastern|north-?eastern)(?:\s+\w+)?\s+(?:of\s+)?[A-Z]\w+|"
                        r"\b(?:airport|capital|border|city|town|village|province|region|compound)\b"),
    "country": re.compile(rf"{NATIONALITY}|\b(?:Britain|UK|US|USA|America|Iran|Iraq|Cyprus|Zambia|France|Germany|Spain|"
                          r"Italy|China|Russia|Turkey|Sweden|Ireland|Israel|Syria|Afghanistan|Pakistan|India|Japan|"
                          r"Scotland|Wales|England|Cuba|Egypt|Saudi Arabia|Kuwait|Jordan|Lebanon)\b"),
    # A job or title: a role noun with up to three words before it ("State Department spokeswoman").
    "role": re.compile(r"\b(?:[A-Z][\w-]*\s+|[a-z][\w-]*\s+){0,3}?(?:spokes(?:man|woman|person)|minister|secretary|"
                       r"advis[eo]r|analyst|official|commander|chief|director|leader|president|chairman|editor|ambassador|"
                       r"general|colonel|MP|candidate|executive|professor|envoy|aide|chancellor|speaker|governor|mayor)\b"),
    "reason": re.compile(r"\b(?:because(?: of)?|due to|owing to|as a result of|in order to|so that|citing|cited|over|amid|"
                         r"after|following|blamed?|triggered by|caused by|since|to protect|to prevent|fears?|threats?|"
                         r"concerns?|risks?)\b(?:\s+[^\s.,;:“”\"]+){0,8}", re.I),
}

# Question openings and the type they ask for; the first match wins. The matched words name the
# type, not the topic, so they are not key terms ("far" in "how far").
ASK_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("role", re.compile(r"(?:'s|’s)\s+(?:job|role|title|position|post)\b|\bwhat (?:job|role|title|position) does\b", re.I)),
    ("distance", re.compile(r"\bhow (?:far|close|near)\b|\bwhat distance\b|\bhow many (?:miles|kilomet\w+)\b", re.I)),
    ("money", re.compile(r"\bhow much (?:money|will|would|did|does|do|is|was|has|have|had|are|were|can)?\b|\bwhat (?:sum|amount|cost|price)\b|\bhow much\b", re.I)),
    ("duration", re.compile(r"\bhow long\b|\bfor how long\b", re.I)),
    ("number", re.compile(r"\bhow (?:many|old)\b|\bwhat (?:share|percentage|proportion|number|fraction)(?: of)?\b", re.I)),
    ("date", re.compile(r"\bwhen\b|\b(?:what|which|in which|in what) (?:year|day|month|date)\b|\bsince when\b", re.I)),
    ("country", re.compile(r"\b(?:which|what) (?:country|countries|nation|nations|nationality)(?:'s|’s)?\b|\bwhat nationality\b", re.I)),
    ("place", re.compile(r"\bwhere\b|\b(?:which|what) (?:city|town|place|seat|constituency|region|area|village|province)\b", re.I)),
    ("reason", re.compile(r"\bwhy\b|\bwhat (?:caused|prompted|led to|reason|reasons)\b|\bfor what reason\b", re.I)),
    # "Who is to blame / responsible?" asks for the party held responsible, not any person; only "who" names the type.
    ("party", re.compile(r"\bwho(?:m)?\b(?=.*\b(?:blam\w*|responsib\w*|at fault|culprits?)\b)", re.I)),
    ("person", re.compile(r"\bwho(?:m)?\b|\b(?:which|what) (?:minister|official|spokesman|spokeswoman|newspaper|person|man|woman|general|leader|team|party)\b", re.I)),
]


# "What did X say/report about Y?" asks for X's account of Y: the speaking verb is not a key term either.
ACCOUNT = re.compile(r"\b(?:say|says|said|report|reports|reported|write|wrote|claim|claims|claimed)\b(?=.*\babout\b)", re.I)


@dataclass(frozen=True)
class Asked:
    """A question's answer type (or None) and the question with the type-naming words removed."""

    kind: str | None
    topic: str


def asked_for(question: str) -> Asked:
    """The answer type a question asks for; "who is X?" asks for a description of X, not a name."""
    question = ACCOUNT.sub(" ", question) if re.match(r"\s*what (?:did|does|do|has|have)\b", question, re.I) else question
    if re.match(r"\s*(?i:who|what) (?i:is|are|was|were)\s+(?:the\s+)?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*\s*\??\s*$", question):
        return Asked(None, question)
    for kind, pattern in ASK_PATTERNS:
        match = pattern.search(question)
        if match:
            # "Why"/"what reason" stay: alone, "What reason did he give for it?" would keep only "give".
            topic = question if kind == "reason" else (question[: match.start()] + " " + question[match.end():]).strip()
            return Asked(kind, topic)
    return Asked(None, question)


def answer_spans(kind: str | None, sentence: str, question: str) -> list[tuple[int, int]]:
    """Where ``sentence`` holds something of the asked type that the question does not already name."""
    if kind is None:
        return []
    asked = question.casefold()
    spans = []
    for start, end in _spans_of(kind, sentence):
        text = sentence[start:end].strip()
        if text and text.casefold() not in asked and not _only_asked_words(text, asked):
            spans.append((start, start + len(sentence[start:end].rstrip())))
    return spans


def _spans_of(kind: str, sentence: str) -> list[tuple[int, int]]:
    """Every span of ``kind``: a pattern's matches, or for "party" the parties named next to a responsibility cue."""
    if kind == "party":
        return responsible_spans(sentence)
    return [match.span() for match in SPAN_PATTERNS[kind].finditer(sentence)]


def _only_asked_words(span: str, asked: str) -> bool:
    """A name span whose every word is in the question ("Tony Blair" for a question about Tony Blair) answers nothing."""
    words = re.findall(r"[\w'’]+", span.casefold())
    return bool(words) and all(re.search(rf"\b{re.escape(w)}\b", asked) for w in words)


def mark(sentence: str, spans: list[tuple[int, int]], before: str = "**", after: str = "**") -> str:
    """``sentence`` with each (merged) span wrapped in ``before``/``after``: the words that answer, in bold.

    Spans apart only by white space within a paragraph are one mark: a party is found word by word, and
    "**Ayatollah** **Ali** **Khamenei**" reads as three answers where "**Ayatollah Ali Khamenei**" is one."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        gap = sentence[merged[-1][1] : start] if merged else ""
        if merged and (start <= merged[-1][1] or (gap.isspace() and "\n\n" not in gap)):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out += [sentence[last:start], before, sentence[start:end], after]
        last = end
    out.append(sentence[last:])
    return "".join(out)
