"""Example questions for the empty chat, made from what the articles say, or set by the site owner.

A title cut at a comma made "What does Press TV report about US closes its
consulate in Iraq’s Basra?". A reader asks about the *subject* of a story, so
each example names the subject of an article's first sentence, the words
before its first verb: "What does The Washington Times report about a top
Iraqi diplomat?". ``NEWSDESK_EXAMPLE_QUESTIONS`` replaces them.
"""

from __future__ import annotations

import re

from ingest.outlets import UNKNOWN_OUTLET
from ingest.sentences import split_sentences
from vectorstore.catalog import ArticleRecord
from vectorstore.store import ChunkStore

EXAMPLE_COUNT = 3
MAX_SUBJECT_WORDS = 8
VERB = re.compile(
    r"^(?:is|are|was|were|has|have|had|will|would|could|can|may|might|should|must|says|said|told|plans|wants|"
    r"[a-z]+ed)$"
)
TRAILING_ADVERBS = {"now", "also", "already", "still", "recently", "today", "on", "in", "at"}
DETERMINERS = {"The", "A", "An", "This", "These", "Those"}


def subject(sentence: str, outlet: str) -> str | None:
    """The words before the sentence's first verb, or None when there is no short subject."""
    text = re.sub(rf"^\s*{re.escape(outlet)}\s*[-–—:]\s*", "", sentence) if outlet != UNKNOWN_OUTLET else sentence
    words = text.split()
    end = next((i for i, word in enumerate(words) if VERB.match(word)), None)
    if not end:
        return None
    found = words[:end]
    while found and found[-1].lower() in TRAILING_ADVERBS:
        found.pop()
    if not found or len(found) > MAX_SUBJECT_WORDS:
        return None
    if found[0] in DETERMINERS or (len(found) > 1 and found[1].islower() and not found[0].isupper()):
        found[0] = found[0].lower()
    return " ".join(found).rstrip(",;:")


def first_sentence(store: ChunkStore, record: ArticleRecord) -> str | None:
    """The article's first full sentence after its title (headlines and short fragments are skipped)."""
    where = {"$and": [{"chunk_id": f"{record.source}#0"}, {"version": record.version}]}
    for chunk in store.iter_chunks(where):
        for sentence in split_sentences(chunk.text):
            text = sentence.text
            if text != record.title and len(text.split()) >= 5 and text.endswith((".", "!", "”", '"')):
                return text
    return None


def example_questions(store: ChunkStore, records: list[ArticleRecord], configured: list[str]) -> list[str]:
    """The site owner's questions, or up to three about the subjects of articles, one per outlet first."""
    if configured:
        return configured
    first_of_outlet = list({r.outlet: r for r in reversed(records)}.values())[::-1]
    examples: list[str] = []
    for record in first_of_outlet + [r for r in records if r not in first_of_outlet]:
        if len(examples) >= EXAMPLE_COUNT:
            break
        sentence = first_sentence(store, record)
        topic = subject(sentence, record.outlet) if sentence else None
        if topic:
            who = "do the articles say" if record.outlet == UNKNOWN_OUTLET else f"does {record.outlet} report"
            examples.append(f"What {who} about {topic}?")
    return examples
