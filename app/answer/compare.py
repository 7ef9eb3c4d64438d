"""Compare outlets: one section per outlet with its own account, the silent outlets, and where they disagree.

Evidence is retrieved **per outlet** (the retriever's outlet filter), not cut
from one pool at top-k, so an outlet with one short article is not crowded
out by an outlet with many. Each section is written by the same answerer as
``ask`` on that outlet's evidence alone, so it is held to the same
abstention bar and cites only that outlet's articles; a generative backend
that fails falls back to quotes for that section alone.

Disagreements are looked for among the sentences each outlet stands behind:
its quoted ones and the other sentences of its evidence that clear the same
bar or echo the comparison's best sentence (``OutletAccount.disputable``). A sentence that is not quoted in its section but holds one side of a
disagreement is cited too, so every claim points at a verbatim quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from time import perf_counter

from app.answer.answering import Answerer, AnswerResult, cite, retrieved_chunk
from app.answer.condense import Condenser
from app.answer.disagreement import Conflict, Statement, find_conflicts
from app.answer.extractive import Candidate, ExtractiveAnswerer, echoes
from app.answer.retrieval import Evidence, HybridRetriever
from app.schemas import Citation, Claim, Comparison, Disagreement, OutletSection
from vectorstore.embeddings import MiniLMEmbeddings

MARKER = re.compile(r"\[(\d+)\]")
DISPUTABLE_PER_OUTLET = 6  # best sentences per outlet that may hold one side of a disagreement


@dataclass
class OutletAccount:
    """What one outlet's evidence gave: its answer and its scored sentences."""

    outlet: str
    evidence: list[Evidence]
    result: AnswerResult
    scored: list[Candidate]

    def disputable(self, anchor: Candidate | None) -> list[Candidate]:
        """The sentences it stands behind: those that clear the bar, and those that echo the comparison's best
        sentence (its account of the established topic in its own words, as its section may quote)."""
        if self.result.abstained:
            return []
        held = [c for c in self.scored if c.clears or (anchor is not None and echoes(c, anchor))]
        return sorted(held, key=lambda c: -c.score)[:DISPUTABLE_PER_OUTLET]


class Comparer:
    def __init__(
        self,
        embeddings: MiniLMEmbeddings,
        retriever: HybridRetriever,
        condenser: Condenser,
        answerer: Answerer,
        extractive: ExtractiveAnswerer,
    ) -> None:
        self.embeddings = embeddings
        self.retriever = retriever
        self.condenser = condenser
        self.answerer = answerer
        self.extractive = extractive

    def compare(self, question: str, subject: str, history: list[str], outlets: list[str]) -> Comparison:
        """``subject``: what ``question`` asks about, without comparison wording; ``outlets``: the names to compare."""
        timings: dict[str, float] = {}
        with _timed(timings, "condense"):
            standalone = self.condenser(subject, history)
        with _timed(timings, "retrieve"):
            vector = self.embeddings.embed_query(standalone)
            evidence = {o: self.retriever.retrieve(standalone, vector, [o]) for o in outlets}
        with _timed(timings, "answer"):
            accounts = [self._account(standalone, o, evidence[o]) for o in outlets if evidence[o]]
            established = [c for a in accounts if not a.result.abstained for c in a.scored if c.clears]
            accounts = self._echoing(standalone, accounts, established)
        with _timed(timings, "disagree"):
            anchor = max(established, key=lambda c: c.rank, default=None)
            comparison = self._assemble(question, standalone, outlets, accounts, anchor)
        timings["total"] = round(sum(timings.values()), 2)
        comparison.timings_ms = timings
        return comparison

    def _account(
        self, question: str, outlet: str, evidence: list[Evidence], established: list[Candidate] | None = None
    ) -> OutletAccount:
        result = self.answerer.answer(question, evidence, established=established or ())
        return OutletAccount(outlet, evidence, result, self.extractive.score(question, evidence))

    def _echoing(self, question: str, accounts: list[OutletAccount], established: list[Candidate]) -> list[OutletAccount]:
        """Each silent outlet answered again with the sentences of the speaking ones that cleared the bar.

        An outlet that tells the event in its own words ("evacuation of U.S. personnel" for "closure")
        misses the question's rarest key term and stays under the bar, though another outlet's sentence
        clearing it shows the question is about something the corpus reports. As for a question naming
        that outlet (``echoes_of_established``), its sentences that echo what cleared the bar are its
        account. When nothing cleared the bar (an unanswerable question) nothing is established.
        """
        if not established:
            return accounts
        return [
            self._account(question, a.outlet, a.evidence, established) if a.result.abstained else a for a in accounts
        ]

    def _assemble(
        self, question: str, standalone: str, outlets: list[str], accounts: list[OutletAccount], anchor: Candidate | None
    ) -> Comparison:
        speaking = [a for a in accounts if not a.result.abstained]
        sections, citations = [], []
        for account in speaking:
            answer, renumbered = renumber(account.result, first_id=len(citations) + 1)
            citations += renumbered
            sections.append(OutletSection(
                outlet=account.outlet, answer=answer, abstained=False, articles=len({c.source for c in renumbered})
            ))
        disagreements = self._disagreements(speaking, citations, anchor)
        backends = sorted({a.result.backend for a in speaking}) or [self.answerer.backend]
        notices = [f"{a.outlet}: {a.result.notice}" for a in speaking if a.result.notice]
        return Comparison(
            question=question,
            standalone_question=standalone,
            abstained=not sections,
            outlets=sections,
            silent=[o for o in outlets if o not in {a.outlet for a in speaking}],
            disagreements=disagreements,
            citations=citations,
            retrieved=[retrieved_chunk(e) for a in accounts for e in a.evidence],
            backend=" / ".join(backends),
            notice=" ".join(notices) or None,
            timings_ms={},
        )

    def _disagreements(
        self, accounts: list[OutletAccount], citations: list[Citation], anchor: Candidate | None
    ) -> list[Disagreement]:
        """Conflicts between the outlets' sentences; a side not yet quoted gets a citation of its own (appended)."""
        statements, candidates = [], {}
        quoted = {(c.chunk_id, c.quote): c.id for c in citations}
        for account in accounts:
            for candidate in account.disputable(anchor):
                key = (candidate.evidence.chunk.metadata["chunk_id"], candidate.text)
                number = quoted.get(key) or -(len(candidates) + 1)  # negative: not cited yet
                candidates[number] = candidate
                statements.append(Statement(account.outlet, number, candidate.text, candidate.vector))
        found = []
        for conflict in find_conflicts(statements):
            claims = [self._claim(side, candidates[side.citation], citations) for side in (conflict.first, conflict.second)]
            found.append(Disagreement(about=conflict.about, claims=claims))
        return found

    @staticmethod
    def _claim(side: Statement, candidate: Candidate, citations: list[Citation]) -> Claim:
        existing = next((c for c in citations if c.chunk_id == candidate.evidence.chunk.metadata["chunk_id"]
                         and c.quote == candidate.text), None)
        if existing is None:
            existing = cite(len(citations) + 1, candidate.evidence, candidate.text, candidate.score)
            citations.append(existing)
        return Claim(outlet=side.outlet, citation=existing.id)


def renumber(result: AnswerResult, first_id: int) -> tuple[str, list[Citation]]:
    """The section's text and citations with ids from ``first_id`` on, so ids are unique across the comparison."""
    mapping = {c.id: first_id + i for i, c in enumerate(result.citations)}
    text = MARKER.sub(lambda m: f"[{mapping.get(int(m.group(1)), m.group(1))}]", result.answer)
    return text, [c.model_copy(update={"id": mapping[c.id]}) for c in result.citations]


class _timed:
    """Adds the block's latency in ms to ``timings[name]``."""

    def __init__(self, timings: dict[str, float], name: str) -> None:
        self.timings, self.name = timings, name

    def __enter__(self) -> None:
        self.started = perf_counter()

    def __exit__(self, *_: object) -> None:
        self.timings[self.name] = round((perf_counter() - self.started) * 1000, 2)
