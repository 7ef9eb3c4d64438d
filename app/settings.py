"""Every tunable of newsdesk, in one typed object read from ``NEWSDESK_*`` env vars.

Components never read the environment themselves: the CLI (and later the
server) builds one ``Settings`` and hands the values down. That keeps the
ingest and vector-store code usable as a library and easy to test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def default_data_dir() -> Path:
    """A per-user folder (``~/.local/share/newsdesk`` on Linux), never the package."""
    return Path(user_data_dir("newsdesk", appauthor=False))


class Settings(BaseSettings):
    """Runtime configuration; each field is ``NEWSDESK_<FIELD>`` in the environment."""

    # An empty variable counts as unset (as compose files and CI templates leave them), rather than meaning the
    # current folder as a data dir or failing validation as a runtime name.
    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", extra="ignore", populate_by_name=True, env_ignore_empty=True)

    # Storage
    data_dir: Path = Field(default_factory=default_data_dir, description="Chroma database and ingest state.")
    chroma_url: str | None = Field(
        default=None, description="http(s)://host:port of a Chroma server; unset uses a local database in data_dir."
    )
    collection: str = Field(default="newsdesk_chunks", description="Chroma collection name.")
    catalog_refresh_s: float = Field(
        default=2.0, ge=0.0,
        description="Seconds between two looks at what other processes committed (articles they added, changed or "
        "removed); the longest delay before a replica sees them.",
    )
    ingest_stale_s: float = Field(
        default=3600.0, gt=0.0,
        description="An unfinished write older than this is taken as abandoned by the next ingest, even when its "
        "writer runs on another host (on this host a dead writer's leftovers go at once).",
    )

    # Ingest
    outlets_file: Path | None = Field(default=None, description="Extra outlet registry (YAML) merged over the bundled one.")
    chunk_tokens: int = Field(default=200, ge=40, le=240, description="Target chunk size in cl100k tokens.")
    chunk_overlap_sentences: int = Field(default=1, ge=0, le=2, description="Sentences repeated between chunks.")
    max_file_mb: float = Field(default=10.0, gt=0, description="Larger files are skipped with a message.")
    follow_external_links: bool = Field(
        default=False, description="Follow symlinks that lead outside an ingested folder (skipped with a reason otherwise)."
    )
    embed_batch_size: int = Field(default=64, ge=1, description="Chunks embedded and written per batch.")
    embed_processes: bool = Field(
        default=True,
        description="An ingest embeds each group of at least a full batch in worker processes, one per core up to eight "
        "(about 140 MB each), so that Chroma's writes do not stall the model; false embeds in threads of the ingesting "
        "process.",
    )
    embed_runtime: Literal["onnx-int8", "onnx", "torch"] | None = Field(
        default=None,
        description="Embedding runtime: onnx-int8 (onnxruntime on the int8 export made once in models_dir), onnx (the fp32 "
        "export) or torch (sentence-transformers, the reference); unset means the one that wrote the store, and onnx-int8 "
        "for a new store.",
    )
    models_dir: Path | None = Field(
        default=None, description="Where the ONNX export of the model is kept; unset means data_dir/models."
    )

    # Retrieval and answering
    top_k: int = Field(default=5, ge=1, le=50, description="Chunks handed to the answerer.")
    fetch_k: int = Field(default=20, ge=1, le=200, description="Candidates from each retriever before fusion.")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant.")
    answer_sentences: int = Field(default=3, ge=1, le=10, description="Sentences quoted by the extractive answerer.")
    abstain_threshold: float = Field(
        default=0.474,
        ge=0.0,
        le=1.0,
        description="Evidence score below which the reply abstains (calibrated by bench/calibrate_abstention.py).",
    )
    max_question_chars: int = Field(default=2000, ge=10, description="Longer questions are refused.")

    # Generative answers (see app/llm/backends.py and app/llm/support_check.py)
    llm: Literal["extractive", "openai", "gguf"] = Field(
        default="extractive", description="Answer backend: extractive (no model), openai (any compatible endpoint), gguf."
    )
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1; unset means api.openai.com."
    )
    llm_model: str | None = Field(default=None, description="Model name sent to the endpoint (required for openai).")
    llm_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("NEWSDESK_LLM_API_KEY", "OPENAI_API_KEY"),
        description="API key for the endpoint; OPENAI_API_KEY is read too.",
    )
    llm_model_path: Path | None = Field(
        default=None, description="GGUF file for gguf; unset uses the SmolLM2 of the [llm] extra."
    )
    llm_timeout_s: float = Field(default=60.0, gt=0, description="Seconds to wait for the model before falling back.")
    llm_max_tokens: int = Field(default=320, ge=16, le=4096, description="Longest generated answer, in tokens.")
    llm_context_tokens: int = Field(default=4096, ge=512, description="Context window of the in-process gguf model.")
    unsupported_sentences: Literal["drop", "mark"] = Field(
        default="drop", description="What happens to a generated sentence its citations do not support."
    )
    support_threshold: float = Field(
        default=0.63,
        ge=0.0,
        le=1.0,
        description="Similarity a generated sentence needs with its cited evidence (bench/calibrate_checker.py).",
    )
    support_min_coverage: float = Field(
        default=0.82,
        ge=0.0,
        le=1.0,
        description="Share of a generated sentence's content words that must occur in its cited evidence.",
    )

    # Server
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins (scheme://host[:port]) allowed to call the API and frame the widget.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated host names the server answers to (`*`: any); unset means the listening host "
        "and 127.0.0.1, localhost, ::1. Other Host headers get 400, which stops DNS rebinding.",
    )
    ui_concurrency: int = Field(
        default=2, ge=1, le=64,
        description="Answers computed at once by the chat UI's queue, and again by the API (/api/ask waits for a "
        "free slot); answering is CPU-bound, so match the cores.",
    )
    max_request_kb: int = Field(default=256, ge=1, description="Larger HTTP request bodies are refused with 413.")
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated keys; when set, /api and /v1 need Authorization: Bearer KEY (health excepted).",
    )

    client_api_key: SecretStr | None = Field(
        default=None, description="The key `newsdesk ask --url` and `eval --url` send to a server that has NEWSDESK_API_KEYS."
    )
    example_questions: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Example questions shown in the chat, separated by |; unset: made from the articles' first sentences.",
    )

    @field_validator("example_questions", mode="before")
    @classmethod
    def _split_questions(cls, value: object) -> object:
        """``Who ordered it? | Why?`` → a list; ``|`` because questions contain commas."""
        return _split_list(value, "|")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        """``news.example.org, 10.0.0.5`` → ``["news.example.org", "10.0.0.5"]``."""
        if isinstance(value, str):
            return [part.strip().lower().strip("[]") for part in value.split(",") if part.strip()]
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """``https://a.example, https://b.example`` → a list of normalised origins."""
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            return [_origin(str(part)) for part in value]
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        """``key-one,key-two`` → a list; blanks are dropped so a trailing comma does not allow an empty key."""
        return _split_list(value, ",")


def _split_list(value: object, separator: str) -> object:
    """An environment string split on ``separator``, parts stripped and blanks dropped; other values unchanged."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(separator) if part.strip()]
    return value


def _origin(text: str) -> str:
    """``scheme://host[:port]`` without a path; anything else is a configuration error."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") or parts.query:
        raise ValueError(f"'{text.strip()}' is not an origin like https://news.example.org")
    return f"{parts.scheme}://{parts.netloc}".lower()
