"""Make a follow-up question stand alone, without an LLM, by carrying the entities of earlier turns.

"What reason did he give for it?" retrieves nothing useful on its own. After
"Who ordered the evacuation of US diplomats from Basra?" it becomes
"What reason did he give for it? (about: ordered evacuation US diplomats
Basra)", which retrieves the passages about Pompeo's stated reason. Turns
are folded in order, so a chain of follow-ups keeps the original topic.
"""

from __future__ import annotations

import re

from app.answer.text import WORD, content_words, terms

# Pronouns that need an antecedent outside the question. Possessives ("its consulate") and
# "that" (mostly a conjunction) are left out: they fire on self-contained questions.
ANAPHORA = frozenset("he she it they him them this these those there".split())
FOLLOW_UP_OPENERS = re.compile(r"^\s*(?:and|but|so|also|what about|how about|what else)\b", re.IGNORECASE)
MAX_CARRIED_WORDS = 12
SHORT_QUESTION_TERMS = 2


def is_follow_up(question: str) -> bool:
    """Pronouns that point back, a continuing opener, or too few content words to stand alone."""
    words = {word.lower() for word in WORD.findall(question)}
    return bool(words & ANAPHORA) or bool(FOLLOW_UP_OPENERS.match(question)) or len(terms(question)) <= SHORT_QUESTION_TERMS


def condense(question: str, history: list[str]) -> str:
    """The standalone form of ``question`` given earlier user turns (oldest first)."""
    context: str | None = None
    for turn in history:
        context = _standalone(turn, context)
    return _standalone(question, context)


def _standalone(question: str, context: str | None) -> str:
    if not context or not is_follow_up(question):
        return question.strip()
    asked = set(terms(question))
    # The context is itself a standalone question, "(about: ...)" included; "about" is a stop word.
    carried = [word for word in content_words(context) if terms(word)[0] not in asked]
    if not carried:
        return question.strip()
    return f"{question.strip()} (about: {' '.join(carried[:MAX_CARRIED_WORDS])})"
