"""What a saved web page says about itself in its markup: publisher, title and address.

Pages declare their publisher in several standard places, and a page from an
outlet the registry does not know still says who it is. trafilatura merges
these into one ``sitename`` guess and loses *where* it came from, so they are
read here directly, each with the name of the place it was found: that name
becomes the article's ``outlet_basis``, which lets a reader judge it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlparse

# Publisher claims in the order they are trusted: structured data first, then meta tags.
JSON_LD_PUBLISHER = "json-ld publisher"
JSON_LD_SOURCE_ORG = "json-ld sourceOrganization"
META_PUBLISHER_TAGS = (("og:site_name", "og:site_name"), ("application-name", "application-name"), ("twitter:site", "twitter:site"))
MAX_JSON_LD_CHARS = 200_000


@dataclass
class PageMeta:
    """Declarations found in a page's markup; ``publishers`` holds (basis, name) in trust order."""

    publishers: list[tuple[str, str]] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    url: str | None = None


def read_page_meta(html: str) -> PageMeta:
    """Publisher claims, title candidates (og:title, JSON-LD headline) and the canonical URL of a page."""
    import lxml.html  # only HTML articles need it; the UI imports this module for ``is_web_url``
    from lxml import etree

    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return PageMeta()
    meta = {}
    for tag in tree.iter("meta"):
        key = (tag.get("property") or tag.get("name") or "").strip().lower()
        if key and key not in meta and (tag.get("content") or "").strip():
            meta[key] = tag.get("content").strip()
    objects = list(_json_ld_objects(tree))
    page = PageMeta()
    for key, basis in ((JSON_LD_PUBLISHER, "publisher"), (JSON_LD_SOURCE_ORG, "sourceOrganization")):
        page.publishers += [(key, name) for obj in objects if (name := _org_name(obj.get(basis)))]
    page.publishers += [(basis, meta[key]) for key, basis in META_PUBLISHER_TAGS if key in meta]
    page.titles = [meta["og:title"]] if "og:title" in meta else []
    page.titles += [obj["headline"].strip() for obj in objects if isinstance(obj.get("headline"), str)]
    canonical = [link.get("href") for link in tree.iter("link") if "canonical" in (link.get("rel") or "").lower().split()]
    page.url = next((u.strip() for u in [*canonical, meta.get("og:url")] if u and is_web_url(u.strip())), None)
    return page


def is_web_url(url: str) -> bool:
    """Only absolute http(s) addresses are links; ``javascript:`` and relative paths are not."""
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)


def _json_ld_objects(tree) -> list[dict]:
    """Every JSON object in the page's JSON-LD blocks, including those inside ``@graph`` lists."""
    found: list[dict] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text[:MAX_JSON_LD_CHARS])
        except ValueError:
            continue
        pending = [data]
        while pending:
            item = pending.pop(0)
            if isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, dict):
                found.append(item)
                pending.extend(item.get("@graph", []) if isinstance(item.get("@graph"), list) else [])
    return found


def _org_name(value) -> str | None:
    """The name of a publisher value: a string, an organisation object, or a list of them."""
    if isinstance(value, list):
        return next((name for item in value if (name := _org_name(item))), None)
    if isinstance(value, dict):
        value = value.get("name")
    return value.strip() if isinstance(value, str) and value.strip() else None
