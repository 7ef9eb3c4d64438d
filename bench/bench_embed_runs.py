"""How the ONNX model is run: padded batches, one text per run on all cores, or one text per run per core.

    python bench/bench_embed_runs.py [FOLDER] [--texts 400] [--runtime onnx-int8|onnx]

Cuts the folder's articles (default: the BBC politics 2005 corpus) into
tutorial-sized chunks (RecursiveCharacterTextSplitter 1000/200) and embeds
the same texts three ways with the same exported model file:

- ``batched``: the earlier way, texts sorted by length and run in padded
  batches of at most 4,096 wordpieces on one session using every core;
- ``per text, all cores``: one text per ``Session.run``, each run spread over
  every core;
- ``per text, run per core`` (shipped): one text per run, single-threaded
  runs on a thread per core.

It prints chunks per wall-clock and per CPU second, and the largest
difference between each way's vectors and the shipped ones (zero means the
same vectors to the last bit).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vectorstore.embeddings import MiniLMEmbeddings  # noqa: E402

TOKENS_PER_BATCH = 4096


def chunks_of(folder: Path, count: int) -> list[str]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".txt", ".md", ".html"))
    text = "\n\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)
    return RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_text(text)[:count]


def session(model_file: Path, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


def batched(embeddings: MiniLMEmbeddings, texts: list[str]) -> np.ndarray:
    """Length-sorted padded batches, mean-pooled over the mask."""
    encoder = embeddings.encoder
    run = session(encoder.model_file, len(os.sched_getaffinity(0)))
    ids = [encoder._truncate(e.ids) for e in embeddings.tokenizer.encode_batch([t.strip() for t in texts])]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    vectors = np.empty((len(ids), 384), dtype=np.float32)
    batch: list[int] = []
    for index in [*order, None]:
        if batch and (index is None or (len(batch) + 1) * len(ids[index]) > TOKENS_PER_BATCH):
            width = max(len(ids[i]) for i in batch)
            input_ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros_like(input_ids)
            for row, i in enumerate(batch):
                input_ids[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            tokens = run.run(None, {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(mask)})[0]
            pooled = (tokens * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            vectors[batch] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
            batch = []
        if index is not None:
            batch.append(index)
    return vectors


def per_text_all_cores(embeddings: MiniLMEmbeddings, texts: list[str]) -> np.ndarray:
    encoder = embeddings.encoder
    shipped_session = encoder.session
    encoder.__dict__["session"] = session(encoder.model_file, len(os.sched_getaffinity(0)))
    try:
        return np.vstack([encoder.encode([text]) for text in texts])
    finally:
        encoder.__dict__["session"] = shipped_session


def timed(name: str, way, embeddings: MiniLMEmbeddings, texts: list[str], shipped: np.ndarray | None) -> np.ndarray:
    way(embeddings, texts[:8])  # warm-up: session creation and first-run allocations
    wall, cpu = time.perf_counter(), time.process_time()
    vectors = way(embeddings, texts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    reference = vectors if shipped is None else shipped
    print(f"  {name:28} {len(texts) / wall:6.1f} chunks/s wall, {len(texts) / cpu:5.1f} per CPU s, "
          f"max difference from shipped {np.abs(vectors - reference).max():.1e}")
    return vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=Path("/work/shared/corpora/bbc-politics-2005"))
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("--runtime", choices=["onnx-int8", "onnx"], default="onnx-int8")
    args = parser.parse_args()
    texts = chunks_of(args.folder, args.texts)
    embeddings = MiniLMEmbeddings(runtime=args.runtime, onnx_dir=os.environ.get("NEWSDESK_MODELS_DIR"))
    print(f"{len(texts)} chunks of {args.folder}, runtime {args.runtime}, {len(os.sched_getaffinity(0))} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    shipped = timed("per text, run per core", lambda e, t: e.encode(t), embeddings, texts, None)
    timed("per text, all cores", per_text_all_cores, embeddings, texts, shipped)
    timed("batched (4,096 wordpieces)", batched, embeddings, texts, shipped)


if __name__ == "__main__":
    main()
