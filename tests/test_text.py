"""Pure text helpers: question splitting and cleaning (bounded work for any input)."""

from __future__ import annotations

from brief.text import MAX_QUESTION_CHARS, MAX_QUESTION_PARTS, clean_question, content_words, split_question, stem


def test_two_part_question_is_split_at_the_second_question_word() -> None:
    parts = split_question("When did Veridia begin filling the reservoir, and how full was it in May?")
    assert parts == ["When did Veridia begin filling the reservoir", "how full was it in May?"]


def test_plain_and_does_not_split() -> None:
    question = "What did Saldria and Veridia agree?"
    assert split_question(question) == [question]


def test_run_on_question_is_capped() -> None:
    question = "What happened" + ", and what next" * 50 + "?"
    parts = split_question(question)
    assert len(parts) == MAX_QUESTION_PARTS
    assert parts[0] == "What happened"
    assert parts[-1].count("what next") == 50 - (MAX_QUESTION_PARTS - 2)


def test_clean_question_replaces_surrogates_and_controls_and_bounds_length() -> None:
    assert clean_question("Who is \udcffFiner?\x00\x07 ") == "Who is ?Finer?"
    assert len(clean_question("x" * (MAX_QUESTION_CHARS + 500))) == MAX_QUESTION_CHARS
    assert clean_question("  a\n\tb  ") == "a b"


def test_short_ie_verbs_share_one_stem() -> None:
    # "died" in a question, "dies" in a headline, "dying" in the text: one word for BM25 and for
    # the answerer's overlap. Longer words keep the general rule ("studies" -> "study").
    assert {stem(w) for w in ("died", "dies", "dying", "die")} == {"die"}
    assert {stem(w) for w in ("tied", "ties", "tying", "tie")} == {"tie"}
    assert {stem(w) for w in ("lied", "lies", "lying", "lie")} == {"lie"}
    assert stem("studies") == stem("study") == "study"
    assert stem("sanctioned") == stem("sanctions") == "sanction"
    assert "die" in set(content_words("Harry Belafonte dies at 96")) & set(content_words("Who died this week?"))


def test_british_and_american_spellings_are_one_word() -> None:
    pairs = [
        ("defence", "defense"),
        ("criticised", "criticized"),
        ("organisation", "organization"),
        ("analysed", "analyzed"),
        ("honoured", "honored"),
        ("favourite", "favorite"),
        ("centre", "center"),
        ("theatres", "theaters"),
        ("programme", "program"),
        ("catalogue", "catalog"),
    ]
    for british, american in pairs:
        assert stem(british) == stem(american), (british, american)
    # Short words that only look British stay themselves, and stay apart.
    assert len({stem(w) for w in ("four", "for", "hour", "tour", "your", "rise", "raise", "noise")}) == 8
    question = set(content_words("Which defense program was criticized by the minister?"))
    report = set(content_words("The minister criticised the defence programme on Monday."))
    assert {stem("defense"), stem("program"), stem("criticized")} <= question & report


def test_the_best_window_of_sentences() -> None:
    from brief.text import best_window

    words = {"ferry", "resume", "monday", "brinemoor"}
    sentences = [{"harbour", "quiet"}, {"ferry", "resume"}, {"monday"}, {"brinemoor", "hourly"}]
    # Any gain widens the window when nothing more is asked ...
    assert best_window(words, sentences, 3) == (1.0, 1, 3)
    # ... a required gain keeps it tight unless widening covers clearly more.
    assert best_window(words, sentences, 3, widen_gain=0.5) == (0.5, 1, 1)
    assert best_window(words, sentences, 1) == (0.5, 1, 1)
    # Words held elsewhere (a headline's) count for every window.
    assert best_window(words, sentences, 1, given=frozenset({"monday", "brinemoor"})) == (1.0, 1, 1)
    assert best_window(words, [], 3) == (-1.0, 0, 0)
