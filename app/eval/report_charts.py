"""Charts for the HTML evaluation report, drawn with matplotlib as inline SVG.

SVG keeps the report one self-contained file (no CDN, no image files), and
a fixed hash salt and no date metadata keep the markup stable between runs.
matplotlib is imported lazily so that only ``eval -o report.html`` pays for it.
"""

from __future__ import annotations

import io

PASS_COLOUR = "#2e7d32"
FAIL_COLOUR = "#c62828"
STAGE_COLOURS = ("#1565c0", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.hashsalt": "newsdesk", "svg.fonttype": "none", "font.size": 9})
    import matplotlib.pyplot as plt

    return plt


def _to_svg(figure) -> str:
    """The figure as an ``<svg>`` element, without the XML prologue, for inlining."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _stacked_bars(labels: list[str], series: list[tuple[str, str, list[float]]], xlabel: str, integer: bool) -> str:
    """Horizontal stacked bars, one row per label; ``series`` is (name, colour, values) per segment."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 0.28 * len(labels) + 1.2))
    left = [0.0] * len(labels)
    for name, colour, values in series:
        axes.barh(labels, values, left=left, color=colour, label=name)
        left = [a + b for a, b in zip(left, values)]
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    axes.xaxis.get_major_locator().set_params(integer=integer)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    try:
        return _to_svg(figure)
    finally:
        plt.close(figure)


def latency_chart(case_timings: dict[str, dict[str, float]]) -> str:
    """One bar per case: the time spent in each chain stage."""
    ids = list(case_timings)
    stages = list(dict.fromkeys(stage for t in case_timings.values() for stage in t if stage != "total"))
    series = [
        (stage, STAGE_COLOURS[i % len(STAGE_COLOURS)], [case_timings[c].get(stage, 0.0) for c in ids])
        for i, stage in enumerate(stages)
    ]
    return _stacked_bars(ids, series, "latency (ms)", integer=False)


def tag_chart(by_tag: dict[str, dict[str, int]]) -> str:
    """Passed and failed cases per tag."""
    tags = list(by_tag)
    series = [
        ("passed", PASS_COLOUR, [by_tag[t]["passed"] for t in tags]),
        ("failed", FAIL_COLOUR, [by_tag[t]["failed"] for t in tags]),
    ]
    return _stacked_bars(tags, series, "cases", integer=True)
