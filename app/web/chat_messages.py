"""Turn an ``Answer`` into chat messages: the reply, then one collapsible source per citation.

Everything shown comes from the answer object, whose citations carry stored
metadata only. Article text and questions are data, so they are escaped
into inert Markdown here: ``<script>`` shows as the characters ``<script>``,
never as markup, in the chat UI and in the embedded widget alike.
"""

from __future__ import annotations

import html
import queue
import re
from urllib.parse import quote
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from gradio import ChatMessage

from app.answer.answering import TokenSink
from app.answer.render import source_line
from app.schemas import Answer, Citation
from ingest.pagemeta import is_web_url

_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]{}#|~$!])")
_URL_SAFE = ":/?#@!$&'*+,;=%~"  # everything else (spaces, brackets, quotes) is percent-encoded
STREAM_WORDS = 4
DRAFT_POLL_S = 0.05
CHECKING_NOTE = "_Draft: checking every sentence against the article it cites…_"


def inert_markdown(text: str) -> str:
    """Text that a Markdown renderer shows character for character, with no HTML and no formatting."""
    return _MARKDOWN_SYNTAX.sub(r"\\\1", html.escape(text, quote=False))


def reply_markdown(text: str) -> str:
    """An answer made inert, except the reply's own bold marks (``**...**``) around the words that answer.

    The extractive answerer never lets an article's own ``**`` through (it collapses them), so every
    pair left is one it placed; everything else, ``<script>`` included, stays characters.
    """
    return inert_markdown(text).replace(r"\*\*", "**")


def source_title(citation: Citation) -> str:
    """The collapsed line: the contract's source line, plus the date when known."""
    line = source_line(citation)
    return f"{line}, {citation.published.isoformat()}" if citation.published else line


def title_markdown(citation: Citation) -> str:
    """The title as a link to the original when its address is http(s), else inert text.

    Gradio's sanitiser gives links to other sites ``target="_blank"`` and
    ``rel="noopener noreferrer"``, in the UI and the widget alike.
    """
    title = inert_markdown(citation.title or citation.url or "")
    if citation.url and is_web_url(citation.url):
        return f"[{title}](<{quote(citation.url, safe=_URL_SAFE)}>)"
    return title


def source_message(citation: Citation) -> ChatMessage:
    """A collapsed "thought" whose title names outlet, title and file, and whose body holds the quote."""
    outlet = citation.outlet + (f" (found by {citation.outlet_basis})" if citation.outlet_basis else "")
    details = [inert_markdown(f"Outlet: {outlet}"), inert_markdown(f"File: {citation.source}")]
    if citation.title or citation.url:
        details.insert(1, "Title: " + title_markdown(citation))
    if citation.published:
        details.append(inert_markdown(f"Published: {citation.published.isoformat()}"))
    body = "  \n".join(details) + "\n\n> " + inert_markdown(citation.quote)
    return ChatMessage(content=body, metadata={"title": inert_markdown(source_title(citation)), "status": "done"})


def check_line(answer: Answer) -> str:
    """How the generated text was checked, e.g. "3 of 4 generated sentences kept: ..."."""
    check = answer.check
    if check is None or not check.kept:  # nothing generated is shown; the notice says why
        return ""
    return (
        f"_{check.kept} of {check.checked} generated sentences kept: each one is supported by the article it cites "
        f"({check.dropped} dropped, {check.marked} marked)._"
    )


def reply_messages(answer: Answer) -> list[ChatMessage]:
    """The finished reply, after a warning when the LLM was not used; an abstention has no sources."""
    notice = [ChatMessage(content="⚠️ " + inert_markdown(answer.notice))] if answer.notice else []
    text = reply_markdown(answer.answer)
    if answer.abstained or not answer.citations:
        return [*notice, ChatMessage(content=text)]
    checked = check_line(answer)
    body = text + (f"\n\n{checked}" if checked else "") + "\n\n**Sources**"
    return [*notice, ChatMessage(content=body), *(source_message(c) for c in answer.citations)]


def streamed_reply(ask: Callable[[TokenSink], Answer]) -> Iterator[list[ChatMessage]]:
    """Stream a reply while ``ask`` computes it in a worker thread, then show the final, checked answer.

    A generative backend's draft is shown as it is written, under a note that
    it is being checked; what the reader ends with is always the checked
    answer, which may differ. An extractive answer arrives whole and is
    revealed a few words at a time. Errors from ``ask`` propagate.
    """
    drafts: queue.Queue[str] = queue.Queue()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsdesk-answer")
    try:
        future = pool.submit(ask, drafts.put)
        draft = ""
        while not (future.done() and drafts.empty()):
            try:
                draft += drafts.get(timeout=DRAFT_POLL_S)
            except queue.Empty:
                continue
            yield [ChatMessage(content=inert_markdown(draft) + "\n\n" + CHECKING_NOTE)]
        answer = future.result()
    finally:
        pool.shutdown(wait=False)  # a reader who presses stop does not wait for the model to finish
    if not draft:
        words = answer.answer.split(" ")
        for end in range(STREAM_WORDS, len(words), STREAM_WORDS):
            yield [ChatMessage(content=reply_markdown(" ".join(words[:end])))]
    yield reply_messages(answer)
