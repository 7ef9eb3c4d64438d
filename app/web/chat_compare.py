"""Turn a ``Comparison`` into chat messages: one card per outlet, the disagreements, then the collapsible sources.

The cards are HTML because Markdown has no side-by-side layout; every piece
of text in them (outlet names, quotes, the question) is escaped first, so
article text stays inert, exactly as in ``chat_messages``. The CSS lays the
cards side by side on a wide screen and stacks them on a phone.
"""

from __future__ import annotations

import html
import re

from gradio import ChatMessage

from app.answer.compare_render import disagreement_line, section_heading
from app.schemas import Comparison
from app.web.chat_messages import inert_markdown, source_message
from prompts import load_templates

CARDS_CSS = """
.compare-cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: .6rem; }
.compare-card { border: 1px solid var(--border-color-primary, #ddd); border-radius: 8px; padding: .5rem .75rem; }
.compare-card h4 { margin: 0 0 .35rem 0; font-size: 1rem; }
.compare-card p { margin: 0; }
@media (max-width: 640px) { .compare-cards { grid-template-columns: 1fr; } }
"""


REPLY_BOLD = re.compile(r"\*\*(.+?)\*\*")  # the answerer's marks around the words that answer; an article's own are collapsed


def card_text(answer: str) -> str:
    """A section's text as HTML: escaped first, then the reply's own bold marks and line breaks, as the chat shows them."""
    return REPLY_BOLD.sub(r"<strong>\1</strong>", html.escape(answer)).replace("\n", "<br>")


def cards_html(comparison: Comparison) -> str:
    """The sections as cards, each headed by its outlet and article count."""
    cards = "".join(
        f'<div class="compare-card" data-outlet="{html.escape(s.outlet)}"><h4>{html.escape(section_heading(s))}</h4>'
        f"<p>{card_text(s.answer)}</p></div>"
        for s in comparison.outlets
    )
    return f'<div class="compare-cards">{cards}</div>'


def comparison_messages(comparison: Comparison, routed: bool = False) -> list[ChatMessage]:
    """The finished comparison; ``routed`` adds one line saying why a plain question was compared."""
    wording = load_templates("compare")
    notes = [ChatMessage(content="_" + inert_markdown(wording["routed"]) + "_")] if routed else []
    if comparison.notice:
        notes.append(ChatMessage(content="⚠️ " + inert_markdown(comparison.notice)))
    if comparison.abstained:
        return [*notes, ChatMessage(content=inert_markdown(wording["abstain"]))]
    lines = [disagreement_line(d) for d in comparison.disagreements] or [wording["no_disagreements"]]
    body = [cards_html(comparison), "", f"**{inert_markdown(wording['disagreements_heading'])}**", ""]
    body += [inert_markdown(line) if not line.startswith("- ") else "- " + inert_markdown(line[2:]) for line in lines]
    if comparison.silent:
        body += ["", inert_markdown(wording["silent"].format(outlets=", ".join(comparison.silent)))]
    body += ["", "**Sources**"]
    return [*notes, ChatMessage(content="\n".join(body)), *(source_message(c) for c in comparison.citations)]
