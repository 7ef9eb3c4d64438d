"""Calibrate the sentence checker's two bounds on hand-labelled sentences.

    python bench/calibrate_checker.py [LABELLED.yaml]

Defaults to bench/checker_calibration.yaml: sentences that each "cite" one
chunk of the bundled sample corpus, labelled supported or not, with a kind.
Prints every sentence's similarity and content-word coverage, then:

* NEWSDESK_SUPPORT_THRESHOLD: the similarity cut that best separates
  supported paraphrases from sentences about something else (other-chunk,
  own-knowledge, off-topic);
* NEWSDESK_SUPPORT_MIN_COVERAGE: the coverage cut that best separates
  supported paraphrases from every unsupported kind but swapped facts
  (those are the name and number tests' job);
* how the whole checker, with the configured bounds, classifies each kind.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml
from calibrate_abstention import best_threshold

from app.answer.extractive import SentenceVectors
from app.answer.retrieval import Evidence
from app.service import Newsdesk
from app.settings import Settings
from app.llm.support_check import SupportChecker, coverage, evidence_facts
from vectorstore.store import StoredChunk

HERE = Path(__file__).parent
SIMILARITY_NEGATIVES = {"other-chunk", "own-knowledge", "off-topic"}
LEXICAL_KINDS = {"swapped-fact"}


def cited_chunk(newsdesk: Newsdesk, source: str, passage: str) -> StoredChunk:
    version = newsdesk.store.catalog.articles()[source].version
    return next(c for c in newsdesk.store.iter_chunks({"version": version}) if passage in c.text)


def cut_between(rows: list[dict], score: str, negatives: set[str] | None) -> tuple[float, int, int]:
    """Best cut on ``score`` between paraphrases and the given unsupported kinds (None: all but lexical)."""
    chosen = [
        (r["sentence"], r["label"] == "unsupported", r[score])
        for r in rows
        if r["kind"] == "paraphrase" or (r["kind"] in negatives if negatives else r["kind"] not in LEXICAL_KINDS)
    ]
    cut, errors = best_threshold(chosen)
    return cut, errors, len(chosen)


def main(path: Path) -> None:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    settings = Settings()
    with tempfile.TemporaryDirectory() as data_dir:
        newsdesk = Newsdesk(Settings(data_dir=Path(data_dir)))
        newsdesk.ingest()
        vectors = SentenceVectors(newsdesk.embeddings)
        probe = SupportChecker(vectors, threshold=0.0, min_coverage=0.0)
        checker = SupportChecker(vectors, settings.support_threshold, settings.support_min_coverage)
        rows = []
        for item in items:
            evidence = [Evidence(chunk=cited_chunk(newsdesk, item["file"], item["passage"]), rank=1, score=1.0)]
            reply = f"{item['sentence']} [1]"
            matches = probe.check(reply, evidence)[0].matches
            verdict = checker.check(reply, evidence)[0]
            share, _ = coverage(verdict.claim, evidence_facts(evidence))
            rows.append({**item, "similarity": max(s for _, s in matches.values()), "coverage": share, "verdict": verdict})
    outcomes: Counter[tuple[str, str, bool]] = Counter()
    print(f"{'kind':16} {'label':12} {'sim':>5} {'cover':>5} {'verdict':8} sentence")
    for row in sorted(rows, key=lambda r: (r["kind"], r["similarity"])):
        verdict = row["verdict"]
        outcomes[(row["kind"], row["label"], verdict.supported)] += 1
        print(f"{row['kind']:16} {row['label']:12} {row['similarity']:5.3f} {row['coverage']:5.2f} "
              f"{'kept' if verdict.supported else 'dropped':8} {row['sentence'][:60]}  {verdict.reason[:70]}")
    similarity = cut_between(rows, "similarity", SIMILARITY_NEGATIVES)
    share = cut_between(rows, "coverage", None)
    print(f"\nsuggested NEWSDESK_SUPPORT_THRESHOLD={similarity[0]:.3f} ({similarity[1]} of {similarity[2]} misclassified)")
    print(f"suggested NEWSDESK_SUPPORT_MIN_COVERAGE={share[0]:.3f} ({share[1]} of {share[2]} misclassified)")
    print(f"whole checker with the configured bounds ({settings.support_threshold}, {settings.support_min_coverage}):")
    for (kind, label, kept), count in sorted(outcomes.items()):
        print(f"  {kind:16} {label:12} {'kept' if kept else 'dropped':8} {count}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "checker_calibration.yaml")
