"""MiniLM on onnxruntime: the same vectors as sentence-transformers, without importing torch.

Each text is tokenised once by the fast Rust tokenizer; texts are sorted by
wordpiece count and cut into batches of at most ``TOKENS_PER_BATCH`` padded
wordpieces, so a batch holds texts of about one length and little padding is
computed (the transformer spends as much on a pad as on a word). The token
embeddings are mean-pooled and normalised exactly as sentence-transformers'
``Pooling(mean)`` + ``Normalize`` do.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from vectorstore.model_files import ModelIntegrityError, file_sha256

# Padded wordpieces per run: 16 full-length chunks or a few hundred short questions. Larger batches
# gain nothing on a CPU and let one long text pad many short ones.
TOKENS_PER_BATCH = 4096


class OnnxEncoder:
    """Encodes texts with an exported model file whose sha256 is checked before it is trusted."""

    def __init__(self, model_file: Path, sha256: str, tokenizer: Tokenizer, max_wordpieces: int, batch_size: int) -> None:
        self.model_file = model_file
        self.sha256 = sha256
        self.tokenizer = tokenizer
        self.max_wordpieces = max_wordpieces
        self.batch_size = batch_size

    @cached_property
    def session(self):  # -> onnxruntime.InferenceSession
        actual = file_sha256(self.model_file)
        if actual != self.sha256:
            raise ModelIntegrityError(
                f"{self.model_file} has sha256 {actual}, expected {self.sha256}; delete it to export it again"
            )
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are noise on every start
        options.intra_op_num_threads = len(os.sched_getaffinity(0))
        # Idle pool threads sleep instead of spinning: on a shared host spinning burns CPU that embeds nothing.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return onnxruntime.InferenceSession(str(self.model_file), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, in the order of ``texts``."""
        # sentence-transformers strips surrounding whitespace before tokenising; so do we.
        ids = [self._truncate(e.ids) for e in self.tokenizer.encode_batch([t.strip() for t in texts])]
        vectors = np.empty((len(ids), self._dimension), dtype=np.float32)
        for batch in self._batches(ids):
            vectors[batch] = self._encode_batch([ids[i] for i in batch])
        return vectors

    def _batches(self, ids: list[list[int]]) -> Iterator[list[int]]:
        """Indices of ``ids``, shortest first, in runs of at most ``batch_size`` texts and ``TOKENS_PER_BATCH`` padded wordpieces."""
        batch: list[int] = []
        for index in sorted(range(len(ids)), key=lambda i: len(ids[i])):
            if batch and (len(batch) == self.batch_size or (len(batch) + 1) * len(ids[index]) > TOKENS_PER_BATCH):
                yield batch
                batch = []
            batch.append(index)
        if batch:
            yield batch

    @cached_property
    def _dimension(self) -> int:
        return self.session.get_outputs()[0].shape[-1]

    def _truncate(self, ids: list[int]) -> list[int]:
        """Keep [CLS], the first wordpieces and [SEP]: what the reference's truncation to 256 keeps."""
        return ids if len(ids) <= self.max_wordpieces else ids[: self.max_wordpieces - 1] + ids[-1:]

    def _encode_batch(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)  # 0 is [PAD]
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        feed = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)}
        tokens = self.session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (tokens * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
