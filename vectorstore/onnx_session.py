"""One single-threaded onnxruntime session on an exported MiniLM file, and one text's vector from it.

Shared by the in-process encoder's threads (``vectorstore.onnx_runtime``) and
the ingest's worker processes (``vectorstore.embedding_processes``), so both
run the same options and pooling and give the same vector to the last bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

UNFUSED = ["SkipLayerNormFusion"]  # onnxruntime graph optimisers whose fused kernel is slower here


def open_session(model_file: Path):  # -> onnxruntime.InferenceSession
    """A single-threaded session on ``model_file``, as every embedding thread and worker process runs it."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # warnings about unused initialisers are noise on every start
    options.intra_op_num_threads = 1  # the parallelism is one text per core (see vectorstore.onnx_runtime)
    options.inter_op_num_threads = 1
    # Add + LayerNormalization run faster than their fused kernel (see onnx_export._optimise).
    return onnxruntime.InferenceSession(
        str(model_file), options, providers=["CPUExecutionProvider"], disabled_optimizers=UNFUSED
    )


def embed_ids(session, ids) -> np.ndarray:
    """Mean of one text's token embeddings (no padding, so every token counts), normalised."""
    pooled = session.run(None, model_inputs(ids))[0][0].mean(axis=0)
    return pooled / max(float(np.linalg.norm(pooled)), 1e-12)


def model_inputs(ids: list[int]) -> dict[str, np.ndarray]:
    """One text's wordpiece ids as the exported model takes them: unpadded, so every token is attended to."""
    input_ids = np.asarray([ids], dtype=np.int64)
    return {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids), "token_type_ids": np.zeros_like(input_ids)}
