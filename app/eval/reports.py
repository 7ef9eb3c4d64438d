"""Evaluation reports: one report dict, written as JSON, CSV, JUnit XML or HTML by file extension.

The report has three blocks. ``scored`` holds what the assistant got right
and wrong, identical between runs on the same inputs. ``provenance`` records
what produced it: corpus fingerprint, question-set hash, settings, model ids
and package versions. ``timings`` holds latencies, which vary between runs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from app.answer.compare_render import render_comparison
from app.eval.report_html import to_html
from app.eval.evaluation import AnswerSource, CaseResult, EvalRun, corpus_fingerprint, reciprocal_rank, summarize, timings
from app.schemas import Comparison

PACKAGES = (
    "newsdesk", "chromadb", "langchain-core", "sentence-transformers", "torch", "tiktoken",
    "langchain-openai", "llama-cpp-python",
)


def case_record(result: CaseResult) -> dict:
    answer = result.answer
    compared = isinstance(answer, Comparison)
    return {
        "id": result.case.id,
        "question": result.case.question,
        "history": result.case.history,
        "mode": result.case.mode,
        "tags": result.case.tags,
        "passed": result.passed,
        "checks": [{"name": c.name, "passed": c.passed, "reason": c.reason} for c in result.checks],
        "standalone_question": answer.standalone_question,
        "answer": render_comparison(answer) if compared else answer.answer,
        "abstained": answer.abstained,
        "support": None if compared else answer.support,
        "backend": answer.backend,
        "notice": answer.notice,
        "check": answer.check.model_dump() if not compared and answer.check else None,
        **(comparison_record(answer) if compared else {}),
        "citations": [
            {"id": c.id, "source": c.source, "outlet": c.outlet, "quote": c.quote, "valid": valid}
            for c, valid in zip(answer.citations, result.citation_validity, strict=True)
        ],
        "expected_files": result.expected_files,
        "retrieved_files": result.ranked_files,
        "reciprocal_rank": round(reciprocal_rank(result.ranked_files, result.expected_files), 4),
        "retrieved": [{"rank": r.rank, "source": r.source, "chunk_id": r.chunk_id, "score": r.score} for r in answer.retrieved],
    }


def comparison_record(comparison: Comparison) -> dict:
    """What a compare case adds to its record: the sections, the silent outlets and the disagreements."""
    return {
        "sections": [section.model_dump() for section in comparison.outlets],
        "silent": comparison.silent,
        "disagreements": [d.model_dump() for d in comparison.disagreements],
    }


def provenance(newsdesk: AnswerSource, question_set_path: Path) -> dict:
    return {
        "corpus_fingerprint": corpus_fingerprint(newsdesk),
        "question_set": Path(question_set_path).name,
        "question_set_sha256": hashlib.sha256(Path(question_set_path).read_bytes()).hexdigest(),
        **newsdesk.describe(),
        "packages": {name: _version(name) for name in PACKAGES},
    }


def build_report(newsdesk: AnswerSource, run: EvalRun, question_set_path: Path) -> dict:
    return {
        "format": 1,
        "scored": {"summary": summarize(run), "cases": [case_record(r) for r in run.results]},
        "provenance": provenance(newsdesk, question_set_path),
        "timings": timings(run),
    }


def compare_to_baseline(report: dict, baseline: dict) -> dict:
    """Cases that newly fail or newly pass, by id, against an older JSON report."""
    old = {case["id"]: case["passed"] for case in baseline["scored"]["cases"]}
    new = {case["id"]: case["passed"] for case in report["scored"]["cases"]}
    shared = sorted(set(old) & set(new))
    return {
        "newly_failing": [i for i in shared if old[i] and not new[i]],
        "newly_passing": [i for i in shared if new[i] and not old[i]],
    }


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_csv(report: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "passed", "abstained", "support", "expected_files", "cited_files", "reciprocal_rank",
                     "valid_citations", "citations", "failed_checks", "total_ms", "backend", "sentences_checked",
                     "sentences_kept", "sentences_dropped"])
    latency = report["timings"]["cases"]
    for case in report["scored"]["cases"]:
        writer.writerow([
            case["id"], case["passed"], case["abstained"], case["support"], " ".join(case["expected_files"]),
            " ".join(sorted({c["source"] for c in case["citations"]})), case["reciprocal_rank"],
            sum(c["valid"] for c in case["citations"]), len(case["citations"]),
            "; ".join(f"{c['name']}: {c['reason']}" for c in case["checks"] if not c["passed"]),
            latency[case["id"]]["total"], case["backend"],
            *((case["check"] or {}).get(key, 0) for key in ("checked", "kept", "dropped")),
        ])
    return buffer.getvalue()


def to_junit(report: dict) -> str:
    cases = report["scored"]["cases"]
    suite = ET.Element("testsuite", name="newsdesk-eval", tests=str(len(cases)),
                       failures=str(sum(not c["passed"] for c in cases)), errors="0")
    latency = report["timings"]["cases"]
    for case in cases:
        element = ET.SubElement(suite, "testcase", classname=".".join(case["tags"]) or "newsdesk", name=case["id"],
                                time=f"{latency[case['id']]['total'] / 1000:.3f}")
        failed = [f"{c['name']}: {c['reason']}" for c in case["checks"] if not c["passed"]]
        if failed:
            ET.SubElement(element, "failure", message="; ".join(failed)).text = case["answer"]
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


WRITERS = {".json": to_json, ".csv": to_csv, ".xml": to_junit, ".html": to_html}


def write_report(report: dict, path: Path) -> None:
    """Write ``report`` in the format its extension names."""
    writer = WRITERS.get(path.suffix.lower())
    if writer is None:
        raise ValueError(f"report format '{path.suffix}' is not supported; use {', '.join(WRITERS)}")
    path.write_text(writer(report), encoding="utf-8")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"
