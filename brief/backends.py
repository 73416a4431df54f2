"""The generator backends brief knows, registered in one place: names, factories, and how
'auto' resolves.

Kept import-light: the CLI builds its `--backend` choice from here before anything heavy
loads; each factory imports its writer only when called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _extractive(settings: Any, embedder: Any) -> Any:
    from brief.generate.extractive import ExtractiveGenerator

    return ExtractiveGenerator(embedder)


def _openai(settings: Any, embedder: Any) -> Any:
    from brief.generate.chat import openai_generator

    return openai_generator(settings)


def _local(settings: Any, embedder: Any) -> Any:
    from brief.generate.chat import local_generator

    return local_generator(settings)


# name -> factory(settings, embedder); the embedder serves writers that compare meanings.
_FACTORIES: dict[str, Callable[[Any, Any], Any]] = {"extractive": _extractive, "openai": _openai, "local": _local}
# name -> does the configuration provide what the backend needs?
_CONFIGURED: dict[str, Callable[[Any], bool]] = {
    "extractive": lambda s: True,
    "openai": lambda s: bool(s.openai_api_key or s.openai_base_url),
    "local": lambda s: bool(s.local_model_path),
}
# What 'auto' tries, best first.
_AUTO_ORDER = ("openai", "local", "extractive")

GENERATOR_BACKENDS = tuple(_FACTORIES)
BACKEND_CHOICES = ("auto", *GENERATOR_BACKENDS)


def make_generator(name: str, settings: Any, embedder: Any) -> Any:
    """The writer for a backend name (already resolved from 'auto')."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ValueError(f"unknown backend '{name}' (choose from: {', '.join(GENERATOR_BACKENDS)})")
    return factory(settings, embedder)


def resolve_backend(settings: Any, requested: str = "auto") -> str:
    """The backend a request means: an explicit name, or for 'auto' (the request's or the
    settings') the first configured of openai, local, extractive."""
    name = requested if requested != "auto" else settings.backend
    if name != "auto":
        return name
    return next(b for b in _AUTO_ORDER if _CONFIGURED[b](settings))


def configured_backends(settings: Any) -> list[str]:
    """Backends these settings can run, the default first: what a reader may choose from."""
    default = resolve_backend(settings)
    return [default, *[b for b in GENERATOR_BACKENDS if b != default and _CONFIGURED[b](settings)]]
