"""Shared fixtures: the real embedding model, loaded once, and real Chroma stores in temp dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.service import Newsdesk
from app.settings import Settings
from vectorstore.embeddings import MiniLMEmbeddings

FIXTURES = Path(__file__).parent / "fixtures"
DATA = Path(__file__).parent / "data"

# Nothing in the suite may reach a hub; fail loudly instead of downloading.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def embeddings() -> MiniLMEmbeddings:
    return MiniLMEmbeddings()


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
