"""Incremental ingest: find article files, skip unchanged ones, replace changed ones, prune gone ones.

An unchanged file whose metadata was derived under another outlet registry is
re-tagged in place: its catalog entry and chunk metadata change, its vectors
do not.

One bad file never stops the batch: it is skipped with a reason and the
rest goes on. Each article is committed whole (see ``vectorstore.catalog``),
so an interrupted ingest leaves every article either at its old version or
at its new one.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ingest.articles import ArticleBuilder, file_fingerprint, shared_metadata
from ingest.discovery import FoundFile, discover
from ingest.metadata import ManifestError, read_manifest
from ingest.reading import ArticleRejected
from vectorstore.catalog import ArticleRecord
from vectorstore.store import ChunkStore, StagedArticle, StoreUnavailable

# Bump when cleaning, detection or chunking rules change, so stored articles are rebuilt.
PIPELINE_VERSION = "2"

Status = Literal["added", "updated", "retagged", "unchanged", "skipped", "removed"]
GROUPS_IN_FLIGHT = 2  # one being embedded, one being written (see ``Ingestor._write``)
EMBEDDING_JOBS = 2  # the group being embedded and the next one, queued for the model (see ``Ingestor._write``)
# What a re-tag may change without touching the stored text or its vectors.
RETAG_FIELDS = ("outlet", "outlet_basis", "title", "published", "author", "url")


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
    failure: str | None = None  # the store failed mid-run: what failed and what was kept

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


def _kept_after_failure(error: StoreUnavailable, unstored: list[str], not_reached: int) -> str:
    """One sentence: what failed, and that every article committed before it is kept whole."""
    lost = ", ".join(unstored) or "no staged article"
    return (f"{error}; every article reported as added or updated is stored whole and the rest keep their old "
            f"version, while {lost} and the {not_reached} files after them were not stored (run the ingest again)")


class Ingestor:
    """Runs one ingest against a store.

    ``force`` rebuilds every article; otherwise an unchanged file is left
    alone, or only re-tagged when the outlet registry or tagging rules changed.
    """

    def __init__(
        self,
        store: ChunkStore,
        builder: ArticleBuilder,
        signature: str,
        batch_size: int = 64,
        follow_external_links: bool = False,
        force: bool = False,
        embed_in_processes: bool = True,
    ) -> None:
        self.store = store
        self.embed_in_processes = embed_in_processes
        self.builder = builder
        self.signature = signature
        self.batch_size = batch_size
        self.follow_external_links = follow_external_links
        self.force = force

    def ingest(
        self,
        paths: list[Path],
        prune: bool = False,
        on_start: Callable[[int], None] | None = None,
        on_file: Callable[[FileOutcome], None] | None = None,
    ) -> IngestReport:
        found = discover(paths, self.follow_external_links)
        report = IngestReport(outcomes=[FileOutcome(str(p.path), "skipped", p.reason, is_file=p.is_file) for p in found.problems])
        if on_start:
            on_start(len(found.files))
        # The threads are shut down (their last jobs awaited), then the embedding processes, before the lock is
        # released, whatever happens.
        processes = self.store.embedding_processes(min_texts=self.batch_size) if self.embed_in_processes else nullcontext()
        with (self.store.write_lock(), processes,
              ThreadPoolExecutor(1, thread_name_prefix="ingest-writer") as writer,
              ThreadPoolExecutor(EMBEDDING_JOBS, thread_name_prefix="ingest-embedder") as embedder):
            self.store.collect_garbage()
            run = _Run(stored_paths={r.path: r.source for r in self.store.catalog.articles().values()},
                       writer=writer, embedder=embedder)
            handled = 0
            try:
                for handled, file in enumerate(found.files, start=1):
                    outcome = self._ingest_file(file, run)
                    report.outcomes.append(outcome)
                    self._after_file(outcome, run, on_file)
                self._write(run, on_file)
                self._finish_writing(run, on_file, keep=0)
            except StoreUnavailable as error:
                run.stopped.set()
                unstored = self._unstored_after_failure(run, on_file)
                report.outcomes = [o for o in report.outcomes if all(o is not u for u in unstored)]
                report.failure = _kept_after_failure(error, [u.path for u in unstored], len(found.files) - handled)
                return report
            except BaseException:
                run.stopped.set()  # Ctrl-C or a bug: the groups not yet being written are not written
                raise
            if run.checked:
                self.store.catalog.commit(*run.checked)
            if prune:
                report.outcomes.extend(self._prune())
        return report

    def _after_file(self, outcome: FileOutcome, run: _Run, on_file: Callable[[FileOutcome], None] | None) -> None:
        """Report a file at once unless it waits in ``run.staged``; write the staged articles once they fill a batch."""
        if not run.staged or run.staged[-1][1] is not outcome:
            if on_file:
                on_file(outcome)
        elif sum(len(article.texts) for article, _ in run.staged) >= self.batch_size:
            self._write(run, on_file)

    def _write(self, run: _Run, on_file: Callable[[FileOutcome], None] | None) -> None:
        """Hand the staged articles on: an embedder job embeds them, then the writer thread stores them (see
        ``ChunkStore.replace_articles``).

        Three groups move at once: this one is embedded while the group before it is written and the next files
        are read, cleaned and chunked, so the model never waits for Chroma. There are two embedder jobs so that
        this group reaches the model (queued behind the one before) as soon as it is handed on, not when that one
        is done: handing it over needs the GIL, which the writer's Chroma calls hold for up to 0.15 s at a time.
        The main thread waits only when a third group would queue up.
        """
        if run.staged:
            members, run.staged = run.staged, []
            vectors = run.embedder.submit(self._embed, [article for article, _ in members], run.stopped)
            run.in_flight.append(_Group(members, run.writer.submit(self._store, members, vectors, run)))
        self._finish_writing(run, on_file, keep=GROUPS_IN_FLIGHT)

    def _embed(self, articles: list[StagedArticle], stopped: threading.Event):  # -> numpy.ndarray | None
        return None if stopped.is_set() else self.store.embed(articles)

    def _store(self, members: list[tuple[StagedArticle, FileOutcome]], vectors: Future, run: _Run) -> bool:
        """Writer thread: store a group once its vectors are ready, then drop its articles' old names (all chunk
        writes and removals of an ingest happen here; re-tags and moved files are recorded by the main thread).
        Once the run is stopped (a write failed, Ctrl-C) a group is not written: False."""
        try:
            embedded = vectors.result()
            if embedded is None or run.stopped.is_set():
                return False
            self.store.replace_articles([article for article, _ in members], embedded, batch_size=self.batch_size)
        except BaseException:
            run.stopped.set()
            raise
        for article, outcome in members:  # committed: a failure from here on leaves a note, not an unstored group
            try:
                outcome.notes += self._drop_old_name(article.record.source, article.record.path, run)
            except StoreUnavailable as error:
                outcome.notes.append(f"its entry under an earlier name could not be removed ({error}); run the ingest again")
        return True

    @staticmethod
    def _finish_writing(run: _Run, on_file: Callable[[FileOutcome], None] | None, keep: int) -> None:
        """Wait for the oldest groups until at most ``keep`` are in flight (a failure is raised here) and report
        them."""
        while len(run.in_flight) > keep:
            run.in_flight[0].written.result()
            _report(run.in_flight.popleft(), on_file)

    @staticmethod
    def _unstored_after_failure(run: _Run, on_file: Callable[[FileOutcome], None] | None) -> list[FileOutcome]:
        """After a store failure (the run is stopped): wait for every group still in flight, report those that
        were written, and return the files that were not stored."""
        unstored = []
        for group in run.in_flight:
            try:
                written = group.written.result()
            except StoreUnavailable:
                written = False
            if written:
                _report(group, on_file)
            else:
                unstored += [outcome for _, outcome in group.members]
        return unstored + [outcome for _, outcome in run.staged]

    def _ingest_file(self, file: FoundFile, run: _Run) -> FileOutcome:
        try:
            resolved = file.path.resolve()
            self._claim(file, resolved, run)
            sidecar = self._sidecar(file.path, run.manifests)
            return self._stage_if_changed(file, resolved, sidecar, run)
        except ArticleRejected as rejected:
            return FileOutcome(str(file.path), "skipped", rejected.reason)
        except ManifestError as error:
            return FileOutcome(str(file.path), "skipped", str(error))
        except OSError as error:
            return FileOutcome(str(file.path), "skipped", f"cannot read the file ({error.strerror or error})")

    def _claim(self, file: FoundFile, resolved: Path, run: _Run) -> None:
        """Citations name sources, so one source may not stand for two different files; nothing is replaced silently."""
        other = run.by_source.get(file.source)
        if other is not None and other != resolved:
            raise ArticleRejected(
                f"'{file.source}' is also the relative path of {other}, from another ingest root; "
                "ingest one of the two roots into another data dir, or rename one"
            )
        earlier = run.by_path.get(resolved)
        if earlier is not None and earlier != file.source:
            raise ArticleRejected(f"the same file was already ingested in this run as '{earlier}'")
        stored = self.store.catalog.record(file.source)
        if stored and Path(stored.path) != resolved and Path(stored.path).exists():
            raise ArticleRejected(
                f"'{file.source}' is already stored from {stored.path}; nothing was replaced "
                "(remove that one with --prune after deleting it, or ingest into another data dir)"
            )
        run.by_source[file.source] = resolved
        run.by_path[resolved] = file.source

    @staticmethod
    def _sidecar(path: Path, manifests: dict[Path, dict[str, dict[str, str]]]) -> dict[str, str]:
        folder = path.parent
        if folder not in manifests:
            manifests[folder] = read_manifest(folder)
        return manifests[folder].get(path.name, {})

    def _stage_if_changed(self, file: FoundFile, resolved: Path, sidecar: dict[str, str], run: _Run) -> FileOutcome:
        """Stage a new or changed article for writing; an unchanged one is only reported, or re-tagged in place."""
        fingerprint = file_fingerprint(file.path.read_bytes(), sidecar, self.signature)
        stored = self.store.catalog.record(file.source)
        if stored and stored.fingerprint == fingerprint and not self.force:
            if stored.path != str(resolved):  # moved: remember where it lives now, or --prune would drop it
                stored = stored.model_copy(update={"path": str(resolved)})
                self.store.catalog.commit(stored)
            if stored.tagging != self.builder.tagging:
                return self._retag(file, sidecar, fingerprint, stored, run)
            return FileOutcome(str(file.path), "unchanged", chunks=stored.chunks)
        return self._stage(file, sidecar, fingerprint, stored, run)

    def _stage(
        self, file: FoundFile, sidecar: dict[str, str], fingerprint: str, stored: ArticleRecord | None, run: _Run
    ) -> FileOutcome:
        article = self.builder.build(file.path, file.source, sidecar, fingerprint)
        status: Status = "updated" if stored else "added"
        outcome = FileOutcome(str(file.path), status, chunks=len(article.chunks), notes=list(article.record.notes))
        staged = StagedArticle(article.record, [c.text for c in article.chunks], article.chunk_metadatas())
        run.staged.append((staged, outcome))
        return outcome

    def _retag(
        self, file: FoundFile, sidecar: dict[str, str], fingerprint: str, stored: ArticleRecord, run: _Run
    ) -> FileOutcome:
        """Re-derive outlet, title and dates under the current registry; re-embed only if the text itself changed."""
        fresh = self.builder.describe(file.path, file.source, sidecar, fingerprint).record
        if fresh.doc_hash != stored.doc_hash:  # cleaning that depends on tagging changed the text
            return self._stage(file, sidecar, fingerprint, stored, run)
        fresh.chunks = stored.chunks
        if {k: getattr(fresh, k) for k in RETAG_FIELDS} == {k: getattr(stored, k) for k in RETAG_FIELDS}:
            run.checked.append(fresh)  # only the tagging stamp changes: recorded in one write at the end
            return FileOutcome(str(file.path), "unchanged", chunks=stored.chunks)
        self.store.retag_article(fresh, shared_metadata(fresh))
        return FileOutcome(str(file.path), "retagged", notes=fresh.notes)

    def _drop_old_name(self, source: str, path: str, run: _Run) -> list[str]:
        """A file stored under another name by an earlier ingest (e.g. a bare name from before nested sources) is
        now stored under ``source``; the old entry goes, so the file is stored once."""
        old = run.stored_paths.get(path)
        if old is None or old == source or self.store.catalog.record(old) is None:
            return []
        self.store.remove_article(old)
        return [f"was stored as '{old}' by an earlier ingest; now stored as '{source}'"]

    def _prune(self) -> list[FileOutcome]:
        removed = []
        for record in self.store.catalog.articles().values():
            if not Path(record.path).exists():
                self.store.remove_article(record.source)
                removed.append(FileOutcome(record.path, "removed", chunks=record.chunks))
        return removed


@dataclass
class _Run:
    """What one ingest run has claimed so far, and where stored articles lived when it began."""

    stored_paths: dict[str, str] = field(default_factory=dict)
    by_source: dict[str, Path] = field(default_factory=dict)
    by_path: dict[Path, str] = field(default_factory=dict)
    manifests: dict[Path, dict[str, dict[str, str]]] = field(default_factory=dict)
    checked: list[ArticleRecord] = field(default_factory=list)  # re-tag found nothing to change
    staged: list[tuple[StagedArticle, FileOutcome]] = field(default_factory=list)  # built, waiting to be written
    writer: ThreadPoolExecutor | None = None
    embedder: ThreadPoolExecutor | None = None
    in_flight: deque[_Group] = field(default_factory=deque)  # handed on, oldest first
    stopped: threading.Event = field(default_factory=threading.Event)


def _report(group: _Group, on_file: Callable[[FileOutcome], None] | None) -> None:
    """Tell ``on_file`` about each file of a group that has been written."""
    if on_file:
        for _, outcome in group.members:
            on_file(outcome)


@dataclass
class _Group:
    """Articles handed to the embedder and writer threads together, and the future of their write."""

    members: list[tuple[StagedArticle, FileOutcome]]
    written: Future[bool]  # False: not written, the run was stopped first
