"""The Jinja2 environment for newsdesk's own HTML (eval report, embed page), autoescaping on.

One environment, so every page escapes article text the same way.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

templates = Environment(
    loader=PackageLoader("app", "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True
)


def render_page(name: str, **context: object) -> str:
    return templates.get_template(name).render(**context)
