"""The packaged model is verified before it is trusted, and the shipped runtime matches the reference."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from vectorstore.embeddings import WEIGHTS_SHA256, ModelIntegrityError, MiniLMEmbeddings, packaged_model_dir, verify_weights
from vectorstore.onnx_export import (
    DEFAULT_RECIPE,
    OUTLIER_CHANNELS,
    RESIDUAL_FUSED,
    _ffn_output_projections,
    _outliers_apart,
    calibrate_outlier_channels,
    ensure_exported,
    shipped_outlier_channels,
)
from vectorstore.store import EMBEDDER_KEY, EmbedderMismatch

# Short and long (past the 256-wordpiece truncation), padded with whitespace, mixed in one batch so padding is exercised.
FIXED_TEXTS = [
    "The consulate closed.",
    "  State Department spokeswoman Heather Nauert said the US consulate in Basra was placed on ordered departure.  ",
    "Iran denied any role in the rocket attacks near the airport, calling the accusations baseless. " * 12,
    "A recipe for bread: flour, water, salt and yeast.",
    "Ünïcödé, numbers 1,234.5 and punctuation -- (all) [kinds] {of} it!",
]


def test_packaged_weights_have_the_published_hash():
    verify_weights(packaged_model_dir())
    assert WEIGHTS_SHA256.startswith("53aa5117") and WEIGHTS_SHA256.endswith("d9db")


def test_tampered_weights_are_refused(tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(packaged_model_dir(), copy)
    with (copy / "model.safetensors").open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(ModelIntegrityError, match="sha256"):
        MiniLMEmbeddings(copy, onnx_dir=tmp_path / "models").embed_query("hello")


@pytest.mark.parametrize("int8", [True, False], ids=["int8 file", "fp32 file"])
def test_tampered_onnx_export_is_refused(tmp_path, models_dir, int8):
    """The shipped int8 file, and the fp32 file it is quantised from, are both checked before use."""
    models = tmp_path / "models"
    models.mkdir()
    fp32, _ = ensure_exported(packaged_model_dir(), models_dir)
    for file in fp32.parent.glob(f"{fp32.name}*"):  # the fp32 export and its sha256, not the int8 file
        shutil.copy(file, models / file.name)
    model_file, _ = ensure_exported(packaged_model_dir(), models, int8=True) if int8 else (models / fp32.name, None)
    with model_file.open("r+b") as handle:
        handle.seek(5000)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(ModelIntegrityError, match="sha256"):
        MiniLMEmbeddings(onnx_dir=models).embed_query("hello")


def test_a_truncated_export_is_reported_by_its_hash_not_by_onnxruntime(tmp_path, models_dir):
    """onnxruntime loads the file while its hash is checked; a file it cannot even parse is still reported as the
    hash mismatch, the error that says what is wrong and what to do."""
    models = tmp_path / "models"
    models.mkdir()
    fp32, _ = ensure_exported(packaged_model_dir(), models_dir)
    for file in fp32.parent.glob(f"{fp32.name}*"):
        shutil.copy(file, models / file.name)
    copy = models / fp32.name
    copy.write_bytes(copy.read_bytes()[: copy.stat().st_size // 2])
    with pytest.raises(ModelIntegrityError, match="delete it to export it again"):
        MiniLMEmbeddings(onnx_dir=models, runtime="onnx").embed_query("hello")


@pytest.fixture(scope="module")
def reference_vectors() -> np.ndarray:
    return MiniLMEmbeddings(runtime="torch", batch_size=2).encode(FIXED_TEXTS)


def test_the_shipped_int8_runtime_agrees_with_the_sentence_transformers_reference(embeddings, reference_vectors):
    shipped = embeddings.encode(FIXED_TEXTS)
    assert embeddings.runtime == "onnx-int8"
    assert shipped.shape == reference_vectors.shape == (len(FIXED_TEXTS), 384)
    cosines = np.sum(shipped * reference_vectors, axis=1)
    assert cosines.min() >= 0.99, cosines


def test_the_fp32_runtime_matches_the_reference_exactly(models_dir, reference_vectors):
    fp32 = MiniLMEmbeddings(runtime="onnx", onnx_dir=models_dir).encode(FIXED_TEXTS)
    cosines = np.sum(fp32 * reference_vectors, axis=1)
    assert cosines.min() >= 0.9999, cosines
    assert np.abs(fp32 - reference_vectors).max() < 1e-3


@pytest.mark.parametrize("runtime", ["onnx-int8", "onnx"])
def test_a_text_gets_the_same_vector_whatever_is_embedded_with_it(models_dir, runtime):
    """Answers must not depend on what was asked before: int8's per-batch activation scales once broke this."""
    embeddings = MiniLMEmbeddings(runtime=runtime, onnx_dir=models_dir)
    alone = embeddings.encode(FIXED_TEXTS[:1])[0]
    batched = embeddings.encode(["A much longer text about something else entirely, " * 6, "Short.", FIXED_TEXTS[0]])[2]
    assert np.array_equal(alone, batched)


def test_a_store_refuses_vectors_from_another_runtime(make_newsdesk, models_dir):
    from app.settings import Settings
    from app.service import Newsdesk

    int8 = make_newsdesk()
    int8.ingest()
    data_dir = int8.settings.data_dir
    torch_side = Newsdesk(Settings(data_dir=data_dir, embed_runtime="torch"))
    int8_file, fp32_file = re.escape(DEFAULT_RECIPE.int8_file), re.escape(DEFAULT_RECIPE.fp32_file)
    with pytest.raises(EmbedderMismatch, match=rf"embedded by onnxruntime \({int8_file}.* not by sentence-transformers.*set NEWSDESK_EMBED_RUNTIME=onnx-int8 to use it"):
        torch_side.ask("Why did the consulate close?")
    fp32 = make_newsdesk()  # a store written with the fp32 export (the default before int8)
    Newsdesk(Settings(data_dir=fp32.settings.data_dir, embed_runtime="onnx")).ingest()
    with pytest.raises(EmbedderMismatch, match=rf"embedded by onnxruntime \({fp32_file}.* not by onnxruntime \({int8_file}.*set NEWSDESK_EMBED_RUNTIME=onnx to use it"):
        Newsdesk(Settings(data_dir=fp32.settings.data_dir, embed_runtime="onnx-int8")).ask("Why did the consulate close?")
    # A store from before the embedder was recorded at all: torch wrote it.
    int8.store.chunks.modify(metadata={EMBEDDER_KEY: None})
    fresh = Newsdesk(Settings(data_dir=data_dir, embed_runtime="onnx-int8"))
    with pytest.raises(EmbedderMismatch, match="embedded by sentence-transformers .* not by onnxruntime.*set NEWSDESK_EMBED_RUNTIME=torch to use it"):
        fresh.ask("Why did the consulate close?")


def test_with_no_runtime_set_a_store_is_read_with_the_runtime_that_wrote_it(make_newsdesk):
    """A store written by the fp32 default of an earlier version keeps answering after the default became int8."""
    from app.settings import Settings
    from app.service import Newsdesk

    fp32 = make_newsdesk()
    Newsdesk(Settings(data_dir=fp32.settings.data_dir, embed_runtime="onnx")).ingest()
    unset = Newsdesk(Settings(data_dir=fp32.settings.data_dir))
    answer = unset.ask("Why did the US close its consulate in Basra?")
    assert unset.embeddings.runtime == "onnx"
    assert answer.citations
    new_store = Newsdesk(Settings(data_dir=fp32.settings.data_dir.parent / "new-store"))
    new_store.ingest()
    assert new_store.embeddings.runtime == "onnx-int8"
    assert new_store.store.chunks.metadata[EMBEDDER_KEY].count("int8") == 1


def test_vectors_are_unit_length_and_meaningful(embeddings):
    a, b, c = embeddings.encode(["The consulate closed.", "The mission shut down.", "A recipe for bread."])
    assert abs(float(a @ a) - 1.0) < 1e-5
    assert float(a @ b) > float(a @ c) + 0.2


def test_the_export_keeps_the_residual_add_and_layernorm_apart(models_dir):
    """onnxruntime's fused SkipLayerNormalization kernel was the slow one (see onnx_export._optimise)."""
    import onnx

    for int8 in (False, True):
        model_file, _ = ensure_exported(packaged_model_dir(), models_dir, int8=int8)
        ops = {node.op_type for node in onnx.load(str(model_file), load_external_data=False).graph.node}
        assert "SkipLayerNormalization" not in ops and "LayerNormalization" in ops
        assert ("QAttention" if int8 else "Attention") in ops  # the other fusions stay


def test_the_int8_export_runs_only_the_projections_outlier_channels_in_fp32(models_dir):
    """Quantising the feed-forward output projections whole cost too much agreement, keeping them fp32 a fifth of
    every run (see onnx_export): the default int8 file keeps the first two layers' in fp32 and, of the others, only
    a small product over their outlier channels."""
    import onnx

    model_file, _ = ensure_exported(packaged_model_dir(), models_dir, int8=True)
    model = onnx.load(str(model_file))
    shapes = {init.name: tuple(init.dims) for init in model.graph.initializer}
    fp32_products = [shapes[node.input[1]] for node in model.graph.node if node.op_type == "MatMul"]
    assert fp32_products == [(1536, 384)] * 2 + [(OUTLIER_CHANNELS, 384)] * 4
    assert sum(node.op_type == "MatMulInteger" for node in model.graph.node) == 6 * 3 - 2  # attention out, FFN in, FFN out


def test_taking_the_outlier_channels_apart_leaves_the_fp32_model_computing_the_same(models_dir):
    """The rewrite itself must be exact: only quantisation may change the vectors."""
    import onnx
    import onnxruntime

    fp32_file, _ = ensure_exported(packaged_model_dir(), models_dir)
    original = onnx.load(str(fp32_file))
    rewritten = onnx.load(str(fp32_file))
    _outliers_apart(rewritten, _ffn_output_projections(rewritten, 6), shipped_outlier_channels())
    ids = np.asarray([MiniLMEmbeddings().tokenizer.encode(FIXED_TEXTS[1]).ids], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    outputs = [
        onnxruntime.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feed)[0]
        for m in (original, rewritten)
    ]
    assert {node.op_type for node in rewritten.graph.node} >= {"Gather", "Mul"}
    assert np.abs(outputs[0] - outputs[1]).max() < 1e-4


def test_the_shipped_outlier_channels_are_the_ones_calibration_finds(models_dir):
    """The channels are shipped as data so that every machine makes the same int8 file; calibrating again on the
    sample articles must find them (all but a near-tie or two at the cut, which another CPU's last bits may swap)."""
    fp32_file, _ = ensure_exported(packaged_model_dir(), models_dir)
    found = calibrate_outlier_channels(fp32_file, packaged_model_dir())
    shipped = shipped_outlier_channels()
    assert len(found) == len(shipped) == 6
    assert all(len(channels) == OUTLIER_CHANNELS for channels in shipped)
    assert [len(set(a) & set(b)) >= OUTLIER_CHANNELS - 2 for a, b in zip(found, shipped)] == [True] * 6


def test_a_store_embedded_by_the_earlier_export_keeps_reading_with_it_on_a_new_machine(tmp_path):
    """A store records its export file; a process with no export yet (a new replica, a cleared models dir) makes
    that recipe again instead of refusing the store for the default one."""
    from app.settings import Settings
    from app.service import Newsdesk

    earlier = MiniLMEmbeddings(onnx_dir=tmp_path / "earlier-models")
    earlier.recipe = RESIDUAL_FUSED  # what every store embedded before the residual LayerNorm was unfused has
    store = Newsdesk(Settings(data_dir=tmp_path / "store"), embeddings=earlier)
    store.ingest()
    new_machine = Newsdesk(Settings(data_dir=tmp_path / "store", models_dir=tmp_path / "new-machine-models"))
    answer = new_machine.ask("Why did the US close its consulate in Basra?")
    assert answer.citations
    assert new_machine.embeddings.provenance["model_file"] == RESIDUAL_FUSED.int8_file
    assert new_machine.embeddings.provenance["sha256"] == earlier.provenance["sha256"]  # the same recipe, the same bytes
    fresh = Newsdesk(Settings(data_dir=tmp_path / "new-store", models_dir=tmp_path / "new-machine-models"))
    fresh.ingest()
    assert fresh.embeddings.provenance["model_file"] == DEFAULT_RECIPE.int8_file
