"""The ``newsdesk`` command: a thin typer layer over ``app.service.Newsdesk``.

Contract (docs/contracts.md): exit 0 on success, 2 on a usage error or bad input,
with one sentence on stderr that names the file or field, never a traceback.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.errors import BadInput
from app.answer.compare_render import render_comparison
from app.answer.render import render_reply
from app import collector
from app.service import Newsdesk
from app.settings import Settings
from ingest.errors import ManifestError, RegistryError
from vectorstore.embeddings import ModelIntegrityError
from vectorstore.owner import ServerHandle, StoreOwner
from vectorstore.store import EmbedderMismatch, StoreUnavailable, ensure_writable_dir

if TYPE_CHECKING:
    from app.web.client import RemoteNewsdesk
    from ingest.pipeline import FileOutcome, IngestReport

EXIT_FAILED_CHECK = 1
EXIT_BAD_INPUT = 2
USER_ERRORS = (
    BadInput, StoreUnavailable, EmbedderMismatch, RegistryError, ManifestError, ModelIntegrityError  # QuestionSetError is a BadInput
)

cli = typer.Typer(
    name="newsdesk",
    help="Ask questions about a collection of news articles; every answer names its outlet and file.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


def say(message: str) -> None:
    """One unwrapped line on stderr (rich would wrap it at 80 columns when piped)."""
    print(message, file=sys.stderr)


def fail(message: str) -> typer.Exit:
    """Print one sentence to stderr and return the exit to raise."""
    say(f"newsdesk: {message}")
    return typer.Exit(EXIT_BAD_INPUT)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn bad input anywhere below into the contract's one-line message and exit 2."""
    try:
        yield
    except USER_ERRORS as error:
        raise fail(getattr(error, "message", str(error))) from None


class Backend(str, Enum):
    """The values of ``--llm``, the same as ``NEWSDESK_LLM``."""

    extractive = "extractive"
    openai = "openai"
    gguf = "gguf"


LlmOption = Annotated[
    Backend | None,
    typer.Option("--llm", help="Answer backend for this run, overriding NEWSDESK_LLM.", show_default=False),
]


UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Ask a running `newsdesk serve` at this address instead of the local store.", show_default=False),
]


def load_settings(llm: Backend | None = None) -> Settings:
    """The settings in the environment; ``--llm`` overrides ``NEWSDESK_LLM``."""
    overrides = {"llm": llm.value} if llm else {}
    try:
        return Settings(**overrides)
    except ValidationError as error:
        problem = error.errors()[0]
        field = "NEWSDESK_" + "_".join(str(p) for p in problem["loc"]).upper()
        raise fail(f"setting {field} is invalid: {problem['msg']}") from None


def load_newsdesk(llm: Backend | None = None) -> Newsdesk:
    """The library object for the settings in the environment."""
    return Newsdesk(load_settings(llm))


def answer_source(url: str | None, llm: Backend | None) -> Newsdesk | RemoteNewsdesk:
    """The local store, ingesting the sample corpus on first use, or with ``--url`` the server there (no model load)."""
    if url is None:
        newsdesk = load_newsdesk(llm)
        with user_errors():
            _ingest_sample_if_empty(newsdesk)
        return newsdesk
    if llm is not None:
        raise fail("--llm cannot be combined with --url; the server's NEWSDESK_LLM decides how it answers")
    key = load_settings().client_api_key
    with user_errors():
        from app.web.client import RemoteNewsdesk  # httpx is paid only when --url is given

        return RemoteNewsdesk(url, key.get_secret_value() if key else None)


@cli.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders; default: the bundled sample corpus.")] = None,
    prune: Annotated[bool, typer.Option("--prune", help="Delete stored articles whose files have disappeared.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Rebuild every article, even unchanged ones.")] = False,
) -> None:
    """Load articles into the store; unchanged files are skipped, changed ones replaced, re-tagged ones updated in place."""
    newsdesk = load_newsdesk()
    with user_errors(), local_writer(newsdesk) as server:
        if server is None:
            report = _ingest_with_progress(newsdesk, paths or None, prune, force)
        else:
            from app.web.handover import hand_over_ingest

            say(f"newsdesk: the server at {server.url} (pid {server.pid}) owns this data dir, so it runs the ingest; "
                "it keeps answering, and each article is answerable as soon as it is stored")
            report = hand_over_ingest(server, paths or [], prune, force)
    _print_report(report, newsdesk.settings.data_dir)
    if report.failure:
        raise fail(report.failure)
    if report.skipped:
        raise typer.Exit(EXIT_BAD_INPUT)


@contextmanager
def local_writer(newsdesk: Newsdesk) -> Iterator[ServerHandle | None]:
    """Hold a local store for writing, or yield the running server that owns it (see ``vectorstore.owner``)."""
    if newsdesk.settings.chroma_url:  # a Chroma server takes writes from many processes
        yield None
        return
    owner = StoreOwner(ensure_writable_dir(newsdesk.settings.data_dir))
    with owner.writer(on_wait=lambda: say("newsdesk: another process is writing this data dir; waiting for it")) as server:
        yield server


def _ingest_with_progress(newsdesk: Newsdesk, paths: list[Path] | None, prune: bool, force: bool = False) -> IngestReport:
    """A progress bar on a terminal; nothing extra when output is piped or under CI."""
    columns = (TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("", total=None)

        def on_file(outcome: FileOutcome) -> None:
            progress.update(task, advance=1, description=Path(outcome.path).name)

        return newsdesk.ingest(
            paths, prune=prune, on_start=lambda total: progress.update(task, total=total), on_file=on_file, force=force
        )


def _ingest_sample_if_empty(newsdesk: Newsdesk) -> None:
    """A first run works out of the box: with nothing ingested, load the bundled sample corpus."""
    if newsdesk.is_empty():
        say("The store is empty; ingesting the bundled sample corpus first.")
        _ingest_with_progress(newsdesk, None, prune=False)


def _print_report(report: IngestReport, data_dir: Path) -> None:
    counts = report.counts
    retagged = f"{counts['retagged']} retagged in place (not re-embedded), " if counts["retagged"] else ""
    print(
        f"{report.files_seen} files seen: {counts['added']} added, {counts['updated']} updated, {retagged}"
        f"{counts['unchanged']} unchanged, {counts['skipped']} skipped, {counts['removed']} removed; "
        f"{report.chunks_written} chunks written to {data_dir}"
    )
    for outcome in report.outcomes:
        if outcome.status == "skipped":
            say(f"skipped {shown(outcome.path)}: {outcome.reason}")
        for note in outcome.notes:
            say(f"note: {shown(outcome.path)}: {note}")


def shown(text: str) -> str:
    """A file name or title made safe for a terminal: control and format characters appear as escapes.

    A name holding ESC could otherwise recolour or rewrite the user's terminal, and a newline could forge a line.
    """
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


@cli.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    history: Annotated[list[str] | None, typer.Option("--history", help="An earlier question, oldest first; repeatable.")] = None,
    outlet: Annotated[list[str] | None, typer.Option("--outlet", help="Only use articles from this outlet; repeatable.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer object as JSON.")] = False,
    llm: LlmOption = None,
    url: UrlOption = None,
) -> None:
    """Answer one question from the ingested articles."""
    newsdesk = answer_source(url, llm)
    with user_errors():
        answer = newsdesk.ask(question, history or [], outlet or [])
    if answer.notice:
        say(f"newsdesk: {answer.notice}")
    print(answer.model_dump_json(indent=2) if as_json else render_reply(answer))


@cli.command()
def compare(
    question: Annotated[str, typer.Argument(help="The question.")],
    history: Annotated[list[str] | None, typer.Option("--history", help="An earlier question, oldest first; repeatable.")] = None,
    outlet: Annotated[list[str] | None, typer.Option("--outlet", help="Compare only these outlets; repeatable.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison object as JSON.")] = False,
    llm: LlmOption = None,
    url: UrlOption = None,
) -> None:
    """Compare the outlets: each one's own account, the silent ones, and where they disagree."""
    newsdesk = answer_source(url, llm)
    with user_errors():
        comparison = newsdesk.compare(question, history or [], outlet or [])
    if comparison.notice:
        say(f"newsdesk: {comparison.notice}")
    print(comparison.model_dump_json(indent=2) if as_json else render_comparison(comparison))


@cli.command()
def sources(as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False) -> None:
    """List the ingested articles: file, outlet, how the outlet was found, title, date, chunk count."""
    newsdesk = load_newsdesk()
    with user_errors():
        records = newsdesk.sources()
    if as_json:
        print(json.dumps([r.public() for r in records], indent=2, ensure_ascii=False))
        return
    if not records:
        say("No articles ingested yet; run `newsdesk ingest`.")
        return
    table = Table("file", "outlet", "found by", "title", "date", "chunks")
    for r in records:
        cells = (r.source, r.outlet, r.outlet_basis, r.title or "(no title)", str(r.published or ""), str(r.chunks))
        table.add_row(*(escape(shown(cell)) for cell in cells))
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    if any(r.tagging is None for r in records):
        say("Some articles were stored by an earlier version; run `newsdesk ingest` on the same folders to record "
            "how their outlets were found and to store nested files under their folder paths (no re-embedding needed "
            "for files at a folder's top).")


@cli.command()
def repair() -> None:
    """Rebuild a missing or damaged catalog from the stored chunks, without reading files or embedding."""
    newsdesk = load_newsdesk()
    with user_errors(), local_writer(newsdesk) as server:
        if server is not None:
            raise BadInput(f"the server at {server.url} (pid {server.pid}) is using this data dir; stop it, then run repair")
        records = newsdesk.repair()
    chunks = sum(r.chunks for r in records)
    print(f"catalog rebuilt from the stored chunks: {len(records)} articles, {chunks} chunks ({newsdesk.store.rows_label})")


@cli.command(name="eval")
def evaluate(
    questions: Annotated[Path, typer.Argument(help="A question set (YAML, docs/contracts.md format).")],
    output: Annotated[list[Path] | None, typer.Option("-o", "--output", help="Report file: .json, .csv, .xml (JUnit) or .html; repeatable.")] = None,
    fail_under: Annotated[float, typer.Option("--fail-under", min=0.0, max=1.0, help="Exit 1 when the pass rate is below this.")] = 0.0,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="An earlier JSON report to compare against.")] = None,
    llm: LlmOption = None,
    url: UrlOption = None,
) -> None:
    """Run a question set and report pass rate, retrieval, citation and sentence-check metrics."""
    from app.eval.evaluation import run_question_set  # eval's imports (matplotlib, yaml) are paid by eval only
    from app.eval.questionset import load_question_set
    from app.eval.reports import WRITERS, build_report, compare_to_baseline, write_report

    with user_errors():
        question_set = load_question_set(questions)
        for path in output or []:
            if path.suffix.lower() not in WRITERS:
                raise BadInput(f"report {path}: format '{path.suffix}' is not supported; use {', '.join(WRITERS)}")
        old = _read_baseline(baseline) if baseline else None
    newsdesk = answer_source(url, llm)
    with user_errors():
        with Progress(TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task("", total=len(question_set.cases))
            run = run_question_set(newsdesk, question_set, on_case=lambda _: progress.advance(task))
        report = build_report(newsdesk, run, questions)
        if old is not None:
            report["baseline"] = compare_to_baseline(report, old)
        for path in output or []:
            write_report(report, path)
    summary = report["scored"]["summary"]
    _print_eval_summary(summary, report)
    if summary["pass_rate"] < fail_under:
        say(f"pass rate {summary['pass_rate']:.3f} is below --fail-under {fail_under}")
        raise typer.Exit(EXIT_FAILED_CHECK)


def _read_baseline(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise BadInput(f"cannot read baseline report {path}: {error}") from None


def _print_eval_summary(summary: dict, report: dict) -> None:
    k_metric = next(key for key in summary if key.startswith("hit@"))
    abstention = summary["abstention"]
    latency = report["timings"]["latency_ms"]
    print(f"{summary['passed']}/{summary['cases']} cases passed (pass rate {summary['pass_rate']:.3f})")
    print(f"{k_metric} {summary[k_metric]:.3f}, MRR {summary['mrr']:.3f}, citation validity {summary['citation_validity']:.3f} "
          f"over {summary['citations']} citations")
    print(f"abstention accuracy {abstention['accuracy']:.3f} ({abstention['correct_refusals']} correct refusals, "
          f"{abstention['wrong_refusals']} wrong refusals, {abstention['missed_refusals']} missed)")
    print(f"latency p50 {latency['p50']:.0f} ms, p95 {latency['p95']:.0f} ms")
    if set(summary["backends"]) != {"extractive"}:
        sentences = summary["sentences"]
        backends = ", ".join(f"{name} {count}" for name, count in summary["backends"].items())
        print(f"answers by backend: {backends}")
        print(f"generated sentences: {sentences['checked']} checked, {sentences['kept']} kept, "
              f"{sentences['dropped']} dropped, {sentences['marked']} marked")
    for case in report["scored"]["cases"]:
        if not case["passed"]:
            reasons = "; ".join(f"{c['name']}: {c['reason']}" for c in case["checks"] if not c["passed"])
            print(f"FAIL {case['id']}: {reasons}")
    if "baseline" in report:
        print(f"against baseline: newly failing {report['baseline']['newly_failing']}, "
              f"newly passing {report['baseline']['newly_passing']}")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on; 0.0.0.0 exposes it to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port for the UI and the API.")] = 7860,
    llm: LlmOption = None,
) -> None:
    """Start the chat UI (/), the HTTP API (/api) and the embed page (/embed) on one port."""
    from app.web.server import check_port_free, serve as run_server, warm_up

    newsdesk = load_newsdesk(llm)
    with user_errors():
        check_port_free(host, port)
        owner = None if newsdesk.settings.chroma_url else StoreOwner(ensure_writable_dir(newsdesk.settings.data_dir))
        if owner:
            owner.claim(on_wait=lambda: say("newsdesk: an ingest is writing this data dir; waiting for it to finish"))
        try:
            _ingest_sample_if_empty(newsdesk)
            warm_up(newsdesk)
            collector.for_serving()
            records = newsdesk.sources()
            say(f"newsdesk: {len(records)} articles loaded, answers by {newsdesk.backend_description()}; chat UI at http://{host}:{port}/ "
                f"(API /api/ask, OpenAI-compatible /v1, widget /widget.js, embed page /embed); Ctrl-C stops")
            token = secrets.token_urlsafe(32)
            local = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
            url = f"http://[{local}]:{port}" if ":" in local else f"http://{local}:{port}"
            publish = (lambda: owner.publish(url, token)) if owner else (lambda: None)
            run_server(newsdesk, host, port, token, on_listening=publish)
        finally:
            if owner:
                owner.release()
