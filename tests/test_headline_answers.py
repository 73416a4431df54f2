"""Headlines as answer candidates: news names the story's who and what in the headline, where
the article's sentences may shorten it ("the Golden Knights"). The answerer may quote the
headline, cited to the article's metadata line; a brief's pool has no headlines (real MiniLM)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from brief.cite import SupportJudge, verify_draft
from brief.generate import extractive, sentence_pool
from brief.generate.extractive import ExtractiveGenerator
from brief.generate.sentence_pool import SentencePool
from brief.types import Chunk, Passage


def _passage(doc: str, title: str, text: str, start: int = 0, date: str = "2023-06-13") -> Passage:
    chunk = Chunk(f"{doc}:{start}", doc, 0, text, start, start + len(text), "", title, "Rink Report", date)
    return Passage(chunk, 1.0, text, start, start + len(text))


TITLE = "Vegas Golden Knights capture first Stanley Cup title with Game 5 rout"
FINAL = _passage(
    "final",
    TITLE,
    "The Golden Knights routed the Florida Panthers 9-3 on Tuesday night to finish the series in five games. "
    "Their captain lifted the trophy at centre ice as the home crowd roared. "
    "Jonathan Marchessault was named the most valuable player of the playoffs.",
)
FINAL_LATER = _passage(
    "final",
    TITLE,
    "The club entered the league as an expansion team and reached the final in its first season.",
    start=900,
)
PREVIEW = _passage(
    "preview",
    "Panthers and Golden Knights set for the final",
    "Florida reached the final after sweeping the Carolina Hurricanes in four games.",
    date="2023-06-01",
)
SHORT = _passage("short", "Hockey", "The arena will host a parade for the champions on Saturday morning downtown.")
ASKED = dt.date(2023, 6, 16)


def test_each_article_gives_its_headline_once_before_its_sentences(embedder: object) -> None:
    pool = SentencePool([FINAL, FINAL_LATER, PREVIEW, SHORT], embedder, ASKED, headlines=True)
    headlines = [(i, c) for i, c in enumerate(pool.candidates) if c.headline]
    assert [c.text for _, c in headlines] == [TITLE, "Panthers and Golden Knights set for the final"]
    # Each leads its article's first passage; the second passage of an article brings none, nor
    # does a one-word title.
    first = headlines[0][0]
    assert first == 0 and pool.candidates[first + 1].text.startswith("The Golden Knights routed")
    assert pool.candidates[headlines[1][0]].passage == 2
    assert (headlines[0][1].start, headlines[0][1].end) == (0, 0)
    # Without the option (a brief's pool), only the passages' sentences.
    assert not any(c.headline for c in SentencePool([FINAL, PREVIEW], embedder, ASKED).candidates)


def test_the_answer_quotes_the_headline_that_holds_the_full_name(embedder: object) -> None:
    question = "Which NHL team captured its first-ever Stanley Cup title this week?"
    generator = ExtractiveGenerator(embedder)
    draft = generator.generate(question, [FINAL, PREVIEW], [], ASKED)
    assert not draft.declined
    texts = [s.text for s in draft.sentences]
    assert TITLE in texts  # the sentences only ever say "the Golden Knights"
    assert texts.index(TITLE) == 0  # the headline leads its article's sentences
    headline = draft.sentences[0]
    assert headline.cited == [0]
    # The citation stands, and its quote opens on the headline, then the passage's sentences.
    verification = verify_draft(draft, [FINAL, PREVIEW], SupportJudge(embedder))
    assert verification.sentences[0].supported and verification.sentences[0].citations == [1]
    pieces = verification.citations[0].quote.split(" … ")
    assert pieces[0] == TITLE
    assert all(piece in FINAL.text for piece in pieces[1:]) and len(pieces) >= 2


def test_the_quoted_headline_leaves_out_the_sites_name(embedder: object) -> None:
    # A web page's title often ends with its site's name after a bar; that is no part of the
    # headline an answer quotes, nor of the quote its citation shows.
    paged = dataclasses.replace(FINAL, chunk=dataclasses.replace(FINAL.chunk, title=f"{TITLE} | Rink Report Sports"))
    assert paged.chunk.headline == TITLE
    question = "Which NHL team captured its first-ever Stanley Cup title this week?"
    draft = ExtractiveGenerator(embedder).generate(question, [paged, PREVIEW], [], ASKED)
    assert draft.sentences[0].text == TITLE
    verification = verify_draft(draft, [paged, PREVIEW], SupportJudge(embedder))
    assert verification.sentences[0].supported
    assert verification.citations[0].quote.split(" … ")[0] == TITLE
    # A bar inside a long headline's own words stays.
    long_title = "Rates | what the central bank's third rise in a row means for mortgages and savings this spring"
    assert dataclasses.replace(FINAL.chunk, title=long_title).headline == long_title


def test_a_headline_that_echoes_the_question_is_not_part_of_the_answer(embedder: object, monkeypatch) -> None:
    # The question is made of the headline's words: quoting it back answers nothing, so the answer
    # keeps to the sentences that say why.
    title = "Harbour City wins the Coastal Cup final"
    report = _passage(
        "cup",
        title,
        "Harbour City beat Ridgemont 2-1 on Sunday after their goalkeeper saved a late penalty. "
        "The coach said a new pressing game, drilled all winter, had worn Ridgemont down.",
    )
    question = "Why did Harbour City win the Coastal Cup final?"
    draft = ExtractiveGenerator(embedder).generate(question, [report], [], ASKED)
    assert not draft.declined
    assert title not in [s.text for s in draft.sentences]
    assert any("saved a late penalty" in s.text or "pressing game" in s.text for s in draft.sentences)
    # Without the rule the headline, scored like any sentence, opens the answer.
    monkeypatch.setattr(extractive, "ECHO_SHARE", 2.0)
    assert ExtractiveGenerator(embedder).generate(question, [report], [], ASKED).sentences[0].text == title


def test_a_headline_is_not_the_lead_in_of_its_passage(embedder: object) -> None:
    # "Their captain lifted the trophy" refers back; its lead-in is the sentence before it in the
    # passage, never the headline, even for the passage's first sentence.
    from brief.generate.extractive import _following, _preceding

    pool = SentencePool([FINAL], embedder, ASKED, headlines=True)
    assert pool.candidates[0].headline
    assert _preceding(pool, 1) is None
    assert _following(pool, 0) is None
    assert _preceding(pool, 2) == 1


def test_a_title_case_headline_brings_no_names(embedder: object) -> None:
    # In Title Case every word is capitalised: "Opens", "Central", "Library" are no names, so an
    # off-topic question about Arlow is not answered by this headline's capitals.
    from brief.generate.sentence_pool import FEATURES

    new_names = FEATURES.index("new_names")
    library = _passage(
        "library",
        "Arlow Opens Its New Central Library After Two Years of Building",
        "The city of Arlow opened its new central library on Saturday, two years after building work began.",
    )
    pool = SentencePool([library, FINAL], embedder, ASKED, headlines=True)
    rows = pool.features("Which team won the Arlow city marathon?")
    by_text = {c.text: rows[i] for i, c in enumerate(pool.candidates)}
    assert by_text[library.chunk.title][new_names] == 0.0
    assert by_text[TITLE][new_names] > 0.0  # sentence case: "Vegas Golden Knights", "Stanley Cup"
    # Read with its capitals as names, it would pass for an answer; as it is, it does not.
    question = "Which team won the Arlow city marathon?"
    cut_off = sentence_pool.answer_model().min_relevance
    headline = next(i for i, c in enumerate(pool.candidates) if c.text == library.chunk.title)
    assert pool.answer_probability(question)[headline] < cut_off
    as_names = dataclasses.replace(pool.candidates[headline], name_text=None)
    pool.candidates[headline] = as_names
    pool._rows.clear()
    assert pool.answer_probability(question)[headline] >= cut_off
