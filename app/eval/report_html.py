"""The HTML evaluation report: one self-contained file a person opens in a browser.

Rendered with Jinja2 with autoescaping on, because answers and quotes are
article text, and article text may hold markup. Charts are inline SVG, so
the file needs no network and no neighbouring files.
"""

from __future__ import annotations

from app.html_pages import render_page
from app.eval.report_charts import latency_chart, tag_chart


def to_html(report: dict) -> str:
    scored, timings = report["scored"], report["timings"]
    summary = scored["summary"]
    return render_page(
        "eval_report.html",
        summary=summary,
        hit_key=next(key for key in summary if key.startswith("hit@")),
        cases=scored["cases"],
        provenance=report["provenance"],
        question_set=report["provenance"].get("question_set", ""),
        latency=timings["latency_ms"],
        timings=timings["cases"],
        baseline=report.get("baseline"),
        tag_chart=tag_chart(summary["by_tag"]),
        latency_chart=latency_chart(timings["cases"]),
    )
