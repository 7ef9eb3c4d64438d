"""The reply people read: the answer, then a Sources block naming outlet, title and file per citation."""

from __future__ import annotations

from app.schemas import Answer, Citation


def source_line(citation: Citation) -> str:
    """``[1] Press TV, "US closes its consulate in Iraq's Basra", 004_11a4c25ae7ed3fe9.txt``."""
    parts = [citation.outlet]
    if citation.title:
        parts.append(f'"{citation.title}"')
    parts.append(citation.source)
    return f"[{citation.id}] " + ", ".join(parts)


def render_reply(answer: Answer) -> str:
    """Answer text plus one Sources line per citation; an abstention has no Sources block."""
    if not answer.citations:
        return answer.answer
    return "\n".join([answer.answer, "", "Sources:", *(source_line(c) for c in answer.citations)])
