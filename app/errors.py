"""The one exception type that means "the user gave us something we cannot use".

The CLI turns it into a single sentence on stderr and exit code 2; the HTTP
API turns it into a 4xx. Anything else is a bug and is allowed to surface.
"""

from __future__ import annotations


class BadInput(Exception):
    """A bad file, question, setting or request, described in one sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TooLarge(BadInput):
    """Input over a size limit; the HTTP API answers it with 413 rather than 422."""
