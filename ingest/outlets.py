"""The outlet registry: canonical outlet names and how a publisher identifies itself.

Attribution is the product, so the publisher must never be guessed from a
mention ("The Washington Post quoted ...") or a photo credit ("/ Reuters)").
Only *self-identifying* text counts: a dateline, an opening "Press TV –", a
byline, a copyright line, a "Support X" banner, a "Source: X" tag, or the
outlet's own web domain. Anything else leaves the outlet ``unknown``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

UNKNOWN_OUTLET = "unknown"
HEADER_CHARS = 600  # where an opening "Outlet –" or a byline may stand
DOMAIN_WEIGHT = 2  # a URL on the outlet's own domain outweighs one text pattern


class OutletEntry(BaseModel):
    """One registry entry as written in YAML."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)


class RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outlets: list[OutletEntry]


class RegistryError(Exception):
    """The registry file is unreadable or malformed; the message names the file."""


def _alias_patterns(alias: str) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]]]:
    """Generic self-identification patterns for one name: (anywhere, header-only)."""
    a = re.escape(alias).replace(r"\ ", r"\s+")
    anywhere = [
        rf"^[A-Z][A-Za-z .,'’/-]{{0,40}}\(\s*{a}\s*\)\s*[-–—]",  # BAGHDAD (Reuters) -
        rf"(?:Copyright|©)\s*(?:©\s*)?(?:\d{{4}}(?:\s*[-–]\s*\d{{4}})?\s*,?\s*)?{a}\b",
        rf"^\s*Support\s+{a}\s*$",
        rf"^\s*Source:\s*{a}\s*\.?$",
        rf"^\s*{a}['’]s\s+website\s+can\s+also\s+be\s+accessed",  # mirror-address footer
    ]
    header = [rf"^\s*[-–—|]?\s*{a}\s*[-–—|]\s*\S"]  # "Press TV – The US ...", "- The Washington Times - ..."
    return [re.compile(p, re.MULTILINE) for p in anywhere], [re.compile(p, re.MULTILINE) for p in header]


@dataclass
class Outlet:
    """A registry entry with its patterns compiled."""

    name: str
    names: list[str]
    domains: list[str]
    anywhere: list[re.Pattern[str]] = field(default_factory=list)
    header: list[re.Pattern[str]] = field(default_factory=list)

    @classmethod
    def from_entry(cls, entry: OutletEntry) -> Outlet:
        names = [entry.name, *entry.aliases]
        outlet = cls(name=entry.name, names=names, domains=[d.lower() for d in entry.domains])
        for name in names:
            anywhere, header = _alias_patterns(name)
            outlet.anywhere += anywhere
            outlet.header += header
        outlet.anywhere += [re.compile(p, re.MULTILINE) for p in entry.patterns]
        return outlet

    def text_evidence(self, text: str) -> tuple[int, int]:
        """(number of self-identifying matches, position of the first one)."""
        hits = [m.start() for p in self.anywhere for m in p.finditer(text)]
        head = text[:HEADER_CHARS]
        hits += [m.start() for p in self.header for m in p.finditer(head)]
        return len(hits), min(hits, default=len(text))

    def owns_url(self, url: str) -> bool:
        host = (urlparse(url if "//" in url else f"//{url}").hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.domains)


class OutletRegistry:
    """Canonical names, alias lookup and publisher detection."""

    def __init__(self, entries: list[OutletEntry]) -> None:
        by_name = {entry.name: entry for entry in entries}  # later entries replace earlier ones
        self.outlets = [Outlet.from_entry(entry) for entry in by_name.values()]
        self._by_alias = {name.casefold(): outlet.name for outlet in self.outlets for name in outlet.names}

    @classmethod
    def load(cls, extra_file: Path | None = None) -> OutletRegistry:
        """The bundled registry, with a user's file merged over it."""
        bundled = resources.files("ingest").joinpath("outlets.yaml").read_text(encoding="utf-8")
        entries = _parse_registry(bundled, "the bundled outlets.yaml")
        if extra_file is not None:
            try:
                extra = Path(extra_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise RegistryError(f"cannot read outlet registry {extra_file}: {exc.strerror}") from exc
            entries += _parse_registry(extra, str(extra_file))
        return cls(entries)

    def canonical(self, name: str) -> str | None:
        """The canonical name for a name or alias, or None when it is not registered."""
        return self._by_alias.get(name.strip().casefold())

    def detect(self, text: str, url: str | None = None, sitename: str | None = None) -> str:
        """The outlet that published ``text``, from self-identification only, else ``unknown``."""
        best: tuple[int, int, str] | None = None
        for outlet in self.outlets:
            count, first = outlet.text_evidence(text)
            if url and outlet.owns_url(url):
                count, first = count + DOMAIN_WEIGHT, 0
            if sitename and self.canonical(sitename) == outlet.name:
                count, first = count + DOMAIN_WEIGHT, 0
            if count and (best is None or (-count, first) < (-best[0], best[1])):
                best = (count, first, outlet.name)
        return best[2] if best else UNKNOWN_OUTLET


def _parse_registry(text: str, where: str) -> list[OutletEntry]:
    try:
        data = yaml.safe_load(text)
        entries = RegistryFile.model_validate(data).outlets
        for entry in entries:
            for pattern in entry.patterns:
                re.compile(pattern)
    except (yaml.YAMLError, ValidationError, re.error) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RegistryError(f"outlet registry {where} is malformed: {first_line}") from exc
    return entries
