"""One typed settings object: every knob of brief, read from BRIEF_* variables and brief.toml.

This is the only module that reads the environment. Everything else receives a
`Settings` instance.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PACKAGE_DIR = Path(__file__).resolve().parent
# Says who fetches, so a site can tell brief apart and reach its users.
DEFAULT_USER_AGENT = "brief/0.1 (news briefing assistant; +https://github.com/brief-news/brief)"


def _default_prompts_dir() -> Path:
    # A wheel carries the prompts inside the package; a source checkout keeps them at the top.
    bundled = PACKAGE_DIR / "prompts"
    return bundled if bundled.is_dir() else PACKAGE_DIR.parent / "prompts"


def default_model_cache() -> Path:
    """Where models derived from the bundled ones are kept (XDG cache, shared by libraries)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "brief" / "models"


def minilm_name(quantized: bool) -> str:
    """The name stored with a collection: vectors of the two MiniLM variants must not mix."""
    return "minilm:all-MiniLM-L6-v2-int8" + ("-dynamic" if quantized else "")


def minilm_ends(max_tokens: int) -> tuple[int, int]:
    """Word pieces MiniLM reads from the start and from the end of a text longer than
    `max_tokens`, when it reads both ends."""
    head = max_tokens // 2
    return head, max_tokens - head


def minilm_reads(max_tokens: int, read_ends: bool) -> str:
    """What MiniLM reads of a text longer than `max_tokens`, as written in a recipe:
    "128" for its first 128 word pieces, "64+64" for its first and last 64."""
    if not read_ends:
        return str(max_tokens)
    head, tail = minilm_ends(max_tokens)
    return f"{head}+{tail}"


def _aliases(name: str, *extra: str) -> AliasChoices:
    return AliasChoices(f"BRIEF_{name.upper()}", name, *extra)


class Settings(BaseSettings):
    """Configuration for a brief library, its models and its interfaces."""

    model_config = SettingsConfigDict(
        env_prefix="BRIEF_",
        toml_file="brief.toml",
        extra="ignore",
        populate_by_name=True,
    )

    # Store
    home: Path = Field(Path(".brief"), description="Folder holding the local store.")
    chroma_url: str | None = Field(None, description="Use a Chroma server (http://host:port).")
    collection: str = Field("brief", min_length=3, description="Chroma collection name prefix.")

    # Embeddings
    embedder: Literal["minilm", "openai"] = "minilm"
    # MiniLM: int8 activations (derived once into model_cache) are ~1.5x faster than float.
    embed_quantized: bool = True
    # 128, the length MiniLM was trained on, costs ~2/3 of 256's model time; with 400-piece
    # chunks read at both ends it retrieves better than 200-piece chunks (benchmarks/README.md).
    embed_max_tokens: int = Field(
        128, ge=8, le=256, description="Word pieces of each text the bundled MiniLM reads (its limit: 256)."
    )
    # MiniLM: a text longer than embed_max_tokens is read at both ends (half each), not cut.
    embed_read_ends: bool = True
    # 1: every chunk embedded. On the development set 3 halves the ingest (414 s against 862 s)
    # at MRR@10 0.700 against 0.698 and the answer in the top 5 passages 0.799 against 0.813
    # (benchmarks/README.md): for archives, where ingest time matters more.
    embed_every: int = Field(
        1,
        ge=1,
        le=100,
        description="Embed a document's first chunk and every Nth after it; the chunks between share "
        "the vector of the one before them (BM25 still reads them all).",
    )
    # MiniLM: parallel single-threaded onnxruntime sessions; None = one per core.
    embed_workers: int | None = Field(None, ge=1, le=64)
    model_cache: Path = Field(default_factory=default_model_cache, description="Derived model files.")
    # OpenAI: texts per embeddings request.
    embed_batch_size: int = Field(16, ge=1, le=2048)
    openai_embedding_model: str = "text-embedding-3-small"

    # Chunking (tokens are estimated word pieces). 400/480 against 200/240 on the development
    # set: 37% fewer chunks to embed, the answer inside the top 5 passages 0.81 against 0.75.
    chunk_target_tokens: int = Field(400, ge=40)
    chunk_max_tokens: int = Field(480, ge=60)
    chunk_overlap_sentences: int = Field(1, ge=0, le=3)

    # Retrieval
    top_k: int = Field(6, ge=1, le=50)
    candidates: int = Field(40, ge=5, le=500)
    rrf_k: int = Field(60, ge=1)
    per_doc_cap: int = Field(3, ge=1)

    # Generation
    backend: Literal["auto", "extractive", "openai", "local"] = "auto"
    openai_api_key: str | None = Field(None, validation_alias=_aliases("openai_api_key", "OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=_aliases("openai_base_url", "OPENAI_BASE_URL"))
    openai_model: str = "gpt-4o-mini"
    local_model_path: Path | None = None
    local_context: int = Field(4096, ge=512)
    # llama.cpp threads; None = all cores. 1 degrades less when other processes compete.
    local_threads: int | None = Field(None, ge=1, le=256)
    llm_timeout: float = Field(60.0, gt=0)
    llm_max_retries: int = Field(2, ge=0, le=10)
    temperature: float = Field(0.0, ge=0.0, le=2.0)

    # Interfaces
    ui_host: str = "127.0.0.1"
    ui_port: int = Field(7860, ge=0, le=65535)
    ui_auth: str | None = Field(None, description="user:password for basic authentication.")
    prompts_dir: Path = Field(default_factory=_default_prompts_dir)

    # Small enough that the first articles are searchable within seconds and memory stays flat,
    # large enough that the store's per-write cost is spread thin.
    ingest_group_chunks: int = Field(
        256, ge=1, le=100_000, description="Chunks embedded and written together; each group is searchable at once."
    )
    progress_interval: float = Field(
        5.0, gt=0, le=3600, description="Seconds between progress lines of `brief ingest` when not on a terminal."
    )

    # Ingest limits: what one input file may cost, checked before it is read
    ingest_max_file_mb: int = Field(50, ge=1, le=4096, description="Largest file read, in MB (MiB).")
    ingest_max_front_matter_kb: int = Field(64, ge=1, le=10240, description="Largest YAML front matter, in KB.")

    # Limits against a hostile world: deadlines, request caps, login throttling, fair sharing
    chroma_timeout: float = Field(60.0, gt=0, description="Seconds any one Chroma server request may take.")
    max_question_chars: int = Field(2000, ge=10, le=100_000)
    max_topic_chars: int = Field(500, ge=10, le=10_000)
    ui_max_files: int = Field(50, ge=1, description="Files in one upload to the app.")
    ui_max_upload_mb: float = Field(200.0, gt=0, description="Megabytes in one upload request to the app.")
    # After this many failed logins from one address, it waits ui_login_backoff seconds,
    # doubled on every further failure (at most an hour); other addresses are not affected.
    ui_login_attempts: int = Field(5, ge=1)
    ui_login_backoff: float = Field(30.0, gt=0)
    # Answers and briefs running at once in the app, and of those at most this many per
    # language-model backend, so that a stuck model cannot hold every worker.
    ui_concurrency: int = Field(16, ge=2, le=256)
    ui_model_concurrency: int = Field(4, ge=1, le=256)

    # Links and feeds (brief/web): limits of every fetch, and the feeds `brief ingest --feeds` polls
    fetch_connect_timeout: float = Field(10.0, gt=0, description="Seconds to open a connection.")
    fetch_read_timeout: float = Field(20.0, gt=0, description="Seconds to wait for the next bytes.")
    fetch_deadline: float = Field(60.0, gt=0, description="Seconds for a whole fetch, redirects and retries included.")
    fetch_max_bytes: int = Field(10_000_000, ge=1024, description="A body larger than this is abandoned.")
    fetch_max_redirects: int = Field(5, ge=0, le=20)
    fetch_retries: int = Field(2, ge=0, le=10, description="Retries after 429 or 5xx (Retry-After honoured).")
    fetch_user_agent: str = Field(DEFAULT_USER_AGENT, min_length=1, description="Sent with every request.")
    fetch_respect_robots: bool = Field(True, description="Obey robots.txt for the pages of feeds.")
    # The app refuses links that resolve to loopback, private, link-local or metadata addresses
    # unless this is true (an intranet); the CLI, run by the machine's own user, always may.
    fetch_allow_private: bool = False
    # Host names the app may fetch even when they resolve to private addresses (an intranet
    # wiki, say): narrower than allowing every private address.
    fetch_allow_hosts: list[str] = Field(default_factory=list)
    feeds: list[str] = Field(default_factory=list, description="Feed URLs polled by `brief ingest --feeds`.")
    feed_max_entries: int = Field(50, ge=1, le=1000, description="New entries taken per feed and poll.")

    @field_validator("chroma_url", "openai_api_key", "openai_base_url", "ui_auth", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("ui_auth")
    @classmethod
    def _auth_has_colon(cls, value: str | None) -> str | None:
        if value is not None and ":" not in value:
            raise ValueError("ui_auth must look like user:password")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then environment, then brief.toml.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def resolved_backend(self) -> str:
        """The generator that `auto` stands for: openai, then local, then extractive."""
        from brief.backends import resolve_backend

        return resolve_backend(self)

    def embedder_name(self) -> str:
        """The embedding model's name as stored with the collection."""
        if self.embedder == "openai":
            return f"openai:{self.openai_embedding_model}"
        return minilm_name(self.embed_quantized)
