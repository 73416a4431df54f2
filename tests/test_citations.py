"""Citation parsing and verification: pure logic on hand-made passages (no store, no model)."""

from __future__ import annotations

import re

import numpy as np

from brief.cite import SupportJudge, parse_cited_text, render_answer, verify_draft
from brief.generate.base import DECLINE_TEXT, Draft, DraftSentence
from brief.types import Chunk, Passage

RESERVOIR = (
    "The Kestrel Valley reservoir held 41 percent of capacity in August 2025. "
    "That is the lowest August level since the reservoir was completed in 1987."
)
STRIKE = (
    "About 3,200 dockworkers at Port Calloway walked off the job on Saturday. "
    "The union is demanding a 14 percent pay increase over two years."
)
BANK = (
    "The Central Bank of Veridia raised its policy rate to 6.25 percent on Thursday. "
    "Consumer prices rose 7.4 percent in the year to January."
)


def passage(text: str, doc: str, index: int = 0) -> Passage:
    chunk = Chunk(
        chunk_id=f"{doc}:{index:04d}",
        doc_id=doc,
        index=index,
        text=text,
        start=0,
        end=len(text),
        section="",
        title=f"Title of {doc}",
        source=f"Outlet {doc}",
        date="2025-03-01",
    )
    return Passage(chunk, 1.0, text, 0, len(text))


def three_passages() -> list[Passage]:
    return [passage(RESERVOIR, "water"), passage(STRIKE, "port"), passage(BANK, "bank")]


def judge() -> SupportJudge:
    return SupportJudge(None)  # lexical and numeric rules only: deterministic


def markers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


# ----- parsing ----------------------------------------------------------------------------------


def test_markers_after_the_full_stop_belong_to_the_sentence_before() -> None:
    parsed = parse_cited_text("Claim. [2] Next [1][3].")
    assert [(s.text, s.cited) for s in parsed] == [("Claim.", [1]), ("Next.", [0, 2])]


def test_marker_groups_and_inline_markers_are_parsed_zero_based() -> None:
    parsed = parse_cited_text("The rate rose to 6.25 percent [3]. Prices rose [1, 2]. No source here.")
    assert [(s.text, s.cited) for s in parsed] == [
        ("The rate rose to 6.25 percent.", [2]),
        ("Prices rose.", [0, 1]),
        ("No source here.", []),
    ]


def test_zero_is_not_a_source_number() -> None:
    (sentence,) = parse_cited_text("A claim [0].")
    assert sentence.text == "A claim." and sentence.cited == []


# ----- invented numbers -------------------------------------------------------------------------


def test_invented_citation_numbers_never_reach_the_answer() -> None:
    passages = three_passages()
    draft = Draft(parse_cited_text("Dockworkers are demanding a 14 percent pay increase [9]."), "fake")
    assert draft.sentences[0].cited == [8]
    result = verify_draft(draft, passages, judge())
    assert result.invented == 1 and result.proposed == 0
    # The claim is true, so the verifier finds its real source instead of the invented one.
    (sentence,) = result.sentences
    assert sentence.supported and sentence.citations == [1]
    assert [c.chunk_id for c in result.citations] == ["port:0000"]
    rendered = render_answer(result.sentences)
    assert "[9]" not in rendered
    assert max(markers(rendered)) <= len(result.citations)


def test_invented_number_on_an_unsupported_claim_leaves_no_citation() -> None:
    passages = three_passages()
    draft = Draft([DraftSentence("Aliens landed at the harbour yesterday.", [8, 41])], "fake")
    result = verify_draft(draft, passages, judge())
    assert result.invented == 2
    assert result.citations == []
    assert result.sentences[0].citations == [] and not result.sentences[0].supported
    assert markers(render_answer(result.sentences)) == []
    assert result.stats() == {"proposed": 0, "confirmed": 0, "invented": 2}


# ----- wrong and missing support ----------------------------------------------------------------


def test_a_citation_to_a_passage_that_does_not_support_it_is_replaced() -> None:
    passages = three_passages()
    claim = "The Central Bank of Veridia raised its policy rate to 6.25 percent."
    draft = Draft([DraftSentence(claim, [0])], "fake")  # cites the reservoir passage
    result = verify_draft(draft, passages, judge())
    (sentence,) = result.sentences
    assert sentence.supported and sentence.citations == [1]
    (citation,) = result.citations
    assert citation.chunk_id == "bank:0000" and citation.title == "Title of bank"
    assert citation.quote == "The Central Bank of Veridia raised its policy rate to 6.25 percent on Thursday."
    assert result.stats() == {"proposed": 1, "confirmed": 0, "invented": 0}


def test_a_correct_citation_is_confirmed_and_quotes_the_supporting_sentence() -> None:
    passages = three_passages()
    draft = Draft([DraftSentence("Consumer prices rose 7.4 percent in the year to January.", [2])], "fake")
    result = verify_draft(draft, passages, judge())
    assert result.stats() == {"proposed": 1, "confirmed": 1, "invented": 0}
    (citation,) = result.citations
    assert citation.quote == "Consumer prices rose 7.4 percent in the year to January."
    assert citation.quote in passages[2].text


def test_an_unsupported_sentence_is_flagged() -> None:
    passages = three_passages()
    draft = Draft(
        [
            DraftSentence("The union is demanding a 14 percent pay increase over two years.", [1]),
            DraftSentence("The government will nationalise every port in the country.", [1]),
        ],
        "fake",
    )
    result = verify_draft(draft, passages, judge())
    supported, unsupported = result.sentences
    assert supported.supported and supported.citations == [1]
    assert not unsupported.supported and unsupported.citations == []
    rendered = render_answer(result.sentences)
    assert rendered == (
        "The union is demanding a 14 percent pay increase over two years. [1] "
        "The government will nationalise every port in the country. [unsupported]"
    )


def test_numbers_missing_from_the_passage_make_a_sentence_unsupported() -> None:
    passages = three_passages()
    right = "The Kestrel Valley reservoir held 41 percent of capacity in August 2025."
    wrong = "The Kestrel Valley reservoir held 55 percent of capacity in August 2025."
    j = judge()
    assert j.judge(right, 0, passages[0]).supported
    assert not j.judge(wrong, 0, passages[0]).supported
    result = verify_draft(Draft([DraftSentence(wrong, [0])], "fake"), passages, judge())
    assert not result.sentences[0].supported
    assert result.citations == []
    assert render_answer(result.sentences).endswith("[unsupported]")


def test_thousands_separators_match_plain_figures() -> None:
    passages = three_passages()
    assert judge().judge("About 3200 dockworkers at Port Calloway walked off the job.", 1, passages[1]).supported


# ----- renumbering ------------------------------------------------------------------------------


def test_citations_are_renumbered_by_first_use() -> None:
    passages = three_passages()
    draft = Draft(
        parse_cited_text(
            "Consumer prices rose 7.4 percent in the year to January [3]. "
            "The Kestrel Valley reservoir held 41 percent of capacity in August 2025 [1]. "
            "The Central Bank of Veridia raised its policy rate to 6.25 percent [3]. "
            "The union is demanding a 14 percent pay increase over two years [2]."
        ),
        "fake",
    )
    result = verify_draft(draft, passages, judge())
    assert [s.citations for s in result.sentences] == [[1], [2], [1], [3]]
    assert [c.n for c in result.citations] == [1, 2, 3]
    assert [c.chunk_id for c in result.citations] == ["bank:0000", "water:0000", "port:0000"]
    # Two sentences rest on the bank passage: its quote holds both supporting sentences.
    assert result.citations[0].quote == BANK
    rendered = render_answer(result.sentences)
    assert markers(rendered) == [1, 2, 1, 3]


def test_a_sentence_citing_two_passages_keeps_only_those_that_support_it() -> None:
    passages = three_passages()
    draft = Draft([DraftSentence("The union is demanding a 14 percent pay increase over two years.", [0, 1])], "fake")
    result = verify_draft(draft, passages, judge())
    assert result.sentences[0].citations == [1]
    assert [c.chunk_id for c in result.citations] == ["port:0000"]
    assert result.stats() == {"proposed": 2, "confirmed": 1, "invented": 0}


# ----- locality ---------------------------------------------------------------------------------


FILLER = "Nothing of note happened at the meeting on that day."


def test_scattered_words_across_a_long_passage_do_not_support_a_claim() -> None:
    claim = "Minister Varga approved emergency funding for flooded orchards."
    # Each content word of the claim sits in its own sentence, far from the others.
    scattered_sentences = [
        "Minister Tolmer opened the session.",
        "A separate report was approved later.",
        "The emergency services were praised.",
        "Funding for schools was discussed.",
        "Several roads were flooded in spring.",
        "The orchards of the north were surveyed.",
        "Mr Varga left early.",
    ]
    body = []
    for sentence in scattered_sentences:
        body += [sentence, FILLER, FILLER.replace("day", "evening")]
    scattered = passage(" ".join(body), "long")
    local = passage(f"{FILLER} {claim} {FILLER}", "short")
    j = judge()
    # Every word of the claim occurs in the long passage...
    from brief.text import content_words

    assert set(content_words(claim)) <= set(content_words(scattered.text))
    # ...but not within a few consecutive sentences, so it is no support.
    assert not j.judge(claim, 0, scattered).supported
    assert j.judge(claim, 1, local).supported
    result = verify_draft(Draft([DraftSentence(claim, [0])], "fake"), [scattered, local], judge())
    assert result.sentences[0].citations == [1]
    assert result.citations[0].chunk_id == "short:0000"
    assert result.citations[0].quote == claim


def test_support_may_span_a_few_consecutive_sentences() -> None:
    text = (
        f"{FILLER} The Tessaly reservoir was 46 percent full in March. "
        "Officials blamed the drought for the slow filling. "
        f"{FILLER}"
    )
    p = passage(text, "two")
    claim = "The Tessaly reservoir was 46 percent full in March, and officials blamed the drought."
    support = judge().judge(claim, 0, p)
    assert support.supported
    quote = text[support.quote_span[0] : support.quote_span[1]]
    assert quote == (
        "The Tessaly reservoir was 46 percent full in March. Officials blamed the drought for the slow filling."
    )


class _FakeEmbedder:
    """Maps known sentences onto fixed unit vectors: 'meaning' without a model."""

    def __init__(self, same: dict[str, int]) -> None:
        self.same = same

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), 8), dtype=np.float32)
        for i, text in enumerate(texts):
            vectors[i, self.same.get(text, 7)] = 1.0
        return vectors


def test_meaning_counts_only_together_with_some_shared_words() -> None:
    text = "Prices of bread climbed steeply this winter. The harbour froze over."
    p = passage(text, "meaning")
    paraphrase = "Bread became much more expensive during the cold months."
    unrelated = "Aliens visited the moon base yesterday."
    embedder = _FakeEmbedder(
        {
            "Prices of bread climbed steeply this winter.": 0,
            paraphrase: 0,
            unrelated: 0,  # even an embedder fooled into "same meaning" ...
        }
    )
    j = SupportJudge(embedder)
    assert j.judge(paraphrase, 0, p).supported
    # ... cannot make a sentence without shared words count as supported (recall < 0.15).
    assert not j.judge(unrelated, 0, p).supported


# ----- declines ---------------------------------------------------------------------------------


def test_a_declined_draft_passes_through() -> None:
    draft = Draft([DraftSentence(DECLINE_TEXT)], "fake", declined=True)
    result = verify_draft(draft, three_passages(), judge())
    assert result.citations == []
    assert [(s.text, s.citations, s.supported) for s in result.sentences] == [(DECLINE_TEXT, [], True)]
    assert render_answer(result.sentences) == DECLINE_TEXT
    assert result.stats() == {"proposed": 0, "confirmed": 0, "invented": 0}


def test_no_passages_means_every_citation_is_invented() -> None:
    draft = Draft(parse_cited_text("Something happened [1]."), "fake")
    result = verify_draft(draft, [], judge())
    assert result.invented == 1 and result.citations == []
    assert not result.sentences[0].supported
