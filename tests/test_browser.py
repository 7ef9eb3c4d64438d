"""The chat UI, the embed page and the widget, driven in a real headless Chromium against ``newsdesk serve``.

Expected texts come from the server's own JSON API for the same question,
never from hard-coded answers: the browser must show exactly what the chain
produced, with every citation's outlet and file.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from conftest import serve_fixture_folder
from live_server import NewsdeskServer
from test_widget import TITLE, ask, expect_answer, site_with_widget

QUESTION = "Who ordered the evacuation of US diplomats from Basra?"
FOLLOW_UP = "What reason did he give for it?"
UNANSWERABLE = "Who won the 2018 FIFA World Cup?"
REPLY_SECONDS = 60_000  # ms; the first answer in a fresh server may wait for the queue to start


def api_answer(server, question: str, history: list[str] = (), outlets: list[str] = ()) -> dict:
    body = {"question": question, "history": list(history), "outlets": list(outlets)}
    return httpx.post(f"{server.url}/api/ask", json=body, timeout=60).json()


def ask_in_chat(scope, question: str) -> None:
    """Type into the chat box of a page, a frame or a widget, and send it."""
    box = scope.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def shown(text: str) -> str:
    """The text of an answer as rendered: ``**`` marks become bold and line breaks ``<br>``, neither shows characters."""
    return text.replace("**", "").replace("\n", "")


def expect_reply(scope, answer: dict) -> None:
    """The last reply shows the answer text, then one source element per citation naming outlet and file."""
    chat = scope.locator("#newsdesk-chat")
    expect(chat).to_contain_text(shown(answer["answer"]), timeout=REPLY_SECONDS)
    if "**" in answer["answer"]:  # the words that answer are shown in bold, not as asterisks
        expect(chat.locator("strong").first).to_be_visible()
    expect(scope.locator("#question textarea")).to_be_editable()  # the chat has finished updating
    titles = chat.locator(".thought-group [role=button]")
    for citation in answer["citations"]:
        expect(titles.filter(has_text=f"[{citation['id']}] {citation['outlet']}")).not_to_have_count(0)
        expect(titles.filter(has_text=citation["source"])).not_to_have_count(0)


def test_chat_answers_with_outlet_file_and_expandable_quote(sample_server, page: Page, screenshot_dir):
    answer = api_answer(sample_server, QUESTION)
    assert answer["citations"], "the sample corpus answers this question"
    page.set_viewport_size({"width": 1200, "height": 1100})  # the whole page, so the screenshot needs no resize
    page.goto(f"{sample_server.url}/")
    ask_in_chat(page, QUESTION)
    expect_reply(page, answer)

    first = answer["citations"][0]
    source = page.locator("#newsdesk-chat .thought-group").first
    expect(source).not_to_contain_text(first["quote"])  # collapsed until asked for
    source.locator("[role=button]").click()
    quote = source.get_by_text(first["quote"][:60])
    expect(quote).to_be_visible()
    # The source slides open; screenshot once it has its full height.
    quote.element_handle().wait_for_element_state("stable")
    source.locator(".content").evaluate("el => new Promise(done => el.getAnimations().length ? "
                                        "Promise.all(el.getAnimations().map(a => a.finished)).then(done) : done())")
    page.screenshot(path=screenshot_dir / "chat.png")


def test_unanswerable_question_shows_the_refusal_and_no_sources(sample_server, page: Page):
    answer = api_answer(sample_server, UNANSWERABLE)
    assert answer["abstained"]
    page.goto(f"{sample_server.url}/")
    ask_in_chat(page, UNANSWERABLE)
    expect(page.locator("#newsdesk-chat")).to_contain_text(answer["answer"], timeout=REPLY_SECONDS)
    expect(page.locator("#newsdesk-chat .thought-group")).to_have_count(0)
    expect(page.locator("#newsdesk-chat")).not_to_contain_text("Sources")


def test_follow_up_uses_the_conversation(sample_server, page: Page):
    first = api_answer(sample_server, QUESTION)
    follow_up = api_answer(sample_server, FOLLOW_UP, history=[QUESTION])
    assert not follow_up["abstained"] and api_answer(sample_server, FOLLOW_UP)["abstained"]
    page.goto(f"{sample_server.url}/")
    ask_in_chat(page, QUESTION)
    expect_reply(page, first)
    ask_in_chat(page, FOLLOW_UP)
    expect_reply(page, follow_up)


def test_outlet_filter_and_article_list(sample_server, page: Page):
    sources = httpx.get(f"{sample_server.url}/api/sources").json()
    outlet = sorted({s["outlet"] for s in sources})[0]
    question = "Why did the US close its consulate in Basra?"
    answer = api_answer(sample_server, question, outlets=[outlet])
    assert {c["outlet"] for c in answer["citations"]} <= {outlet}
    page.goto(f"{sample_server.url}/")
    page.locator("#outlet-filter label").filter(has_text=outlet).first.click()
    ask_in_chat(page, question)
    expect_reply(page, answer)

    page.locator("#articles").click()
    for record in sources:
        expect(page.locator("#articles")).to_contain_text(record["source"])


def test_example_questions_can_be_clicked(sample_server, page: Page):
    page.goto(f"{sample_server.url}/")
    example = page.locator("#newsdesk-chat button.example").first
    question = example.inner_text().strip()
    expected = api_answer(sample_server, question)  # asked first: the comparison is not two answers racing
    example.click()
    expect_reply(page, expected)


def test_phone_width_layout(sample_server, browser, screenshot_dir):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{sample_server.url}/")
    expected = api_answer(sample_server, QUESTION)
    ask_in_chat(page, QUESTION)
    expect_reply(page, expected)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling on a phone"
    expect(page.locator("#question textarea")).to_be_in_viewport()
    page.screenshot(path=screenshot_dir / "chat-phone.png", full_page=True)
    context.close()


def test_embed_page_shows_snippets_and_a_live_widget(sample_server, page: Page, screenshot_dir):
    page.goto(f"{sample_server.url}/embed")
    expect(page.locator("#snippet-web-component")).to_contain_text(f'<gradio-app src="{sample_server.url}/">')
    expect(page.locator("#snippet-iframe")).to_contain_text(f'<iframe src="{sample_server.url}/"')
    widget = page.locator(".widget gradio-app")
    expected = api_answer(sample_server, QUESTION)
    ask_in_chat(widget, QUESTION)
    expect_reply(widget, expected)
    page.screenshot(path=screenshot_dir / "embed.png", full_page=True)


def site_page(sample_server, page: Page, site) -> str:
    """A site owner's page holding both snippets exactly as /embed shows them."""
    page.goto(f"{sample_server.url}/embed")
    snippets = page.locator("#snippet-web-component").inner_text() + "\n" + page.locator("#snippet-iframe").inner_text()
    return site.publish("news.html", f"<!doctype html><html><head><meta charset='utf-8'><title>Site</title></head>"
                                     f"<body><h1>A site owner's page</h1>{snippets}</body></html>")


def test_widget_on_an_allowed_site_answers_with_citations(sample_server, other_sites, page: Page):
    page.goto(site_page(sample_server, page, other_sites[0]))
    widget = page.locator("gradio-app")
    expected = api_answer(sample_server, QUESTION)
    ask_in_chat(widget, QUESTION)
    expect_reply(widget, expected)
    framed = page.frame_locator("iframe")
    ask_in_chat(framed, QUESTION)
    expect_reply(framed, expected)


def test_widget_on_a_site_not_allowed_is_refused(sample_server, other_sites, page: Page):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    page.goto(site_page(sample_server, page, other_sites[1]))
    for _ in range(120):  # the browser reports both refusals within a few seconds; wait up to 30 s
        if any("CORS policy" in e for e in errors) and any("frame-ancestors" in e for e in errors):
            break
        page.wait_for_timeout(250)
    assert any("CORS policy" in e for e in errors), errors
    assert any("frame-ancestors" in e for e in errors), errors
    assert page.locator("gradio-app #question").count() == 0
    assert page.frame_locator("iframe").locator("#question").count() == 0


@pytest.mark.parametrize("path", ["/", "/embed"])
def test_markup_in_articles_is_shown_as_text_and_never_runs(hostile_server, page: Page, path):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    [record] = httpx.get(f"{hostile_server.url}/api/sources").json()
    assert "<script>" in record["title"]
    question = "Why did the harbor council raise ferry fares?"
    answer = api_answer(hostile_server, question)
    assert "<img" in answer["answer"] or any("<" in c["quote"] for c in answer["citations"])

    page.goto(f"{hostile_server.url}{path}")
    scope = page.locator(".widget gradio-app") if path == "/embed" else page
    ask_in_chat(scope, question)
    expect_reply(scope, answer)  # the raw characters, < and > included, are visible as text
    for toggle in scope.locator("#newsdesk-chat .thought-group [role=button]").all():
        toggle.click()
        toggle.hover()
    expect(scope.locator("#newsdesk-chat")).to_contain_text(record["title"])
    if path == "/":
        page.locator("#articles").click()
        expect(page.locator("#articles")).to_contain_text(record["title"])
    page.mouse.move(10, 10)
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert page.locator("#newsdesk-chat img, #newsdesk-chat script, #newsdesk-chat b[onmouseover]").count() == 0


@pytest.fixture(scope="module")
def llm_chat_server(tmp_path_factory, llm_server):
    """``newsdesk serve`` answering with SmolLM2 through the real llama_cpp.server."""
    folder = tmp_path_factory.mktemp("llm-chat")
    env = llm_server.env(NEWSDESK_LLM_MAX_TOKENS="160", NEWSDESK_LLM_TIMEOUT_S="120")
    server = NewsdeskServer.start(folder / "data", folder / "serve.log", **env)
    yield server
    server.stop()


def test_chat_with_an_llm_streams_a_draft_then_shows_the_checked_answer(llm_chat_server, page: Page, screenshot_dir):
    page.goto(llm_chat_server.url)
    ask_in_chat(page, QUESTION)
    chat = page.locator("#newsdesk-chat")
    expect(chat).to_contain_text("Draft: checking every sentence", timeout=REPLY_SECONDS)  # the model's words stream in
    expect(page.locator("#question textarea")).to_be_editable(timeout=REPLY_SECONDS)
    answer = api_answer(llm_chat_server, QUESTION)  # temperature 0: the API gives the same checked answer
    assert answer["backend"] in ("openai", "openai+extractive-fallback") and answer["check"]["checked"] >= 1
    expect_reply(page, answer)
    expect(chat).not_to_contain_text("Draft: checking every sentence")  # what the reader ends with is checked
    if answer["notice"]:
        expect(chat).to_contain_text(answer["notice"])
        expect(chat).not_to_contain_text("generated sentences kept")
    else:
        expect(chat).to_contain_text(f"{answer['check']['kept']} of {answer['check']['checked']} generated sentences kept")
    if screenshot_dir:
        page.screenshot(path=str(screenshot_dir / "chat-llm.png"), full_page=True)


@pytest.fixture(scope="module")
def pages_server(tmp_path_factory, other_sites):
    """A store of saved web pages that declare their publisher and address in different ways; the widget may use it."""
    yield from serve_fixture_folder(tmp_path_factory, "pages", NEWSDESK_ALLOWED_ORIGINS=other_sites[0].origin)


def test_source_titles_link_to_the_original_and_outlet_bases_are_shown(pages_server, other_sites, page: Page):
    sources = httpx.get(f"{pages_server.url}/api/sources").json()
    answer = api_answer(pages_server, "Which bridges need repairs according to the transport ministry?")
    linked = next(c for c in answer["citations"] if c["url"])
    page.goto(f"{pages_server.url}/")
    ask_in_chat(page, "Which bridges need repairs according to the transport ministry?")
    expect_reply(page, answer)
    for toggle in page.locator("#newsdesk-chat .thought-group [role=button]").all():
        toggle.click()
    link = page.locator(f'#newsdesk-chat a[href="{linked["url"]}"]').first
    expect(link).to_have_text(linked["title"])
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(page.locator("#newsdesk-chat")).to_contain_text(f"found by {linked['outlet_basis']}")
    assert page.locator("#newsdesk-chat a[href^='javascript']").count() == 0

    page.locator("#articles").click()
    for record in sources:
        expect(page.locator("#articles")).to_contain_text(record["outlet_basis"])

    page.goto(site_with_widget(pages_server, other_sites[0], "pages-widget.html"))
    page.get_by_role("button", name=TITLE).click()
    ask(page, "Which bridges need repairs according to the transport ministry?")
    expect_answer(page, answer)
    link = page.locator(f'#newsdesk-widget a[href="{linked["url"]}"]').first
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(page.locator("#newsdesk-widget .msg").last).to_contain_text(f"found by {linked['outlet_basis']}")
