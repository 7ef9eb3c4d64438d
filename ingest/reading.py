"""Turn a file on disk into article text plus whatever metadata the file itself declares.

Everything that can be wrong with a file *as a file* (empty, binary, too big,
odd encoding, unsupported type) is decided here, before any cleaning, so the
rest of the pipeline only ever sees text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import frontmatter

from ingest.pagemeta import read_page_meta

ARTICLE_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm"})
HTML_SUFFIXES = frozenset({".html", ".htm"})

# Fields a file (front matter) or a sidecar manifest may set.
DECLARED_FIELDS = ("outlet", "title", "published", "url", "author")


class ArticleRejected(Exception):
    """This file cannot become an article; ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class FileText:
    """A file's article text and what the file declared about itself."""

    text: str
    declared: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    is_html: bool = False
    publishers: list[tuple[str, str]] = field(default_factory=list)  # (where found, name), from page markup
    titles: list[str] = field(default_factory=list)  # title candidates, best first


def read_article_file(path: Path, max_bytes: int) -> FileText:
    """Read, decode and (for HTML) extract one article file, or raise ``ArticleRejected``."""
    if path.suffix.lower() not in ARTICLE_SUFFIXES:
        raise ArticleRejected(f"unsupported file type '{path.suffix or '(none)'}'; use .txt, .md or .html")
    size = path.stat().st_size
    if size == 0:
        raise ArticleRejected("the file is empty")
    if size > max_bytes:
        raise ArticleRejected(f"the file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit (NEWSDESK_MAX_FILE_MB)")
    raw = path.read_bytes()
    if looks_binary(raw):
        raise ArticleRejected("the file looks binary, not text")
    text, notes = decode(raw)
    if path.suffix.lower() in HTML_SUFFIXES:
        return _from_html(text, notes)
    return _from_plain(text, notes)


def looks_binary(raw: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KB mean it is not an article."""
    head = raw[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) * 0.05


def decode(raw: bytes) -> tuple[str, list[str]]:
    """UTF-8 first; scraped files in legacy encodings fall back to Windows-1252, with a note."""
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), ["not valid UTF-8; decoded as Windows-1252/Latin-1"]
    except UnicodeDecodeError:
        return raw.decode("latin-1"), ["not valid UTF-8; decoded as Latin-1"]


def _from_plain(text: str, notes: list[str]) -> FileText:
    """Plain text and Markdown may open with YAML front matter that declares metadata."""
    if not text.lstrip().startswith("---"):
        return FileText(text=text, notes=notes)
    try:
        post = frontmatter.loads(text)
    except Exception as exc:  # python-frontmatter raises yaml errors of several kinds
        raise ArticleRejected(f"the YAML front matter cannot be parsed ({type(exc).__name__})") from exc
    return FileText(text=post.content, declared=declared_fields(post.metadata), notes=notes)


def _from_html(html: str, notes: list[str]) -> FileText:
    """trafilatura drops navigation, comments and footers; the page's own declarations are read from its markup."""
    import trafilatura  # a third of a second to import; only HTML articles need it

    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, include_tables=False)
    if doc is None or not (doc.text or "").strip():
        raise ArticleRejected("no article text found in the HTML")
    page = read_page_meta(html)
    declared = declared_fields({"published": doc.date, "author": doc.author, "url": page.url})
    titles = [title for title in [*page.titles, doc.title] if title and title.strip()]
    text = _drop_repeated_title(doc.text, titles)
    return FileText(text=text, declared=declared, notes=notes, is_html=True, publishers=page.publishers, titles=titles)


def _drop_repeated_title(text: str, titles: list[str]) -> str:
    """trafilatura repeats the <h1> as the first line; the title is kept as metadata instead."""
    first, _, rest = text.partition("\n")
    if any(first.strip() == title.strip() for title in titles):
        return rest
    return text


def declared_fields(meta: dict) -> dict[str, str]:
    """Keep the known, non-empty metadata fields as strings."""
    return {key: str(meta[key]).strip() for key in DECLARED_FIELDS if meta.get(key) not in (None, "")}
