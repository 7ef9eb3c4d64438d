"""Prompt and reply templates, kept as files so wording changes need no code change."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@lru_cache(maxsize=None)
def load_templates(name: str) -> dict[str, Any]:
    """The templates in ``prompts/<name>.yaml``, as a mapping of template name to text."""
    text = resources.files("prompts").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)
