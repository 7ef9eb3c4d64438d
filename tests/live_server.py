"""Real servers for the HTTP and browser tests: ``newsdesk serve`` in a subprocess, and a static 'other site'.

Both listen on 127.0.0.1 only, on free ports picked at start.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

STARTUP_SECONDS = 180
POLL_SECONDS = 0.1  # fine enough for bench_scale.py to time a start to the first healthy answer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class NewsdeskServer:
    """A running ``newsdesk serve``; ``url`` has no trailing slash."""

    process: subprocess.Popen
    url: str
    data_dir: Path
    log: Path

    @classmethod
    def start(cls, data_dir: Path, log: Path, **env: str) -> NewsdeskServer:
        port = free_port()
        environment = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir), **env}
        command = [sys.executable, "-m", "app", "serve", "--port", str(port)]
        process = subprocess.Popen(command, env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT)
        server = cls(process, f"http://127.0.0.1:{port}", data_dir, log)
        server.wait_until_healthy()
        return server

    def wait_until_healthy(self) -> None:
        wait_for(self.process, self.log, f"{self.url}/api/health", {}, "newsdesk serve", self.stop)

    def stop(self) -> None:
        stop_process(self.process)


def wait_for(process: subprocess.Popen, log: Path, url: str, headers: dict[str, str], what: str, stop) -> None:
    """Poll ``url`` until it answers 200; a process that exits or never answers fails with its log."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(POLL_SECONDS)
    stop()
    raise RuntimeError(f"{what} did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Keep pytest output clean."""


@dataclass
class StaticSite:
    """Another origin (another port) serving files from a folder, like a site owner's page."""

    server: ThreadingHTTPServer
    folder: Path

    @classmethod
    def start(cls, folder: Path, port: int) -> StaticSite:
        server = ThreadingHTTPServer(("127.0.0.1", port), partial(QuietHandler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return cls(server, folder)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def publish(self, name: str, html: str) -> str:
        (self.folder / name).write_text(html, encoding="utf-8")
        return f"{self.origin}/{name}"

    def stop(self) -> None:
        self.server.shutdown()


@dataclass
class InProcessServer:
    """An app served by uvicorn in a thread on 127.0.0.1, so a test can also look at the app's own state."""

    server: object
    thread: threading.Thread
    url: str

    @classmethod
    def start(cls, app) -> InProcessServer:
        import uvicorn

        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the in-process server did not start")
            time.sleep(0.05)
        return cls(server, thread, f"http://127.0.0.1:{port}")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()
