"""Comparing outlets in the chat UI, in a real headless Chromium against ``newsdesk serve``.

Expected cards come from the server's own ``POST /api/compare`` for the same
question and history, never from hard-coded answers.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from test_browser import REPLY_SECONDS, ask_in_chat

QUESTION = "Why did the US close its consulate in Basra?"
FOLLOW_UP = "What did Iraqi officials say about it?"
ROUTED = "How do the outlets differ on who fired the rockets?"


def api_compare(server, question: str, history: list[str] = ()) -> dict:
    body = {"question": question, "history": list(history), "outlets": []}
    return httpx.post(f"{server.url}/api/compare", json=body, timeout=60).json()


def expect_cards(scope, comparison: dict) -> list[dict]:
    """The last reply shows one card per section, headed by its outlet, then a collapsible source per citation."""
    assert comparison["outlets"], "the sample corpus gives at least one section"
    cards = scope.locator("#newsdesk-chat .compare-cards").last.locator(".compare-card")
    expect(cards).to_have_count(len(comparison["outlets"]), timeout=REPLY_SECONDS)
    expect(scope.locator("#question textarea")).to_be_editable()
    for card, section in zip(cards.all(), comparison["outlets"], strict=True):
        expect(card.locator("h4")).to_contain_text(section["outlet"])
        # The reply's bold marks render as bold and its line breaks as <br> (which adds no text).
        expect(card).to_contain_text(section["answer"].replace("**", "").replace("\n", ""))
        expect(card).not_to_contain_text("**")
        if "**" in section["answer"]:
            expect(card.locator("strong").first).to_be_visible()
    titles = scope.locator("#newsdesk-chat .thought-group [role=button]")
    for citation in comparison["citations"]:
        expect(titles.filter(has_text=f"[{citation['id']}] {citation['outlet']}")).not_to_have_count(0)
    return [card.bounding_box() for card in cards.all()]


def test_switch_compares_side_by_side_and_follows_up(sample_server, page: Page, screenshot_dir):
    first = api_compare(sample_server, QUESTION)
    follow_up = api_compare(sample_server, FOLLOW_UP, [QUESTION])
    assert len(first["outlets"]) >= 2 and not follow_up["abstained"]
    page.set_viewport_size({"width": 1280, "height": 1200})
    page.goto(f"{sample_server.url}/")
    page.locator("#compare-switch input").check()
    ask_in_chat(page, QUESTION)
    boxes = expect_cards(page, first)
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["x"] < boxes[1]["x"], "cards side by side on a wide screen"
    expect(page.locator("#newsdesk-chat")).not_to_contain_text("Compared outlet by outlet")
    page.locator("#newsdesk-chat .compare-card").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    heading = page.locator("#newsdesk-chat .compare-card h4").first
    # Gradio's floating block label ignores the pointer, so overlap is read from the boxes of the labels shown.
    covered = """h => { const r = h.getBoundingClientRect();
        return [...document.querySelectorAll('[data-testid="block-label"]')].map(l => l.getBoundingClientRect())
            .some(b => b.width > 1 && b.height > 1 && b.left < r.right && r.left < b.right && b.top < r.bottom && r.top < b.bottom); }"""
    assert not heading.evaluate(covered), "no block label covers the first card's outlet name"
    page.screenshot(path=screenshot_dir / "compare.png")

    ask_in_chat(page, FOLLOW_UP)
    expect(page.locator("#newsdesk-chat .compare-cards")).to_have_count(2, timeout=REPLY_SECONDS)
    expect_cards(page, follow_up)


def test_comparison_question_is_routed_and_stacks_on_a_phone(sample_server, browser):
    comparison = api_compare(sample_server, ROUTED)
    assert len(comparison["outlets"]) >= 2
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{sample_server.url}/")
    expect(page.locator("#compare-switch input")).not_to_be_checked()
    ask_in_chat(page, ROUTED)
    boxes = expect_cards(page, comparison)
    expect(page.locator("#newsdesk-chat")).to_contain_text("Compared outlet by outlet because the question asks")
    assert boxes[0]["x"] == boxes[1]["x"] and boxes[1]["y"] > boxes[0]["y"], "cards stacked on a phone"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
    context.close()
