"""The Gradio chat UI: a chat with streamed, cited replies, an outlet filter and the list of articles.

It calls the same ``Newsdesk.ask`` as the CLI and the HTTP API. The chat
function is a generator, so replies stream; Gradio's queue runs at most
``NEWSDESK_UI_CONCURRENCY`` answers at once, because answering is CPU-bound
and more parallel work than cores only makes every reply slower.
"""

from __future__ import annotations

from collections.abc import Iterator

import gradio as gr

from app.web.chat_compare import CARDS_CSS, comparison_messages
from app.web.chat_messages import inert_markdown, streamed_reply
from app.web.examples import example_questions
from app.errors import BadInput
from app.answer.text import message_text
from app.service import MAX_HISTORY_TURNS, Newsdesk
from vectorstore.catalog import ArticleRecord
from vectorstore.store import StoreUnavailable

CHAT_API_NAME = "ask"
ARTICLE_COLUMNS = ["outlet", "outlet found by", "title", "file", "date"]
CSS = """
#newsdesk-chat { min-height: 420px; }
@media (max-width: 640px) { .gradio-container { padding: 4px !important; } }
""" + CARDS_CSS


def earlier_questions(history: list[dict]) -> list[str]:
    """The user's earlier turns, oldest first: what follow-up questions are condensed with."""
    questions = [message_text(m.get("content")) for m in history if m.get("role") == "user"]
    return [q for q in questions if q.strip()][-MAX_HISTORY_TURNS:]


def article_rows(records: list[ArticleRecord]) -> list[list[str]]:
    """One row per article; how its outlet was found lets a reader judge the attribution."""
    return [[r.outlet, r.outlet_basis, r.title or "(no title)", r.source, str(r.published or "")] for r in records]


def build_ui(newsdesk: Newsdesk) -> gr.Blocks:
    records = newsdesk.sources()
    outlets = sorted({r.outlet for r in records})

    def respond(
        message: str, history: list[dict], chosen_outlets: list[str] | None, compare: bool
    ) -> Iterator[list[gr.ChatMessage]]:
        yield [gr.ChatMessage(content="", metadata={"title": "Searching the articles…", "status": "pending"})]
        earlier = earlier_questions(history)
        try:
            routed = not compare and newsdesk.wants_comparison(message)
            if compare or routed:
                yield comparison_messages(newsdesk.compare(message, earlier, chosen_outlets or []), routed=routed)
            else:
                yield from streamed_reply(lambda on_token: newsdesk.ask(message, earlier, chosen_outlets or [], on_token))
        except (BadInput, StoreUnavailable) as error:
            yield [gr.ChatMessage(content="⚠️ " + inert_markdown(getattr(error, "message", str(error))))]

    def refresh() -> tuple[dict, list[list[str]]]:
        """Re-read the catalog on page load, so articles ingested while serving appear (or keep the list if the
        store is down: the chat then says why)."""
        try:
            current = newsdesk.sources()
        except StoreUnavailable:
            return gr.update(), gr.update()
        choices = sorted({r.outlet for r in current})
        return gr.update(choices=choices), article_rows(current)

    with gr.Blocks(title="newsdesk", fill_height=True, analytics_enabled=False) as demo:
        gr.Markdown(
            "## newsdesk\nAsk about the loaded news articles. Every claim names the outlet and the article file it "
            "comes from; when the articles do not answer, the reply says so."
        )
        with gr.Row(equal_height=True):
            outlet_filter = gr.CheckboxGroup(
                choices=outlets, label="Only answer from these outlets (none ticked: all outlets)", elem_id="outlet-filter",
                scale=4,
            )
            compare_switch = gr.Checkbox(
                label="Compare outlets", value=False, elem_id="compare-switch", scale=1,
                info="One card per outlet, and where they disagree.",
            )
        chatbot = gr.Chatbot(
            # No floating block label: it sat over the first line of the reply (a compare card's outlet). Screen
            # readers name the log by Gradio's own aria-label ("chatbot conversation").
            elem_id="newsdesk-chat", label="newsdesk", show_label=False, sanitize_html=True, render_markdown=True, allow_tags=False,
            latex_delimiters=[], group_consecutive_messages=True, height="60vh", buttons=["copy"],
        )
        gr.ChatInterface(
            respond,
            chatbot=chatbot,
            textbox=gr.Textbox(placeholder="Ask a question about the articles…", elem_id="question", submit_btn=True, stop_btn=True),
            additional_inputs=[outlet_filter, compare_switch],
            # ``None`` for the outlet filter keeps the examples as buttons inside the empty chat.
            examples=[[q, None, None] for q in example_questions(newsdesk.store, records, newsdesk.settings.example_questions)] or None,
            run_examples_on_click=True,
            api_name=CHAT_API_NAME,
            fill_height=True,
            autofocus=False,
        )
        with gr.Accordion(f"Loaded articles ({len(records)})", open=False, elem_id="articles"):
            table = gr.Dataframe(
                value=article_rows(records), headers=ARTICLE_COLUMNS, datatype=["str"] * len(ARTICLE_COLUMNS), interactive=False, wrap=True,
            )
        demo.load(refresh, outputs=[outlet_filter, table], api_visibility="private")
    return demo
