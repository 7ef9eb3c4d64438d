"""The question-set file format of docs/contracts.md, validated strictly.

A typo in an ``expect`` key would otherwise make a check silently vanish and
a case pass that should fail, so unknown keys are errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.errors import BadInput

COMPARE_ONLY = ("outlets_all", "silent_any", "disagreement")


class Expect(BaseModel):
    """What a case requires of the answer; every key is optional."""

    model_config = ConfigDict(extra="forbid")

    cite_any: list[str] = Field(default_factory=list)
    cite_all: list[str] = Field(default_factory=list)
    cite_none: list[str] = Field(default_factory=list)
    outlets_any: list[str] = Field(default_factory=list)
    contains_any: list[str] = Field(default_factory=list)
    contains_all: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    abstain: bool | None = None
    outlets_all: list[str] = Field(default_factory=list, description="compare: each listed outlet has a section.")
    silent_any: list[str] = Field(default_factory=list, description="compare: at least one of these is silent.")
    disagreement: bool | None = Field(default=None, description="compare: at least one disagreement (true) or none (false).")
    max_ms: float | None = Field(default=None, gt=0)


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    history: list[str] = Field(default_factory=list)
    mode: Literal["ask", "compare"] = "ask"
    tags: list[str] = Field(default_factory=list)
    expect: Expect = Field(default_factory=Expect)


    @model_validator(mode="after")
    def compare_keys_need_compare_mode(self) -> Case:
        """``outlets_all`` on an ``ask`` case would silently test nothing a reader sees; refuse it."""
        used = [k for k in COMPARE_ONLY if getattr(self.expect, k) not in (None, [])]
        if used and self.mode != "compare":
            raise ValueError(f"expect keys {', '.join(used)} need 'mode: compare'")
        return self


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: int = Field(default=5, ge=1)


class QuestionSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    defaults: Defaults = Field(default_factory=Defaults)
    cases: list[Case] = Field(min_length=1)

    @field_validator("cases")
    @classmethod
    def ids_are_unique(cls, cases: list[Case]) -> list[Case]:
        seen: set[str] = set()
        for case in cases:
            if case.id in seen:
                raise ValueError(f"duplicate case id '{case.id}'")
            seen.add(case.id)
        return cases


class QuestionSetError(BadInput):
    """The file is unreadable or does not follow the format; the message says where."""


def load_question_set(path: Path) -> QuestionSet:
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise QuestionSetError(_yaml_error(path, text, exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"cannot read question set {path}: {' '.join(str(exc).split())}") from exc
    try:
        return QuestionSet.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise QuestionSetError(f"question set {path}{_case_and_line(text, data, error['loc'])}: {where}: {error['msg']}") from exc


CASE_ID = re.compile(r"^\s*-?\s*id:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(?:#.*)?$")


def _yaml_error(path: Path, text: str, exc: yaml.YAMLError) -> str:
    """Where the YAML broke (line and case), and the usual cause in plain words."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return f"cannot read question set {path}: {' '.join(str(exc).split())}"
    lines = text.splitlines()[: mark.line + 1]
    case_id = next((m.group(1) for line in reversed(lines) if (m := CASE_ID.match(line))), None)
    where = f"line {mark.line + 1}" + (f", in case '{case_id}'" if case_id else "")
    problem = getattr(exc, "problem", None) or "not valid YAML"
    return (
        f"question set {path}, {where}: {problem}. Put text that contains '?', ':' or '#' in quotes, "
        f'for example  question: "Who ordered it?"  or  history: ["Who ordered the evacuation?"]'
    )


def _case_and_line(text: str, data: object, loc: tuple) -> str:
    """", case 'x', line N" for an error inside ``cases``, so the author can find it."""
    if len(loc) < 2 or loc[0] != "cases" or not isinstance(loc[1], int):
        return ""
    raw = data["cases"][loc[1]] if isinstance(data, dict) else None
    case_id = raw.get("id") if isinstance(raw, dict) else None
    node = yaml.compose(text)
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), node)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
    label = f", case '{case_id}'" if case_id else f", case #{loc[1] + 1}"
    return f"{label}, line {node.start_mark.line + 1}"
