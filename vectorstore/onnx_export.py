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
the fp32 speed. Quantised as they are, the feed-forward output projections
lose too much: their inputs (GELU outputs) have a few channels with values
up to twenty times the others', and one per-run int8 scale flattens the rest.
The default recipe takes those channels apart (as LLM.int8(), Dettmers et al.
2022, does): the ``OUTLIER_CHANNELS`` channels with the highest peaks on the
bundled sample articles (listed in ``outlier_channels.json``) go through a
small fp32 product, the rest through the int8 one; the first two layers'
projections stay wholly fp32 (with only the first, one sample comparison that
sits on a similarity threshold lost its disagreement; README "Embedding"). The earlier
recipes kept the first four layers' projections wholly in fp32, a fifth of
every run. torch, transformers and onnx are imported here only.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from vectorstore.model_files import check_export, file_sha256, load_tokenizer, verify_weights

OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTLIER_CHANNELS = 32  # input channels of each feed-forward output projection kept in fp32 by the default recipe
OUTLIER_CHANNELS_FILE = Path(__file__).with_name("outlier_channels.json")  # which ones (``shipped_outlier_channels``)
CALIBRATION_WORDPIECES = 254  # calibration windows, [CLS] and [SEP] added


@dataclass(frozen=True)
class Recipe:
    """How an export is made. Its files' names say which recipe made them, so a store, which records the file
    that embedded it, names the recipe to make again on a machine that has no export yet (a new replica)."""

    fp32_file: str
    int8_file: str
    fuse_skip_layer_norm: bool
    fp32_ffn_layers: int = 0  # the first layers' feed-forward output projections left in fp32 in the int8 file
    outliers_apart: bool = False  # the projections' outlier input channels kept in fp32 (see the module docstring)

    def file(self, int8: bool) -> str:
        return self.int8_file if int8 else self.fp32_file


# New stores: the first two feed-forward output projections fp32, the others int8 but for their outlier channels;
# the residual Add and LayerNorm apart.
OUTLIERS_APART = Recipe("all-MiniLM-L6-v2.export2.onnx", "all-MiniLM-L6-v2.export3.int8.onnx", fuse_skip_layer_norm=False,
                        fp32_ffn_layers=2, outliers_apart=True)
# Stores embedded before that: the first four feed-forward outputs in fp32 (the fp32 file is the same).
RESIDUAL_APART = Recipe("all-MiniLM-L6-v2.export2.onnx", "all-MiniLM-L6-v2.export2.int8.onnx", fuse_skip_layer_norm=False,
                        fp32_ffn_layers=4)
# Stores embedded before that: the residual Add and LayerNorm fused, which gives slightly different vectors.
RESIDUAL_FUSED = Recipe("all-MiniLM-L6-v2.onnx", "all-MiniLM-L6-v2.int8.onnx", fuse_skip_layer_norm=True, fp32_ffn_layers=4)
DEFAULT_RECIPE = OUTLIERS_APART
RECIPES = (OUTLIERS_APART, RESIDUAL_APART, RESIDUAL_FUSED)


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
            _publish(wanted, lambda staged: _quantise(fp32, staged, recipe, weights_dir))
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
    of every embedding. The session keeps onnxruntime from fusing them again at load (``onnx_session.UNFUSED``).
    ``fuse_skip_layer_norm`` makes the earlier export (``RESIDUAL_FUSED``), for the stores it embedded.
    """
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    config = _model_config(weights_dir)
    fusions = FusionOptions("bert")
    fusions.enable_skip_layer_norm = fuse_skip_layer_norm
    optimised = optimize_model(
        str(raw), model_type="bert", num_heads=config["num_attention_heads"], hidden_size=config["hidden_size"], opt_level=0,
        optimization_options=fusions,
    )
    optimised.save_model_to_file(str(target))


def _quantise(fp32: Path, target: Path, recipe: Recipe, weights_dir: Path) -> None:
    """int8 weights per output channel for attention and matrix products; the feed-forward output projections'
    outlier channels or first layers stay fp32, as ``recipe`` says."""
    import onnx
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(fp32))
    projections = _ffn_output_projections(model, _layer_count(weights_dir))
    source, keep_fp32 = fp32, projections[: recipe.fp32_ffn_layers]
    if recipe.outliers_apart:
        source = target.with_name("outliers-apart.onnx")
        channels = shipped_outlier_channels()
        apart = range(recipe.fp32_ffn_layers, len(projections))
        keep_fp32 += _outliers_apart(model, [projections[layer] for layer in apart], [channels[layer] for layer in apart])
        onnx.save(model, str(source))
    with _without_preprocessing_advice():
        quantize_dynamic(
            str(source), str(target), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul", "Attention"],
            nodes_to_exclude=keep_fp32,
            extra_options={"DefaultTensorType": TensorProto.FLOAT},  # fused ops have no inferred types
        )


@contextmanager
def _without_preprocessing_advice() -> Iterator[None]:
    """quantize_dynamic logs a root-logger warning that suggests its pre-processing (shape inference and graph
    optimisation, which the transformer optimiser has done here); a user's first ingest should not show it.
    Only that message is dropped: a filter on the root logger, not a process-wide level."""
    advice = logging.Filter()
    advice.filter = lambda record: not record.getMessage().startswith("Please consider to run pre-processing")
    logging.getLogger().addFilter(advice)
    try:
        yield
    finally:
        logging.getLogger().removeFilter(advice)


def shipped_outlier_channels() -> list[list[int]]:
    """Per layer, the feed-forward output projection's input channels kept in fp32 (``OUTLIER_CHANNELS_FILE``).

    They are data, not computed at export time: an fp32 calibration run can differ in its last bits from one
    CPU to another, which could swap two channels near the cut and give a new replica another int8 file than
    the one its store records. ``bench/calibrate_outliers.py`` computes them (``calibrate_outlier_channels``).
    """
    return json.loads(OUTLIER_CHANNELS_FILE.read_text(encoding="utf-8"))["channels"]


def calibrate_outlier_channels(fp32: Path, weights_dir: Path) -> list[list[int]]:
    """Per layer, the ``OUTLIER_CHANNELS`` input channels of the feed-forward output projection with the highest
    absolute peaks over the bundled sample articles, run whole (in windows of the model's length) through ``fp32``."""
    import numpy as np
    import onnx
    import onnxruntime

    from vectorstore.onnx_session import model_inputs

    model = onnx.load(str(fp32))
    inputs = [_node(model, name).input[0] for name in _ffn_output_projections(model, _layer_count(weights_dir))]
    model.graph.output.extend(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in inputs)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    tokenizer = load_tokenizer(weights_dir)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    peaks = [np.zeros(1, dtype=np.float32)] * len(inputs)
    for text in _calibration_texts():
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        for start in range(0, len(ids), CALIBRATION_WORDPIECES):
            outputs = session.run(inputs, model_inputs([cls_id, *ids[start : start + CALIBRATION_WORDPIECES], sep_id]))
            peaks = [np.maximum(peak, np.abs(out).reshape(-1, out.shape[-1]).max(axis=0)) for peak, out in zip(peaks, outputs)]
    return [sorted(int(c) for c in np.argsort(-peak, kind="stable")[:OUTLIER_CHANNELS]) for peak in peaks]


def _calibration_texts() -> list[str]:
    """The sample articles that ship with the package: real news prose."""
    from importlib import resources

    folder = resources.files("ingest").joinpath("sample_corpus")
    return [entry.read_text(encoding="utf-8") for entry in sorted(folder.iterdir(), key=lambda e: e.name) if entry.name.endswith(".txt")]


def _outliers_apart(model, projections: list[str], channels: list[list[int]]) -> list[str]:
    """Rewrite each projection ``X @ W`` as ``(X * keep) @ W_rest + X[..., outliers] @ W[outliers]``.

    ``keep`` zeroes the outlier channels (and ``W_rest`` their weight rows),
    so the int8 product's activation and weight scales are set by the
    ordinary ones; the second product, ``OUTLIER_CHANNELS`` wide, stays fp32.
    Returns the names of the fp32 products (not to be quantised).
    """
    import numpy as np
    from onnx import helper, numpy_helper

    initializers = {init.name: init for init in model.graph.initializer}
    fp32_products = []
    for name, outlier_list in zip(projections, channels, strict=True):
        node = _node(model, name)
        weights = numpy_helper.to_array(initializers[node.input[1]])  # (inputs, outputs)
        outliers = np.asarray(outlier_list, dtype=np.int64)
        keep = np.ones(weights.shape[0], dtype=np.float32)
        keep[outliers] = 0.0
        rest = weights * keep[:, None]
        initializers[node.input[1]].CopyFrom(numpy_helper.from_array(rest, node.input[1]))
        model.graph.initializer.extend([
            numpy_helper.from_array(keep, f"{name}/keep"),
            numpy_helper.from_array(outliers, f"{name}/outliers"),
            numpy_helper.from_array(weights[outliers], f"{name}/outlier_weights"),
        ])
        x, y = node.input[0], node.output[0]
        node.input[0], node.output[0] = f"{name}/kept", f"{name}/int8_part"
        fp32_products.append(f"{name}/outlier_product")
        around = [
            helper.make_node("Mul", [x, f"{name}/keep"], [f"{name}/kept"], name=f"{name}/keep"),
            node,
            helper.make_node("Gather", [x, f"{name}/outliers"], [f"{name}/outlier_inputs"], name=f"{name}/gather", axis=-1),
            helper.make_node("MatMul", [f"{name}/outlier_inputs", f"{name}/outlier_weights"], [f"{name}/fp32_part"],
                             name=fp32_products[-1]),
            helper.make_node("Add", [f"{name}/int8_part", f"{name}/fp32_part"], [y], name=f"{name}/sum"),
        ]
        nodes = list(model.graph.node)
        position = nodes.index(node)
        del model.graph.node[:]
        model.graph.node.extend(nodes[:position] + around + nodes[position + 1 :])
    return fp32_products


def _node(model, name: str):
    return next(node for node in model.graph.node if node.name == name)


def _model_config(weights_dir: Path) -> dict:
    return json.loads((weights_dir / "config.json").read_text(encoding="utf-8"))


def _layer_count(weights_dir: Path) -> int:
    return _model_config(weights_dir)["num_hidden_layers"]


def _ffn_output_projections(model, layers: int) -> list[str]:
    """Names of the feed-forward output MatMuls, first layer first (``/bert/encoder/layer.N/output/dense/MatMul``)."""
    names = [node.name for node in model.graph.node if node.op_type == "MatMul" and node.name.endswith("/output/dense/MatMul")]
    names = sorted((name for name in names if "/attention/" not in name), key=lambda name: int(name.split("layer.")[1].split("/")[0]))
    if len(names) != layers:
        raise ExportError(f"expected a feed-forward output MatMul in each of the {layers} layers of the exported model, found {names}")
    return names
