"""Generators: extractive (no model), openai (or any OpenAI-compatible server), local (GGUF)."""

from __future__ import annotations

from typing import Any

from brief.generate.base import DECLINE_TEXT, Draft, DraftSentence, Generator, History

BACKENDS = ("extractive", "openai", "local")


def make_generator(backend: str, settings: Any, embedder: Any) -> Generator:
    """The generator for a backend name (already resolved from 'auto')."""
    if backend == "extractive":
        from brief.generate.extractive import ExtractiveGenerator

        return ExtractiveGenerator(embedder)
    if backend == "openai":
        from brief.generate.chat import openai_generator

        return openai_generator(settings)
    if backend == "local":
        from brief.generate.chat import local_generator

        return local_generator(settings)
    raise ValueError(f"unknown backend '{backend}' (choose from: {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "DECLINE_TEXT", "Draft", "DraftSentence", "Generator", "History", "make_generator"]
