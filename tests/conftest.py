"""Shared fixtures: the real embedding model, real Chroma stores in temp dirs, and a real headless Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.service import Newsdesk
from app.settings import Settings
from vectorstore.embeddings import MiniLMEmbeddings

FIXTURES = Path(__file__).parent / "fixtures"
DATA = Path(__file__).parent / "data"

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach Google, which this offline machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]

# Nothing in the suite may reach a hub; fail loudly instead of downloading.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(scope="session", autouse=True)
def models_dir(tmp_path_factory) -> Path:
    """One ONNX export for the whole run, shared by every store and CLI process (exporting takes seconds)."""
    path = tmp_path_factory.mktemp("models")
    os.environ["NEWSDESK_MODELS_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def embeddings(models_dir) -> MiniLMEmbeddings:
    return MiniLMEmbeddings(onnx_dir=models_dir)


@pytest.fixture
def make_newsdesk(tmp_path_factory, embeddings):
    """A Newsdesk over a fresh, empty store; keyword arguments override settings."""

    def make(**overrides) -> Newsdesk:
        data_dir = overrides.pop("data_dir", None) or tmp_path_factory.mktemp("store")
        return Newsdesk(Settings(data_dir=data_dir, **overrides), embeddings=embeddings)

    return make


@pytest.fixture(scope="session")
def sample_newsdesk(tmp_path_factory, embeddings) -> Newsdesk:
    """The bundled sample corpus, ingested once for the whole session (read-only use)."""
    newsdesk = Newsdesk(Settings(data_dir=tmp_path_factory.mktemp("sample-store")), embeddings=embeddings)
    report = newsdesk.ingest()
    assert report.counts["added"] == 5, report.outcomes
    return newsdesk


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--screenshots", default=None, metavar="DIR",
        help="Write the browser tests' full-page screenshots here (the README's are in docs/screenshots).",
    )


@pytest.fixture(scope="session")
def screenshot_dir(request, tmp_path_factory) -> Path:
    """Where browser tests save PNGs: a temp dir unless ``--screenshots DIR`` is given."""
    chosen = request.config.getoption("--screenshots")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (which never downloads a browser of its own here)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium package (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A fresh browser context per test, so cookies and storage never leak between tests."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def other_sites(tmp_path_factory):
    """Two outside origins: the first is allowed by the sample server's settings, the second is not."""
    from live_server import StaticSite, free_port

    sites = [StaticSite.start(tmp_path_factory.mktemp(f"site{i}"), free_port()) for i in range(2)]
    yield sites
    for site in sites:
        site.stop()


@pytest.fixture(scope="session")
def sample_server(tmp_path_factory, other_sites):
    """``newsdesk serve`` on an empty data dir (it ingests the sample corpus), allowing the first other site."""
    from live_server import NewsdeskServer

    folder = tmp_path_factory.mktemp("sample-server")
    server = NewsdeskServer.start(folder / "data", folder / "serve.log", NEWSDESK_ALLOWED_ORIGINS=other_sites[0].origin)
    yield server
    server.stop()


def serve_fixture_folder(tmp_path_factory, name: str, **env: str):
    """``newsdesk serve`` over a store holding one folder of ``tests/fixtures``, ingested with the CLI."""
    from live_server import NewsdeskServer
    from test_cli import newsdesk

    folder = tmp_path_factory.mktemp(name)
    ingested = newsdesk("ingest", str(FIXTURES / name), data_dir=folder / "data")
    assert ingested.returncode == 0, ingested.stderr
    server = NewsdeskServer.start(folder / "data", folder / "serve.log", **env)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def hostile_server(tmp_path_factory):
    """``newsdesk serve`` over a store holding an article full of script tags and event handlers."""
    yield from serve_fixture_folder(tmp_path_factory, "hostile")


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory):
    """llama_cpp.server serving the bundled SmolLM2 on 127.0.0.1, with an API key, for the whole session."""
    from live_llm import LlamaServer

    server = LlamaServer.start(tmp_path_factory.mktemp("llm-server") / "llama.log", api_key="test-key-7f3a")
    yield server
    server.stop()
