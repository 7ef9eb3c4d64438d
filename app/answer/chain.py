"""The answering chain as LCEL runnables: condense → retrieve → answer → assemble.

Each stage is a named ``RunnableLambda`` that adds one key to a state dict
and records its own latency, so LangChain tracing shows the stages by name
and the answer object carries ``timings_ms`` per stage. A generative
backend plugs in through the ``condenser`` and ``answerer`` the chain is
built with; retrieval and assembly do not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from time import perf_counter
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import Runnable, RunnableLambda

from app.answer.answering import Answerer, retrieved_chunk
from app.answer.condense import Condenser
from app.answer.intent import topic
from app.answer.language import is_english
from app.answer.retrieval import HybridRetriever
from app.answer.text import named_outlets, without_outlet_names
from app.schemas import Answer
from ingest.outlets import UNKNOWN_OUTLET
from vectorstore.embeddings import MiniLMEmbeddings

State = dict[str, Any]
STAGES = ("condense", "retrieve", "answer")


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


LANGUAGE_NOTICE = (
    "Questions are answered in English: the search model reads English only, so please ask again in English."
)


def assemble(state: State) -> Answer:
    """The contract's answer object; citations and outlets come from stored metadata only.

    A question not in English gets the language notice instead of a refusal (the articles may well cover
    it, in English), or before the quotes when something was found anyway.
    """
    result = state["result"]
    timings = dict(state["timings_ms"])
    timings["total"] = round(sum(timings.values()), 2)
    language_notice = None if is_english(state["question"]) else LANGUAGE_NOTICE
    text = result.answer
    if language_notice:
        text = language_notice if result.abstained else f"{language_notice}\n\n{text}"
    return Answer(
        question=state["question"],
        standalone_question=state["standalone_question"],
        answer=text,
        abstained=result.abstained,
        support=round(result.support, 4),
        citations=result.citations,
        retrieved=[retrieved_chunk(e) for e in state["evidence"]],
        backend=result.backend,
        check=result.check,
        notice=result.notice,
        language_notice=language_notice,
        timings_ms=timings,
    )


def asked_about(state: State) -> tuple[str, list[str]]:
    """The question and history without comparison wording, as the condenser takes them.

    "Who is to blame, according to each outlet?" asked outside a comparison (``newsdesk ask``, ``/api/ask``,
    the widget, a question set) is answered as "Who is to blame?": the reply already gives each outlet its own
    paragraph, and "outlet", "each" and "according" are words the articles never use, which left in pulled
    every sentence under the abstention bar and refused the question.
    """
    return topic(state["question"]), [topic(turn) for turn in state["history"]]


def retrieve_evidence(state: State, embeddings: MiniLMEmbeddings, retriever: HybridRetriever) -> list:
    """Evidence for the standalone question; a question that names ingested outlets searches them first.

    "And what did the Washington Times say?" searches The Washington Times for the carried topic, without
    the outlet's name, which would otherwise pull in every passage that merely mentions the outlet. The
    best passages of all outlets follow: the answerer quotes only the named outlet, but the others can
    establish the topic that the named outlet tells in its own words.
    """
    question, outlets = state["standalone_question"], state["outlets"]
    if outlets:
        return retriever.retrieve(question, embeddings.embed_query(question), outlets)
    ingested = set(retriever.store.catalog.outlets()) - {UNKNOWN_OUTLET}
    named = named_outlets(question, ingested)
    topic = without_outlet_names(question, named) or question
    vector = embeddings.embed_query(topic)
    if not named:
        return retriever.retrieve(topic, vector)
    own = retriever.retrieve(topic, vector, named)
    seen = {e.chunk.id for e in own}
    combined = own + [e for e in retriever.retrieve(topic, vector) if e.chunk.id not in seen]
    return [replace(e, rank=rank) for rank, e in enumerate(combined, start=1)]  # ranks stay 1..n, named first


def build_answer_chain(
    embeddings: MiniLMEmbeddings, retriever: HybridRetriever, condenser: Condenser, answerer: Answerer
) -> Runnable[State, Answer]:
    """Input: ``{"question": str, "history": [str], "outlets": [str], "on_token": TokenSink | None}``.

    Output: ``Answer``. ``on_token`` receives a generative backend's draft as it is written.
    """
    condense_question = stage("condense", "standalone_question", lambda s: condenser(*asked_about(s)))
    retrieve = stage("retrieve", "evidence", lambda s: retrieve_evidence(s, embeddings, retriever))
    answer = stage(
        "answer", "result", lambda s: answerer.answer(s["standalone_question"], s["evidence"], s.get("on_token"))
    )
    return (condense_question | retrieve | answer | RunnableLambda(assemble, name="assemble")).with_config(
        run_name="newsdesk_answer"
    )
