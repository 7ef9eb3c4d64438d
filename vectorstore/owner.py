"""Who writes a local store: a running ``newsdesk serve`` owns it, otherwise one CLI writer at a time.

Chroma's embedded database keeps each collection's vector index in the memory
of the process that opened it. When a second process writes the same folder,
the first one's index no longer matches the SQLite rows it reads, and every
search fails with "Error finding id" until it restarts. So a local store has
one writer process. ``newsdesk serve`` holds an OS lock on ``serve.lock`` for
its whole life (the kernel drops it even on ``kill -9``) and publishes its
address and a random token in ``serve.json``, readable only by its user.
``newsdesk ingest`` that finds a server there hands it the work over the
server's token-protected admin route (``app.web.handover``) instead of
opening the database itself. A Chroma server (``NEWSDESK_CHROMA_URL``) has no
such problem, so none of this applies there.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

SERVE_LOCK = "serve.lock"
SERVE_FILE = "serve.json"
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class ServerHandle:
    """How to reach the server that owns a data dir: its URL, admin token and process id."""

    url: str
    token: str
    pid: int


class StoreOwner:
    """The ownership lock and the server's address file of one data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.lock = FileLock(str(self.data_dir / SERVE_LOCK), thread_local=False)
        self.address = self.data_dir / SERVE_FILE

    # The server's side

    def claim(self, on_wait: Callable[[], None]) -> None:
        """Become the owner, waiting for a CLI writer (an ingest) that holds the store to finish."""
        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            on_wait()
            self.lock.acquire()
        self.address.unlink(missing_ok=True)  # left by a server that was killed

    def publish(self, url: str, token: str) -> None:
        """Write ``serve.json`` (mode 0600) once the server listens: where it is, and its admin token."""
        tmp = self.address.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"url": url, "token": token, "pid": os.getpid()}, handle)
        os.replace(tmp, self.address)

    def release(self) -> None:
        self.address.unlink(missing_ok=True)
        self.lock.release(force=True)

    # A CLI writer's side

    @contextmanager
    def writer(self, on_wait: Callable[[], None]) -> Iterator[ServerHandle | None]:
        """Yield the owning server's handle, or None with the lock held for a local write.

        A held lock without ``serve.json`` is another CLI writer, or a server still starting: poll until
        one of them finishes or the server publishes its address.
        """
        waited = False
        while True:
            try:
                self.lock.acquire(timeout=0)
            except Timeout:
                handle = self.server()
                if handle is not None:
                    yield handle
                    return
                if not waited:
                    on_wait()
                    waited = True
                time.sleep(POLL_SECONDS)
                continue
            try:
                self.address.unlink(missing_ok=True)
                yield None
            finally:
                self.lock.release()
            return

    def server(self) -> ServerHandle | None:
        """The published server, if ``serve.json`` is there and readable."""
        try:
            data = json.loads(self.address.read_text(encoding="utf-8"))
            return ServerHandle(url=str(data["url"]), token=str(data["token"]), pid=int(data["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
