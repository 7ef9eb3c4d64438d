"""The README's commands are the ones CI runs, and its settings table matches the code."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command():
    ci_command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"\n{ci_command}\n" in README


def test_every_setting_is_documented():
    documented = set(re.findall(r"`(NEWSDESK_[A-Z_]+)`", README))
    actual = {f"NEWSDESK_{name.upper()}" for name in Settings.model_fields}
    assert actual <= documented, actual - documented


def test_an_empty_variable_counts_as_unset(monkeypatch):
    """``NEWSDESK_DATA_DIR=`` must not put the store in the current folder, nor ``NEWSDESK_EMBED_RUNTIME=`` fail."""
    for name in ("DATA_DIR", "EMBED_RUNTIME", "CHROMA_URL", "TOP_K"):
        monkeypatch.setenv(f"NEWSDESK_{name}", "")
    settings = Settings()
    default = Settings.model_fields
    assert settings.data_dir == default["data_dir"].default_factory() != Path("")
    assert (settings.embed_runtime, settings.chroma_url, settings.top_k) == (None, None, default["top_k"].default)


def test_every_yaml_block_in_the_readme_parses():
    blocks = re.findall(r"```yaml\n(.*?)```", README, flags=re.DOTALL)
    assert blocks
    for block in blocks:
        assert yaml.safe_load(block) is not None, block
