"""What can go wrong with the store itself, as opposed to the user's input.

Both are one sentence a person can act on: the CLI prints it and exits 2,
the HTTP API answers 503, and nothing stored is touched because of them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


class StoreUnavailable(Exception):
    """The data dir cannot be written, the Chroma server cannot be reached, or the store failed mid-operation."""


class CatalogDamaged(StoreUnavailable):
    """The catalog is missing or unreadable; ``newsdesk repair`` rebuilds it from the stored chunks."""

    def __init__(self, what: object, problem: str) -> None:
        super().__init__(
            f"the catalog {what} {problem}; nothing was changed, and `newsdesk repair` rebuilds it from the stored chunks"
        )


def chroma_failure_types() -> tuple[type[Exception], ...]:
    """What Chroma raises when its server is down or dying, or its disk is full: transport errors, its own error
    types, and (for the local database) OS and SQLite errors. Anything else is a bug and surfaces as one.
    Imported here, not at the top, so that modules that never touch vectors never import chromadb."""
    import httpx
    from chromadb.errors import ChromaError

    return (ChromaError, httpx.HTTPError, OSError, sqlite3.Error)


@contextmanager
def chroma_failures(action: str, consequence: str = "") -> Iterator[None]:
    """Turn a failing store into ``StoreUnavailable``: one sentence naming what was being done (and what it left)."""
    try:
        yield
    except StoreUnavailable:
        raise
    except Exception as error:
        if not isinstance(error, chroma_failure_types()):
            raise
        detail = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        tail = f"; {consequence}" if consequence else ""
        raise StoreUnavailable(f"the Chroma store failed while {action} ({detail}){tail}") from error
