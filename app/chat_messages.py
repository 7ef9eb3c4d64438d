"""Turn an ``Answer`` into chat messages: the reply, then one collapsible source per citation.

Everything shown comes from the answer object, whose citations carry stored
metadata only. Article text and questions are data, so they are escaped
into inert Markdown here: ``<script>`` shows as the characters ``<script>``,
never as markup, in the chat UI and in the embedded widget alike.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from gradio import ChatMessage

from app.render import source_line
from app.schemas import Answer, Citation

_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]{}#|~$!])")
STREAM_WORDS = 4


def inert_markdown(text: str) -> str:
    """Text that a Markdown renderer shows character for character, with no HTML and no formatting."""
    return _MARKDOWN_SYNTAX.sub(r"\\\1", html.escape(text, quote=False))


def source_title(citation: Citation) -> str:
    """The collapsed line: the contract's source line, plus the date when known."""
    line = source_line(citation)
    return f"{line}, {citation.published.isoformat()}" if citation.published else line


def source_message(citation: Citation) -> ChatMessage:
    """A collapsed "thought" whose title names outlet, title and file, and whose body holds the quote."""
    details = [f"Outlet: {citation.outlet}", f"File: {citation.source}"]
    if citation.title:
        details.insert(1, f"Title: {citation.title}")
    if citation.published:
        details.append(f"Published: {citation.published.isoformat()}")
    body = "  \n".join(inert_markdown(d) for d in details) + "\n\n> " + inert_markdown(citation.quote)
    return ChatMessage(content=body, metadata={"title": inert_markdown(source_title(citation)), "status": "done"})


def reply_messages(answer: Answer) -> list[ChatMessage]:
    """The finished reply; an abstention is one plain message with no sources."""
    text = inert_markdown(answer.answer)
    if answer.abstained or not answer.citations:
        return [ChatMessage(content=text)]
    return [ChatMessage(content=text + "\n\n**Sources**"), *(source_message(c) for c in answer.citations)]


def streamed_reply(answer: Answer) -> Iterator[list[ChatMessage]]:
    """The reply text a few words at a time, then the reply with its sources."""
    words = answer.answer.split(" ")
    for end in range(STREAM_WORDS, len(words), STREAM_WORDS):
        yield [ChatMessage(content=inert_markdown(" ".join(words[:end])))]
    yield reply_messages(answer)
