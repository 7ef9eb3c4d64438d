"""The same store over HTTP: a real `chroma run` server on 127.0.0.1, chosen by NEWSDESK_CHROMA_URL."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import FIXTURES


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    executable = shutil.which("chroma")
    assert executable, "chromadb's `chroma` command is not installed"
    port = free_port()
    server = subprocess.Popen(
        [executable, "run", "--path", str(tmp_path_factory.mktemp("chroma-server")), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the Chroma server did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_ingest_and_answer_through_a_chroma_server(make_newsdesk, chroma_url):
    newsdesk = make_newsdesk(chroma_url=chroma_url)
    report = newsdesk.ingest([FIXTURES / "articles" / "wire_dateline.txt"])
    assert report.counts["added"] == 1
    answer = newsdesk.ask("Who did Iraq's parliament elect as speaker?")
    assert answer.citations and answer.citations[0].source == "wire_dateline.txt"
    assert answer.citations[0].outlet == "Reuters"


def test_unreachable_server_is_a_clear_error(make_newsdesk):
    from vectorstore.store import StoreUnavailable

    newsdesk = make_newsdesk(chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreUnavailable, match="cannot reach the Chroma server"):
        newsdesk.sources()
