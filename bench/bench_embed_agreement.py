"""How closely each export recipe's vectors follow the reference, and what a chunk costs with it.

    python bench/bench_embed_agreement.py [FOLDER] [--chunks 400] [--sentences 240]

The reference is sentence-transformers on torch (the packaged weights). The
texts are newsdesk's own chunks of the folder's articles (default: the BBC
politics 2005 corpus), the questions of the repo's question sets, and single
sentences from the same articles. For the int8 file of every export recipe
(``vectorstore.onnx_export.RECIPES``) and the fp32 file it prints the
cosine with the reference (min, 1st percentile, mean) per kind of text and
the CPU milliseconds per chunk of one single-threaded run, the way ingest
runs the model (the files take turns over four rounds: this machine's speed
drifts by 10% and more within minutes). Each recipe is exported into a temp dir first (a few seconds
each; nothing is downloaded).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.eval.questionset import load_question_set  # noqa: E402
from ingest.chunking import Chunker  # noqa: E402
from ingest.sentences import split_sentences  # noqa: E402
from vectorstore.embeddings import MAX_WORDPIECES, MiniLMEmbeddings  # noqa: E402
from vectorstore.onnx_export import RECIPES, Recipe  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
QUESTION_SETS = [REPO / "tests" / "data" / "questions.yaml", *sorted((REPO / "bench" / "questions").glob("*.yaml"))]
DEFAULT_FOLDER = REPO.parent / "shared" / "corpora" / "bbc-politics-2005"


def texts_of(folder: Path, chunks: int, sentences: int) -> dict[str, list[str]]:
    """Chunks and sentences of the folder's articles, and every question of the repo's question sets."""
    counter = MiniLMEmbeddings()
    chunker = Chunker(counter.count_wordpieces, MAX_WORDPIECES)
    articles = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.rglob("*"))
                if p.is_file() and p.suffix.lower() in (".txt", ".md", ".html")]
    chunk_texts = [chunk.text for text in articles for chunk in chunker.split(text)]
    sentence_texts = [s.text for text in articles for s in split_sentences(text) if len(s.text.split()) >= 5]
    questions = [case.question for path in QUESTION_SETS for case in load_question_set(path).cases]
    step = max(1, len(sentence_texts) // sentences)
    return {"chunks": chunk_texts[:chunks], "questions": questions, "sentences": sentence_texts[::step][:sentences]}


def cpu_ms_per_text(models: list[MiniLMEmbeddings], texts: list[str], rounds: int = 4) -> list[float]:
    """One text per single-threaded run on this thread, as each of ingest's embedding threads runs them; the
    models take turns, round after round, so that this machine's drifting speed does not favour one of them."""
    ids = [models[0].encoder._truncate(e.ids) for e in models[0].tokenizer.encode_batch([t.strip() for t in texts])]
    spent = [0.0] * len(models)
    for _ in range(rounds):
        for index, model in enumerate(models):
            model.encoder._encode_one(ids[0])  # warm-up
            started = time.process_time()
            for text_ids in ids:
                model.encoder._encode_one(text_ids)
            spent[index] += time.process_time() - started
    return [1000 * total / (rounds * len(ids)) for total in spent]


def describe(cosines: np.ndarray) -> str:
    return f"{cosines.min():.4f} / {np.percentile(cosines, 1):.4f} / {cosines.mean():.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--chunks", type=int, default=400)
    parser.add_argument("--sentences", type=int, default=240)
    args = parser.parse_args()
    texts = texts_of(args.folder, args.chunks, args.sentences)
    print(", ".join(f"{len(v)} {k}" for k, v in texts.items()) + f" from {args.folder} and the repo's question sets")
    reference = MiniLMEmbeddings(runtime="torch")
    expected = {kind: reference.encode(batch) for kind, batch in texts.items()}
    print("| model file | chunks min / p1 / mean | questions min / p1 / mean | sentences min / p1 / mean | CPU ms per chunk |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as models:
        variants = [*((r, True) for r in RECIPES), (RECIPES[0], False)]
        embedders = [model_of(recipe, int8, Path(models)) for recipe, int8 in variants]
        rows = [[describe((e.encode(batch) * expected[kind]).sum(axis=1)) for kind, batch in texts.items()] for e in embedders]
        costs = cpu_ms_per_text(embedders, texts["chunks"])
        for (recipe, int8), cells, cost in zip(variants, rows, costs, strict=True):
            print(f"| {recipe.file(int8)} | {' | '.join(cells)} | {cost:.1f} |")


def model_of(recipe: Recipe, int8: bool, models: Path) -> MiniLMEmbeddings:
    embeddings = MiniLMEmbeddings(runtime="onnx-int8" if int8 else "onnx", onnx_dir=models)
    embeddings.recipe = recipe
    return embeddings


if __name__ == "__main__":
    main()
