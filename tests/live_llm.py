"""Real OpenAI-compatible servers on 127.0.0.1 for the LLM tests.

* ``LlamaServer``: llama-cpp-python's ``llama_cpp.server`` serving the bundled
  SmolLM2 GGUF, with an API key, exactly as a user would run it.
* ``CannedServer``: answers every chat completion with a scripted body: a
  careful model quoting its first source, or garbage (well-formed JSON with
  nonsense, or not JSON).
* ``SilentServer``: accepts connections and never replies, for timeouts.
* ``DrippingServer``: streams a long reply one word at a time and records whether the client hung up.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from live_server import free_port, stop_process, wait_for

from app.llm.backends import bundled_gguf
from ingest.sentences import split_sentences

MODEL_ALIAS = "smollm2"


@dataclass
class LlamaServer:
    process: subprocess.Popen
    base_url: str
    api_key: str
    log: Path
    model: str = MODEL_ALIAS

    @classmethod
    def start(cls, log: Path, api_key: str) -> LlamaServer:
        port = free_port()
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_gguf()), "--model_alias", MODEL_ALIAS,
            "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--api_key", api_key,
        ]
        process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
        server = cls(process, f"http://127.0.0.1:{port}/v1", api_key, log)
        server.wait_until_ready()
        return server

    def wait_until_ready(self) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        wait_for(self.process, self.log, f"{self.base_url}/models", headers, "llama_cpp.server", self.stop)

    def settings(self, **overrides: object) -> dict[str, object]:
        """``Settings`` fields that point newsdesk at this server."""
        return {
            "llm": "openai", "llm_base_url": self.base_url, "llm_model": self.model, "llm_api_key": self.api_key,
            **overrides,
        }

    def env(self, **overrides: str) -> dict[str, str]:
        """The same, as ``NEWSDESK_*`` variables for a subprocess."""
        return {f"NEWSDESK_{name.upper()}": str(value) for name, value in self.settings().items()} | overrides

    def stop(self) -> None:
        stop_process(self.process)


def chat_completion(content: str) -> bytes:
    """A well-formed OpenAI chat completion whose message is ``content``."""
    return json.dumps({
        "id": "canned", "object": "chat.completion", "created": 0, "model": "canned",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }).encode()


SOURCE_BLOCK = re.compile(r'<source id="1" outlet="([^"]*)"[^>]*>\n(.*?)\n</source>', re.DOTALL)


def quoting_reply(request: dict) -> bytes:
    """What a careful model would write: source 1's first sentence, attributed and cited, plus one invented claim."""
    prompt = request["messages"][-1]["content"]
    outlet, text = SOURCE_BLOCK.search(prompt).groups()
    first = split_sentences(text)[0].text.rstrip(".")
    return chat_completion(f"According to {outlet}, {first} [1]. The consulate reopened in March 2019 after talks [1].")


class QuietModelHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Keep pytest output clean."""


class ScriptedServer:
    """A model server on 127.0.0.1 whose replies the ``handler`` class scripts."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class CannedServer(ScriptedServer):
    """Replies to every POST with ``reply(request)`` (status 200, JSON content type)."""

    def __init__(self, reply: Callable[[dict], bytes]) -> None:
        class Handler(QuietModelHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                request = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = reply(json.loads(request))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)


class SilentServer:
    """Accepts TCP connections and never answers: a hung model server."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.base_url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/v1"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.held.append(connection)

    def stop(self) -> None:
        self.socket.close()
        for connection in self.held:
            connection.close()


def stream_chunk(content: str) -> bytes:
    chunk = {"id": "drip", "object": "chat.completion.chunk", "created": 0, "model": "drip",
             "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}
    return f"data: {json.dumps(chunk)}\n\n".encode()


class DrippingServer(ScriptedServer):
    """A slow model: streams ``words`` words, one every ``pause_s``; ``hung_up`` is set when the client goes away."""

    def __init__(self, words: int = 2000, pause_s: float = 0.02) -> None:
        self.hung_up = threading.Event()
        hung_up = self.hung_up

        class Handler(QuietModelHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for _ in range(words):
                        self.wfile.write(stream_chunk("Basra "))
                        self.wfile.flush()
                        hung_up.wait(pause_s)
                    self.wfile.write(b"data: [DONE]\n\n")
                except OSError:
                    hung_up.set()

        super().__init__(Handler)
