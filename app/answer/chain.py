"""The answering chain as LCEL runnables: condense → retrieve → answer → assemble.

Each stage is a named ``RunnableLambda`` that adds one key to a state dict
and records its own latency, so LangChain tracing shows the stages by name
and the answer object carries ``timings_ms`` per stage. A generative
backend plugs in through the ``condenser`` and ``answerer`` the chain is
built with; retrieval and assembly do not change.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import Runnable, RunnableLambda

from app.answer.answering import Answerer, retrieved_chunk
from app.answer.retrieval import HybridRetriever
from app.schemas import Answer
from vectorstore.embeddings import MiniLMEmbeddings

State = dict[str, Any]
STAGES = ("condense", "retrieve", "answer")
Condenser = Callable[[str, list[str]], str]


def stage(name: str, key: str, fn: Callable[[State], Any]) -> Runnable[State, State]:
    """A runnable that stores ``fn(state)`` under ``key`` and its latency under ``timings_ms[name]``."""

    def run(state: State) -> State:
        started = perf_counter()
        value = fn(state)
        timings = {**state.get("timings_ms", {}), name: round((perf_counter() - started) * 1000, 2)}
        return {**state, key: value, "timings_ms": timings}

    return RunnableLambda(run, name=name)


class StageReporter(BaseCallbackHandler):
    """Tells ``on_stage`` the name of each chain stage as it starts, e.g. so a stream can say "retrieving".

    A LangChain callback rather than a hook in every stage: the stages stay
    plain functions, and a caller that does not ask pays nothing.
    """

    def __init__(self, on_stage: Callable[[str], None]) -> None:
        self.on_stage = on_stage

    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, **kwargs: Any) -> None:
        name = kwargs.get("name")
        if name in STAGES:
            self.on_stage(name)


def assemble(state: State) -> Answer:
    """The contract's answer object; citations and outlets come from stored metadata only."""
    result = state["result"]
    timings = dict(state["timings_ms"])
    timings["total"] = round(sum(timings.values()), 2)
    return Answer(
        question=state["question"],
        standalone_question=state["standalone_question"],
        answer=result.answer,
        abstained=result.abstained,
        support=round(result.support, 4),
        citations=result.citations,
        retrieved=[retrieved_chunk(e) for e in state["evidence"]],
        backend=result.backend,
        check=result.check,
        notice=result.notice,
        timings_ms=timings,
    )


def build_answer_chain(
    embeddings: MiniLMEmbeddings, retriever: HybridRetriever, condenser: Condenser, answerer: Answerer
) -> Runnable[State, Answer]:
    """Input: ``{"question": str, "history": [str], "outlets": [str], "on_token": TokenSink | None}``.

    Output: ``Answer``. ``on_token`` receives a generative backend's draft as it is written.
    """
    condense_question = stage("condense", "standalone_question", lambda s: condenser(s["question"], s["history"]))
    retrieve = stage(
        "retrieve",
        "evidence",
        lambda s: retriever.retrieve(s["standalone_question"], embeddings.embed_query(s["standalone_question"]), s["outlets"]),
    )
    answer = stage(
        "answer", "result", lambda s: answerer.answer(s["standalone_question"], s["evidence"], s.get("on_token"))
    )
    return (condense_question | retrieve | answer | RunnableLambda(assemble, name="assemble")).with_config(
        run_name="newsdesk_answer"
    )
