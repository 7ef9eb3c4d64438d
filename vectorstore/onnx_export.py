"""One-time export of the packaged MiniLM weights to an optimised ONNX file, with its sha256 beside it.

Question time should not pay for importing torch (about 7 s of a cold
start), so the model is exported once, at the first ingest or first use, from
the hash-checked ``model.safetensors`` into the data dir; nothing is ever
downloaded. The export uses eager attention so that onnxruntime's BERT
optimiser can fuse each layer's attention, LayerNorm and GELU into single
kernels, which is what makes the ONNX path faster than sentence-transformers.
torch, transformers and onnx are imported here only.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

from filelock import FileLock

from vectorstore.model_files import file_sha256, verify_weights

ONNX_FILE = "all-MiniLM-L6-v2.onnx"
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def sha_file(model_file: Path) -> Path:
    """Where the export's sha256 is recorded; a model file without it counts as not exported."""
    return model_file.with_name(model_file.name + ".sha256")


def ensure_exported(weights_dir: Path, models_dir: Path) -> tuple[Path, str]:
    """The ONNX file in ``models_dir`` and its recorded sha256, exporting it first if missing.

    A lock keeps two processes (an ingest and a server) from exporting at once.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    model_file = models_dir / ONNX_FILE
    with FileLock(str(models_dir / (ONNX_FILE + ".lock"))):
        if not (model_file.is_file() and sha_file(model_file).is_file()):
            export(weights_dir, model_file)
    return model_file, sha_file(model_file).read_text(encoding="utf-8").split()[0]


def export(weights_dir: Path, model_file: Path) -> None:
    """Export and optimise, then move the file and its sha256 into place (model first, sha last)."""
    verify_weights(weights_dir)
    with tempfile.TemporaryDirectory(dir=model_file.parent, prefix=".export-") as tmp:
        raw, optimised = Path(tmp) / "raw.onnx", Path(tmp) / "model.onnx"
        _torch_export(weights_dir, raw)
        _optimise(weights_dir, raw, optimised)
        digest = file_sha256(optimised)
        os.replace(optimised, model_file)
        staged_sha = Path(tmp) / "sha256"
        staged_sha.write_text(f"{digest}  {model_file.name}\n", encoding="utf-8")
        os.replace(staged_sha, sha_file(model_file))


def _torch_export(weights_dir: Path, target: Path) -> None:
    """The transformer body (token embeddings out); pooling stays in numpy, as in sentence-transformers."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(weights_dir), attn_implementation="eager").eval()

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    example = torch.ones(2, 8, dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "token_embeddings")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent branches; the axes are declared dynamic
        torch.onnx.export(
            TokenEmbeddings(), (example, example, torch.zeros_like(example)), str(target), input_names=list(INPUTS),
            output_names=["token_embeddings"], dynamic_axes=axes, opset_version=OPSET, dynamo=False,
        )


def _optimise(weights_dir: Path, raw: Path, target: Path) -> None:
    """Fuse attention, LayerNorm and GELU with onnxruntime's transformer optimiser (offline, CPU)."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((weights_dir / "config.json").read_text(encoding="utf-8"))
    optimised = optimize_model(
        str(raw), model_type="bert", num_heads=config["num_attention_heads"], hidden_size=config["hidden_size"], opt_level=0
    )
    optimised.save_model_to_file(str(target))
