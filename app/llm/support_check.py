"""Check every generated sentence against the chunks it cites, before anyone sees it.

The common failure of RAG products is a fluent sentence whose citation does
not support it, or which carries the model's own knowledge. Here a sentence
survives only if:

1. it cites at least one retrieved chunk (``[n]`` with n in range; markers
   that point nowhere are removed);
2. its meaning is close to the cited evidence: the cosine similarity (same
   embedding model as retrieval) between the sentence and the best sentence
   or sentence pair of the cited chunks is at least ``threshold``,
   calibrated by ``bench/calibrate_checker.py``;
3. every number and every capitalised name in it occurs in the cited
   evidence or its stored metadata (outlet, title, date), so "According to
   Press TV" must cite a Press TV chunk, and "300 troops" needs a 300;
4. at least ``min_coverage`` of its distinct content words occur in the
   cited evidence (inflections and abbreviations count).

Similarity catches a sentence about something else; the name and number
tests catch the swapped fact that similarity forgives; coverage catches the
invented clause padded onto a true one. All three bounds are calibrated by
``bench/calibrate_checker.py`` on hand-labelled sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from app.answer.answering import cite
from app.answer.extractive import SentenceVectors
from app.llm.prompt import published_words
from app.answer.retrieval import Evidence
from app.schemas import Citation, DroppedSentence, SentenceCheck
from app.answer.text import STOP_WORDS, WORD, content_words, covers, fold
from ingest.sentences import Span, split_sentences

MARKERS = r"\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]"
MARKER = re.compile(MARKERS)
MARKER_AFTER_STOP = re.compile(rf"([.!?])((?:\s*{MARKERS})+)")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
ACRONYM = re.compile(r"\b(?:[A-Z]\.){2,}")
ATTRIBUTION_LEAD = re.compile(r"^\s*according to [^,]{1,80},\s*", re.IGNORECASE)
# Capitalised only because they open a sentence; not names.
OPENERS = frozenset("according however meanwhile moreover additionally furthermore while although both yet still instead".split())
MIN_CLAIM_WORDS = 3
# Spelled-out numbers, so "five rockets" is checked against "two rockets". "one" is left out: it is
# mostly a pronoun ("one of three posts").
NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate("zero _ two three four five six seven eight nine ten eleven twelve".split())
    if word != "_"
} | {"twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "dozen": "12"}
CLOSING_PUNCTUATION = ".!?"
# Words that say who claims something, not what is claimed; a paraphrase may use any of them.
REPORTING_VERBS = frozenset(
    "report reported write writes wrote argue argued claim claimed state stated note noted add added adding".split()
)


@dataclass
class Verdict:
    """One generated sentence and what the checker found."""

    claim: str  # the sentence without its markers
    cited: list[int]  # evidence numbers (1-based) it cites that exist
    supported: bool = False
    reason: str = ""
    # For each cited evidence number: the best-matching verbatim passage and its similarity.
    matches: dict[int, tuple[str, float]] = field(default_factory=dict)
    # Of a supported sentence, the cited chunks that on their own are close enough to it.
    supporting: list[int] = field(default_factory=list)


def acronyms_undotted(text: str) -> str:
    """``U.S.`` → ``US``, so "US" in an answer matches "U.S." in an article."""
    return ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)


def generated_sentences(text: str) -> list[str]:
    """Sentences of a model's reply, with markers written after the full stop moved before it."""
    normalised = MARKER_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)} ", text)
    return [s.text for s in split_sentences(normalised) if s.text.strip()]


def cited_numbers(sentence: str, evidence_count: int) -> list[int]:
    """Distinct ``[n]`` numbers in order, keeping only those that name a retrieved chunk."""
    numbers = [int(n) for marker in MARKER.findall(sentence) for n in re.findall(r"\d+", marker)]
    return [n for n in dict.fromkeys(numbers) if 1 <= n <= evidence_count]


def without_markers(sentence: str) -> str:
    text = MARKER.sub("", sentence)
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()


def passages(chunk_text: str) -> list[Span]:
    """Each sentence of a chunk and each pair of neighbours, as verbatim spans of the chunk.

    A model often merges the speaker of one sentence with the quote of the next.
    """
    sentences = split_sentences(chunk_text)
    pairs = [Span(chunk_text[a.start : b.end], a.start, b.end) for a, b in zip(sentences, sentences[1:])]
    return sentences + pairs


class SupportChecker:
    def __init__(self, vectors: SentenceVectors, threshold: float, min_coverage: float) -> None:
        self.vectors = vectors
        self.threshold = threshold
        self.min_coverage = min_coverage

    def check(self, reply: str, evidence: list[Evidence]) -> list[Verdict]:
        verdicts = [Verdict(claim=without_markers(s), cited=cited_numbers(s, len(evidence))) for s in generated_sentences(reply)]
        self._match(verdicts, evidence)
        for verdict in verdicts:
            verdict.reason = self._problem(verdict, evidence)
            verdict.supported = not verdict.reason
            if verdict.supported:
                verdict.supporting = [n for n in verdict.cited if verdict.matches[n][1] >= self.threshold]
        return verdicts

    def _match(self, verdicts: list[Verdict], evidence: list[Evidence]) -> None:
        """Fill ``matches``: per cited chunk, its passage most similar to the sentence."""
        cited = sorted({n for v in verdicts for n in v.cited})
        if not cited:
            return
        spans = {n: passages(evidence[n - 1].chunk.text) for n in cited}
        claims = [_meaning(v.claim) for v in verdicts]
        texts = [s.text for n in cited for s in spans[n]]
        vectors = self.vectors.encode(claims + texts)
        claim_vectors, passage_vectors = vectors[: len(claims)], vectors[len(claims) :]
        offset = 0
        for n in cited:
            block = passage_vectors[offset : offset + len(spans[n])]
            offset += len(spans[n])
            for verdict, claim_vector in zip(verdicts, claim_vectors, strict=True):
                if n in verdict.cited:
                    scores = block @ claim_vector
                    best = int(np.argmax(scores))
                    verdict.matches[n] = (spans[n][best].text, float(scores[best]))

    def _problem(self, verdict: Verdict, evidence: list[Evidence]) -> str:
        """Why the sentence is not supported, or "" when it is."""
        if not verdict.cited:
            return "it cites no retrieved source"
        if len(WORD.findall(verdict.claim)) < MIN_CLAIM_WORDS:
            return "it is too short to be a claim"
        similarity = max(score for _, score in verdict.matches.values())
        if similarity < self.threshold:
            return f"its similarity to the cited evidence, {similarity:.2f}, is below {self.threshold:.2f}"
        facts = evidence_facts([evidence[n - 1] for n in verdict.cited])
        for number in numbers(verdict.claim):
            if number not in facts.numbers:
                return f"the number {number} is not in the cited evidence"
        for name in names(verdict.claim):
            if not covers(fold(name), facts.words):
                return f"the name '{name}' is not in the cited evidence"
        share, missing = coverage(verdict.claim, facts)
        if share < self.min_coverage:
            return f"only {share:.0%} of its content words are in the cited evidence (missing: {', '.join(missing)})"
        return ""


@dataclass
class Facts:
    numbers: set[str]
    words: set[str]


def evidence_facts(cited: list[Evidence]) -> Facts:
    """Numbers and folded words of the cited chunks and of their stored metadata."""
    parts = []
    for item in cited:
        meta = item.chunk.metadata
        parts += [item.chunk.text, item.outlet, meta.get("title") or "", meta["source"], published_words(meta.get("published"))]
    text = acronyms_undotted("\n".join(parts))
    return Facts(numbers=set(numbers(text)), words={fold(w) for w in WORD.findall(text)})


def numbers(text: str) -> list[str]:
    """Numbers as digits: "2,500" and "2500" are one fact, and so are "two" and "2"."""
    digits = [n.replace(",", "").rstrip(".") for n in NUMBER.findall(text)]
    spelled = [NUMBER_WORDS[w.lower()] for w in WORD.findall(text) if w.lower() in NUMBER_WORDS]
    return digits + spelled


def coverage(claim: str, facts: Facts) -> tuple[float, list[str]]:
    """The share of the claim's distinct content words found in the evidence, and the missing ones.

    A small model pads a true clause with an invented one ("..., and that
    Washington is now planning a popular uprising"); the sentence stays
    similar to the evidence, but its invented words are nowhere in it.
    """
    asked = [word for word in content_words(_meaning(claim)) if fold(word) not in REPORTING_VERBS]
    missing = [word for word in asked if not covers(fold(word), facts.words)]
    return (1 - len(missing) / len(asked) if asked else 0.0), missing


def names(sentence: str) -> list[str]:
    """Capitalised words that are not capitalised merely by opening the sentence.

    The first word counts only when the next one is capitalised too ("Rex
    Tillerson ordered ..."): "Witnesses reported ..." is not a name.
    """
    words = WORD.findall(acronyms_undotted(sentence))
    capital = [w[0].isupper() and len(w) > 1 and fold(w) not in STOP_WORDS for w in words]
    found = [w for w, is_name in zip(words[1:], capital[1:]) if is_name]
    if words and capital[0] and len(words) > 1 and capital[1] and words[0].lower() not in OPENERS:
        found.insert(0, words[0])
    return found


def _meaning(claim: str) -> str:
    """The claim without its "According to X," lead, which only says who claims it."""
    return ATTRIBUTION_LEAD.sub("", claim) or claim


@dataclass
class CheckedAnswer:
    text: str
    citations: list[Citation]
    check: SentenceCheck


def compose(verdicts: list[Verdict], evidence: list[Evidence], mark: str | None) -> CheckedAnswer:
    """The reader's answer: supported sentences with renumbered markers; unsupported ones dropped or marked.

    Citation ids follow first use in the kept text; each citation quotes the
    stored passage that best matched the sentences citing it.
    """
    numbering: dict[int, int] = {}
    quotes: dict[int, tuple[str, float]] = {}
    sentences = []
    for verdict in verdicts:
        if verdict.supported:
            ids = []
            for n in verdict.supporting:
                ids.append(numbering.setdefault(n, len(numbering) + 1))
                if verdict.matches[n][1] > quotes.get(n, ("", -1.0))[1]:
                    quotes[n] = verdict.matches[n]
            sentences.append(_with_markers(verdict.claim, ids))
        elif mark is not None:
            sentences.append(f"{verdict.claim} {mark}")
    citations = [cite(numbering[n], evidence[n - 1], *quotes[n]) for n in sorted(numbering, key=numbering.get)]
    unsupported = [DroppedSentence(text=v.claim, reason=v.reason) for v in verdicts if not v.supported]
    kept = sum(v.supported for v in verdicts)
    check = SentenceCheck(
        checked=len(verdicts),
        kept=kept,
        dropped=0 if mark is not None else len(unsupported),
        marked=len(unsupported) if mark is not None else 0,
        unsupported=unsupported,
    )
    return CheckedAnswer(text=" ".join(sentences), citations=citations, check=check)


def _with_markers(claim: str, ids: list[int]) -> str:
    """"Pompeo blamed Iran." + [1, 2] → "Pompeo blamed Iran [1][2]."."""
    markers = "".join(f"[{i}]" for i in ids)
    if claim and claim[-1] in CLOSING_PUNCTUATION:
        return f"{claim[:-1]} {markers}{claim[-1]}"
    return f"{claim} {markers}."
