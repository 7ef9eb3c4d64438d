"""Make a follow-up question stand alone, without an LLM, by carrying the entities of earlier turns.

"What reason did he give for it?" retrieves nothing useful on its own. After
"Who ordered the evacuation of US diplomats from Basra?" it becomes
"What reason did he give for it? (about: ordered evacuation US diplomats
Basra)", which retrieves the passages about Pompeo's stated reason. Turns
are folded in order, so a chain of follow-ups keeps the original topic.

A follow-up that names someone else switches subject: "And what did the
Washington Times say?" after "What did Press TV say about the consulate
closure?" carries the topic ("consulate closure") but not "Press TV", which
it replaces; carrying both made retrieval quote Press TV again. A place
("the harbour in Port Ellis") is not replaced by a newly named person: "What
about Tony Blair?" carries it as a topic word instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.answer.text import WORD, content_words, terms

Condenser = Callable[[str, list[str]], str]  # (question, earlier turns) -> standalone question

# Pronouns that need an antecedent outside the question. Possessives ("its consulate") and
# "that" (mostly a conjunction) are left out: they fire on self-contained questions.
ANAPHORA = frozenset("he she it they him them this these those there".split())
FOLLOW_UP_OPENERS = re.compile(r"^\s*(?:and|but|so|also|what about|how about|what else)\b", re.IGNORECASE)
MAX_CARRIED_WORDS = 12
CARRIED = "(about:"  # opens the carried words; the extractive answerer tells a follow-up's own words from them
# A name: capitalised words in a row ("Press TV", "John Bolton"), not the question's first word.
NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
# Who is speaking in "What did Pompeo say ...": replaced by another speaker even when it is one word.
SPEAKER = re.compile(r"\b(?:did|does|do|has|have)\s+(?:the\s+)?((?:[A-Z][\w'’.-]*\s+)+)(?:say|said|report|write|claim|think)\b")
SPEAKING_VERBS = frozenset({"report", "write", "claim", "think"})  # "say" is already a stop word
# A name right after one of these is a place ("the harbour in Port Ellis"), which a newly named person does not replace.
# "of", "from" and "to" are left out: "the mayor of New York", "a statement from John Bolton", "reporters from The
# Washington Times" name the subject that a follow-up switches.
PLACE_BEFORE = re.compile(r"\b(?:in|at|near|into|outside|across)\s+$", re.IGNORECASE)
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
    switched = _switched(question, context)
    if switched:
        return switched
    asked = set(terms(question))
    replaced = _subject_words(context) if _switches_subject(question) else set()
    # The context is itself a standalone question, "(about: ...)" included; "about" is a stop word.
    carried = [word for word in content_words(context) if terms(word)[0] not in asked and word not in replaced]
    if not carried:
        return question.strip()
    return f"{question.strip()} {CARRIED} {' '.join(carried[:MAX_CARRIED_WORDS])})"


def _switched(question: str, context: str) -> str | None:
    """The earlier question about someone else: "What about John Bolton?" after "What did Pompeo say about Iran?"
    is "What did John Bolton say about Iran?". None when the follow-up asks something new besides the name.
    """
    names = _names(question.strip())
    if not _switches_subject(question) or set(terms(question)) - set(terms(" ".join(names))) - SPEAKING_VERBS:
        return None
    speaker = SPEAKER.search(context)
    multi_word = [name for name in _names(context, places=False) if " " in name]
    old = speaker.group(1).strip() if speaker else (multi_word[0] if multi_word else None)
    return context.replace(old, names[0], 1) if old else None


def _switches_subject(question: str) -> bool:
    """It names someone and has no pronoun pointing back at the earlier subject ("Was *he* aware of Iranian ...")."""
    words = {word.lower() for word in WORD.findall(question)}
    return bool(_names(question.strip())) and not words & ANAPHORA


def _names(text: str, places: bool = True) -> list[str]:
    """Capitalised runs of words; with ``places=False``, not those that follow "in", "at", "from", ... ."""
    return [
        m.group(0) for m in NAME.finditer(text)
        if m.group(0) not in {"I"} and (places or not PLACE_BEFORE.search(text, 0, m.start()))
    ]


def _subject_words(context: str) -> set[str]:
    """The words of the earlier turn that a newly named person or outlet replaces: multi-word names that are not
    places, and speakers."""
    words = {word for name in _names(context, places=False) if " " in name for word in name.split()}
    for match in SPEAKER.finditer(context):
        words.update(match.group(1).split())
    return words
