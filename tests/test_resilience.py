"""Real processes on one data dir: ingest while serving, a lost or damaged catalog, Chroma going away, a full disk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from conftest import FIXTURES
from live_server import NewsdeskServer, free_port, stop_process, wait_for
from test_cli import assert_one_line_error, newsdesk

SAMPLE_QUESTION = "Who ordered the evacuation of US diplomats from Basra?"
NEW_QUESTION = "Who did Iraq's parliament elect as speaker?"
NEW_ARTICLE = FIXTURES / "articles" / "wire_dateline.txt"
HOSTILE_NAME = "evil\x1b[31mred\nname.txt"


def ask(server: NewsdeskServer, question: str) -> httpx.Response:
    return httpx.post(f"{server.url}/api/ask", json={"question": question}, timeout=120)


class Askers:
    """Clients asking without pause until stopped; every status code is kept."""

    def __init__(self, server: NewsdeskServer, clients: int = 3) -> None:
        self.server, self.statuses, self.stopped = server, [], threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(clients)]
        for thread in self.threads:
            thread.start()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.statuses.append(ask(self.server, SAMPLE_QUESTION).status_code)

    def stop(self) -> list[int]:
        self.stopped.set()
        for thread in self.threads:
            thread.join()
        return self.statuses


def test_ingest_while_serving_one_data_dir(tmp_path):
    server = NewsdeskServer.start(tmp_path / "data", tmp_path / "serve.log")
    try:
        folder = tmp_path / "new"
        folder.mkdir()
        shutil.copy(NEW_ARTICLE, folder / NEW_ARTICLE.name)
        shutil.copy(FIXTURES / "articles" / "no_publisher.txt", folder / HOSTILE_NAME)
        askers = Askers(server)
        result = newsdesk("ingest", str(folder), data_dir=server.data_dir)
        statuses = askers.stop()
        assert result.returncode == 0, result.stderr
        assert "owns this data dir, so it runs the ingest" in result.stderr and "2 added" in result.stdout
        assert statuses and set(statuses) == {200}, statuses

        answer = ask(server, NEW_QUESTION).json()
        assert answer["citations"][0]["source"] == NEW_ARTICLE.name and answer["citations"][0]["outlet"] == "Reuters"
        health = httpx.get(f"{server.url}/api/health").json()
        assert health["status"] == "ok" and health["articles"] == 7

        sources = httpx.get(f"{server.url}/api/sources").text
        assert "path" not in json.loads(sources)[0] and str(tmp_path) not in sources
        table = newsdesk("sources", data_dir=server.data_dir).stdout
        assert "\x1b" not in table and "evil\\x1b[31mred\\nname.txt" in table
    finally:
        server.stop()
    again = newsdesk("ingest", str(folder), data_dir=server.data_dir)  # the server is gone: the CLI writes itself
    assert again.returncode == 0 and "2 unchanged" in again.stdout and "owns" not in again.stderr


ROWS = "newsdesk_chunks_articles"
EDIT_ROWS = """
import json, sys, chromadb
client = chromadb.PersistentClient(path=sys.argv[1], settings=chromadb.Settings(anonymized_telemetry=False))
edit = json.loads(sys.argv[2])
if edit is None:
    client.delete_collection("%s")
else:
    client.get_collection("%s").update(ids=[edit["id"]], metadatas=[edit["metadata"]])
""" % (ROWS, ROWS)


def damage_rows(data: Path, edit: dict | None) -> None:
    """Change the catalog through a chromadb client of its own, as a buggy tool or a bad restore would: delete the
    rows collection (``None``), or overwrite metadata fields of one row."""
    subprocess.run([sys.executable, "-c", EDIT_ROWS, str(data / "chroma"), json.dumps(edit)], check=True)


def catalog_damages(source: str, good: dict) -> dict[str, tuple[dict | None, str]]:
    """Each damage, and what the one-line error must say about it."""
    bad_field = {**good, "chunks": "many"}
    row = f"catalog record '{source}' (Chroma collection '{ROWS}' at "
    return {
        "deleted": (None, f"catalog (Chroma collection '{ROWS}' at "),
        "truncated": ({"id": source, "metadata": {"record": json.dumps(good)[:40]}}, row),
        "bad field": ({"id": source, "metadata": {"record": json.dumps(bad_field)}}, "has an invalid field (chunks:"),
        "no record": ({"id": source, "metadata": {"record": None}}, "lacks a valid 'record' field"),
        "bad time": ({"id": source, "metadata": {"committed_at": "yesterday"}}, row),
    }


def test_a_lost_or_damaged_catalog_loses_nothing_and_repair_rebuilds_it(tmp_path):
    data = tmp_path / "data"
    assert newsdesk("ingest", data_dir=data).returncode == 0
    before = json.loads(newsdesk("sources", "--json", data_dir=data).stdout)
    source = before[0]["source"]
    good = {**before[0], "path": source}
    for kind, (damage, named) in catalog_damages(source, good).items():
        damage_rows(data, damage)
        commands = (["sources"], ["ask", SAMPLE_QUESTION], ["ingest"]) if damage is None else (["sources"], ["ingest"])
        for command in commands:  # the case: `ask` after a deleted catalog re-ingested and deleted chunks
            assert_one_line_error(newsdesk(*command, data_dir=data), named, str(data), "newsdesk repair"), (kind, command)
        repaired = newsdesk("repair", data_dir=data)
        assert repaired.returncode == 0 and "5 articles, 24 chunks" in repaired.stdout, (kind, repaired.stderr)
        after = json.loads(newsdesk("sources", "--json", data_dir=data).stdout)
        assert [{**r, "notes": []} for r in after] == [{**r, "notes": []} for r in before], kind
    reingest = newsdesk("ingest", data_dir=data)
    assert "5 unchanged" in reingest.stdout  # the rebuilt records keep fingerprints: nothing is embedded again
    assert json.loads(newsdesk("ask", SAMPLE_QUESTION, "--json", data_dir=data).stdout)["citations"]


class ChromaServer:
    """``chroma run`` on a fixed port and folder, so it can be stopped and started again."""

    def __init__(self, folder: Path, log: Path) -> None:
        self.folder, self.log, self.port = folder, log, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [shutil.which("chroma"), "run", "--path", str(self.folder), "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(command, stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        wait_for(self.process, self.log, f"{self.url}/api/v2/heartbeat", {}, "chroma run", self.stop)

    def stop(self) -> None:
        stop_process(self.process)


def test_chroma_stopped_and_restarted_under_serve(tmp_path):
    chroma = ChromaServer(tmp_path / "chroma", tmp_path / "chroma.log")
    chroma.start()
    server = NewsdeskServer.start(tmp_path / "data", tmp_path / "serve.log", NEWSDESK_CHROMA_URL=chroma.url)
    try:
        assert ask(server, SAMPLE_QUESTION).status_code == 200
        chroma.stop()
        down = ask(server, SAMPLE_QUESTION)
        assert down.status_code == 503 and "the Chroma store failed while" in down.json()["detail"]
        health = httpx.get(f"{server.url}/api/health")
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        ingest = newsdesk("ingest", str(NEW_ARTICLE), data_dir=tmp_path / "data", NEWSDESK_CHROMA_URL=chroma.url)
        assert_one_line_error(ingest, "Chroma")

        chroma.start()
        statuses = [ask(server, SAMPLE_QUESTION).status_code for _ in range(3)]
        assert statuses[-1] == 200 and set(statuses) <= {200, 503}, statuses
        assert httpx.get(f"{server.url}/api/health").json()["status"] == "ok"
    finally:
        server.stop()
        chroma.stop()


@pytest.fixture
def small_disk(tmp_path):
    """A 30 MB tmpfs: mounting one needs root (the CI container has it); elsewhere the test is skipped."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root; the full-disk ingest test runs where it can mount one")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=30m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def fill(disk: Path, leave_kb: int) -> Path:
    filler = disk / "filler"
    free_kb = shutil.disk_usage(disk).free // 1024
    with filler.open("wb") as handle:
        handle.truncate(0)
        for _ in range(max(free_kb - leave_kb, 0) // 64):
            handle.write(b"\0" * 65536)
    return filler


def test_a_full_disk_during_ingest_is_one_sentence_and_keeps_every_article(small_disk, tmp_path):
    data = small_disk / "data"
    assert newsdesk("ingest", str(NEW_ARTICLE), data_dir=data).returncode == 0
    filler = fill(small_disk, leave_kb=150)
    result = newsdesk("ingest", data_dir=data)
    assert_one_line_error(result, "Chroma store failed while", "not stored")
    filler.unlink()
    sources = json.loads(newsdesk("sources", "--json", data_dir=data).stdout)
    assert NEW_ARTICLE.name in {s["source"] for s in sources}
    assert newsdesk("ingest", data_dir=data).returncode == 0
    assert len(json.loads(newsdesk("sources", "--json", data_dir=data).stdout)) == 6
