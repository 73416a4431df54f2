"""How much of a small model's context the sources of one prompt may take.

The bundled local model reads 4,096 tokens in all. Six 400-piece passages fill ~2,400-3,300 of
them (measured with its tokenizer on the real-news development set), and a brief hands the
model 18 passages or more: beyond the context llama.cpp refuses the request and the answer
falls back to the extractive writer. So a prompt for a small model carries the best-ranked
passages that fit, and the rest are left out (their numbers stay, so citations still line up).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from brief.text import estimate_tokens
from brief.types import Passage

# Tokens the local model may write in one reply (its max_tokens).
LOCAL_REPLY_TOKENS = 300
# The prompt files, the question and a follow-up's history, with room to spare.
PROMPT_RESERVE = 700
# Estimates count BERT word pieces; a chat model's tokenizer may split news text a little finer.
TOKENIZER_MARGIN = 1.25
# A source's fence, number and metadata lines.
SOURCE_OVERHEAD = 60


def source_budget(context: int, reply: int = LOCAL_REPLY_TOKENS) -> int:
    """Tokens left for sources (and a brief's notes) in a prompt to a model of `context` tokens."""
    return max(0, context - reply - PROMPT_RESERVE)


def cost(text: str) -> int:
    """A cautious token count of `text` for a chat model's tokenizer."""
    return math.ceil(estimate_tokens(text) * TOKENIZER_MARGIN)


def fit_passages(passages: Sequence[Passage], budget: int | None, among: Sequence[int] | None = None) -> list[int]:
    """Indexes of the passages (of `among`, in the order given: best first) that fit `budget`
    tokens together; the first always, so a prompt never goes without a source. No budget: all."""
    order = list(range(len(passages)) if among is None else among)
    if budget is None:
        return order
    kept, used = [], 0
    for i in order:
        need = cost(passages[i].text) + SOURCE_OVERHEAD
        if kept and used + need > budget:
            continue  # a shorter passage further down may still fit
        kept.append(i)
        used += need
    return kept


def fit_notes(notes: Sequence[str], budget: int | None) -> list[str]:
    """The leading notes that fit `budget` tokens (all when there is no budget)."""
    if budget is None:
        return list(notes)
    kept, used = [], 0
    for note in notes:
        used += cost(note)
        if used > budget:
            break
        kept.append(note)
    return kept
