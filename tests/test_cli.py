"""The real ``newsdesk`` console script, run as a user would, against a temp data dir."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys

import pytest

from app import collector
from conftest import FIXTURES


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli-store")


def newsdesk(*args: str, data_dir, **env: str) -> subprocess.CompletedProcess:
    executable = shutil.which("newsdesk")
    assert executable, "the newsdesk console script is not installed"
    environment = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir), **env}
    return subprocess.run([executable, *args], capture_output=True, text=True, env=environment, timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith("newsdesk: ")
    for fragment in fragments:
        assert fragment in line


def test_ask_on_an_empty_store_ingests_the_sample_corpus_first(data_dir):
    result = newsdesk("ask", "Who ordered the evacuation of US diplomats from Basra?", "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "ingesting the bundled sample corpus" in result.stderr
    answer = json.loads(result.stdout)
    assert answer["citations"][0]["source"] == "003_7a30f19d73eded28.txt"
    assert answer["citations"][0]["outlet"] == "unknown"


def test_ask_prints_reply_with_sources_and_follows_up(data_dir):
    result = newsdesk(
        "ask", "What reason did he give for it?", "--history", "Who ordered the evacuation of US diplomats from Basra?",
        data_dir=data_dir,
    )
    assert result.returncode == 0, result.stderr
    reply, sources = result.stdout.split("\nSources:\n")
    assert "threat" in reply.lower()
    assert sources.splitlines()[0].startswith("[1] ") and ".txt" in sources


def test_sources_json_and_reingest_summary(data_dir):
    listed = json.loads(newsdesk("sources", "--json", data_dir=data_dir).stdout)
    assert [(r["source"], r["outlet"], r["chunks"] > 0) for r in listed][:2] == [
        ("000_241feade111a06cc.txt", "Press TV", True),
        ("001_1efb1abfaaf2b239.txt", "SouthFront", True),
    ]
    again = newsdesk("ingest", data_dir=data_dir)
    assert again.returncode == 0
    assert again.stdout.startswith("5 files seen: 0 added, 0 updated, 5 unchanged, 0 skipped, 0 removed; 0 chunks written")


def test_ingest_with_a_bad_file_exits_2_after_ingesting_the_rest(tmp_path, data_dir):
    (tmp_path / "empty.txt").write_text("")
    shutil.copy(FIXTURES / "articles" / "wire_dateline.txt", tmp_path)
    result = newsdesk("ingest", str(tmp_path), data_dir=data_dir)
    assert result.returncode == 2
    assert "1 added" in result.stdout and "1 skipped" in result.stdout
    assert f"skipped {tmp_path / 'empty.txt'}: the file is empty" in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "fragments"),
    [
        (("ask", "x" * 102_400), {}, ("the question is 102400 characters long",)),
        (("ask", "Why?", "--outlet", "Nowhere Gazette"), {}, ("unknown outlet 'Nowhere Gazette'",)),
        (("sources",), {"NEWSDESK_TOP_K": "many"}, ("NEWSDESK_TOP_K",)),
    ],
    ids=["huge-question", "unknown-outlet", "bad-setting"],
)
def test_bad_input_is_one_line_and_exit_2(data_dir, args, env, fragments):
    assert_one_line_error(newsdesk(*args, data_dir=data_dir, **env), *fragments)


def test_unwritable_data_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_one_line_error(newsdesk("sources", data_dir=blocker / "store"), "cannot write to the data dir")


def test_usage_error_exits_2(data_dir):
    assert newsdesk("ask", data_dir=data_dir).returncode == 2


def console_script(argv: list[str], data_dir, then: str) -> list[str]:
    """The lines a fresh interpreter prints when it runs ``newsdesk ARGV`` through the console script's entry
    (``app.__main__.main``) and then the Python ``then``, which reads what the command left behind."""
    code = (
        f"import gc, json, sys\nfrom app.__main__ import main\nsys.argv = ['newsdesk', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n" + then
    )
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


def test_the_console_script_collects_in_large_steps_freezes_its_heap_and_defers_langsmiths_types(data_dir):
    """What takes about a second off a cold `newsdesk ask`: few collections while the libraries import, an exit that
    does not walk their objects again (``app.collector``), and no generated langsmith types loaded when LangChain is
    (``app.deferred_imports``)."""
    printed = console_script(
        ["sources"], data_dir,
        "from app.collector import COMMAND_THRESHOLDS\nimport langchain_core.runnables.base\n"
        "print(gc.get_threshold() == COMMAND_THRESHOLDS, gc.get_freeze_count() > 10_000, 'langsmith.types.run' in sys.modules)\n",
    )
    assert printed[-1] == "True True False"


def test_a_server_goes_back_to_the_default_collector_once_warm():
    """``serve`` calls ``collector.for_serving`` after its warm-up: a process that runs for days collects at the
    interpreter's default pace, over a heap whose start-up objects are frozen."""
    collector.for_a_command()
    try:
        collector.for_serving()
        assert gc.get_threshold() == collector.DEFAULT_THRESHOLDS != collector.COMMAND_THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*collector.DEFAULT_THRESHOLDS)


def imported_stacks(argv: list[str], data_dir) -> tuple[str, list[str]]:
    """What ``newsdesk ARGV`` prints, and which of the answering stack's and torch's packages it imported."""
    printed = console_script(
        argv, data_dir,
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'langchain_core', 'langsmith', 'torch', 'onnxruntime'})))\n",
    )
    return "\n".join(printed[:-1]), json.loads(printed[-1])


def test_listing_sources_imports_neither_langchain_nor_torch(data_dir):
    """`newsdesk sources` starts in about 1.2 s because the answering stack (LangChain's runnables and their
    langsmith tracer) and the model are imported only to answer."""
    assert newsdesk("ingest", data_dir=data_dir).returncode == 0  # the sample, if no earlier test stored it
    listed, imported = imported_stacks(["sources"], data_dir)
    assert "Press TV" in listed  # it did list the ingested articles
    assert imported == []


def test_an_ingest_imports_the_model_runtime_but_no_langchain(tmp_path):
    """An ingest writes chunks through Chroma directly; LangChain's import (about 0.3 s) is for answering."""
    # The first export of the model imports torch; the test is about an ingest once the model file exists.
    assert newsdesk("ingest", data_dir=tmp_path / "first").returncode == 0
    reported, imported = imported_stacks(["ingest", str(FIXTURES / "articles")], tmp_path / "store")
    assert "chunks written" in reported
    assert imported == ["onnxruntime"]
