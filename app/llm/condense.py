"""Follow-up questions made standalone by the chat model, with the extractive condenser as fallback.

Only questions that need it are rewritten (``app.answer.condense.is_follow_up``): a
self-contained question goes to retrieval exactly as asked. The model's
rewrite is used only when it looks like a question about the conversation:
one line of reasonable length that keeps at least half of the question's
content words (a small model likes to repeat the earlier question instead)
and carries at least one content word from the earlier turns into it
(otherwise nothing was resolved). Anything else (an answer instead of a question, an
error, a timeout) falls back to ``app.answer.condense.condense``.
"""

from __future__ import annotations

import logging

from app.answer.condense import condense, is_follow_up
from app.llm.generative import GenerativeAnswerer
from app.llm.prompt import condense_messages
from app.answer.text import covers, terms

log = logging.getLogger(__name__)
MAX_REWRITE_CHARS = 300


class LLMCondenser:
    def __init__(self, answerer: GenerativeAnswerer) -> None:
        self.answerer = answerer  # shares the answerer's model and its lock

    def __call__(self, question: str, history: list[str]) -> str:
        if not history or not is_follow_up(question):
            return condense(question, history)
        try:
            rewrite = self.answerer.generate(condense_messages(question, history))
        except Exception as error:  # a failed rewrite must not fail the answer
            log.info("LLM condense failed, using the extractive condenser: %r", error)
            return condense(question, history)
        return rewrite_or_none(rewrite, question, history) or condense(question, history)


def rewrite_or_none(rewrite: str, question: str, history: list[str]) -> str | None:
    """The model's standalone question when it is plausible, else None."""
    line = rewrite.strip().splitlines()[0].strip(' "-*') if rewrite.strip() else ""
    if not line or len(line) > MAX_REWRITE_CHARS:
        return None
    written = set(terms(line))
    asked = set(terms(question))
    kept = sum(covers(term, written) for term in asked)
    carried = set(terms(" ".join(history))) - asked
    return line if carried & written and kept * 2 >= len(asked) else None
