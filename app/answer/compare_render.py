"""The comparison as people read it: one block per outlet, then "Where they disagree", then the Sources block."""

from __future__ import annotations

from app.answer.render import source_line
from app.schemas import Comparison, Disagreement, OutletSection
from prompts import load_templates


def section_heading(section: OutletSection) -> str:
    """``Press TV (2 articles)``: the outlet and how many of its articles the section quotes."""
    noun = "article" if section.articles == 1 else "articles"
    return load_templates("compare")["section_heading"].format(outlet=section.outlet, articles=section.articles, noun=noun)


def disagreement_line(disagreement: Disagreement) -> str:
    claims = " vs ".join(f"{c.outlet} [{c.citation}]" for c in disagreement.claims)
    return load_templates("compare")["disagreement"].format(about=disagreement.about, claims=claims)


def render_comparison(comparison: Comparison) -> str:
    """Plain text for the CLI; an abstention says the articles do not cover the question and cites nothing."""
    wording = load_templates("compare")
    if comparison.abstained:
        return wording["abstain"]
    blocks = [f"{section_heading(s)}\n{s.answer}" for s in comparison.outlets]
    lines = [disagreement_line(d) for d in comparison.disagreements] or [wording["no_disagreements"]]
    blocks.append("\n".join([wording["disagreements_heading"], *lines]))
    if comparison.silent:
        blocks.append(wording["silent"].format(outlets=", ".join(comparison.silent)))
    blocks.append("\n".join(["Sources:", *(source_line(c) for c in comparison.citations)]))
    return "\n\n".join(blocks)
