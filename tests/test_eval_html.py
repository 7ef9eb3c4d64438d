"""The HTML eval report: self-contained, escaped, and readable in a real headless Chromium."""

from __future__ import annotations

from app.eval.evaluation import run_question_set
from app.eval.questionset import load_question_set
from app.eval.report_html import to_html
from app.eval.reports import build_report
from conftest import DATA


def sample_report(newsdesk) -> dict:
    questions = load_question_set(DATA / "questions.yaml")
    return build_report(newsdesk, run_question_set(newsdesk, questions), DATA / "questions.yaml")


def test_article_markup_in_the_report_is_shown_as_text(sample_newsdesk):
    report = sample_report(sample_newsdesk)
    case = report["scored"]["cases"][0]
    case["answer"] = "<script>alert(1)</script> and <img src=x onerror=alert(2)>"
    case["citations"][0]["quote"] = "<b>bold</b>"
    page = to_html(report)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_html_report_opens_in_chromium_offline(sample_newsdesk, page, tmp_path, screenshot_dir):
    report = sample_report(sample_newsdesk)
    html_file = tmp_path / "report.html"
    html_file.write_text(to_html(report), encoding="utf-8")
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(html_file.as_uri())

    summary = report["scored"]["summary"]
    assert page.title() == f"newsdesk eval: {summary['passed']}/{summary['cases']} passed"
    assert page.locator("details.case").count() == summary["cases"]
    cited = sum(len(c["citations"]) for c in report["scored"]["cases"])
    valid = sum(c["valid"] for case in report["scored"]["cases"] for c in case["citations"])
    assert page.locator("li >> .badge:text-is('valid')").count() == valid
    assert page.locator("li >> .badge:text-is('invalid')").count() == cited - valid
    charts = page.locator(".chart svg")
    assert charts.count() == 2 and all(charts.nth(i).bounding_box()["height"] > 100 for i in range(2))
    assert requested == [html_file.as_uri()], "the report must not load anything from elsewhere"

    failing = next((c for c in report["scored"]["cases"] if not c["passed"]), None)
    if failing:  # failed cases open by default, so a reader sees why at once
        assert page.locator(f"#case-{failing['id']}").get_attribute("open") is not None
    page.screenshot(path=screenshot_dir / "eval-report.png", full_page=True)
    assert (screenshot_dir / "eval-report.png").stat().st_size > 10_000
