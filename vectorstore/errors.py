"""What can go wrong with the store itself, as opposed to the user's input.

Both are one sentence a person can act on: the CLI prints it and exits 2,
the HTTP API answers 503, and nothing stored is touched because of them.
"""

from __future__ import annotations


class StoreUnavailable(Exception):
    """The data dir cannot be written, the Chroma server cannot be reached, or the store failed mid-operation."""


class CatalogDamaged(StoreUnavailable):
    """The catalog is missing or unreadable; ``newsdesk repair`` rebuilds it from the stored chunks."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(
            f"the catalog {path} {problem}; nothing was changed, and `newsdesk repair` rebuilds it from the stored chunks"
        )
