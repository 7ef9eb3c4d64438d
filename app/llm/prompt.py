"""The messages sent to a chat model, built from ``prompts/generative.yaml`` and retrieved evidence.

Each retrieved chunk becomes one numbered ``<source>`` block whose outlet,
file, title and date come from stored metadata, so the model can attribute
claims ("According to Press TV ...") and cite ``[n]``. Article text is data:
anything in it that looks like our delimiters is defused, so an article
cannot close its block and speak as the prompt.
"""

from __future__ import annotations

import re
from datetime import date

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from app.answer.retrieval import Evidence
from prompts import load_templates

DELIMITER = re.compile(r"<(/?\s*source\b)", re.IGNORECASE)
ATTRIBUTE_UNSAFE = re.compile(r'["<>\n\r]')


def templates() -> dict[str, str]:
    return load_templates("generative")


def inert_article_text(text: str) -> str:
    """Article text with ``<source``/``</source`` spelled with a look-alike bracket, so it cannot end its block."""
    return DELIMITER.sub(r"‹\1", text)


def _attribute(value: object) -> str:
    return ATTRIBUTE_UNSAFE.sub(" ", str(value)).strip() if value else "unknown"


def published_words(iso_date: str | None) -> str:
    """``2018-09-28`` → ``28 September 2018``, the way answers and articles write dates."""
    if not iso_date:
        return "unknown"
    day = date.fromisoformat(iso_date)
    return f"{day.day} {day:%B %Y}"


def source_blocks(evidence: list[Evidence]) -> str:
    """Numbered blocks in retrieval order; block n is what ``[n]`` in the reply refers to."""
    block = templates()["source_block"]
    return "\n\n".join(
        block.format(
            n=n,
            outlet=_attribute(item.outlet),
            file=_attribute(item.chunk.metadata["source"]),
            title=_attribute(item.chunk.metadata.get("title")),
            published=published_words(item.chunk.metadata.get("published")),
            text=inert_article_text(item.chunk.text),
        )
        for n, item in enumerate(evidence, start=1)
    )


def answer_messages(question: str, evidence: list[Evidence], max_sentences: int) -> list[BaseMessage]:
    t = templates()
    example_outlet = evidence[0].outlet if evidence else "the outlet"
    system = t["system"].format(example_outlet=example_outlet, max_sentences=max_sentences, no_answer=t["no_answer"])
    user = t["user"].format(sources=source_blocks(evidence), question=question, max_sentences=max_sentences)
    return [SystemMessage(system), HumanMessage(t["example_user"]), AIMessage(t["example_assistant"]), HumanMessage(user)]


def condense_messages(question: str, history: list[str]) -> list[BaseMessage]:
    t = templates()
    earlier = "\n".join(f"- {turn}" for turn in history)
    return [SystemMessage(t["condense_system"]), HumanMessage(t["condense_user"].format(history=earlier, question=question))]
