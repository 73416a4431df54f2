"""Which chunks of a document get a vector of their own, and which share one.

Embedding is ~90% of an ingest's CPU (benchmarks/README.md). With `embed_every` N > 1, a
document's first chunk and every Nth after it are embedded; a chunk in between shares the
vector of the nearest embedded chunk of its document (the earlier one on a tie), so no chunk
is more than N // 2 chunks from the text its vector was read from. BM25 still reads every word
of every chunk, and the retriever ranks chunks that share a vector by their words.

On the development set, one in three sharing the nearest owner's vector against the one before
it: fact recall 0.623 against 0.612, answer in the top 5 passages 0.802 against 0.799, MRR@10
0.699 against 0.700, unanswerable questions answered 0.125 against 0.150 (benchmarks/README.md).
"""

from __future__ import annotations

# Recorded in a document's recipe: documents shared by the older rule (the chunk before) are
# made again by the next ingest that reads them.
SHARING_RULE = "nearest"


def vector_owner(index: int, every: int, count: int) -> int:
    """The chunk index whose vector the chunk at `index` of a `count`-chunk document uses
    (itself when it is embedded)."""
    if every <= 1:
        return index
    before = index - index % every
    after = before + every
    if after < count and after - index < index - before:
        return after
    return before


def owners(indexes: list[int], every: int) -> list[int]:
    """For each chunk of one whole document (by chunk index, in order), the position in
    `indexes` of the chunk whose vector it uses; an owner always owns itself. A chunk whose
    owner is not among those handed over (it should not happen: documents are written whole)
    is embedded itself."""
    position = {index: i for i, index in enumerate(indexes)}
    count = max(indexes, default=-1) + 1
    return [position.get(vector_owner(index, every, count), i) for i, index in enumerate(indexes)]


def every_for_ingest(every: int, archive_every: int, archive_bytes: int | None, input_bytes: int) -> int:
    """One chunk in how many an ingest of `input_bytes` embeds: `every`, or for an archive
    import (input over `archive_bytes`) the larger of it and `archive_every`. Small ingests
    (a library's files, an upload) keep every chunk's own vector; a whole export halves its
    ingest time at nearly the same retrieval quality."""
    if archive_bytes is not None and input_bytes > archive_bytes:
        return max(every, archive_every)
    return every
