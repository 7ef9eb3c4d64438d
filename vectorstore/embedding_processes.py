"""Worker processes that embed an ingest's chunks, so that Chroma's writes do not stall the model.

Chroma's local client holds the GIL for the whole of a write (an upsert of
64 chunks takes 50 to 150 ms, most of it indexing the documents for full-text
search), and an embedding thread needs the GIL between two runs of the model.
So while an ingest's writer thread stored one group of chunks, both
embedding threads stood still: measured with timestamps over a BBC ingest,
each lost about 3.9 s of 27. In worker processes the model runs on whatever
the parent is doing; the same ingest took 25.8 s against 28.8 s (median of
four, taken in turns; README "Embedding").

Each worker is ``python -m vectorstore.embedding_processes MODEL_FILE``: one
single-threaded session on the same file and options as the in-process
encoder, so a text gets the same vector to the last bit either way. The
parent sends wordpiece ids on the worker's stdin and reads vectors from its
stdout; a worker whose parent is gone reads end-of-file and exits, so a
killed ingest leaves no process behind.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Future
from pathlib import Path

import numpy as np

REQUEST = struct.Struct("<ii")  # texts, wordpieces in all; then the texts' lengths and their ids, int32
REPLY = struct.Struct("<ii")  # texts, dimension; then the vectors, float32. texts == -1: a failure, then its message
FAILED = -1


class WorkerStopped(Exception):
    """A worker process failed or exited; the texts it held are not embedded."""


class EmbeddingProcess:
    """One worker process; ``submit`` queues texts (as wordpiece ids) and returns the future of their vectors.

    Requests are answered in the order they were sent, so a reader thread matches replies to futures without ids.
    """

    def __init__(self, model_file: Path) -> None:
        package_root = str(Path(__file__).resolve().parent.parent)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vectorstore.embedding_processes", str(model_file)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=package_root,
        )
        self.pending: deque[Future] = deque()
        self.sending = threading.Lock()
        self.exited: str | None = None  # why the worker is gone, once the reader has seen it go
        self.reader = threading.Thread(target=self._read_replies, name="embedding-process-reader", daemon=True)
        self.reader.start()

    def submit(self, texts: list[list[int]]) -> Future:
        """Queue ``texts`` for the worker; the future gives their vectors, a row per text, or raises ``WorkerStopped``."""
        future: Future = Future()
        lengths = np.fromiter((len(ids) for ids in texts), dtype=np.int32, count=len(texts))
        ids = np.fromiter((i for text in texts for i in text), dtype=np.int32, count=int(lengths.sum()))
        with self.sending:
            if self.exited:
                future.set_exception(WorkerStopped(self.exited))
                return future
            self.pending.append(future)
            try:
                self.process.stdin.write(REQUEST.pack(len(texts), len(ids)) + lengths.tobytes() + ids.tobytes())
                self.process.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass  # the worker is gone: the reader fails every pending future, this one included
        return future

    def close(self) -> None:
        """End the worker (it finishes what it holds, then reads end-of-file) and wait for it."""
        with self.sending:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join()

    def _read_replies(self) -> None:
        stdout = self.process.stdout
        try:
            while True:
                header = stdout.read(REPLY.size)
                if len(header) < REPLY.size:
                    break
                count, size = REPLY.unpack(header)
                body = stdout.read(size if count == FAILED else 4 * count * size)
                future = self.pending.popleft()
                if count == FAILED:
                    future.set_exception(WorkerStopped(f"the embedding worker failed: {body.decode(errors='replace')}"))
                else:
                    future.set_result(np.frombuffer(body, dtype=np.float32).reshape(count, size))
        finally:
            code = self.process.wait()
            with self.sending:
                self.exited = f"the embedding worker exited (status {code})"
                while self.pending:
                    self.pending.popleft().set_exception(WorkerStopped(self.exited))


def _serve(model_file: str) -> None:
    """The worker: answer requests from stdin until it closes."""
    from vectorstore.onnx_session import embed_ids, open_session

    session = open_session(Path(model_file))
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    while len(header := requests.read(REQUEST.size)) == REQUEST.size:
        count, total = REQUEST.unpack(header)
        lengths = np.frombuffer(requests.read(4 * count), dtype=np.int32)
        ids = np.frombuffer(requests.read(4 * total), dtype=np.int32).astype(np.int64)
        try:
            texts = np.split(ids, np.cumsum(lengths)[:-1])
            vectors = np.stack([embed_ids(session, text) for text in texts]) if count else np.empty((0, 0), np.float32)
            reply = REPLY.pack(count, vectors.shape[1]) + vectors.astype(np.float32).tobytes()
        except Exception as error:  # reported to the parent, which embeds these texts itself
            message = f"{type(error).__name__}: {error}".encode()
            reply = REPLY.pack(FAILED, len(message)) + message
        replies.write(reply)
        replies.flush()


if __name__ == "__main__":
    _serve(sys.argv[1])
