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


def test_every_yaml_block_in_the_readme_parses():
    blocks = re.findall(r"```yaml\n(.*?)```", README, flags=re.DOTALL)
    assert blocks
    for block in blocks:
        assert yaml.safe_load(block) is not None, block
