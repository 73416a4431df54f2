"""One typed settings object: every knob of brief, read from BRIEF_* variables and brief.toml.

This is the only module that reads the environment (through `settings_fields`, which checks
each value against its field). Everything else receives a `Settings` instance.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from brief.settings_fields import SettingsError, field, read_settings

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


@dataclass(frozen=True, init=False)
class Settings:
    """Configuration for a brief library, its models and its interfaces.

    `Settings(**fields)` takes the fields given, then BRIEF_<FIELD> variables, then brief.toml
    in the current folder (keys are field names), then defaults; a value that does not fit its
    field raises `SettingsError` naming the variable or key. `dataclasses.replace` copies it
    with some fields changed (and checked)."""

    # Store
    home: Path = field(Path(".brief"), doc="Folder holding the local store.")
    chroma_url: str | None = field(None, doc="Use a Chroma server (http://host:port).")
    collection: str = field("brief", min_length=3, doc="Chroma collection name prefix.")
    # Embedded Chroma keeps the vector index of every collection it has touched in the
    # process, ~2.5 KB a chunk, until its client closes. Chunks go into collections of at most
    # this many rows, and a writer closes the client when it opens a new one, so an ingest
    # holds one such index, not the whole store's.
    chunk_shard_rows: int | None = field(
        8192,
        ge=1,
        doc="Chunks per Chroma collection of an embedded store; a writer starts the next collection "
        "beyond this (unset: one collection).",
    )

    # Embeddings
    embedder: Literal["minilm", "openai"] = "minilm"
    # MiniLM: int8 activations (derived once into model_cache) are ~1.5x faster than float.
    embed_quantized: bool = True
    # 128, the length MiniLM was trained on, costs ~2/3 of 256's model time; with 400-piece
    # chunks read at both ends it retrieves better than 200-piece chunks (benchmarks/README.md).
    embed_max_tokens: int = field(
        128, ge=8, le=256, doc="Word pieces of each text the bundled MiniLM reads (its limit: 256)."
    )
    # MiniLM: a text longer than embed_max_tokens is read at both ends (half each), not cut.
    embed_read_ends: bool = True
    # 1: every chunk embedded. On the development set 3 halves the ingest (414 s against 862 s)
    # at MRR@10 0.699 against 0.698 and the answer in the top 5 passages 0.802 against 0.813
    # (benchmarks/README.md): for archives, where ingest time matters more.
    embed_every: int = field(
        1,
        ge=1,
        le=100,
        doc="Embed a document's first chunk and every Nth after it; the chunks between share "
        "the vector of the nearest embedded chunk (BM25 still reads them all).",
    )
    # An archive import (a 43 MB export: 4,295 articles) embeds one chunk in three: 440-460 s
    # against ~980 s, MRR@10 0.699 against 0.698, answer in the top 5 passages 0.802 against
    # 0.813 (benchmarks/README.md). A library's ordinary ingests and uploads stay below it.
    archive_mb: float | None = field(
        8.0,
        gt=0,
        doc="An ingest whose text files (Markdown, text, HTML, JSON; not PDF or office files) add "
        "up to more than this many MB is an archive import: the bundled MiniLM embeds one chunk in "
        "archive_embed_every (unset: never).",
    )
    archive_embed_every: int = field(
        3, ge=1, le=100, doc="embed_every for an archive import (the larger of the two applies)."
    )
    # MiniLM: parallel single-threaded onnxruntime sessions; None = one per core.
    embed_workers: int | None = field(None, ge=1, le=64)
    # Starting the model's own process costs about a second; 512 texts are ~10 s of embedding.
    embed_process_after: int | None = field(
        512,
        ge=0,
        doc="Texts an ingest embeds in its own process before it moves MiniLM to a process of its "
        "own, out of reach of the GIL (unset: never).",
    )
    model_cache: Path = field(factory=default_model_cache, doc="Derived model files.")
    # OpenAI: texts per embeddings request.
    embed_batch_size: int = field(16, ge=1, le=2048)
    openai_embedding_model: str = "text-embedding-3-small"

    # Chunking (tokens are estimated word pieces). 400/480 against 200/240 on the development
    # set: 37% fewer chunks to embed, the answer inside the top 5 passages 0.81 against 0.75.
    chunk_target_tokens: int = field(400, ge=40)
    chunk_max_tokens: int = field(480, ge=60)
    chunk_overlap_sentences: int = field(1, ge=0, le=3)

    # Retrieval
    top_k: int = field(6, ge=1, le=50)
    candidates: int = field(40, ge=5, le=500)
    rrf_k: int = field(60, ge=1)
    per_doc_cap: int = field(3, ge=1)

    # Generation
    backend: Literal["auto", "extractive", "openai", "local"] = "auto"
    openai_api_key: str | None = field(None, env=("OPENAI_API_KEY",), secret=True)
    openai_base_url: str | None = field(None, env=("OPENAI_BASE_URL",))
    openai_model: str = "gpt-4o-mini"
    local_model_path: Path | None = None
    local_context: int = field(4096, ge=512)
    # llama.cpp threads; None = all cores. 1 degrades less when other processes compete.
    local_threads: int | None = field(None, ge=1, le=256)
    llm_timeout: float = field(60.0, gt=0)
    llm_max_retries: int = field(2, ge=0, le=10)
    temperature: float = field(0.0, ge=0.0, le=2.0)

    # Interfaces
    ui_host: str = "127.0.0.1"
    ui_port: int = field(7860, ge=0, le=65535)
    ui_auth: str | None = field(None, doc="user:password for basic authentication.", secret=True)
    prompts_dir: Path = field(factory=_default_prompts_dir)

    # Small enough that the first articles are searchable within seconds and memory stays flat,
    # large enough that the store's per-write cost is spread thin.
    ingest_group_chunks: int = field(
        256, ge=1, le=100_000, doc="Chunks embedded and written together; each group is searchable at once."
    )
    progress_interval: float = field(
        5.0, gt=0, le=3600, doc="Seconds between progress lines of `brief ingest` when not on a terminal."
    )

    # Ingest limits: what one input file may cost, checked before it is read
    ingest_max_file_mb: int = field(50, ge=1, le=4096, doc="Largest file read, in MB (MiB).")
    ingest_max_front_matter_kb: int = field(64, ge=1, le=10240, doc="Largest YAML front matter, in KB.")

    # Limits against a hostile world: deadlines, request caps, login throttling, fair sharing
    chroma_timeout: float = field(60.0, gt=0, doc="Seconds any one Chroma server request may take.")
    max_question_chars: int = field(2000, ge=10, le=100_000)
    max_topic_chars: int = field(500, ge=10, le=10_000)
    ui_max_files: int = field(50, ge=1, doc="Files in one upload to the app.")
    ui_max_upload_mb: float = field(200.0, gt=0, doc="Megabytes in one upload request to the app.")
    # After this many failed logins from one address, it waits ui_login_backoff seconds,
    # doubled on every further failure (at most an hour); other addresses are not affected.
    ui_login_attempts: int = field(5, ge=1)
    ui_login_backoff: float = field(30.0, gt=0)
    # Answers and briefs running at once in the app, and of those at most this many per
    # language-model backend, so that a stuck model cannot hold every worker.
    ui_concurrency: int = field(16, ge=2, le=256)
    ui_model_concurrency: int = field(4, ge=1, le=256)

    # Links and feeds (brief/web): limits of every fetch, and the feeds `brief ingest --feeds` polls
    fetch_connect_timeout: float = field(10.0, gt=0, doc="Seconds to open a connection.")
    fetch_read_timeout: float = field(20.0, gt=0, doc="Seconds to wait for the next bytes.")
    fetch_deadline: float = field(60.0, gt=0, doc="Seconds for a whole fetch, redirects and retries included.")
    fetch_max_bytes: int = field(10_000_000, ge=1024, doc="A body larger than this is abandoned.")
    fetch_max_redirects: int = field(5, ge=0, le=20)
    fetch_retries: int = field(2, ge=0, le=10, doc="Retries after 429 or 5xx (Retry-After honoured).")
    fetch_user_agent: str = field(DEFAULT_USER_AGENT, min_length=1, doc="Sent with every request.")
    fetch_respect_robots: bool = field(True, doc="Obey robots.txt for the pages of feeds.")
    # The app refuses links that resolve to loopback, private, link-local or metadata addresses
    # unless this is true (an intranet); the CLI, run by the machine's own user, always may.
    fetch_allow_private: bool = False
    # Host names the app may fetch even when they resolve to private addresses (an intranet
    # wiki, say): narrower than allowing every private address.
    fetch_allow_hosts: list[str] = field(factory=list)
    feeds: list[str] = field(factory=list, doc="Feed URLs polled by `brief ingest --feeds`.")
    feed_max_entries: int = field(50, ge=1, le=1000, doc="New entries taken per feed and poll.")

    def __init__(self, **fields: Any) -> None:
        for name, value in read_settings(type(self), fields).items():
            object.__setattr__(self, name, value)
        if self.ui_auth is not None and ":" not in self.ui_auth:
            raise SettingsError("invalid setting ui_auth: it must look like user:password")

    def resolved_backend(self) -> str:
        """The generator that `auto` stands for: openai, then local, then extractive."""
        from brief.backends import resolve_backend

        return resolve_backend(self)

    def embedder_name(self) -> str:
        """The embedding model's name as stored with the collection."""
        if self.embedder == "openai":
            return f"openai:{self.openai_embedding_model}"
        return minilm_name(self.embed_quantized)
