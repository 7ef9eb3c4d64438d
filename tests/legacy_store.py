"""Stores as the release before the catalog moved into Chroma left them: ``catalog.json`` beside the chunks.

``as_written_by_main`` turns a store into exactly the files that release
wrote: the chunks (their metadata has not changed), a format-1
``catalog.json`` of every record, ``embedder.json``, no rows collection and no
embedder in the chunk collection's metadata.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def as_written_by_main(newsdesk) -> Path:
    """Rewrite ``newsdesk``'s store in the old form and return its ``catalog.json`` (``newsdesk`` is done with)."""
    store = newsdesk.store
    articles = {record.source: record.model_dump(mode="json") for record in newsdesk.sources()}
    catalog = store.data_dir / "catalog.json"
    catalog.write_text(json.dumps({"format": 1, "articles": articles}, indent=1, ensure_ascii=False), encoding="utf-8")
    (store.data_dir / "embedder.json").write_text(json.dumps(newsdesk.embeddings.provenance, indent=1) + "\n")
    store.client.delete_collection(f"{store.collection}_articles")
    store.chunks.modify(metadata={"newsdesk_embedder": None})  # that release kept it in embedder.json
    shutil.rmtree(store.data_dir / "catalog-cache", ignore_errors=True)
    return catalog
