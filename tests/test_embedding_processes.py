"""An ingest's embedding in worker processes (vectorstore.embedding_processes): the same vectors as threads, a
failed worker's texts embedded all the same, and no worker left behind by a killed ingest. No test measures time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from test_replicas import write_archive
from vectorstore.embedding_processes import EmbeddingProcess, WorkerFailed
from vectorstore.onnx_runtime import MAX_EMBEDDING_PROCESSES, PROCESS_MIN_TEXTS

POLLS = 600  # bounded loops, not a clock
POLL_S = 0.1
TEXTS = [
    f"Town{i} recorded {i * 13} visitors at its fair on day {i % 7}, the organisers said. " * (1 + i % 5)
    for i in range(PROCESS_MIN_TEXTS + 7)
]


def workers_expected() -> int:
    return min(len(os.sched_getaffinity(0)), MAX_EMBEDDING_PROCESSES)


def test_worker_processes_give_the_vectors_threads_give_and_end_with_the_block(embeddings):
    in_threads = embeddings.encode(TEXTS)
    with embeddings.worker_processes(PROCESS_MIN_TEXTS):
        in_processes = embeddings.encode(TEXTS)
        assert embeddings.encoder._processes_allowed  # no worker failed: the processes, not the fallback, embedded
        workers = [worker.process for worker in embeddings.encoder._processes]
    assert len(workers) == workers_expected()
    assert np.array_equal(in_processes, in_threads)
    assert [worker.returncode for worker in workers] == [0] * len(workers)  # each ended on end-of-file


def test_a_call_with_fewer_texts_than_the_batch_stays_in_threads(embeddings):
    with embeddings.worker_processes(len(TEXTS) + 1):
        embeddings.encode(TEXTS)
        assert embeddings.encoder._processes == []


def test_texts_of_a_worker_that_died_are_embedded_in_threads_with_a_warning(embeddings, caplog):
    expected = embeddings.encode(TEXTS)
    with embeddings.worker_processes(PROCESS_MIN_TEXTS):
        embeddings.encode(TEXTS)
        dead = embeddings.encoder._processes[0].process
        dead.kill()
        dead.wait()
        assert np.array_equal(embeddings.encode(TEXTS), expected)
        assert not embeddings.encoder._processes_allowed  # the rest of the block runs in threads
    assert "the embedding worker exited" in caplog.text and "embedding in threads" in caplog.text


def test_a_request_the_model_refuses_is_reported_and_the_worker_goes_on(embeddings):
    embeddings.encode(["warm"])  # the export exists and its hash is checked
    worker = EmbeddingProcess(embeddings.encoder.model_file)
    try:
        refused = worker.submit([[101, 10**7, 102]])  # no such wordpiece: the model's lookup fails
        with pytest.raises(WorkerFailed, match="the embedding worker failed"):
            refused.result()
        ids = embeddings.tokenizer.encode(TEXTS[0]).ids
        assert np.array_equal(worker.submit([ids]).result()[0], embeddings.encode([TEXTS[0]])[0])
    finally:
        worker.close()


def test_requests_from_two_threads_at_once_each_get_their_own_vectors(embeddings):
    """An ingest's two embedder jobs share the workers: replies must reach the request that asked."""
    expected = embeddings.encode(TEXTS)
    halves = [TEXTS[: PROCESS_MIN_TEXTS], TEXTS[-PROCESS_MIN_TEXTS:]]
    with embeddings.worker_processes(PROCESS_MIN_TEXTS), ThreadPoolExecutor(2) as jobs:
        first, second = jobs.map(embeddings.encode, halves)
        assert embeddings.encoder._processes_allowed
    assert np.array_equal(first, expected[:PROCESS_MIN_TEXTS]) and np.array_equal(second, expected[-PROCESS_MIN_TEXTS:])


def test_a_worker_from_a_relative_data_dir_loads_the_checked_file(embeddings, tmp_path, monkeypatch):
    model = embeddings.encoder.model_file
    monkeypatch.chdir(model.parent)
    worker = EmbeddingProcess(Path(model.name))
    try:
        ids = embeddings.tokenizer.encode(TEXTS[1]).ids
        assert np.array_equal(worker.submit([ids]).result()[0], embeddings.encode([TEXTS[1]])[0])
    finally:
        worker.close()


def stat_fields(pid: int) -> list[str]:
    """``/proc/PID/stat`` after the command name (state first, then the parent's pid); empty once the pid is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def children_of(pid: int) -> set[int]:
    """Processes whose parent is ``pid``."""
    pids = (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return {child for child in pids if (fields := stat_fields(child)) and int(fields[1]) == pid}


def alive(pid: int) -> bool:
    fields = stat_fields(pid)
    return bool(fields) and fields[0] != "Z"


def test_a_killed_ingest_leaves_no_embedding_process_behind(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    write_archive(folder, 150)
    ingest = subprocess.Popen(
        [sys.executable, "-m", "app", "ingest", str(folder)], env={**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data")},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    for _ in range(POLLS):
        workers = children_of(ingest.pid)
        if len(workers) == workers_expected() or ingest.poll() is not None:
            break
        time.sleep(POLL_S)
    assert ingest.poll() is None and workers, "the ingest ended before its embedding processes were seen"
    ingest.send_signal(signal.SIGKILL)
    ingest.wait()
    for _ in range(POLLS):
        if not any(alive(pid) for pid in workers):
            break
        time.sleep(POLL_S)
    assert not any(alive(pid) for pid in workers)


@pytest.mark.parametrize("enabled", [True, False])
def test_the_setting_chooses_processes_or_threads_for_an_ingest(make_newsdesk, tmp_path, monkeypatch, enabled):
    started = []
    real_init = EmbeddingProcess.__init__

    def counted(self, model_file):
        started.append(model_file)
        real_init(self, model_file)

    monkeypatch.setattr(EmbeddingProcess, "__init__", counted)
    write_archive(tmp_path, 80)
    report = make_newsdesk(embed_processes=enabled).ingest([tmp_path])
    assert report.counts["added"] == 80 and report.chunks_written >= PROCESS_MIN_TEXTS
    assert len(started) == (workers_expected() if enabled else 0)
