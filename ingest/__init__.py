"""Loading, cleaning, tagging and chunking articles, and the incremental ingest pipeline."""

from importlib import resources
from pathlib import Path


def sample_corpus_dir() -> Path:
    """The five bundled sample articles, ingested when no path is given."""
    return Path(str(resources.files("ingest").joinpath("sample_corpus")))
