"""Worker processes that embed an ingest's chunks, so that Chroma's writes do not stall the model.

Chroma's local client holds the GIL for the whole of a write (an upsert of
64 chunks takes 50 to 150 ms, about half of it indexing the documents for
full-text search), and an embedding thread needs the GIL between two runs of
the model. So while an ingest's writer thread stored one group of chunks,
both embedding threads stood still: measured with timestamps over a BBC
ingest, each lost about 3.9 s of 27. In worker processes the model runs on
whatever the parent is doing (README "Embedding" has the timings).

Each worker is ``python -m vectorstore.embedding_processes MODEL_FILE``: one
single-threaded session on the same file and options as the in-process
encoder, so a text gets the same vector to the last bit either way. The
parent sends wordpiece ids on the worker's stdin and reads vectors from its
stdout; a worker whose parent is gone reads end-of-file and exits, so a
killed ingest leaves no process behind.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
from collections import deque
from concurrent.futures import Future
from pathlib import Path

import numpy as np

REQUEST = struct.Struct("<ii")  # texts, wordpieces in all; then the texts' lengths and their ids, int32
REPLY = struct.Struct("<ii")  # texts, dimension; then the vectors, float32. texts == -1: a failure, then its message
FAILED = -1
CLOSE_WAIT_S = 30  # a worker still busy after its input ended this long is killed


class WorkerFailed(Exception):
    """A worker could not embed a request (it goes on), or it is gone; either way those texts are not embedded."""


class EmbeddingProcess:
    """One worker process; ``submit`` queues texts (as wordpiece ids) and returns the future of their vectors.

    Requests are answered in the order they were sent, so a reader thread matches replies to futures without ids.
    """

    def __init__(self, model_file: Path) -> None:
        package_root = str(Path(__file__).resolve().parent.parent)
        python_path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
        self.stderr = tempfile.TemporaryFile()  # a file, not a pipe: a chatty worker must never block on it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vectorstore.embedding_processes", str(model_file.resolve())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env={**os.environ, "PYTHONPATH": python_path},
        )
        self.pending: deque[tuple[Future, int]] = deque()  # each request's future and how many vectors it asked for
        self.sending = threading.Lock()
        self.exited: str | None = None  # why the worker is gone, once the reader has seen it go
        self.reader = threading.Thread(target=self._read_replies, name="embedding-process-reader", daemon=True)
        self.reader.start()

    def submit(self, texts: list[list[int]]) -> Future[np.ndarray]:
        """Queue ``texts`` for the worker; the future gives their vectors, a row per text, or raises ``WorkerFailed``."""
        future: Future[np.ndarray] = Future()
        lengths = np.fromiter((len(ids) for ids in texts), dtype="<i4", count=len(texts))
        ids = np.fromiter((i for text in texts for i in text), dtype="<i4", count=int(lengths.sum()))
        with self.sending:
            if self.exited:
                future.set_exception(WorkerFailed(self.exited))
                return future
            self.pending.append((future, len(texts)))
            try:
                self.process.stdin.write(REQUEST.pack(len(texts), len(ids)) + lengths.tobytes() + ids.tobytes())
                self.process.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass  # the worker is gone: the reader fails every pending future, this one included
        return future

    def end_input(self) -> None:
        """No more requests: the worker answers what it holds, then reads end-of-file and exits."""
        with self.sending:
            try:
                self.process.stdin.close()
            except OSError:
                pass

    def close(self) -> None:
        """End the worker (see ``end_input``) and wait for it and for its reader."""
        self.end_input()
        try:
            self.process.wait(timeout=CLOSE_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.reader.join()

    def _read_replies(self) -> None:
        """Resolve each pending future with its reply, in order. A reply that does not fit its request, or any
        failure to read one, ends the worker (killed: it is out of step, and may sit idle waiting for a request);
        once the worker is gone every future still pending fails, with its last words on stderr."""
        try:
            self._resolve_replies()
        except Exception as error:  # noqa: BLE001 - any failure here must still end the worker and its futures
            self.exited = f"the embedding worker's replies could not be used ({error})"
            self.process.kill()
        code = self.process.wait()
        self.stderr.seek(0)
        last_words = self.stderr.read().decode(errors="replace").strip().splitlines()[-1:]
        self.stderr.close()
        with self.sending:
            self.exited = self.exited or f"the embedding worker exited (status {code}{': ' + last_words[0] if last_words else ''})"
            while self.pending:
                self.pending.popleft()[0].set_exception(WorkerFailed(self.exited))

    def _resolve_replies(self) -> None:
        """Until end-of-file: each reply to the oldest pending future."""
        stdout = self.process.stdout
        while len(header := stdout.read(REPLY.size)) == REPLY.size:
            count, size = REPLY.unpack(header)
            body = stdout.read(size if count == FAILED else 4 * count * size)
            future, asked = self.pending.popleft()
            if count == FAILED:
                future.set_exception(WorkerFailed(f"the embedding worker failed: {body.decode(errors='replace')}"))
            elif count != asked or len(body) != 4 * count * size:
                future.set_exception(WorkerFailed(f"the embedding worker answered {count} vectors for {asked} texts"))
                raise WorkerFailed("a reply did not fit its request")
            else:
                future.set_result(np.frombuffer(body, dtype="<f4").reshape(count, size))


def _serve(model_file: str) -> None:
    """The worker: answer requests from stdin until it closes. Ctrl-C in the terminal reaches the worker too; it
    is ignored, since the ingest decides what stops (and the worker ends on end-of-file when the ingest does)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from vectorstore.onnx_session import embed_ids, open_session

    requests, replies = sys.stdin.buffer, open(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever else reaches stdout (a library's message) goes where stderr goes, not into the replies
    sys.stdout = sys.stderr
    session = open_session(Path(model_file))
    while len(header := requests.read(REQUEST.size)) == REQUEST.size:
        count, total = REQUEST.unpack(header)
        lengths = np.frombuffer(requests.read(4 * count), dtype="<i4")
        ids = np.frombuffer(requests.read(4 * total), dtype="<i4").astype(np.int64)
        try:
            vectors = np.stack([embed_ids(session, text) for text in np.split(ids, np.cumsum(lengths)[:-1])])
            reply = REPLY.pack(count, vectors.shape[1]) + vectors.astype("<f4").tobytes()
        except Exception as error:  # reported to the parent, which embeds these texts itself
            message = f"{type(error).__name__}: {error}".encode()
            reply = REPLY.pack(FAILED, len(message)) + message
        replies.write(reply)
        replies.flush()


if __name__ == "__main__":
    _serve(sys.argv[1])
