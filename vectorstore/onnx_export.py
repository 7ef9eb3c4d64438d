"""One-time export of the packaged MiniLM weights to optimised ONNX files, each with its sha256 beside it.

Question time should not pay for importing torch (about 7 s of a cold
start), so the model is exported once, at the first ingest or first use, from
the hash-checked ``model.safetensors`` into the models dir; nothing is ever
downloaded. The export uses eager attention so that onnxruntime's BERT
optimiser can fuse each layer's attention, LayerNorm and GELU into single
kernels.

The int8 file is made from the fp32 one by dynamic quantisation (int8
weights, activations quantised per run), which runs the matrix products
on the CPU's integer dot-product units (AVX-512 VNNI here) at about twice
the fp32 speed. Quantising everything drops the cosine with the reference to
0.98 on some texts; the error comes from the embedding lookup and from the
feed-forward output projections of the first layers, whose inputs (GELU
outputs) have outliers that one per-run int8 scale flattens. Those stay in
fp32 for the first four layers: every measured cosine stays at or above
0.99, and the project's question sets score as with fp32 (with three, one
compare case lost its disagreement; see README "Embedding"). torch, transformers and onnx are imported here only.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from vectorstore.model_files import check_export, file_sha256, verify_weights

OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
FP32_FFN_OUTPUT_LAYERS = 4  # the first layers' feed-forward output projections stay fp32 in the int8 file


@dataclass(frozen=True)
class Recipe:
    """How an export is made. Its files' names say which recipe made them, so a store, which records the file
    that embedded it, names the recipe to make again on a machine that has no export yet (a new replica)."""

    fp32_file: str
    int8_file: str
    fuse_skip_layer_norm: bool

    def file(self, int8: bool) -> str:
        return self.int8_file if int8 else self.fp32_file


# New stores: the residual Add and LayerNorm stay apart (see ``_optimise``).
RESIDUAL_APART = Recipe("all-MiniLM-L6-v2.export2.onnx", "all-MiniLM-L6-v2.export2.int8.onnx", fuse_skip_layer_norm=False)
# Stores embedded before that: the same model with the two fused, which gives slightly different int8 vectors.
RESIDUAL_FUSED = Recipe("all-MiniLM-L6-v2.onnx", "all-MiniLM-L6-v2.int8.onnx", fuse_skip_layer_norm=True)
DEFAULT_RECIPE = RESIDUAL_APART
RECIPES = (RESIDUAL_APART, RESIDUAL_FUSED)


def recipe_of(model_file: str) -> Recipe | None:
    """The recipe that makes a file of this name; None for a file no recipe makes (the torch reference)."""
    return next((recipe for recipe in RECIPES if model_file in (recipe.fp32_file, recipe.int8_file)), None)


class ExportError(Exception):
    """The exported graph is not shaped as the quantisation expects (another torch or transformers export)."""


def sha_file(model_file: Path) -> Path:
    """Where the export's sha256 is recorded; a model file without it counts as not exported."""
    return model_file.with_name(model_file.name + ".sha256")


def ensure_exported(
    weights_dir: Path, models_dir: Path, int8: bool = False, recipe: Recipe = DEFAULT_RECIPE
) -> tuple[Path, str]:
    """The fp32 (or int8) ONNX file of ``recipe`` in ``models_dir`` and its recorded sha256, exporting it first
    if missing.

    A lock keeps two processes (an ingest and a server) from exporting at once.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    fp32 = models_dir / recipe.fp32_file
    wanted = models_dir / recipe.file(int8)
    with FileLock(str(models_dir / (recipe.fp32_file + ".lock"))):
        if not _is_exported(fp32) and not (int8 and _is_exported(wanted)):
            _publish(fp32, lambda staged: _export_fp32(weights_dir, staged, recipe.fuse_skip_layer_norm))
        if not _is_exported(wanted):
            check_export(fp32, recorded_sha256(fp32))  # the int8 file inherits whatever the fp32 file holds
            _publish(wanted, lambda staged: _quantise(fp32, staged))
    return wanted, recorded_sha256(wanted)


def recorded_sha256(model_file: Path) -> str:
    return sha_file(model_file).read_text(encoding="utf-8").split()[0]


def _is_exported(model_file: Path) -> bool:
    return model_file.is_file() and sha_file(model_file).is_file()


def _publish(model_file: Path, make) -> None:
    """Make the file in a temp dir beside it, then move it and its sha256 into place (model first, sha last)."""
    with tempfile.TemporaryDirectory(dir=model_file.parent, prefix=".export-") as tmp:
        staged = Path(tmp) / "model.onnx"
        make(staged)
        digest = file_sha256(staged)
        os.replace(staged, model_file)
        staged_sha = Path(tmp) / "sha256"
        staged_sha.write_text(f"{digest}  {model_file.name}\n", encoding="utf-8")
        os.replace(staged_sha, sha_file(model_file))


def _export_fp32(weights_dir: Path, target: Path, fuse_skip_layer_norm: bool) -> None:
    """Export from the verified weights and fuse with onnxruntime's transformer optimiser."""
    verify_weights(weights_dir)
    raw = target.with_name("raw.onnx")
    _torch_export(weights_dir, raw)
    _optimise(weights_dir, raw, target, fuse_skip_layer_norm)


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


def _optimise(weights_dir: Path, raw: Path, target: Path, fuse_skip_layer_norm: bool) -> None:
    """Fuse attention, LayerNorm and GELU with onnxruntime's transformer optimiser (offline, CPU).

    The residual add and the LayerNorm after it stay two nodes: onnxruntime's fused
    ``SkipLayerNormalization`` CPU kernel took about 0.75 ms per call on a 200-wordpiece text against 0.15 ms
    for ``Add`` + ``LayerNormalization`` (ORT profiler, twelve calls per text), so fusing them cost about 15%
    of every embedding. The session keeps onnxruntime from fusing them again at load (``onnx_runtime.UNFUSED``).
    ``fuse_skip_layer_norm`` makes the earlier export (``RESIDUAL_FUSED``), for the stores it embedded.
    """
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((weights_dir / "config.json").read_text(encoding="utf-8"))
    fusions = FusionOptions("bert")
    fusions.enable_skip_layer_norm = fuse_skip_layer_norm
    optimised = optimize_model(
        str(raw), model_type="bert", num_heads=config["num_attention_heads"], hidden_size=config["hidden_size"], opt_level=0,
        optimization_options=fusions,
    )
    optimised.save_model_to_file(str(target))


def _quantise(fp32: Path, target: Path) -> None:
    """int8 weights per output channel for attention and matrix products, except the outlier-prone ones."""
    import onnx
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    keep_fp32 = _ffn_output_projections(onnx.load(str(fp32), load_external_data=False))[:FP32_FFN_OUTPUT_LAYERS]
    quantize_dynamic(
        str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul", "Attention"],
        nodes_to_exclude=keep_fp32, extra_options={"DefaultTensorType": TensorProto.FLOAT},  # fused ops have no inferred types
    )


def _ffn_output_projections(model) -> list[str]:
    """Names of the feed-forward output MatMuls, first layer first (``/bert/encoder/layer.N/output/dense/MatMul``)."""
    names = [node.name for node in model.graph.node if node.op_type == "MatMul" and node.name.endswith("/output/dense/MatMul")]
    names = [name for name in names if "/attention/" not in name]
    if len(names) < FP32_FFN_OUTPUT_LAYERS:
        raise ExportError(f"expected a feed-forward output MatMul per layer in the exported model, found {names}")
    return sorted(names, key=lambda name: int(name.split("layer.")[1].split("/")[0]))
