"""Content terms of a text: the vocabulary that BM25, follow-up condensing and answer scoring share.

Lower-cased word tokens without stop words, with a light plural fold
("diplomats" → "diplomat"), so all three agree on what a question asks about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
# "U.S." and "U.K." are the same terms as "US" and "UK"; split at the dots they were two dropped letters.
DOTTED_ABBREVIATION = re.compile(r"\b((?:[A-Z]\.){2,})")

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been before being below
    between both but by can could did do does doing don't down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is isn't it it's its itself just let me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so some such
    than that that's the their theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours yourself yourselves
    also said says say tell told according did does any much many one ever""".split()
)


def fold(word: str) -> str:
    """Lower-case, drop a possessive and a simple plural 's'."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """Word tokens of ``text``, with dotted abbreviations joined ("U.S." is one word, "US")."""
    return WORD.findall(DOTTED_ABBREVIATION.sub(lambda m: m.group(1).replace(".", "") + " ", text))


def terms(text: str) -> list[str]:
    """Folded content words of ``text``, in order, repeats kept (BM25 counts them)."""
    return [f for word in words(text) if (f := fold(word)) not in STOP_WORDS and len(f) > 1]


def content_words(text: str) -> list[str]:
    """The original spelling of each distinct content word, in order (for readable carried context)."""
    seen, kept = set(), []
    for word in words(text):
        folded = fold(word)
        if folded not in STOP_WORDS and len(folded) > 1 and folded not in seen:
            seen.add(folded)
            kept.append(word)
    return kept


MIN_PREFIX = 3


def covers(term: str, found: set[str]) -> bool:
    """``term`` or an abbreviation/inflection of it is among ``found`` ("col" covers "colonel").

    One word must be a prefix of the other, the shorter at least three letters long.
    """
    if term in found:
        return True
    return any(
        (len(word) >= MIN_PREFIX and term.startswith(word)) or (len(term) >= MIN_PREFIX and word.startswith(term))
        for word in found
    )


def named_outlets(question: str, outlets: Iterable[str]) -> list[str]:
    """The outlets a question names ("What did the Washington Times say?"), with or without a leading "The"."""
    asked = f" {' '.join(WORD.findall(question.casefold()))} "
    named = []
    for outlet in outlets:
        words = " ".join(WORD.findall(outlet.casefold()))
        bare = words[4:] if words.startswith("the ") else words
        if bare and f" {bare} " in asked:
            named.append(outlet)
    return named


def without_outlet_names(text: str, outlets: Iterable[str]) -> str:
    """``text`` without the named outlets: a named outlet says whose account to search, not what it is about."""
    for outlet in outlets:
        bare = re.sub(r"^the\s+", "", outlet, flags=re.IGNORECASE)
        text = re.sub(rf"(?:\bthe\s+)?{re.escape(bare)}", " ", text, flags=re.IGNORECASE)
    return " ".join(text.split())


def message_text(content: object, separator: str = " ") -> str:
    """The text of a chat message: Gradio and chat models give a string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return separator.join(message_text(part, separator) for part in content)
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return ""


DOUBLE_QUOTE = re.compile(r'["“”]')
QUOTE_CLOSERS = frozenset(".,;!?…’'")  # after these a straight quotation mark ends a quote


def nested_quotes(text: str) -> str:
    """Double quotation marks inside a quote, as single ones: the reply wraps each quote in “…”, and a sentence
    that opens with its own quotation mark would otherwise read “"We are… ”. Each mark keeps its place (one
    character for one), so spans found in ``text`` still index the result; the citation keeps the original."""

    def single(match: re.Match) -> str:
        char, at = match.group(), match.start()
        before, after = text[at - 1 : at], text[at + 1 : at + 2]
        # A straight mark opens unless it follows a word or a sentence's end ("no," / "said:"no"), and opens
        # something: one with a space or nothing after it closes.
        opening = char == "“" or (
            char == '"' and not (before.isalnum() or before in QUOTE_CLOSERS) and after != "" and not after.isspace()
        )
        return "‘" if opening else "’"

    return DOUBLE_QUOTE.sub(single, text)
