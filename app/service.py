"""``Newsdesk``: the library API that the CLI (and the HTTP API and UI) call.

It wires the components from one ``Settings`` object and validates what
users send. Components are built on first use, and the answering stack
(LangChain's runnables, which import its langsmith tracer: about 0.35 s) is
imported there too, so ``newsdesk sources`` pays for neither the embedding
model nor LangChain.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from app.answer.condense import Condenser, condense
from app.answer.intent import route, topic
from app.errors import BadInput, TooLarge
from app.schemas import Answer, Comparison
from app.settings import Settings
from ingest import sample_corpus_dir
from vectorstore.catalog import ArticleRecord
from vectorstore.embeddings import MAX_WORDPIECES, MiniLMEmbeddings
from vectorstore.store import ChunkStore

if TYPE_CHECKING:  # imported where used: LangChain, langchain-openai and the ingest stack cost what `sources` need not pay
    from app.answer.answering import TokenSink
    from app.answer.compare import Comparer
    from app.answer.extractive import ExtractiveAnswerer
    from app.answer.retrieval import HybridRetriever
    from app.llm.backends import LLMBackend
    from app.llm.generative import GenerativeAnswerer
    from ingest.outlets import OutletRegistry
    from ingest.pipeline import FileOutcome, IngestReport

MAX_HISTORY_TURNS = 20
MACHINE_SPECIFIC_SETTINGS = {"data_dir", "chroma_url", "api_keys", "client_api_key"}


def check_unicode(text: str, what: str) -> None:
    """Refuse text that cannot be encoded (a lone surrogate such as JSON's ``"\\ud800"``) before it reaches
    the tokenizer or a UTF-8 response, where it would fail as a server error."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise BadInput(f"the {what} holds a character that is not valid Unicode (position {error.start})") from None


class Newsdesk:
    """Ingest articles, list them, and answer questions about them."""

    def __init__(self, settings: Settings | None = None, embeddings: MiniLMEmbeddings | None = None) -> None:
        """``embeddings`` lets several instances (tests, benchmarks) share one loaded model."""
        self.settings = settings or Settings()
        s = self.settings
        self.embeddings = embeddings or MiniLMEmbeddings(
            batch_size=s.embed_batch_size, runtime=s.embed_runtime, onnx_dir=s.models_dir or s.data_dir / "models"
        )

    @cached_property
    def store(self) -> ChunkStore:
        s = self.settings
        return ChunkStore(
            s.data_dir, self.embeddings, collection=s.collection, chroma_url=s.chroma_url,
            refresh_s=s.catalog_refresh_s, stale_s=s.ingest_stale_s,
        )

    @cached_property
    def registry(self) -> OutletRegistry:
        from ingest.outlets import OutletRegistry

        return OutletRegistry.load(self.settings.outlets_file)

    @cached_property
    def llm_backend(self) -> LLMBackend | None:
        """The chat model of ``NEWSDESK_LLM``, or None for the extractive answerer."""
        from app.llm.backends import build_backend

        return None if self.settings.llm == "extractive" else build_backend(self.settings)

    def backend_description(self) -> str:
        backend = self.llm_backend
        return f"{backend.name} ({backend.describe})" if backend else "extractive quotes (no LLM)"

    @cached_property
    def retriever(self) -> HybridRetriever:
        from app.answer.retrieval import HybridRetriever

        self.store.check_embedder()  # a store written by another runtime is refused before anything is embedded
        s = self.settings
        retriever = HybridRetriever(self.store, top_k=s.top_k, fetch_k=s.fetch_k, rrf_k=s.rrf_k)
        retriever.bm25.sync()  # the lexical index is brought up to date here, not in the first question's time
        return retriever

    @cached_property
    def extractive(self) -> ExtractiveAnswerer:
        from app.answer.extractive import ExtractiveAnswerer

        s = self.settings
        return ExtractiveAnswerer(
            self.embeddings, term_weight=self.retriever.bm25.idf, threshold=s.abstain_threshold, max_sentences=s.answer_sentences
        )

    @cached_property
    def answerer(self) -> ExtractiveAnswerer | GenerativeAnswerer:
        """The answerer for ``NEWSDESK_LLM``; a missing model or setting is a ``BadInput`` here."""
        s = self.settings
        if s.llm == "extractive":
            return self.extractive
        from app.llm.generative import GenerativeAnswerer
        from app.llm.support_check import SupportChecker

        checker = SupportChecker(self.extractive.vectors, threshold=s.support_threshold, min_coverage=s.support_min_coverage)
        return GenerativeAnswerer(
            self.llm_backend, self.extractive, checker, s.answer_sentences, mark_unsupported=s.unsupported_sentences == "mark"
        )

    @cached_property
    def condenser(self) -> Condenser:
        if self.settings.llm == "extractive":
            return condense
        from app.llm.condense import LLMCondenser

        return LLMCondenser(self.answerer)

    @cached_property
    def chain(self):
        from app.answer.chain import build_answer_chain

        return build_answer_chain(self.embeddings, self.retriever, self.condenser, self.answerer)

    @cached_property
    def comparer(self) -> Comparer:
        from app.answer.compare import Comparer

        return Comparer(self.embeddings, self.retriever, self.condenser, self.answerer, self.extractive)

    # Ingest and catalog

    def ingest(
        self,
        paths: list[Path] | None = None,
        prune: bool = False,
        on_start: Callable[[int], None] | None = None,
        on_file: Callable[[FileOutcome], None] | None = None,
        force: bool = False,
    ) -> IngestReport:
        """Ingest files or folders; with no paths, the bundled sample corpus. ``force`` rebuilds every article."""
        from ingest.articles import ArticleBuilder
        from ingest.chunking import Chunker
        from ingest.pipeline import Ingestor, ingest_signature

        self.store.check_embedder()
        s = self.settings
        chunker = Chunker(
            self.embeddings.count_wordpieces, MAX_WORDPIECES, max_tokens=s.chunk_tokens, overlap_sentences=s.chunk_overlap_sentences
        )
        builder = ArticleBuilder(self.registry, chunker, max_bytes=int(s.max_file_mb * 1_000_000))
        signature = ingest_signature(s.chunk_tokens, s.chunk_overlap_sentences, self.embeddings.model_id)
        ingestor = Ingestor(
            self.store, builder, signature, s.embed_batch_size, follow_external_links=s.follow_external_links, force=force,
            embed_in_processes=s.embed_processes,
        )
        return ingestor.ingest(paths or [sample_corpus_dir()], prune=prune, on_start=on_start, on_file=on_file)

    def sources(self) -> list[ArticleRecord]:
        return sorted(self.store.catalog.articles().values(), key=lambda r: r.source)

    def is_empty(self) -> bool:
        """Nothing ingested yet; a damaged catalog raises ``CatalogDamaged`` rather than looking empty."""
        return not self.store.catalog.articles()

    def chunk_texts(self, source: str) -> list[str]:
        """The stored chunks of one article's current version; empty for an unknown file."""
        record = self.store.catalog.articles().get(source)
        return [chunk.text for chunk in self.store.iter_chunks({"version": record.version})] if record else []

    def describe(self) -> dict:
        """What produces the answers, for reports: settings (without paths and keys) and model ids."""
        from ingest.chunking import TIKTOKEN_ENCODING

        settings = self.settings.model_dump(mode="json", exclude=MACHINE_SPECIFIC_SETTINGS)
        models = {"embedding": self.embeddings.model_id, "tokenizer": TIKTOKEN_ENCODING, "backend": self.backend_description()}
        return {"settings": settings, "models": models}

    def repair(self) -> list[ArticleRecord]:
        """Rebuild the catalog from the stored chunks, under the ingest lock so no ingest from this data dir runs
        meanwhile (on a shared Chroma server, stop the other workers first)."""
        with self.store.write_lock():
            return self.store.rebuild_catalog()

    def health(self) -> dict[str, int]:
        """Articles and chunks, read live from the store; raises ``StoreUnavailable`` when it does not answer.
        Counted from the catalog's view, so a load balancer's health checks cost nothing per article."""
        view = self.store.catalog.view()
        self.store.stored_chunks()
        return {"articles": len(view.articles), "chunks": view.chunks}

    # Answering

    def ask(
        self,
        question: str,
        history: list[str] | None = None,
        outlets: list[str] | None = None,
        on_token: TokenSink | None = None,
        on_stage: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer one question, or raise ``BadInput`` for an empty/oversized question or unknown outlet.

        ``on_token`` receives a generative backend's unchecked draft as it is
        written; the returned ``Answer`` holds the checked text. ``on_stage``
        hears each chain stage's name (condense, retrieve, answer) as it starts.
        """
        from app.answer.chain import StageReporter

        history = self._checked(question, history)
        state = {"question": question, "history": history, "outlets": self.resolve_outlets(outlets or []), "on_token": on_token}
        config = {"callbacks": [StageReporter(on_stage)]} if on_stage else None
        return self.chain.invoke(state, config=config)

    def compare(self, question: str, history: list[str] | None = None, outlets: list[str] | None = None) -> Comparison:
        """Each outlet's own account, the silent outlets and the disagreements; same errors as ``ask``."""
        history = self._checked(question, history)
        ingested = self.ingested_outlets()
        asked = route(question, ingested)
        chosen = self.resolve_outlets(outlets or []) or asked.outlets or ingested
        # Comparison wording ("according to each outlet") is not what the articles are asked about.
        return self.comparer.compare(question, asked.topic, [topic(turn) for turn in history], chosen)

    def wants_comparison(self, question: str) -> bool:
        """True when the question itself asks to compare outlets, e.g. "..., according to each outlet?"."""
        return route(question, self.ingested_outlets()).compare

    def _checked(self, question: str, history: list[str] | None) -> list[str]:
        """The history, after refusing an empty or oversized question or history (``BadInput``/``TooLarge``)."""
        history = history or []
        self._check_text(question, "question")
        if len(history) > MAX_HISTORY_TURNS:
            raise TooLarge(f"history has {len(history)} turns; the limit is {MAX_HISTORY_TURNS}")
        for turn in history:
            self._check_text(turn, "history turn")
        return history

    def _check_text(self, text: str, what: str) -> None:
        limit = self.settings.max_question_chars
        check_unicode(text, what)
        if not text or not text.strip():
            raise BadInput(f"the {what} is empty")
        if len(text) > limit:
            raise TooLarge(f"the {what} is {len(text)} characters long; the limit is {limit} (NEWSDESK_MAX_QUESTION_CHARS)")

    def ingested_outlets(self) -> list[str]:
        return list(self.store.catalog.outlets())

    def resolve_outlets(self, names: list[str]) -> list[str]:
        """Canonical names of ingested outlets; an unknown one is a ``BadInput`` that lists the known ones."""
        ingested = self.ingested_outlets()
        resolved = []
        for name in names:
            check_unicode(name, "outlet name")
            canonical = self.registry.canonical(name) or name.strip()
            match = next((o for o in ingested if o.casefold() == canonical.casefold()), None)
            if match is None:
                known = ", ".join(ingested) or "none yet"
                raise BadInput(f"unknown outlet '{name}'; the ingested outlets are: {known}")
            resolved.append(match)
        return resolved

