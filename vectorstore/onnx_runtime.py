"""MiniLM on onnxruntime: the same vectors as sentence-transformers, without importing torch.

Each text is tokenised once by the fast Rust tokenizer and run through the
model alone, one text per ``Session.run``, on one single-threaded run per
core at a time (a thread per core, all sharing one session, whose ``run`` is
thread-safe and releases the GIL). Measured on BBC chunks with
``bench/bench_embed_runs.py``, that beats padded batches (no padding is
computed) and beats one run spread over both cores (a 200-wordpiece matrix
product is too small to split well). It also makes a text's vector
independent of what else is embedded: the int8 file quantises activations per
run, so in a batch its vectors depended on their batch-mates, and even fp32
differed in the last bits with the batch's padded width. The token embeddings
are mean-pooled and normalised exactly as sentence-transformers'
``Pooling(mean)`` + ``Normalize`` do.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from vectorstore.model_files import check_export

UNFUSED = ["SkipLayerNormFusion"]  # onnxruntime graph optimisers whose fused kernel is slower here


class OnnxEncoder:
    """Encodes texts with an exported model file whose sha256 is checked before its first vector."""

    def __init__(self, model_file: Path, sha256: str, tokenizer: Tokenizer, max_wordpieces: int) -> None:
        self.model_file = model_file
        self.sha256 = sha256
        self.tokenizer = tokenizer
        self.max_wordpieces = max_wordpieces

    @cached_property
    def session(self):  # -> onnxruntime.InferenceSession
        """The model file's session, returned only once the file's sha256 is checked. The hash runs on a worker
        while onnxruntime loads the file (hashlib releases the GIL), which takes 0.06 s off a cold ``ask``, so
        onnxruntime parses a file before its hash is known; the file lives in the user's own data dir, and
        nothing is embedded with it unless the hash matches. If the load fails, a wrong hash is the error
        reported, since it says what is wrong."""
        verified = self._workers.submit(check_export, self.model_file, self.sha256)
        try:
            session = self._load_session()
        finally:
            verified.result()  # a wrong hash raises here, in place of whatever a damaged file made the load raise
        return session

    def _load_session(self):  # -> onnxruntime.InferenceSession
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are noise on every start
        options.intra_op_num_threads = 1  # the parallelism is one text per core (see the module docstring)
        options.inter_op_num_threads = 1
        # Add + LayerNormalization run faster than their fused kernel (see onnx_export._optimise).
        return onnxruntime.InferenceSession(
            str(self.model_file), options, providers=["CPUExecutionProvider"], disabled_optimizers=UNFUSED
        )

    @cached_property
    def _workers(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(len(os.sched_getaffinity(0)), thread_name_prefix="embed")

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, in the order of ``texts``; each text's vector depends on that text alone."""
        # sentence-transformers strips surrounding whitespace before tokenising; so do we.
        ids = [self._truncate(e.ids) for e in self.tokenizer.encode_batch([t.strip() for t in texts])]
        vectors = np.empty((len(texts), self._dimension), dtype=np.float32)
        if len(ids) == 1:  # a question: no hand-over to a worker
            vectors[0] = self._encode_one(ids[0])
        else:
            for row, vector in enumerate(self._workers.map(self._encode_one, ids)):
                vectors[row] = vector
        return vectors

    @cached_property
    def _dimension(self) -> int:
        return self.session.get_outputs()[0].shape[-1]

    def _truncate(self, ids: list[int]) -> list[int]:
        """Keep [CLS], the first wordpieces and [SEP]: what the reference's truncation to 256 keeps."""
        return ids if len(ids) <= self.max_wordpieces else ids[: self.max_wordpieces - 1] + ids[-1:]

    def _encode_one(self, ids: list[int]) -> np.ndarray:
        """Mean of the token embeddings (no padding, so every token counts), normalised."""
        pooled = self.session.run(None, model_inputs(ids))[0][0].mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)


def model_inputs(ids: list[int]) -> dict[str, np.ndarray]:
    """One text's wordpiece ids as the exported model takes them: unpadded, so every token is attended to."""
    input_ids = np.asarray([ids], dtype=np.int64)
    return {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids), "token_type_ids": np.zeros_like(input_ids)}
