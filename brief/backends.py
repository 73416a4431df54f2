"""The generator backends brief knows, in one place: names, and how 'auto' resolves.

Kept import-light: the CLI builds its `--backend` choice from here before anything heavy loads.
"""

from __future__ import annotations

from typing import Any

#: Backends that write answers and briefs; 'auto' picks among them (see `resolve_backend`).
GENERATOR_BACKENDS = ("extractive", "openai", "local")
BACKEND_CHOICES = ("auto", *GENERATOR_BACKENDS)


def resolve_backend(settings: Any, requested: str = "auto") -> str:
    """The generator a request means: an explicit name, or for 'auto' (or the settings' own
    'auto') openai when a key or base URL is set, then local when a model path is set, then
    extractive."""
    name = requested if requested != "auto" else settings.backend
    if name != "auto":
        return name
    if settings.openai_api_key or settings.openai_base_url:
        return "openai"
    if settings.local_model_path:
        return "local"
    return "extractive"


def configured_backends(settings: Any) -> list[str]:
    """Backends usable with these settings, the default first: what a reader may choose from."""
    usable = ["extractive"]
    if settings.local_model_path:
        usable.insert(0, "local")
    if settings.openai_api_key or settings.openai_base_url:
        usable.insert(0, "openai")
    default = resolve_backend(settings)
    return [default, *[b for b in usable if b != default]]
