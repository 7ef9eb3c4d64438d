"""Sentence spans with character offsets, shared by the chunker and the extractive answerer.

pysbd knows that "Mr. Mahjoub", "U.S. consulate" and "Col. Ryan" do not end
sentences, which a regex splitter gets wrong on exactly this kind of text.
Offsets point into the cleaned text so that every quote can be traced back
verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Span:
    """``text`` equals ``source[start:end]`` of the text it was cut from."""

    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def paragraphs(text: str) -> list[Span]:
    """Blank-line-separated blocks, stripped, with offsets."""
    spans, start = [], 0
    for match in [*PARAGRAPH_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        spans.extend(_stripped(text, start, end))
        start = match.end() if match else end
    return spans


def split_sentences(text: str) -> list[Span]:
    """Sentences of every paragraph, in order; a sentence never crosses a paragraph break."""
    sentences = []
    for para in paragraphs(text):
        cursor = para.start
        for piece in _segmenter().segment(para.text):
            found = text.find(piece.sent.strip(), cursor)
            if found < 0:  # pysbd normalised something; fall back to its own offsets
                found = para.start + piece.start
            sentences.extend(_stripped(text, found, found + len(piece.sent.strip())))
            cursor = max(cursor, found + len(piece.sent.strip()))
    return sentences


def _stripped(text: str, start: int, end: int) -> list[Span]:
    """The span without surrounding whitespace, or nothing if it is blank."""
    chunk = text[start:end]
    if not chunk.strip():
        return []
    lead = len(chunk) - len(chunk.lstrip())
    trail = len(chunk) - len(chunk.rstrip())
    return [Span(text=chunk.strip(), start=start + lead, end=end - trail)]
