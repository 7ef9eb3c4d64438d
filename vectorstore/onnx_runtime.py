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

During an ingest (``worker_processes(min_texts)``, the ingest's batch size)
a call with at least ``min_texts`` texts runs in worker processes instead of
threads (``vectorstore.embedding_processes`` says why); the vectors are the same.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vectorstore.model_files import check_export
from vectorstore.onnx_session import embed_ids, open_session

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from vectorstore.embedding_processes import EmbeddingProcess

log = logging.getLogger(__name__)
PROCESS_MIN_TEXTS = 64  # the default batch: a call with fewer texts does not repay starting the workers
MAX_EMBEDDING_PROCESSES = 8  # about 140 MB each; past eight cores the model's runs are no longer what limits an ingest


class OnnxEncoder:
    """Encodes texts with an exported model file whose sha256 is checked before its first vector."""

    def __init__(self, model_file: Path, sha256: str, tokenizer: Tokenizer, max_wordpieces: int) -> None:
        self.model_file = model_file
        self.sha256 = sha256
        self.tokenizer = tokenizer
        self.max_wordpieces = max_wordpieces
        self._processes_allowed = False
        self._min_texts = PROCESS_MIN_TEXTS
        self._processes: list[EmbeddingProcess] = []
        self._starting = threading.Lock()  # an ingest's two embedding jobs may both be first to want the workers

    @cached_property
    def session(self):  # -> onnxruntime.InferenceSession
        """The model file's session, returned only once the file's sha256 is checked. The hash runs on a worker
        while onnxruntime loads the file (hashlib releases the GIL), which takes 0.06 s off a cold ``ask``, so
        onnxruntime parses a file before its hash is known; the file lives in the user's own data dir, and
        nothing is embedded with it unless the hash matches. If the load fails, a wrong hash is the error
        reported, since it says what is wrong."""
        verified = self._workers.submit(check_export, self.model_file, self.sha256)
        try:
            session = open_session(self.model_file)
        finally:
            verified.result()  # a wrong hash raises here, in place of whatever a damaged file made the load raise
        return session

    @cached_property
    def _workers(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(_cores(), thread_name_prefix="embed")

    @contextmanager
    def worker_processes(self, min_texts: int = PROCESS_MIN_TEXTS) -> Iterator[None]:
        """Within this block, ``encode`` calls of at least ``min_texts`` texts run in worker processes, started on
        the first such call and ended when the block ends. An ingest holds it (``min_texts`` is its batch size, so
        its full groups qualify); a server that only answers questions never starts them."""
        self._processes_allowed, self._min_texts = True, min_texts
        try:
            yield
        finally:
            self._processes_allowed = False
            with self._starting:
                processes, self._processes = self._processes, []
            _close_all(processes)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, in the order of ``texts``; each text's vector depends on that text alone."""
        # sentence-transformers strips surrounding whitespace before tokenising; so do we.
        ids = [self._truncate(e.ids) for e in self.tokenizer.encode_batch([t.strip() for t in texts])]
        vectors = np.empty((len(texts), self._dimension), dtype=np.float32)
        if len(ids) == 1:  # a question: no hand-over to a worker
            vectors[0] = self._encode_one(ids[0])
        elif self._processes_allowed and len(ids) >= self._min_texts:
            self._encode_in_processes(ids, vectors)
        else:
            self._encode_in_threads(ids, list(range(len(ids))), vectors)
        return vectors

    def _encode_in_processes(self, ids: list[list[int]], vectors: np.ndarray) -> None:
        """Split the texts between the worker processes by their cost, and fill ``vectors`` with the replies. If the
        workers cannot start, or one fails, those texts are embedded here (the same vectors) and the rest of the
        block goes on in threads, with a warning that says why."""
        from vectorstore.embedding_processes import WorkerFailed

        try:
            processes = self._started_processes()
        except OSError as error:
            self._give_up_processes(f"the embedding workers could not start ({error})")
            self._encode_in_threads(ids, list(range(len(ids))), vectors)
            return
        shares = _balanced_shares([len(text) for text in ids], len(processes))
        futures = [process.submit([ids[row] for row in rows]) for process, rows in zip(processes, shares)]
        for rows, future in zip(shares, futures):
            try:
                vectors[rows] = future.result()
            except WorkerFailed as failure:
                self._give_up_processes(str(failure))
                self._encode_in_threads(ids, rows, vectors)

    def _encode_in_threads(self, ids: list[list[int]], rows: list[int], vectors: np.ndarray) -> None:
        for row, vector in zip(rows, self._workers.map(self._encode_one, [ids[row] for row in rows])):
            vectors[row] = vector

    def _started_processes(self) -> list[EmbeddingProcess]:
        """The worker processes, started on first use (the session, loaded before, has checked the file's hash)."""
        from vectorstore.embedding_processes import EmbeddingProcess

        with self._starting:
            if not self._processes:
                started: list[EmbeddingProcess] = []
                try:
                    for _ in range(min(_cores(), MAX_EMBEDDING_PROCESSES)):
                        started.append(EmbeddingProcess(self.model_file))
                except OSError:
                    _close_all(started)
                    raise
                self._processes = started
            return self._processes

    def _give_up_processes(self, why: str) -> None:
        if self._processes_allowed:
            self._processes_allowed = False
            log.warning("%s; embedding in threads for the rest of this ingest", why)

    @cached_property
    def _dimension(self) -> int:
        return self.session.get_outputs()[0].shape[-1]

    def _truncate(self, ids: list[int]) -> list[int]:
        """Keep [CLS], the first wordpieces and [SEP]: what the reference's truncation to 256 keeps."""
        return ids if len(ids) <= self.max_wordpieces else ids[: self.max_wordpieces - 1] + ids[-1:]

    def _encode_one(self, ids: list[int]) -> np.ndarray:
        return embed_ids(self.session, ids)


def _close_all(processes: list[EmbeddingProcess]) -> None:
    """End the workers together: every input is closed before the first is waited for."""
    for process in processes:
        process.end_input()
    for process in processes:
        process.close()


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def _balanced_shares(lengths: list[int], parts: int) -> list[list[int]]:
    """Row numbers split into ``parts`` shares of about equal cost, longest text first to the cheapest share (a
    run costs more than its length alone, attention being quadratic, hence the power)."""
    shares: list[list[int]] = [[] for _ in range(parts)]
    costs = [0.0] * parts
    for row in sorted(range(len(lengths)), key=lambda r: -lengths[r]):
        cheapest = costs.index(min(costs))
        shares[cheapest].append(row)
        costs[cheapest] += lengths[row] ** 1.3
    return [sorted(share) for share in shares if share]
