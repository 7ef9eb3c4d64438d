"""Calibrate NEWSDESK_SUPPORT_THRESHOLD: the similarity a generated sentence needs with its cited chunk.

    python bench/calibrate_checker.py [LABELLED.yaml]

Defaults to bench/checker_calibration.yaml: hand-written sentences, each
"citing" one chunk of the bundled sample corpus, labelled supported or not.
Prints every sentence's similarity, the cut that best separates supported
paraphrases from unsupported sentences (swapped-fact items excluded: those
are the lexical check's job), and how the whole checker (similarity plus
names and numbers) classifies each kind at that cut.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml
from calibrate_abstention import best_threshold

from app.extractive import SentenceVectors
from app.retrieval import Evidence
from app.service import Newsdesk
from app.settings import Settings
from app.support_check import SupportChecker
from vectorstore.store import StoredChunk

HERE = Path(__file__).parent
LEXICAL_KINDS = {"swapped-fact"}


def cited_chunk(newsdesk: Newsdesk, source: str, passage: str) -> StoredChunk:
    version = newsdesk.store.catalog.articles()[source].version
    return next(c for c in newsdesk.store.iter_chunks({"version": version}) if passage in c.text)


def main(path: Path) -> None:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    with tempfile.TemporaryDirectory() as data_dir:
        newsdesk = Newsdesk(Settings(data_dir=Path(data_dir)))
        newsdesk.ingest()
        probe = SupportChecker(SentenceVectors(newsdesk.embeddings), threshold=0.0)
        rows = []
        for item in items:
            evidence = [Evidence(chunk=cited_chunk(newsdesk, item["file"], item["passage"]), rank=1, score=1.0)]
            verdict = probe.check(f"{item['sentence']} [1]", evidence)[0]
            rows.append((item, max(score for _, score in verdict.matches.values()), evidence))
        scored = [(i["sentence"][:60], i["label"] == "unsupported", s) for i, s, _ in rows if i["kind"] not in LEXICAL_KINDS]
        cut, errors = best_threshold(scored)
        checker = SupportChecker(probe.vectors, threshold=cut)
        outcomes: Counter[tuple[str, str, bool]] = Counter()
        print(f"{'kind':14} {'label':12} {'sim':>5} {'verdict':8} sentence")
        for item, similarity, evidence in sorted(rows, key=lambda r: r[1]):
            verdict = checker.check(f"{item['sentence']} [1]", evidence)[0]
            outcomes[(item["kind"], item["label"], verdict.supported)] += 1
            print(f"{item['kind']:14} {item['label']:12} {similarity:5.3f} {'kept' if verdict.supported else 'dropped':8} "
                  f"{item['sentence'][:70]}  {verdict.reason}")
    print(f"\nsuggested NEWSDESK_SUPPORT_THRESHOLD={cut:.3f} ({errors} of {len(scored)} similarity-only errors)")
    for (kind, label, kept), count in sorted(outcomes.items()):
        print(f"  {kind:14} {label:12} {'kept' if kept else 'dropped':8} {count}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "checker_calibration.yaml")
