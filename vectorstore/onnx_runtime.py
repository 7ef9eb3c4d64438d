"""MiniLM on onnxruntime: the same vectors as sentence-transformers, without importing torch.

Each text is tokenised once by the fast Rust tokenizer and run through the
model alone, one text per ``Session.run``. Measured on 1,114 BBC chunks
(``bench/bench_embed_runs.py``), that is faster than any batching on this CPU
(no padding is computed, and a 200-wordpiece text is already a matrix product
wide enough for both cores), and it makes a text's vector independent of what
else is embedded: the int8 file quantises activations per run, so in a batch
its vectors depended on their batch-mates, and even fp32 differed in the last
bits with the batch's padded width. The token embeddings are mean-pooled and
normalised exactly as sentence-transformers' ``Pooling(mean)`` + ``Normalize``
do.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from vectorstore.model_files import check_export


class OnnxEncoder:
    """Encodes texts with an exported model file whose sha256 is checked before it is trusted."""

    def __init__(self, model_file: Path, sha256: str, tokenizer: Tokenizer, max_wordpieces: int) -> None:
        self.model_file = model_file
        self.sha256 = sha256
        self.tokenizer = tokenizer
        self.max_wordpieces = max_wordpieces

    @cached_property
    def session(self):  # -> onnxruntime.InferenceSession
        check_export(self.model_file, self.sha256)
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are noise on every start
        options.intra_op_num_threads = len(os.sched_getaffinity(0))
        # Idle pool threads sleep instead of spinning: on a shared host spinning burns CPU that embeds nothing.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return onnxruntime.InferenceSession(str(self.model_file), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, in the order of ``texts``; each text's vector depends on that text alone."""
        # sentence-transformers strips surrounding whitespace before tokenising; so do we.
        encodings = self.tokenizer.encode_batch([t.strip() for t in texts])
        vectors = np.empty((len(texts), self._dimension), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            vectors[row] = self._encode_one(self._truncate(encoding.ids))
        return vectors

    @cached_property
    def _dimension(self) -> int:
        return self.session.get_outputs()[0].shape[-1]

    def _truncate(self, ids: list[int]) -> list[int]:
        """Keep [CLS], the first wordpieces and [SEP]: what the reference's truncation to 256 keeps."""
        return ids if len(ids) <= self.max_wordpieces else ids[: self.max_wordpieces - 1] + ids[-1:]

    def _encode_one(self, ids: list[int]) -> np.ndarray:
        """Mean of the token embeddings (no padding, so every token counts), normalised."""
        input_ids = np.asarray([ids], dtype=np.int64)
        feed = {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids), "token_type_ids": np.zeros_like(input_ids)}
        pooled = self.session.run(None, feed)[0][0].mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)
