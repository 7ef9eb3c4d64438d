"""A LangChain chat model over llama-cpp-python, for a GGUF file run in-process.

LangChain's own ``ChatLlamaCpp`` lives in ``langchain-community``, which is
being sunset and pulls in SQLAlchemy and more; newsdesk needs only chat
completion and streaming, which ``llama_cpp.Llama.create_chat_completion``
provides directly (it applies the chat template stored in the GGUF file).
The model is loaded on first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr


class LlamaCppChat(BaseChatModel):
    model_path: str
    n_ctx: int = 4096
    max_tokens: int = 320
    temperature: float = 0.0
    n_threads: int | None = None
    seed: int = 0
    _llama: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def _client(self) -> Any:  # llama_cpp.Llama, imported lazily: the package is an optional extra
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(
                model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads, seed=self.seed, verbose=False
            )
        return self._llama

    def _completion(self, messages: list[BaseMessage], stop: list[str] | None, stream: bool) -> Any:
        return self._client().create_chat_completion(
            messages=convert_to_openai_messages(messages),
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            stop=stop,
            stream=stream,
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        result = self._completion(messages, stop, stream=False)
        text = result["choices"][0]["message"].get("content") or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for part in self._completion(messages, stop, stream=True):
            piece = part["choices"][0]["delta"].get("content") or ""
            if piece:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                if run_manager:
                    run_manager.on_llm_new_token(piece, chunk=chunk)
                yield chunk
