"""The packaged model is verified before it is trusted."""

from __future__ import annotations

import shutil

import pytest

from vectorstore.embeddings import WEIGHTS_SHA256, ModelIntegrityError, MiniLMEmbeddings, packaged_model_dir, verify_weights


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
        MiniLMEmbeddings(copy).embed_query("hello")


def test_vectors_are_unit_length_and_meaningful(embeddings):
    a, b, c = embeddings.encode(["The consulate closed.", "The mission shut down.", "A recipe for bread."])
    assert abs(float(a @ a) - 1.0) < 1e-5
    assert float(a @ b) > float(a @ c) + 0.2
