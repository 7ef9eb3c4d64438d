"""The default answerer: quote the few best sentences, grouped by outlet. Offline, deterministic, instant.

Each candidate sentence from the retrieved chunks gets a support score that
blends meaning (cosine similarity to the question, same embedding model as
retrieval) with coverage (the IDF-weighted share of the question's content
terms that it, or the sentence just before it, contains: news prose names
the speaker in one sentence and quotes them in the next). Meaning alone rates any sentence about Basra as relevant
to any question about Basra; weighting coverage by rarity means a question
whose key term the corpus never uses ("When did the consulate *reopen*?")
scores low. When no sentence clears the calibrated threshold the answer
abstains and cites nothing.

Selection uses maximal marginal relevance so the reply does not quote the
same claim twice, with a small bonus for an outlet not yet quoted, because
the articles disagree and the reader should see who says what.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.answer.answering import AnswerResult, TokenSink, cite
from app.answer.retrieval import Evidence
from app.schemas import Citation
from app.answer.text import covers, terms
from ingest.outlets import UNKNOWN_OUTLET
from ingest.sentences import split_sentences
from prompts import load_templates
from vectorstore.embeddings import MiniLMEmbeddings

SEMANTIC_WEIGHT = 0.5
MIN_SENTENCE_WORDS = 5
CLOSING = (".", "?", "!", '"', "”", "’", "'", ")")  # headlines and fragments end without these
MMR_LAMBDA = 0.7
NEW_OUTLET_BONUS = 0.05
NEAR_BEST = 0.8  # only sentences within this share of the best score are worth quoting
VECTOR_CACHE_SIZE = 50_000

TermWeight = Callable[[str], float]


@dataclass
class Candidate:
    evidence: Evidence
    text: str
    offset: int  # position of the sentence in the article's cleaned text, for de-duplication
    context: str = ""  # the sentence before it in the chunk, which often names who is speaking
    score: float = 0.0
    vector: np.ndarray | None = None

    @property
    def outlet(self) -> str:
        return self.evidence.outlet


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

    def answer(self, question: str, evidence: list[Evidence], on_token: TokenSink | None = None) -> AnswerResult:
        """Quotes need no generation, so ``on_token`` is not called."""
        candidates = self.score(question, evidence)
        support = max((c.score for c in candidates), default=0.0)
        if support < self.threshold:
            return AnswerResult(self.templates["abstain"], [], True, support, self.backend)
        text, citations = self._compose(self._select(candidates, support))
        return AnswerResult(text, citations, False, support, self.backend)

    def score(self, question: str, evidence: list[Evidence]) -> list[Candidate]:
        """Every distinct quotable sentence of the evidence, with its support score."""
        candidates = _candidates(evidence)
        if not candidates:
            return []
        vectors = self.vectors.encode([question] + [c.text for c in candidates])
        asked = {t: self.term_weight(t) for t in set(terms(question))}
        asked_weight = sum(asked.values())
        for candidate, vector in zip(candidates, vectors[1:], strict=True):
            found = set(terms(f"{candidate.context} {candidate.text}"))
            coverage = sum(w for t, w in asked.items() if covers(t, found)) / asked_weight if asked_weight else 0.0
            candidate.score = float(SEMANTIC_WEIGHT * (vector @ vectors[0]) + (1 - SEMANTIC_WEIGHT) * coverage)
            candidate.vector = vector
        return candidates

    def _select(self, candidates: list[Candidate], best: float) -> list[Candidate]:
        """Maximal marginal relevance among the sentences close to the best one."""
        pool = [c for c in candidates if c.score >= max(self.threshold, best * NEAR_BEST)]
        chosen: list[Candidate] = []

        def marginal(c: Candidate) -> float:
            redundancy = max((float(c.vector @ s.vector) for s in chosen), default=0.0)
            novelty = NEW_OUTLET_BONUS if c.outlet not in {s.outlet for s in chosen} else 0.0
            return MMR_LAMBDA * c.score - (1 - MMR_LAMBDA) * redundancy + novelty

        while pool and len(chosen) < self.max_sentences:
            pick = max(pool, key=marginal)
            chosen.append(pick)
            pool.remove(pick)
        return chosen

    def _compose(self, chosen: list[Candidate]) -> tuple[str, list[Citation]]:
        """One line per outlet (in order of its best quote), quotes numbered in reading order."""
        groups: dict[tuple[str, str], list[Candidate]] = {}
        for candidate in chosen:
            source = candidate.evidence.chunk.metadata["source"]
            key = (candidate.outlet, source if candidate.outlet == UNKNOWN_OUTLET else "")
            groups.setdefault(key, []).append(candidate)
        lines, citations = [], []
        for (outlet, source), members in groups.items():
            lead = (
                self.templates["unknown_outlet_lead"].format(source=source)
                if outlet == UNKNOWN_OUTLET
                else self.templates["outlet_lead"].format(outlet=outlet)
            )
            quotes = []
            for candidate in sorted(members, key=lambda c: (c.evidence.chunk.metadata["source"], c.offset)):
                citations.append(cite(len(citations) + 1, candidate.evidence, candidate.text, candidate.score))
                quotes.append(self.templates["quote"].format(quote=candidate.text, n=len(citations)))
            lines.append(" ".join([lead, *quotes]))
        return "\n".join(lines), citations


def _candidates(evidence: list[Evidence]) -> list[Candidate]:
    """Quotable sentences of the evidence; overlapping chunks repeat sentences, which are kept once.

    Headlines (the stored title, or any line without closing punctuation) and
    fragments under five words are not quotable answers.
    """
    seen: set[tuple[str, int]] = set()
    candidates = []
    for item in evidence:
        meta = item.chunk.metadata
        sentences = split_sentences(item.chunk.text)
        for position, sentence in enumerate(sentences):
            key = (meta["source"], meta["start"] + sentence.start)
            quotable = (
                len(sentence.text.split()) >= MIN_SENTENCE_WORDS
                and sentence.text.endswith(CLOSING)
                and sentence.text != meta.get("title")
            )
            if quotable and key not in seen:
                seen.add(key)
                context = sentences[position - 1].text if position else ""
                candidates.append(Candidate(evidence=item, text=sentence.text, offset=key[1], context=context))
    return candidates
