"""Answers written by a chat model from the retrieved articles, checked sentence by sentence.

The order of work is what keeps it honest:

1. The extractive answerer scores the evidence first. When it would abstain
   (no passage clears the calibrated threshold) the model is not asked at
   all: a fluent answer without support is exactly what must not happen.
2. The model writes a draft from numbered source blocks
   (``app.llm.prompt``), streamed to ``on_token`` for a UI.
3. ``app.llm.support_check`` drops (or marks) every sentence its citations do
   not support and renumbers the rest; citations are built from stored
   metadata.
4. If the model cannot be reached, times out, refuses the key or writes
   nothing supported, the extractive answer stands in, the backend reads
   ``openai+extractive-fallback`` and ``notice`` says why.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from langchain_core.messages import BaseMessage

from app.answer.answering import AnswerResult, TokenSink, named_evidence
from app.answer.extractive import Candidate, ExtractiveAnswerer
from app.llm.backends import LLMBackend, failure_reason
from app.llm.prompt import answer_messages, templates
from app.answer.retrieval import Evidence
from app.llm.support_check import SupportChecker, compose
from app.answer.text import message_text

log = logging.getLogger(__name__)
FALLBACK_SUFFIX = "+extractive-fallback"


class GenerativeAnswerer:
    def __init__(
        self,
        backend: LLMBackend,
        extractive: ExtractiveAnswerer,
        checker: SupportChecker,
        max_sentences: int,
        mark_unsupported: bool = False,
    ) -> None:
        self.llm = backend
        self.extractive = extractive
        self.checker = checker
        self.max_sentences = max_sentences
        self.mark = templates()["unsupported_mark"] if mark_unsupported else None

    def answer(
        self, question: str, evidence: list[Evidence], on_token: TokenSink | None = None, established: Sequence[Candidate] = ()
    ) -> AnswerResult:
        quoted = self.extractive.answer(question, evidence, established=established)
        evidence = named_evidence(question, evidence)[1]  # the model writes from the named outlet's passages only
        if quoted.abstained:
            quoted.backend = self.llm.name
            return quoted
        try:
            draft = self.generate(answer_messages(question, evidence, self.max_sentences), on_token)
        except Exception as error:  # any failure of the model must end in the extractive answer, never a traceback
            log.info("LLM call failed: %r", error)
            return self._fallback(quoted, templates()["fallback_notice"].format(reason=failure_reason(error, self.llm)))
        checked = compose(self.checker.check(draft, evidence), evidence, self.mark)
        if checked.check.kept == 0:
            fallback = self._fallback(quoted, templates()["unsupported_notice"])
            fallback.check = checked.check
            return fallback
        return AnswerResult(
            checked.text, checked.citations, False, quoted.support, self.llm.name, check=checked.check
        )

    def generate(self, messages: list[BaseMessage], on_token: TokenSink | None = None) -> str:
        """The model's full reply, streamed to ``on_token`` piece by piece when given."""
        with self.llm.lock:
            if on_token is None:
                return message_text(self.llm.model.invoke(messages).content, "")
            parts = []
            for chunk in self.llm.model.stream(messages):
                piece = message_text(chunk.content, "")
                if piece:
                    parts.append(piece)
                    on_token(piece)
            return "".join(parts)

    def _fallback(self, quoted: AnswerResult, notice: str) -> AnswerResult:
        quoted.backend = self.llm.name + FALLBACK_SUFFIX
        quoted.notice = notice
        return quoted
