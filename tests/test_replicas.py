"""Two `newsdesk serve` replicas and an ingest worker on one real `chroma run` (issue 12).

Every process has a data dir of its own: the Chroma server is the only state
they share. Replicas are polled in bounded loops (they see a commit within
NEWSDESK_CATALOG_REFRESH_S); no test measures time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from conftest import FIXTURES
from live_server import NewsdeskServer
from test_cli import newsdesk
from test_resilience import ChromaServer

POLLS = 240
POLL_S = 0.5
ARTICLE = (
    "Harbour board elects new chair\n\n"
    "KESTON (Reuters) - The Keston harbour board elected Mara Quill as its chair on Tuesday, after a vote of {votes} "
    "to 3. Quill said the dredging of the north basin would start in {month}.\n"
)


@pytest.fixture
def cluster(tmp_path):
    """A Chroma server, a worker's environment and two replicas that started after a first ingest."""
    chroma = ChromaServer(tmp_path / "chroma", tmp_path / "chroma.log")
    chroma.start()
    env = {"NEWSDESK_CHROMA_URL": chroma.url, "NEWSDESK_CATALOG_REFRESH_S": "0.5"}
    replicas = []
    try:
        seeded = newsdesk("ingest", str(FIXTURES / "articles" / "wire_dateline.txt"), data_dir=tmp_path / "worker", **env)
        assert seeded.returncode == 0, seeded.stderr
        for name in ("one", "two"):
            replicas.append(NewsdeskServer.start(tmp_path / f"replica-{name}", tmp_path / f"{name}.log", **env))
        yield chroma, env, replicas
    finally:
        for replica in replicas:
            replica.stop()
        chroma.stop()


def sources(replica: NewsdeskServer) -> dict[str, dict]:
    return {record["source"]: record for record in httpx.get(f"{replica.url}/api/sources", timeout=60).json()}


def until(replica: NewsdeskServer, check) -> dict[str, dict]:
    """Poll the replica's sources until ``check`` holds (bounded by POLLS, not by a clock)."""
    for _ in range(POLLS):
        seen = sources(replica)
        if check(seen):
            return seen
        time.sleep(POLL_S)
    raise AssertionError(f"{replica.url} never showed the change; it lists {sorted(seen)}")


def test_an_article_added_changed_and_removed_by_a_worker_reaches_both_replicas(cluster, tmp_path):
    _, env, replicas = cluster
    folder = tmp_path / "news"
    folder.mkdir()
    path = folder / "keston.txt"
    (folder / "other.txt").write_text((FIXTURES / "articles" / "no_publisher.txt").read_text(encoding="utf-8"), encoding="utf-8")

    path.write_text(ARTICLE.format(votes=9, month="May"), encoding="utf-8")
    assert newsdesk("ingest", str(folder), data_dir=tmp_path / "worker", **env).returncode == 0
    for replica in replicas:
        until(replica, lambda seen: "keston.txt" in seen)
        answer = httpx.post(f"{replica.url}/api/ask", json={"question": "Who did the Keston harbour board elect?"}, timeout=120)
        assert answer.json()["citations"][0]["source"] == "keston.txt"
    first = sources(replicas[0])["keston.txt"]

    path.write_text(ARTICLE.format(votes=11, month="June") + "The board also raised mooring fees.\n", encoding="utf-8")
    assert newsdesk("ingest", str(folder), data_dir=tmp_path / "worker", **env).returncode == 0
    for replica in replicas:
        changed = until(replica, lambda seen: seen.get("keston.txt", first)["doc_hash"] != first["doc_hash"])
        texts = httpx.get(f"{replica.url}/api/chunks", params={"source": "keston.txt"}, timeout=60).json()
        assert "June" in " ".join(texts) and "May" not in " ".join(texts)
        assert len(texts) == changed["keston.txt"]["chunks"]

    path.unlink()
    assert newsdesk("ingest", str(folder), "--prune", data_dir=tmp_path / "worker", **env).returncode == 0
    for replica in replicas:
        remaining = until(replica, lambda seen: "keston.txt" not in seen)
        assert set(remaining) == {"wire_dateline.txt", "other.txt"}
        health = httpx.get(f"{replica.url}/api/health").json()
        assert health["articles"] == 2


def write_archive(folder, count: int) -> None:
    for i in range(count):
        town = f"Town{i}"
        body = " ".join(f"{town} recorded {i * 13 + k} visitors at its fair on day {k}, the organisers said." for k in range(12))
        (folder / f"{i:04d}.txt").write_text(f"{town} fair draws crowds\n\n{body}\n", encoding="utf-8")


def rows_and_chunks(chroma_url: str) -> tuple[dict[str, dict], list[dict]]:
    """The catalog's rows and every chunk's metadata, read straight from the server."""
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=int(chroma_url.rsplit(":", 1)[1]),
                                 settings=chromadb.Settings(anonymized_telemetry=False))
    rows = client.get_collection("newsdesk_chunks_articles").get(include=["metadatas"])
    chunks = client.get_collection("newsdesk_chunks").get(include=["metadatas"])["metadatas"]
    return dict(zip(rows["ids"], rows["metadatas"], strict=True)), chunks


def test_a_worker_killed_mid_ingest_leaves_both_replicas_consistent(cluster, tmp_path):
    chroma, env, replicas = cluster
    folder = tmp_path / "archive"
    folder.mkdir()
    write_archive(folder, 120)
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "ingest", str(folder)], env={**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "worker"), **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    until(replicas[0], lambda seen: len(seen) >= 6)  # some of the archive is committed, the rest is on its way
    worker.send_signal(signal.SIGKILL)
    worker.wait()

    for replica in replicas:
        seen = until(replica, lambda seen: len(seen) > 1)
        for source, record in seen.items():  # every visible article is whole
            texts = httpx.get(f"{replica.url}/api/chunks", params={"source": source}, timeout=60).json()
            assert len(texts) == record["chunks"], source

    again = newsdesk("ingest", str(folder), data_dir=tmp_path / "worker", **env)
    assert again.returncode == 0, again.stderr
    rows, chunks = rows_and_chunks(chroma.url)
    assert not [row_id for row_id, meta in rows.items() if meta.get("kind") == "pending"]
    committed = {meta["version"]: meta for meta in rows.values() if meta.get("kind") == "article" and not meta["removed"]}
    per_version: dict[str, int] = {}
    for meta in chunks:
        per_version[meta["version"]] = per_version.get(meta["version"], 0) + 1
    assert set(per_version) == set(committed)  # no orphan chunk is left
    for replica in replicas:
        seen = until(replica, lambda seen: len(seen) == 121)
        assert all(per_version[f"{r['doc_hash'][:16]}:{s}"] == r["chunks"] for s, r in seen.items())
