"""The outlet registry: canonical outlet names and how a publisher identifies itself.

Attribution is the product, so the publisher must never be guessed from a
mention ("The Washington Post quoted ...") or a photo credit ("/ Reuters)").
Only *self-identifying* text counts: a dateline, an opening "Press TV –", a
byline, a copyright line, a "Support X" banner, a "Source: X (and news
agencies)" sign-off, or the outlet's own web domain. Anything else leaves the
outlet ``unknown``. What a page *declares* in its markup is weighed first, in
``ingest.attribution``; this module is the registry those declarations are
looked up in.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ingest.errors import RegistryError

UNKNOWN_OUTLET = "unknown"
HEADER_CHARS = 600  # where an opening "Outlet –" or a byline may stand
NO_BASIS = "none"
# libyaml where PyYAML was built with it: the bundled registry parses in 11 ms instead of 89, on every ingest and start.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class OutletEntry(BaseModel):
    """One registry entry as written in YAML."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    handles: list[str] = Field(default_factory=list, description="Social media handles such as @BBCWorld.")
    domains: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)


class RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outlets: list[OutletEntry]


@dataclass(frozen=True)
class Attribution:
    """Who published an article, and how that was found (``outlet_basis``)."""

    outlet: str
    basis: str


UNATTRIBUTED = Attribution(UNKNOWN_OUTLET, NO_BASIS)


def _alias_patterns(alias: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Generic self-identification patterns for one name, each with its basis: (anywhere, header-only)."""
    a = re.escape(alias).replace(r"\ ", r"\s+")
    anywhere = [
        ("dateline", rf"^[A-Z][A-Za-z .,'’/-]{{0,40}}\(\s*{a}\s*\)\s*[-–—]"),  # BAGHDAD (Reuters) -
        ("copyright line", rf"(?:Copyright|©)\s*(?:©\s*)?(?:\d{{4}}(?:\s*[-–]\s*\d{{4}})?\s*,?\s*)?{a}\b"),
        ("support banner", rf"^\s*Support\s+{a}\s*$"),
        ("sign-off", rf"^\s*Source:\s*{a}(?:\s*(?:and|&)\s+(?:news\s+)?agencies|\s+and\s+wires)?\s*\.?$"),
        ("mirror footer", rf"^\s*{a}['’]s\s+website\s+can\s+also\s+be\s+accessed"),
    ]
    header = [("opening line", rf"^\s*[-–—|]?\s*{a}\s*[-–—|]\s*\S")]  # "Press TV – The US ...", "- The Washington Times - ..."
    return anywhere, header


def _compiled(pairs: list[tuple[str, str]]) -> list[tuple[str, re.Pattern[str]]]:
    return [(basis, re.compile(pattern, re.MULTILINE)) for basis, pattern in pairs]


def host_of(url: str) -> str:
    return (urlparse(url if "//" in url else f"//{url}").hostname or "").lower()


@dataclass
class Outlet:
    """A registry entry; its name patterns are compiled the first time its text could match them.

    Compiling all of them (about 2,000 regexes for 175 outlets) cost every
    ingest about 1.9 s before the first file was read.
    """

    name: str
    names: list[str]
    domains: list[str]
    registry_patterns: list[str] = field(default_factory=list)
    key_words: frozenset[str] = frozenset()

    @classmethod
    def from_entry(cls, entry: OutletEntry) -> Outlet:
        names = [entry.name, *entry.aliases]
        return cls(
            name=entry.name, names=names, domains=[d.lower() for d in entry.domains], registry_patterns=entry.patterns,
            key_words=frozenset(max(name.split(), key=len) for name in names),
        )

    @cached_property
    def extra(self) -> list[tuple[str, re.Pattern[str]]]:
        return _compiled([("registry pattern", p) for p in self.registry_patterns])

    @cached_property
    def name_patterns(self) -> tuple[list[tuple[str, re.Pattern[str]]], list[tuple[str, re.Pattern[str]]]]:
        """(anywhere, header-only) patterns of every name."""
        anywhere, header = [], []
        for name in self.names:
            name_anywhere, name_header = _alias_patterns(name)
            anywhere += _compiled(name_anywhere)
            header += _compiled(name_header)
        return anywhere, header

    def text_evidence(self, text: str) -> tuple[int, int, str]:
        """(number of self-identifying matches, position of the first one, its basis).

        Every name pattern holds its name word for word (only the spaces are
        loosened), so an outlet whose names' longest words are all absent from
        the text is passed over without running them: with 175 outlets that is
        most of the cost, and "Washington" rules out far more than "The".
        """
        hits = [(m.start(), basis) for basis, p in self.extra for m in p.finditer(text)]
        if any(word in text for word in self.key_words):
            anywhere, header = self.name_patterns
            head = text[:HEADER_CHARS]
            hits += [(m.start(), basis) for basis, p in anywhere for m in p.finditer(text)]
            hits += [(m.start(), basis) for basis, p in header for m in p.finditer(head)]
        first, basis = min(hits, default=(len(text), NO_BASIS))
        return len(hits), first, basis

    def owns_url(self, url: str) -> bool:
        host = host_of(url)
        return any(host == d or host.endswith("." + d) for d in self.domains)


class OutletRegistry:
    """Canonical names, alias/handle/domain lookup and publisher detection.

    ``digest`` identifies the registry's content: articles tagged under a
    different registry are re-tagged on the next ingest (without re-embedding).
    """

    def __init__(self, entries: list[OutletEntry]) -> None:
        by_name = {entry.name: entry for entry in entries}  # later entries replace earlier ones
        self.outlets = [Outlet.from_entry(entry) for entry in by_name.values()]
        self._by_alias = {name.casefold(): outlet.name for outlet in self.outlets for name in outlet.names}
        self._by_alias |= {
            "@" + handle.lstrip("@").casefold(): entry.name for entry in by_name.values() for handle in entry.handles
        }
        self.digest = hashlib.sha256(
            json.dumps([entry.model_dump() for entry in by_name.values()], sort_keys=True).encode()
        ).hexdigest()

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
        """The canonical name for a name, alias, @handle or web domain, or None when it is not registered."""
        key = name.strip().casefold()
        found = self._by_alias.get(key)
        if found is None and "." in key and " " not in key:
            found = self.outlet_for_url(key)
        return found

    def outlet_for_url(self, url: str) -> str | None:
        """The outlet whose domain list holds the URL's host (or a parent domain of it)."""
        return next((outlet.name for outlet in self.outlets if outlet.owns_url(url)), None)

    def detect(self, text: str) -> Attribution:
        """The outlet that published ``text``, from self-identification in the text only."""
        best: tuple[int, int, str, str] | None = None
        for outlet in self.outlets:
            count, first, basis = outlet.text_evidence(text)
            if count and (best is None or (-count, first) < (-best[0], best[1])):
                best = (count, first, outlet.name, basis)
        return Attribution(best[2], best[3]) if best else UNATTRIBUTED


def _parse_registry(text: str, where: str) -> list[OutletEntry]:
    try:
        data = yaml.load(text, Loader=SAFE_LOADER)
        entries = RegistryFile.model_validate(data).outlets
        for entry in entries:
            for pattern in entry.patterns:
                re.compile(pattern)
    except (yaml.YAMLError, ValidationError, re.error) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RegistryError(f"outlet registry {where} is malformed: {first_line}") from exc
    return entries
