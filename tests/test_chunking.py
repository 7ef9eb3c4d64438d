"""Chunks respect the token budget and, always, the embedding model's 256-wordpiece limit."""

from __future__ import annotations

import pytest

from ingest import sample_corpus_dir
from ingest.chunking import Chunker, cl100k_counter
from ingest.cleaning import clean_text
from vectorstore.embeddings import MAX_WORDPIECES, ReferenceEncoder


@pytest.fixture(scope="module")
def chunker(embeddings) -> Chunker:
    return Chunker(embeddings.count_wordpieces, MAX_WORDPIECES, max_tokens=200, overlap_sentences=1)


def nasty_text() -> str:
    """Long paragraphs, one enormous sentence, a 3,000-character "word" and non-Latin script."""
    paragraph = "Officials in Basra said on Monday that the protests over water and power would continue. " * 12
    run_on = "and the crowd moved on " * 150 + "."
    blob = "x" * 3000
    arabic = "احتج السكان في البصرة على نقص المياه والكهرباء. " * 40
    return "\n\n".join([paragraph, run_on, blob, arabic, paragraph])


def test_every_chunk_fits_both_limits_and_is_an_exact_slice(chunker, embeddings):
    text = nasty_text()
    chunks = chunker.split(text)
    assert len(chunks) > 10
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert embeddings.count_wordpieces(chunk.text) <= MAX_WORDPIECES
        assert cl100k_counter()(chunk.text) <= 200


def test_the_model_would_see_every_wordpiece(chunker, embeddings):
    """256 includes [CLS] and [SEP]; the model's own tokenizer must agree with our count."""
    longest = max(chunker.split(nasty_text()), key=lambda c: embeddings.count_wordpieces(c.text))
    reference = ReferenceEncoder(embeddings.model_dir, batch_size=8).model  # sentence-transformers, as the model ships
    encoded = reference.tokenizer(longest.text)["input_ids"]
    assert len(encoded) == embeddings.count_wordpieces(longest.text) <= reference.max_seq_length


def test_chunks_cover_the_text_and_overlap_by_a_sentence(chunker):
    text = clean_text((sample_corpus_dir() / "002_aecccf6268888169.txt").read_text())
    chunks = chunker.split(text)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    for previous, current in zip(chunks, chunks[1:]):
        assert current.start < previous.end  # one sentence repeated
        assert current.start > previous.start


def test_no_overlap_when_configured(embeddings):
    chunker = Chunker(embeddings.count_wordpieces, MAX_WORDPIECES, max_tokens=60, overlap_sentences=0)
    chunks = chunker.split(nasty_text())
    for previous, current in zip(chunks, chunks[1:]):
        assert current.start >= previous.end
