"""Stores written before the catalog moved into Chroma kept it in ``catalog.json``; this reads that file once.

``ChunkStore`` migrates such a store on first open: it upserts every record
from the file into the rows collection, and only then renames the file to
``catalog.json.migrated``. The upserts are idempotent, so a migration killed
half-way simply runs again on the next open.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from vectorstore.errors import CatalogDamaged
from vectorstore.records import ArticleRecord

LEGACY_FILE = "catalog.json"
MIGRATED_SUFFIX = ".migrated"


def read_legacy_catalog(path: Path) -> list[ArticleRecord]:
    """The records of an old ``catalog.json``; a truncated or malformed file is ``CatalogDamaged``, never empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [ArticleRecord.model_validate(item) for item in data["articles"].values()]
    except OSError as error:
        raise CatalogDamaged(path, f"cannot be read ({error.strerror or error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CatalogDamaged(path, f"is not valid JSON ({error})") from None
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "record"
        raise CatalogDamaged(path, f"has an invalid article record ({where}: {problem['msg']})") from None
    except (KeyError, TypeError, AttributeError) as error:
        raise CatalogDamaged(path, f"does not have the catalog's shape ({type(error).__name__}: {error})") from None


def retire(path: Path) -> None:
    """Keep the migrated file beside the store, renamed, so that it is never migrated twice."""
    path.rename(path.with_name(path.name + MIGRATED_SUFFIX))
