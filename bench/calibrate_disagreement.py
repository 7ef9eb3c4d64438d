"""Calibrate the disagreement detector on hand-labelled pairs and report precision on the held-out ones.

    python bench/calibrate_disagreement.py

Grid-searches the meaning and shared-terms thresholds on the ``dev`` pairs of
bench/disagreement_pairs.yaml (best precision, then recall), then prints
precision and recall of those and of the shipped thresholds
(``app.answer.disagreement``) on the ``held-out`` pairs. Precision comes
first: a disagreement listed wrongly misleads the reader; one missed only
leaves the list shorter.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import yaml

from app.answer.disagreement import Statement, Thresholds, compare_pair
from vectorstore.embeddings import MiniLMEmbeddings

PAIRS = Path(__file__).with_name("disagreement_pairs.yaml")


def score(pairs: list[dict], thresholds: Thresholds) -> tuple[float, float, int]:
    """Precision, recall and number flagged."""
    flagged = [compare_pair(p["first"], p["second"], thresholds) is not None for p in pairs]
    true_positive = sum(f and p["disagree"] for f, p in zip(flagged, pairs, strict=True))
    positives = sum(p["disagree"] for p in pairs)
    return (true_positive / sum(flagged) if any(flagged) else 1.0), true_positive / positives, sum(flagged)


def main() -> None:
    pairs = yaml.safe_load(PAIRS.read_text(encoding="utf-8"))["pairs"]
    vectors = MiniLMEmbeddings().encode([t for p in pairs for t in (p["a"], p["b"])])
    for i, pair in enumerate(pairs):
        pair["first"] = Statement("A", 1, pair["a"], vectors[2 * i])
        pair["second"] = Statement("B", 2, pair["b"], vectors[2 * i + 1])
    dev = [p for p in pairs if p["split"] == "dev"]
    held_out = [p for p in pairs if p["split"] == "held-out"]
    grid = [Thresholds(s, n, max(s, 0.6)) for s, n in product([0.3, 0.4, 0.45, 0.5, 0.6, 0.7], [1, 2, 3, 4, 5])]
    # Ties go to the strictest thresholds: equal dev scores, fewer chances of a wrong listing on new text.
    best = max(grid, key=lambda t: (*score(dev, t)[:2], t.min_similarity, t.min_shared_terms))
    print(f"{len(dev)} dev pairs, {len(held_out)} held-out pairs ({sum(p['disagree'] for p in held_out)} disagreeing)")
    for name, thresholds in (("tuned on dev", best), ("shipped", Thresholds())):
        p_dev, r_dev, _ = score(dev, thresholds)
        p_out, r_out, n_out = score(held_out, thresholds)
        print(f"{name}: min_similarity {thresholds.min_similarity}, min_shared_terms {thresholds.min_shared_terms}: "
              f"dev precision {p_dev:.2f} recall {r_dev:.2f}; held-out precision {p_out:.2f} recall {r_out:.2f} "
              f"({n_out} flagged)")


if __name__ == "__main__":
    main()
