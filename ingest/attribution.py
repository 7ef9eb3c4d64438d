"""Decide an article's outlet from what it declares, and record how (``outlet_basis``).

The order, first hit wins:

1. front matter or a sidecar manifest (a person wrote it down);
2. the page's publisher declarations (JSON-LD ``publisher`` /
   ``sourceOrganization``, ``og:site_name``, ``application-name``,
   ``twitter:site``) that the registry knows;
3. the canonical or declared URL's domain, through the registry;
4. a declared publisher the registry does not know, kept as declared
   (cleaned), because "The Atlantic" is a better answer than ``unknown``;
5. self-identification in the text (datelines, sign-offs, copyright lines).

A registry-known declaration beats an unknown one, so a page whose
``og:site_name`` says "Home" but whose URL is on bbc.co.uk is BBC News.
Declarations come from untrusted pages: anything long, holding markup or
made of no letters is ignored rather than shown.
"""

from __future__ import annotations

import html
import re

from ingest.outlets import UNATTRIBUTED, UNKNOWN_OUTLET, Attribution, OutletRegistry

MAX_NAME_CHARS = 60
MAX_NAME_WORDS = 8
NAME_SEPARATORS = re.compile(r"\s+[|–—:•·-]\s+|\s*\|\s*")
# Parts of a declared site name that describe the page, not the publisher ("Salon | Latest news", "Wired - Home").
GENERIC_PARTS = frozenset(
    {
        "home", "homepage", "home page", "front page", "latest news", "news", "breaking news", "top stories",
        "online", "official site", "official website", "website", "world news", "news and analysis", "latest",
    }
)


def clean_declared_name(name: str) -> str | None:
    """A declared publisher as a plain name, or None when it cannot be one (markup, too long, no letters)."""
    text = html.unescape(name).strip()
    if "<" in text or ">" in text or "{" in text:
        return None
    parts = [part.strip(" .,") for part in NAME_SEPARATORS.split(text)]
    kept = [part for part in parts if part and part.casefold() not in GENERIC_PARTS]
    if not kept:
        return None
    cleaned = re.sub(r"\s+", " ", kept[0])
    if len(cleaned) > MAX_NAME_CHARS or len(cleaned.split()) > MAX_NAME_WORDS or not re.search(r"[^\W\d_]", cleaned):
        return None
    return cleaned


def attribute(
    registry: OutletRegistry,
    text: str,
    front_matter: str | None = None,
    sidecar: str | None = None,
    publishers: list[tuple[str, str]] | None = None,
    url: str | None = None,
) -> tuple[Attribution, list[str]]:
    """The outlet and its basis, plus notes for the ingest report (e.g. an unregistered declared outlet)."""
    for basis, name in (("sidecar", sidecar), ("front matter", front_matter)):
        if name:
            canonical = registry.canonical(name)
            notes = [] if canonical or name.casefold() == UNKNOWN_OUTLET else [
                f"outlet '{name}' is not in the outlet registry; kept as declared"
            ]
            return Attribution(canonical or name.strip(), basis), notes
    claims = [(basis, cleaned) for basis, name in publishers or [] if (cleaned := _claim_name(basis, name))]
    known = next((Attribution(c, basis) for basis, name in claims if (c := registry.canonical(name))), None)
    if known:
        return known, []
    if url and (owner := registry.outlet_for_url(url)):
        return Attribution(owner, "url domain"), []
    unknown = next((Attribution(name, basis) for basis, name in claims if not name.startswith("@")), None)
    if unknown:
        return unknown, [f"outlet '{unknown.outlet}' ({unknown.basis}) is not in the outlet registry; kept as declared"]
    found = registry.detect(text)
    return (found if found.outlet != UNKNOWN_OUTLET else UNATTRIBUTED), []


def _claim_name(basis: str, name: str) -> str | None:
    """Handles stay handles (``@BBCWorld``) for the registry's handle list; other claims are cleaned names."""
    if basis == "twitter:site":
        handle = name.strip()
        return "@" + handle.lstrip("@") if re.fullmatch(r"@?\w{1,30}", handle) else None
    return clean_declared_name(name)
