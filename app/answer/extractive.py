"""The default answerer: quote the few best sentences, grouped by outlet. Offline, deterministic, instant.

Each candidate sentence from the retrieved chunks gets a support score that
blends meaning (cosine similarity to the question, same embedding model as
retrieval) with coverage (the IDF-weighted share of the question's content
terms that it, or the sentence just before it, contains: news prose names
the speaker in one sentence and quotes them in the next). Meaning alone rates any sentence about Basra as relevant
to any question about Basra; weighting coverage by rarity means a question
whose key term the corpus never uses ("When did the consulate *reopen*?")
scores low. When no sentence clears the calibrated threshold the answer
abstains and cites nothing. Coverage is read for every sentence first and
only the best few by it (and each outlet's best) are embedded: embedding is
most of an answer's cost, and a sentence without the question's key terms
cannot reach the threshold on meaning alone in practice.

The question is also read for what it asks (``app.answer.asked``): a
sentence that holds a thing of the asked kind (a distance for "how far", a
name for "who") gets a ranking bonus, and the words that only name the kind
("how far") are not key terms. The bonus orders quotes; it never counts as
support, so the calibrated abstention threshold keeps its meaning.

Because the articles disagree and the reader should see who says what, each
outlet whose best sentence clears the bar gets one paragraph (best outlet
first) before any outlet is quoted twice; further quotes are picked by
maximal marginal relevance so the reply does not quote the same claim twice.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

import re

from app.answer.answering import AnswerResult, TokenSink, cite, named_evidence
from app.answer.asked import Asked, answer_spans, asked_for, mark
from app.answer.condense import CARRIED
from app.answer.retrieval import Evidence
from app.schemas import Citation
from app.answer.text import covers, nested_quotes, terms, without_outlet_names
from ingest.outlets import UNKNOWN_OUTLET
from ingest.sentences import split_sentences
from prompts import load_templates
from vectorstore.embeddings import MiniLMEmbeddings

SEMANTIC_WEIGHT = 0.5
MIN_SENTENCE_WORDS = 5
CLOSING = (".", "?", "!", '"', "”", "’", "'", ")")  # headlines and fragments end without these
MMR_LAMBDA = 0.7
ANSWER_TYPE_BONUS = 0.15  # ranking bonus for a sentence holding the asked kind of thing next to a key term
NEAR_BEST = 0.8  # only sentences within this share of the best score are worth quoting
OUTLET_BAR = 0.7  # another outlet's best sentence within this share of the best one gets its own paragraph
MAX_OUTLETS = 5
# Sentence-to-sentence cosine at which two sentences tell the same thing (``echoes``). On the sample corpus an
# outlet's own account of the quoted event scores 0.63-0.74 against it; the best sentence of an outlet that does
# not cover the topic scores at most 0.44, and over the tune and project questions no unchosen voice's best sentence
# reaches 0.55 (the highest, 0.54, did not answer its question).
ECHO_BAR = 0.55
# A follow-up condensed offline reads "its own words (about: carried words)" (app/answer/condense.py). A sentence
# with none of its own words answers the earlier question again ("And when will it reopen?"), so it is discounted.
FOLLOW_UP_MISS = 0.5
REQUIRED_KINDS = frozenset({"distance", "money"})  # kinds so specific that no such span means no answer
NUMBER_NAMES = ("One", "Two", "Three", "Four", "Five", "Six")
VECTOR_CACHE_SIZE = 50_000
EMBED_LIMIT = 12  # sentences embedded per question besides each voice's best; 10 was the least that kept the compare set passing

TermWeight = Callable[[str], float]
INERT_BOLD = re.compile(r"\*{2,}")  # an article's own "**" must not open or close the reply's bold marks


@dataclass
class Candidate:
    evidence: Evidence
    text: str
    offset: int  # position of the sentence in the article's cleaned text: quotes from one article read in order
    context: str = ""  # the sentence before it in the chunk, which often names who is speaking
    meaning: float = 0.0  # cosine similarity to the question
    coverage: float = 0.0  # IDF-weighted share of the key terms in the sentence and the one before it
    score: float = 0.0  # support: meaning and key-term coverage; what the abstention threshold compares
    clears: bool = False  # quotable: its score clears the threshold, or it echoes evidence that does
    rank: float = 0.0  # support plus the answer-type bonus; what orders the quotes
    spans: list[tuple[int, int]] | None = None  # where the sentence holds the asked kind of thing
    vector: np.ndarray | None = None
    misses_follow_up: bool = False  # a follow-up's own words are nowhere in it
    bonus: float = 0.0  # the answer-type ranking bonus it earns

    @property
    def lexical(self) -> float:
        """Its ranking score without the meaning half: what decides whether it is worth embedding."""
        return (1 - SEMANTIC_WEIGHT) * self.coverage * (FOLLOW_UP_MISS if self.misses_follow_up else 1.0) + self.bonus

    @property
    def outlet(self) -> str:
        return self.evidence.outlet

    @property
    def voice(self) -> tuple[str, str]:
        return voice_of(self.evidence)


class SentenceVectors:
    """Embeds sentences, remembering recent ones: warm questions re-read the same passages."""

    def __init__(self, embeddings: MiniLMEmbeddings, capacity: int = VECTOR_CACHE_SIZE) -> None:
        self.embeddings = embeddings
        self.capacity = capacity
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # the server answers from several threads

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            known.update(zip(missing, self.embeddings.encode(missing), strict=True))
        with self._lock:
            for text in texts:
                self._cache[text] = known[text]
                self._cache.move_to_end(text)
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return np.stack([known[t] for t in texts])


class ExtractiveAnswerer:
    """Builds the reply text and its citations from evidence."""

    backend = "extractive"

    def __init__(
        self, embeddings: MiniLMEmbeddings, term_weight: TermWeight, threshold: float, max_sentences: int = 3
    ) -> None:
        self.vectors = SentenceVectors(embeddings)
        self.term_weight = term_weight
        self.threshold = threshold
        self.max_sentences = max_sentences
        self.templates = load_templates("extractive")

    def answer(
        self, question: str, evidence: list[Evidence], on_token: TokenSink | None = None, established: Sequence[Candidate] = ()
    ) -> AnswerResult:
        """Quotes need no generation, so ``on_token`` is not called.

        A question that names outlets is answered from their evidence only; the rest of the evidence can
        only establish the topic for them (``echoes_of_established``). ``established`` does the same for
        evidence scored elsewhere: a comparison's other outlets' sentences that cleared the bar.
        """
        named, _ = named_evidence(question, evidence)
        asked = asked_for(question)
        asked = Asked(asked.kind, without_outlet_names(asked.topic, named))
        candidates = self.score(question, evidence, asked)
        own = [c for c in candidates if c.outlet in named] if named else candidates
        support = max((c.score for c in own), default=0.0)
        if (named or established) and support < self.threshold:
            others = list(established) or [c for c in candidates if c.outlet not in named]
            own, support = echoes_of_established(own, others)
            # Its account is what echoes; a closer sentence that echoes nothing must not set the bar for it.
            own = [c for c in own if c.clears]  # support clears the bar only if one of them does
        chosen = self._select(own) if support >= self.threshold and not _lacks_required_kind(asked, own) else []
        if not chosen:
            return AnswerResult(self.templates["abstain"], [], True, support, self.backend)
        text, citations = self._compose(chosen, asked)
        return AnswerResult(text, citations, False, support, self.backend)

    def score(self, question: str, evidence: list[Evidence], asked: Asked | None = None) -> list[Candidate]:
        """The quotable sentences of the evidence worth embedding, with their support and ranking scores.

        Every sentence is read lexically first (key-term coverage, the asked kind of thing); only the
        ``EMBED_LIMIT`` best of those, plus each voice's best, are embedded and scored in full. Embedding
        is most of the answer's cost, so a question costs the same however long the retrieved chunks are.
        """
        asked = asked or asked_for(question)
        candidates = _candidates(evidence)
        if not candidates:
            return []
        key_terms = {t: self.term_weight(t) for t in set(terms(asked.topic))}
        own_terms = set(terms(asked.topic.split(CARRIED, 1)[0])) if CARRIED in asked.topic else set()
        for candidate in candidates:
            _read_lexically(candidate, key_terms, own_terms, asked, question)
        chosen = _worth_embedding(candidates, EMBED_LIMIT)
        vectors = self.vectors.encode([question] + [c.text for c in chosen])
        for candidate, vector in zip(chosen, vectors[1:], strict=True):
            candidate.meaning = float(vector @ vectors[0])
            candidate.score = SEMANTIC_WEIGHT * candidate.meaning + (1 - SEMANTIC_WEIGHT) * candidate.coverage
            if candidate.misses_follow_up:
                candidate.score *= FOLLOW_UP_MISS  # it answers the earlier question, not this one
            candidate.rank = candidate.score + candidate.bonus
            candidate.clears = candidate.score >= self.threshold
            candidate.vector = vector
        return chosen

    def _select(self, candidates: list[Candidate]) -> list[Candidate]:
        """Each voice's best sentence that clears the bar, best first, then each further voice's account of the
        same thing (``further_accounts``); then more quotes by marginal relevance."""
        best = max(candidates, key=lambda c: c.rank)
        eligible = [c for c in candidates if c.clears]
        chosen: list[Candidate] = []
        for candidate in sorted(eligible, key=lambda c: -c.rank):
            voices = {c.voice for c in chosen}
            holds_answer = candidate.spans or not best.spans  # when the best holds the asked thing, so must the others
            if (
                candidate.voice not in voices and holds_answer and candidate.rank >= best.rank * OUTLET_BAR
                and len(voices) < MAX_OUTLETS
            ):
                chosen.append(candidate)
        chosen += further_accounts(candidates, chosen)
        pool = [c for c in eligible if c not in chosen and c.rank >= best.rank * NEAR_BEST]

        def marginal(c: Candidate) -> float:
            redundancy = max((float(c.vector @ s.vector) for s in chosen), default=0.0)
            return MMR_LAMBDA * c.rank - (1 - MMR_LAMBDA) * redundancy

        while pool and len(chosen) < self.max_sentences:
            pick = max(pool, key=marginal)
            chosen.append(pick)
            pool.remove(pick)
        return chosen

    def _compose(self, chosen: list[Candidate], asked: Asked) -> tuple[str, list[Citation]]:
        """A lead line, then one paragraph per voice (in order of its best quote), quotes numbered in reading order."""
        groups: dict[tuple[str, str], list[Candidate]] = {}
        for candidate in chosen:
            groups.setdefault(candidate.voice, []).append(candidate)
        paragraphs, citations = [self._lead_line(groups, asked)], []
        for (outlet, _), members in groups.items():
            quotes = []
            for candidate in sorted(members, key=lambda c: (c.evidence.chunk.metadata["source"], c.offset)):
                citations.append(cite(len(citations) + 1, candidate.evidence, candidate.text, candidate.score))
                # Both rewrites keep every character's place, so the spans still index the text.
                quoted = mark(nested_quotes(INERT_BOLD.sub("*", candidate.text)), candidate.spans or [])
                quotes.append(self.templates["quote"].format(quote=quoted, n=len(citations)))
            paragraphs.append(" ".join([self._outlet_lead(outlet, members[0]), *quotes]))
        # One line each: the chat shows line breaks, and a blank line would split a compare section in the CLI.
        return "\n".join(paragraphs), citations

    def _lead_line(self, groups: dict[tuple[str, str], list[Candidate]], asked: Asked) -> str:
        """"Three outlets give a reason:" / "One article answers this:" / "Three articles give a reason:" when every
        voice is an article with no identified publisher (counting them as outlets would claim publishers)."""
        count = len(groups)
        articles = {c.evidence.chunk.metadata["source"] for members in groups.values() for c in members}
        unattributed = all(outlet == UNKNOWN_OUTLET for outlet, _ in groups)
        noun = "article" if (count == 1 and len(articles) == 1) or unattributed else "outlet"
        holds = any(c.spans for members in groups.values() for c in members)  # else it names no such thing
        verb = self.templates["lead_verbs"].get(asked.kind if holds else "", self.templates["lead_verbs"]["default"])
        return self.templates["lead"].format(
            count=NUMBER_NAMES[count - 1] if count <= len(NUMBER_NAMES) else str(count),
            noun=noun if count == 1 else f"{noun}s",
            verb=verb["one" if count == 1 else "many"],
        )

    def _outlet_lead(self, outlet: str, first: Candidate) -> str:
        """The outlet's name; unattributed copy is named by its title, or its file where it has no title."""
        if outlet != UNKNOWN_OUTLET:
            return self.templates["outlet_lead"].format(outlet=outlet)
        meta = first.evidence.chunk.metadata
        title = meta.get("title")
        if title:
            return self.templates["unknown_outlet_lead"].format(title=title)
        return self.templates["unknown_outlet_file_lead"].format(source=meta["source"])


def _lacks_required_kind(asked: Asked, candidates: list[Candidate]) -> bool:
    """"How far ...?" / "How much ...?" is not answered by a sentence that holds no distance / no amount at all."""
    if asked.kind not in REQUIRED_KINDS:
        return False
    return not any(c.spans for c in candidates if c.clears)


def echoes(candidate: Candidate, anchor: Candidate) -> bool:
    """``candidate`` says the same thing as ``anchor`` in other words and shares a key term with the question.

    Sentence-to-sentence meaning tells an outlet's own account of an event ("withdrew their staff from the
    U.S. consulate") from sentences that are merely near the topic, which question-to-sentence meaning does
    not; the key term keeps a sentence about something else that happens to be phrased alike out.
    """
    return candidate.coverage > 0 and float(candidate.vector @ anchor.vector) >= ECHO_BAR


def echoes_of_established(own: list[Candidate], others: list[Candidate]) -> tuple[list[Candidate], float]:
    """A named outlet's account of a topic that other evidence establishes, and that evidence's support.

    "What did the Washington Times say about the consulate closure?": the Washington Times never writes
    "closure", so none of its sentences covers the key terms. When another outlet's sentence clears the
    bar, the topic is established, and the named outlet's sentences that echo it are its account. When
    nothing clears the bar (an unanswerable question), nothing is established and the reply still abstains.
    """
    established = [c for c in others if c.clears]
    if not established:
        return own, max((c.score for c in own), default=0.0)
    anchor = max(established, key=lambda c: c.rank)
    for candidate in own:
        candidate.clears = echoes(candidate, anchor)
    return own, anchor.score if any(c.clears for c in own) else max((c.score for c in own), default=0.0)


def further_accounts(candidates: list[Candidate], chosen: list[Candidate]) -> list[Candidate]:
    """The best echo of a chosen quote from each voice not yet quoted: another outlet's account of it.

    An outlet that tells the same event in its own words ("withdraw U.S. personnel" for "close the
    consulate") misses the question's rarest key term and so stays under the bar, and a reply drawn from
    one outlet while another covers the question is a defect. The echo must hold the asked kind of thing
    when the quote it echoes does.
    """
    voices = {c.voice for c in chosen}
    further: dict[tuple[str, str], Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: -c.rank):
        if (
            candidate.voice not in voices and candidate.voice not in further
            and any(echoes(candidate, quote) and (candidate.spans or not quote.spans) for quote in chosen)
            and len(voices) + len(further) < MAX_OUTLETS
        ):
            further[candidate.voice] = candidate
    return list(further.values())


def voice_of(evidence: Evidence) -> tuple[str, str]:
    """Who is speaking: the outlet, or for unattributed copy the article, known by its title (by its file when it
    has none). Two files of one unattributed article (a re-download, a copy in another folder) are one voice;
    two unattributed articles are two, as two outlets are."""
    meta = evidence.chunk.metadata
    return (evidence.outlet, (meta.get("title") or meta["source"]) if evidence.outlet == UNKNOWN_OUTLET else "")


def _candidates(evidence: list[Evidence]) -> list[Candidate]:
    """Quotable sentences of the evidence, each kept once per voice (``voice_of``): overlapping chunks repeat
    sentences, and an archive holds the same article under two names, so a voice's sentence is kept only from its
    best-retrieved copy. Another voice printing the same words (a syndicated story) keeps them too.

    Headlines (the stored title, or any line without closing punctuation) and
    fragments under five words are not quotable answers.
    """
    seen: set[tuple[str, str]] = set()
    candidates = []
    for item in evidence:
        meta, voice = item.chunk.metadata, voice_of(item)
        sentences = split_sentences(item.chunk.text)
        for position, sentence in enumerate(sentences):
            key = (*voice, " ".join(sentence.text.split()))
            if _quotable(sentence.text, meta) and key not in seen:
                seen.add(key)
                before = sentences[position - 1].text if position else ""
                context = before if _quotable(before, meta) else ""  # a headline names no speaker
                candidates.append(
                    Candidate(evidence=item, text=sentence.text, offset=meta["start"] + sentence.start, context=context)
                )
    return candidates


def _quotable(text: str, meta: dict) -> bool:
    """A sentence of prose: not the stored title, not a line without closing punctuation, not a fragment."""
    return len(text.split()) >= MIN_SENTENCE_WORDS and text.endswith(CLOSING) and text != meta.get("title")


def _read_lexically(candidate: Candidate, key_terms: dict[str, float], own_terms: set[str], asked: Asked, question: str) -> None:
    """Coverage, the asked kind of thing and the follow-up check: everything about a sentence but its meaning."""
    found = set(terms(f"{candidate.context} {candidate.text}"))
    total_weight = sum(key_terms.values())
    candidate.coverage = sum(w for t, w in key_terms.items() if covers(t, found)) / total_weight if total_weight else 0.0
    candidate.spans = answer_spans(asked.kind, INERT_BOLD.sub("*", candidate.text), question)
    candidate.misses_follow_up = bool(own_terms) and not candidate.spans and not any(covers(t, found) for t in own_terms)
    near_key_term = bool(set(terms(candidate.text)) & set(key_terms)) or candidate.coverage > 0
    candidate.bonus = ANSWER_TYPE_BONUS if candidate.spans and near_key_term else 0.0


def _worth_embedding(candidates: list[Candidate], limit: int) -> list[Candidate]:
    """The ``limit`` lexically best sentences, plus each voice's best so every outlet can still get its paragraph;
    in their original order, so ties resolve as before."""
    order = sorted(range(len(candidates)), key=lambda i: -candidates[i].lexical)
    keep = set(order[:limit])
    best_of_voice: dict[tuple[str, str], int] = {}
    for i in order:
        best_of_voice.setdefault(candidates[i].voice, i)
    keep.update(best_of_voice.values())
    return [candidates[i] for i in sorted(keep)]
