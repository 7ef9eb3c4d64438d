"""Incremental ingest: find article files, skip unchanged ones, replace changed ones, prune gone ones.

One bad file never stops the batch: it is skipped with a reason and the
rest goes on. Each article is committed whole (see ``vectorstore.catalog``),
so an interrupted ingest leaves every article either at its old version or
at its new one.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ingest.articles import ArticleBuilder, file_fingerprint
from ingest.metadata import ManifestError, read_manifest
from ingest.reading import ARTICLE_SUFFIXES, ArticleRejected
from vectorstore.store import ChunkStore, StagedArticle

# Bump when cleaning, detection or chunking rules change, so stored articles are rebuilt.
PIPELINE_VERSION = "1"

Status = Literal["added", "updated", "unchanged", "skipped", "removed"]


@dataclass
class FileOutcome:
    path: str
    status: Status
    reason: str = ""
    chunks: int = 0
    notes: list[str] = field(default_factory=list)
    is_file: bool = True  # False for a folder without articles or a path that does not exist


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(outcome.status for outcome in self.outcomes)

    @property
    def files_seen(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.is_file and outcome.status != "removed")

    @property
    def chunks_written(self) -> int:
        return sum(o.chunks for o in self.outcomes if o.status in ("added", "updated"))

    @property
    def skipped(self) -> list[FileOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "skipped"]


def ingest_signature(chunk_tokens: int, overlap_sentences: int, model_id: str) -> str:
    """Everything besides the file itself that shapes what gets stored."""
    return hashlib.sha256(f"{PIPELINE_VERSION}|{chunk_tokens}|{overlap_sentences}|{model_id}".encode()).hexdigest()


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[FileOutcome]]:
    """Article files under ``paths`` (folders are searched recursively), and the paths that hold none."""
    files, problems = [], []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES and not p.name.startswith(".")
            )
            if not found:
                problems.append(
                    FileOutcome(str(path), "skipped", "the folder holds no .txt, .md or .html articles", is_file=False)
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(FileOutcome(str(path), "skipped", "no such file or folder", is_file=False))
    return files, problems


class Ingestor:
    """Runs one ingest against a store."""

    def __init__(self, store: ChunkStore, builder: ArticleBuilder, signature: str, batch_size: int = 64) -> None:
        self.store = store
        self.builder = builder
        self.signature = signature
        self.batch_size = batch_size

    def ingest(
        self,
        paths: list[Path],
        prune: bool = False,
        on_start: Callable[[int], None] | None = None,
        on_file: Callable[[FileOutcome], None] | None = None,
    ) -> IngestReport:
        files, problems = discover(paths)
        report = IngestReport(outcomes=problems)
        if on_start:
            on_start(len(files))
        with self.store.write_lock():
            self.store.collect_garbage()
            seen: dict[str, Path] = {}
            manifests: dict[Path, dict[str, dict[str, str]]] = {}
            staged: list[tuple[StagedArticle, FileOutcome]] = []
            for path in files:
                outcome = self._ingest_file(path, seen, manifests, staged)
                report.outcomes.append(outcome)
                self._after_file(outcome, staged, on_file)
            self._write(staged, on_file)
            if prune:
                report.outcomes.extend(self._prune())
        return report

    def _after_file(
        self, outcome: FileOutcome, staged: list[tuple[StagedArticle, FileOutcome]], on_file: Callable[[FileOutcome], None] | None
    ) -> None:
        """Report a file at once unless it waits in ``staged``; write the staged articles once they fill a batch."""
        if not staged or staged[-1][1] is not outcome:
            if on_file:
                on_file(outcome)
        elif sum(len(article.texts) for article, _ in staged) >= self.batch_size:
            self._write(staged, on_file)

    def _write(self, staged: list[tuple[StagedArticle, FileOutcome]], on_file: Callable[[FileOutcome], None] | None) -> None:
        """Store the staged articles together (see ``ChunkStore.replace_articles``) and report them."""
        self.store.replace_articles([article for article, _ in staged], batch_size=self.batch_size)
        for _, outcome in staged:
            if on_file:
                on_file(outcome)
        staged.clear()

    def _ingest_file(
        self, path: Path, seen: dict[str, Path], manifests: dict, staged: list[tuple[StagedArticle, FileOutcome]]
    ) -> FileOutcome:
        try:
            self._check_name(path, seen)
            sidecar = self._sidecar(path, manifests)
            return self._stage_if_changed(path, sidecar, staged)
        except ArticleRejected as rejected:
            return FileOutcome(str(path), "skipped", rejected.reason)
        except ManifestError as error:
            return FileOutcome(str(path), "skipped", str(error))
        except OSError as error:
            return FileOutcome(str(path), "skipped", f"cannot read the file ({error.strerror or error})")

    def _check_name(self, path: Path, seen: dict[str, Path]) -> None:
        """Citations name files, so two different files may not share a name."""
        resolved = path.resolve()
        other = seen.get(path.name)
        if other is None:
            stored = self.store.catalog.articles().get(path.name)
            if stored and Path(stored.path) != resolved and Path(stored.path).exists():
                other = Path(stored.path)
        if other is not None and other != resolved:
            raise ArticleRejected(f"another file named '{path.name}' is already ingested from {other}; rename one")
        seen[path.name] = resolved

    @staticmethod
    def _sidecar(path: Path, manifests: dict[Path, dict[str, dict[str, str]]]) -> dict[str, str]:
        folder = path.parent
        if folder not in manifests:
            manifests[folder] = read_manifest(folder)
        return manifests[folder].get(path.name, {})

    def _stage_if_changed(
        self, path: Path, sidecar: dict[str, str], staged: list[tuple[StagedArticle, FileOutcome]]
    ) -> FileOutcome:
        """Build a new or changed article and stage it for writing; an unchanged one is only reported."""
        fingerprint = file_fingerprint(path.read_bytes(), sidecar, self.signature)
        stored = self.store.catalog.articles().get(path.name)
        if stored and stored.fingerprint == fingerprint:
            if stored.path != str(path.resolve()):  # moved: remember where it lives now, or --prune would drop it
                self.store.catalog.commit(stored.model_copy(update={"path": str(path.resolve())}))
            return FileOutcome(str(path), "unchanged", chunks=stored.chunks)
        article = self.builder.build(path, sidecar, fingerprint)
        status: Status = "updated" if stored else "added"
        outcome = FileOutcome(str(path), status, chunks=len(article.chunks), notes=article.record.notes)
        staged.append((StagedArticle(article.record, [c.text for c in article.chunks], article.chunk_metadatas()), outcome))
        return outcome

    def _prune(self) -> list[FileOutcome]:
        removed = []
        for record in self.store.catalog.articles().values():
            if not Path(record.path).exists():
                self.store.remove_article(record.source)
                removed.append(FileOutcome(record.path, "removed", chunks=record.chunks))
        return removed
