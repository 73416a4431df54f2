"""Which chunks of a document get a vector of their own, and which share one.

Embedding is ~90% of an ingest's CPU (benchmarks/README.md). With `embed_every` N > 1, a
document's first chunk and every Nth after it are embedded; a chunk in between shares the
vector of the embedded chunk just before it, its neighbour in the article. BM25 still reads
every word of every chunk, and the retriever ranks chunks that share a vector by their words.
"""

from __future__ import annotations


def vector_owner(index: int, every: int) -> int:
    """The chunk index whose vector the chunk at `index` uses (itself when it is embedded)."""
    if every <= 1:
        return index
    return index - index % every


def owners(indexes: list[int], every: int) -> list[int]:
    """For each chunk of one document (by chunk index, in order), the position in `indexes`
    of the chunk whose vector it uses. A document sent without its owner chunk (it should not
    happen: documents are written whole) falls back to embedding the chunk itself."""
    position = {index: i for i, index in enumerate(indexes)}
    return [position.get(vector_owner(index, every), i) for i, index in enumerate(indexes)]
