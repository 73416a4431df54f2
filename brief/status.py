"""What `brief status` shows, from the registry snapshot and the local index: no Chroma scan,
and none of the answering machinery loaded (the command only looks)."""

from __future__ import annotations

from typing import Any

from brief.backends import resolve_backend
from brief.ingest.chunking import made_alike, settings_recipes
from brief.settings import Settings
from brief.store import Store


def library_status(settings: Settings, store: Store) -> dict[str, Any]:
    """Where the store is, which models are set, and what it holds."""
    snapshot = store.snapshot()
    recipes = settings_recipes(settings)
    return {
        "store": "server" if settings.chroma_url else "embedded",
        "location": store.location,
        "collection": settings.collection,
        "embedder": settings.embedder_name(),
        "backend": resolve_backend(settings),
        "documents": len(snapshot.documents),
        "chunks": snapshot.chunks,
        "stored_chunks": store.stored_chunks(),
        "sources": snapshot.sources(),
        # Chunked or embedded under other settings: the next ingest of their files redoes them.
        "other_settings": sum(
            1 for r in snapshot.recipes().values() if not any(made_alike(r, current) for current in recipes)
        ),
    }
