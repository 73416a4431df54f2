"""English as brief reads it: every word list and pattern in one place.

Tokenizing, answering and attribution import what they need from here; nothing else in the
package types an English word list. The lists are general English and general news usage,
written without reference to any article in the corpus or the tests.
"""

from __future__ import annotations

import re

# ----- words ------------------------------------------------------------------------------------

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just me might more most must my myself no nor not now of off on
    once only or other our ours ourselves out over own said same says she should so some
    such than that the their theirs them themselves then there these they this those through
    to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves new one two according also may many much
    well like tell tells told us""".split()
)

# Words after which a period does not end a sentence.
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st gen sen rep gov lt col capt sgt maj jr sr inc ltd co corp vs etc no
    nos fig jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.g i.e a.m p.m
    approx est dept univ mt""".split()
)

QUESTION_WORDS = frozenset("what which who whom when where why how did does do is are was were".split())

# ----- one word, two spellings -------------------------------------------------------------------

# British spellings read as American ones (a UK report's "defence", "criticised", "centre" and
# "programme" match a question's "defense", "criticized", "center", "program"). Words that differ
# whole, then endings; an ending needs a few letters before it, so "four", "rise" and "rogue"
# stay as they are. Both sides of a match are read the same way, so a word that is not British
# ("promise" -> "promize") is changed alike everywhere and still matches itself.
BRITISH_WORDS = {
    "defence": "defense",
    "offence": "offense",
    "licence": "license",
    "pretence": "pretense",
    "grey": "gray",
    "tyre": "tire",
    "tyres": "tires",
    "aluminium": "aluminum",
    "jewellery": "jewelry",
    "sceptical": "skeptical",
    "manoeuvre": "maneuver",
    "paediatric": "pediatric",
    "foetus": "fetus",
}
BRITISH_ENDINGS = (
    (re.compile(r"(?<=\w{3})is(e|es|ed|ing|ation|ations)$"), r"iz\1"),  # criticised, organisation
    (re.compile(r"(?<=\w{2})ys(e|es|ed|ing)$"), r"yz\1"),  # analysed
    (re.compile(r"(?<=\w{3})our(s|ed|ing|ite|ites|able)?$"), r"or\1"),  # honoured, favourite
    (re.compile(r"(?<=\w{2})([tb])re(s)?$"), r"\1er\2"),  # centre, theatres, fibre
    (re.compile(r"(?<=\w{3})ogue(s)?$"), r"og\1"),  # catalogue, dialogue
    (re.compile(r"(?<=\w{3})mme(s)?$"), r"m\1"),  # programme
)


def american_spelling(word: str) -> str:
    """A lower-case word in its American spelling ("criticised" -> "criticized")."""
    word = BRITISH_WORDS.get(word, word)
    for pattern, replacement in BRITISH_ENDINGS:
        word = pattern.sub(replacement, word, count=1)
    return word


# ----- one name, many spellings ----------------------------------------------------------------------
# A country, its short form and its people are one word to brief: "US", "U.S.", "United States",
# "America" and "American" all become `usa`. Applied to the original text (case matters: "US"
# is the country, "us" the pronoun) before words are lower-cased.
_ALIASES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # (pattern, the one word, fragments one of which every match holds)
    (
        r"\bU\.S\.A\.?|\bU\.S\.(?=\W|$)|\bUSA\b|\bUS\b|\b[Uu]nited [Ss]tates(?: of [Aa]merica)?\b",
        " usa ",
        ("U.S.", "US", "nited"),
    ),
    (r"\bAmericans?\b|\bAmerica\b", " usa ", ("America",)),
    (
        r"\bU\.K\.(?=\W|$)|\bUK\b|\b[Uu]nited [Kk]ingdom\b|\b(?:Great )?Britain\b|\bBritish\b|\bBritons?\b|\bBrits?\b",
        " uk ",
        ("U.K.", "UK", "nited", "Brit"),
    ),
    (r"\bE\.U\.(?=\W|$)|\bEU\b|\b[Ee]uropean [Uu]nion\b", " eu ", ("E.U.", "EU", "uropean")),
    (r"\bU\.N\.(?=\W|$)|\bUN\b|\b[Uu]nited [Nn]ations\b", " un ", ("U.N.", "UN", "nited")),
    # Demonyms that no suffix rule derives from the country's name.
    (r"\bFrench\b|\bFrance\b", " france ", ("French", "France")),
    (r"\bDutch\b|\b(?:the )?Netherlands\b", " netherlands ", ("Dutch", "Netherlands")),
    (r"\bSwiss\b|\bSwitzerland\b", " switzerland ", ("Swi",)),
    (r"\bWelsh\b|\bWales\b", " wales ", ("Wel", "Wal")),
    (r"\bGreek\b|\bGreece\b", " greece ", ("Gree",)),
    (r"\bFilipinos?\b|\bPhilippines\b", " philippines ", ("Filipino", "Philippines")),
    (r"\bIrish\b|\bIreland\b", " ireland ", ("Irish", "Ireland")),
    (r"\bSpanish\b|\bSpain\b", " spain ", ("Spa",)),
    (r"\bDanish\b|\bDenmark\b", " denmark ", ("Danish", "Denmark")),
    (r"\bPolish\b|\bPoland\b", " poland ", ("Pol",)),
)
# A pattern is run only on a text holding one of its fragments (a substring test is a hundred
# times cheaper than a pass of the pattern): most texts name few of these countries.
_ALIAS_PATTERNS = tuple((re.compile(p), replacement, fragments) for p, replacement, fragments in _ALIASES)
# "X's" of a one-letter name keeps its letter; "twenty-five" is also "twenty five" and "twentyfive".
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")


def canonical_text(text: str) -> str:
    """Text with every spelling of a country or union replaced by one word, possessives cut."""
    text = _POSSESSIVE.sub("", text)  # first: "America’s" is "America"
    for pattern, replacement, fragments in _ALIAS_PATTERNS:
        if any(f in text for f in fragments):
            text = pattern.sub(replacement, text)
    return text


# Suffixes that turn a place into its people or its adjective: "Kenya"/"Kenyan",
# "Ukraine"/"Ukrainian", "Japan"/"Japanese", "Turkey"/"Turkish", "Israel"/"Israeli".
DEMONYM_SUFFIXES = ("ians", "ian", "ans", "an", "ese", "ish", "is", "i", "ns", "n")
PLACE_ENDINGS = ("ia", "a", "e", "o", "y", "ey", "en", "ain", "")


def demonym_roots(word: str) -> set[str]:
    """The word and what is left of it without a place ending or a demonym suffix (at least
    four letters): "japan" and "japanese" share "japan", "turkey" and "turkish" share "turk"."""
    roots = {word}
    for suffix in DEMONYM_SUFFIXES + PLACE_ENDINGS:
        if suffix and word.endswith(suffix) and len(word) - len(suffix) >= 4:
            roots.add(word[: -len(suffix)])
    return roots


# ----- what a question asks for ------------------------------------------------------------------

DATE_CUE = re.compile(
    r"\b(?:\d{4}|\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{1,2}|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?|yesterday|last (?:week|month|year))\b",
    re.I,
)
# A year ("in 2007", "the 2007-08 strike"): what a "what year" question asks for, where a weekday
# or a month would not answer it.
YEAR_CUE = re.compile(r"(?<![\w.,$-])(?:1[5-9]|20)\d\d(?!\d|[.,]\d|%)")
WANTS_YEAR = re.compile(r"\b(?:what|which) year\b")
# A figure, not a digit inside a name such as "B-52" or "Model-3".
NUMBER_CUE = re.compile(r"(?<![\w-])\d[\d,.]*(?![\w-])|\bpercent\b|%")
# A figure in words, as news style writes small counts ("for eight years", "won one Super Bowl").
# Money and percentages it writes in digits, so only a count question reads these.
SPELLED_NUMBER = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    r"hundred|thousand|million|billion|trillion|dozen)s?\b",
    re.I,
)
CAUSE_CUE = re.compile(
    r"\b(?:because|since|due to|as a result|lead(?:s|ing)? to|led to|push(?:es|ed)?|drive[sn]?|"
    r"caus(?:e|es|ed)|reason|so that|in order to|aim(?:s|ed)? to|intended to|deepen(?:ed|s)?|"
    r"fuel(?:s|ed|led)?|therefore|will)\b",
    re.I,
)
# A capitalised word that does not merely start a sentence.
CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]*")
QUANTITY_WORDS = (
    r"rate|rise|increase|raise|cut|share|level|flow|price|cost|value|amount|size|number|percentage|"
    r"total|range|budget|sum|grant|loss|losses|pay|wage|capacity|output|population|toll|height|distance|"
    r"magnitude|temperature|speed|weight|depth|length|width|salary|fee"
)
# A quiz's blank to fill in ("... the first to win since:") asks for a date after "since".
WANTS_DATE = re.compile(
    r"\bwhen\b|\b(?:what|which) (?:date|day|year|month)\b|\bhow long ago\b|\bsince(?: at least)?\s*(?::|\.\.\.|…)\s*$"
)
WANTS_NUMBER = re.compile(
    rf"\bhow (?:many|much|big|large|high|far|long|fast|old)\b"
    rf"|\b(?:what|which)\b(?:\s+\w+){{0,2}}?\s+(?:{QUANTITY_WORDS})\b"
    # "what figure" asks for one; "which public figure" for a person
    rf"|\b(?:what|which) figures?\b"
)
WANTS_COUNT = re.compile(r"\bhow (?:many|long|old)\b")
WANTS_CAUSE = re.compile(r"\bwhy\b|\breasons?\b|\bcauses?\b|\bhow (?:might|could|would|will)\b")
WANTS_NAME = re.compile(r"\bwho\b|\bwhom\b|\bwhich\b|\bwhere\b|\bwhat (?:is|was) the name\b|\bname(?:d)?\b")
# A sentence that goes on about what the one before it introduced: "The show, X, ...", "The
# two-time champion, who ...", "It ...", "Their ...".
_THE_THING = r"^[\"“‘']?(?:The|This|That|These|Those)\s+[^\s,.;:!?]+(?:\s+[^\s,.;:!?]+){0,2},"
BACK_REFERENCE = re.compile(rf"{_THE_THING}|^[\"“‘']?(?:It|He|She|They|Its|His|Her|Their|Theirs|Them)\b")
# ... unless it names what it is about right there ("The new conductor, Ilse Varga, will ..."):
# such a sentence reads alone and needs no lead-in.
NAMES_ITS_SUBJECT = re.compile(
    rf"{_THE_THING}\s+[A-Z][\w'’.&-]*(?:\s+(?:(?:of|the|de|and)\s+){{0,2}}[A-Z][\w'’.&-]*)*,"
)

# "Which country ...?", "Which US state ...?": the answer is a place of that kind, so a sentence
# naming one the question does not is a candidate answer. Names as news writes them.
COUNTRY_NAMES = (
    "Afghanistan Albania Algeria Andorra Angola Argentina Armenia Australia Austria Azerbaijan Bahamas "
    "Bahrain Bangladesh Barbados Belarus Belgium Belize Benin Bhutan Bolivia Bosnia Botswana Brazil Britain "
    "Brunei Bulgaria Burkina Burundi Cambodia Cameroon Canada Chad Chile China Colombia Comoros Congo "
    "Croatia Cuba Cyprus Czechia Denmark Djibouti Dominica Ecuador Egypt England Eritrea Estonia Eswatini "
    "Ethiopia Fiji Finland France Gabon Gambia Georgia Germany Ghana Greece Grenada Guatemala Guinea "
    "Guyana Haiti Honduras Hungary Iceland India Indonesia Iran Iraq Ireland Israel Italy Jamaica Japan "
    "Jordan Kazakhstan Kenya Kiribati Kosovo Kuwait Kyrgyzstan Laos Latvia Lebanon Lesotho Liberia Libya "
    "Liechtenstein Lithuania Luxembourg Madagascar Malawi Malaysia Maldives Mali Malta Mauritania "
    "Mauritius Mexico Micronesia Moldova Monaco Mongolia Montenegro Morocco Mozambique Myanmar Namibia "
    "Nauru Nepal Netherlands Nicaragua Niger Nigeria Norway Oman Pakistan Palau Palestine Panama Paraguay "
    "Peru Philippines Poland Portugal Qatar Romania Russia Rwanda Samoa Scotland Senegal Serbia Seychelles "
    "Singapore Slovakia Slovenia Somalia Spain Sudan Suriname Sweden Switzerland Syria Taiwan Tajikistan "
    "Tanzania Thailand Togo Tonga Tunisia Turkey Türkiye Turkmenistan Tuvalu Uganda Ukraine Uruguay "
    "Uzbekistan Vanuatu Vatican Venezuela Vietnam Wales Yemen Zambia Zimbabwe|Costa Rica|Czech Republic|"
    "Dominican Republic|East Timor|El Salvador|Ivory Coast|New Zealand|North Korea|North Macedonia|"
    "Papua New Guinea|Saudi Arabia|Sierra Leone|South Africa|South Korea|South Sudan|Sri Lanka|"
    "United Arab Emirates|United Kingdom|United States"
)
US_STATE_NAMES = (
    "Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia Hawaii Idaho "
    "Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota "
    "Mississippi Missouri Montana Nebraska Nevada Ohio Oklahoma Oregon Pennsylvania Tennessee Texas Utah "
    "Vermont Virginia Washington Wisconsin Wyoming|New Hampshire|New Jersey|New Mexico|New York|"
    "North Carolina|North Dakota|Rhode Island|South Carolina|South Dakota|West Virginia"
)


def _names_pattern(names: str) -> re.Pattern[str]:
    """One pattern for names given as space-separated single words, then '|'-separated longer ones."""
    single, *longer = names.split("|")
    alternatives = sorted([*single.split(), *longer], key=len, reverse=True)  # "New York" before "York"
    return re.compile(r"\b(?:" + "|".join(re.escape(a) for a in alternatives) + r")\b")


PLACE_NAMES = {"country": _names_pattern(COUNTRY_NAMES), "state": _names_pattern(US_STATE_NAMES)}
PLACE_NAMES["nation"] = PLACE_NAMES["country"]
ASKED_PLACE = re.compile(r"\b(?:which|what)\s+(?:\w+\s+){0,2}?(?P<kind>country|nation|state)\b", re.I)


# "Which automaker ...?", "What South Asian country ...?", "Who ...?": the kind of thing the
# answer names, the words after which/what up to the first common word ("automaker recalled
# around"; verbs stay in: the embedder weighs the noun). A who question asks for a person.
# Wider readings ("which of these X", "the name of X", "US" as a name) were tried on the
# development set and answered less.
ASKED_KIND = re.compile(r"\b(?:which|what|whose)\s+([\w'’ -]+)", re.I)
ASKS_WHO = re.compile(r"\bwho(?:m|se)?\b", re.I)
ASKS_WHERE = re.compile(r"\bwhere\b", re.I)
# A name as news writes it: capitalised words in a run, with the small words names hold
# ("Bank of England", "Robert F. Kennedy Jr.").
NAME_RUN = re.compile(r"\b[A-Z][\w'’.&-]*(?:\s+(?:(?:of|the|de)\s+)?[A-Z][\w'’.&-]*)*")


def lower_words(text: str) -> set[str]:
    """The text's words in lower case, apostrophes and hyphens kept ("Z's", "ex-minister"): what a
    question already says, against which a sentence's names and figures are new."""
    return {w.lower() for w in re.findall(r"[\w'’-]+", text)}


def asked_kind(question: str) -> str | None:
    """What kind of thing answers the question ("automaker", "south asian country", "person" for
    who, "place" for where), or None when it asks for no name of a kind."""
    match = ASKED_KIND.search(question)
    if match:
        words = []
        for word in match.group(1).split()[:3]:
            if word.lower() in STOPWORDS:
                break
            words.append(word.lower())
        if words:
            return " ".join(words)
    if ASKS_WHO.search(question):
        return "person"
    return "place" if ASKS_WHERE.search(question) else None


def new_names(text: str, asked: set[str]) -> list[str]:
    """The names in `text` that bring a word the question (its lower-case words `asked`) lacks;
    a lone capitalised word that only starts the sentence is no name ("Officials said ...").
    Counting it unless the articles also write it in lower case was tried on the development
    set: it declined more answerable questions."""
    names = []
    for match in NAME_RUN.finditer(text):
        name = match.group(0).rstrip(".")
        words = lower_words(name)
        if (match.start() == 0 and " " not in name) or not words or words <= asked:
            continue
        names.append(name)
    return names


def asked_place(question: str) -> re.Pattern[str] | None:
    """The names that answer a "which country / nation / state" question, or None."""
    match = ASKED_PLACE.search(question)
    return PLACE_NAMES[match.group("kind").lower()] if match else None


# "When did X happen, and how full was Y?": where one question becomes two.
QUESTION_PART_SPLIT = re.compile(
    r",?\s+and\s+(?=(?:by\s+|in\s+|to\s+|on\s+)?(?:what|how|when|which|who|whom|where|why)\b)", re.I
)
# A passage that opens on a pronoun needs the one before it to make sense.
PRONOUN_OPENING = re.compile(r"^[\"“‘']?(?:He|She|They|It|This|These|That|Those|His|Her|Their|Its)\b")
# How a language model says that its sources do not answer.
MODEL_DECLINE = re.compile(
    r"^\W*(?:the sources do not (?:say|answer|mention|contain)|the sources don't|insufficient|"
    r"i (?:don't|do not|cannot) (?:know|answer)|there is no information)",
    re.I,
)


# ----- what an abbreviation stands for -----------------------------------------------------------

# "What does UAP stand for?", "NATO is short for what?", "the acronym FEMA".
ASKS_EXPANSION = re.compile(r"\bstands?\s+for\b|\bstood\s+for\b|\bshort\s+for\b|\bacronym\b|\babbreviat", re.I)
# An abbreviation as news writes it: two to eight capitals or digits, the first a capital, an
# optional plural ("UAPs") or possessive.
ACRONYM = re.compile(r"(?<![\w-])([A-Z][A-Z0-9&]{1,7})(?:s|['’]s)?(?![\w-])")
# Small words an abbreviation usually leaves out ("Federal Bureau of Investigation": FBI).
EXPANSION_GLUE = frozenset("of and for the on in to at de du la &".split())
_EXPANSION_WORD = re.compile(r"[^\W_][\w'’]*(?:-[\w'’]+)*|&")


def asked_acronym(question: str) -> str | None:
    """The abbreviation whose spelled-out form the question asks for ("UAP" in "... studying
    UAPs, which stands for what?"), or None when it asks for none: the one nearest before the
    cue, else the first after it."""
    cue = ASKS_EXPANSION.search(question)
    if not cue:
        return None
    found = [(m.start(), m.group(1)) for m in ACRONYM.finditer(question)]
    before = [name for start, name in found if start < cue.start()]
    if before:
        return before[-1]
    return found[0][1] if found else None


NEAR = 3  # words between an abbreviation and its spelled-out form ("FEMA, or the Federal ...")


def spells_out(acronym: str, text: str) -> bool:
    """True if the text writes the abbreviation out beside it: a run of words whose initials give
    its letters, ending just before it or starting just after ("unidentified anomalous
    phenomena, or UAPs"; "FEMA (Federal Emergency Management Agency)"). Small words may sit
    between ("Bureau of Investigation"), and an abbreviation of four letters or more may leave
    out one more word ("Highland Valley Water Reservoir Authority (HVRA)")."""
    words = _EXPANSION_WORD.findall(text)
    named = [i for i, w in enumerate(words) if (m := ACRONYM.fullmatch(w)) and m.group(1) == acronym]
    if not named:
        return False
    letters = [c.lower() for c in acronym if c.isalnum()]
    for start in range(len(words)):
        end = _spelled_from(words, start, letters)
        if end is not None and any(0 < i - end <= NEAR or 0 < start - i <= NEAR for i in named):
            return True
    return False


def _spelled_from(words: list[str], start: int, letters: list[str]) -> int | None:
    """The index of the last word of a run from `start` whose initials spell `letters`, or None."""
    spare = 1 if len(letters) >= 4 else 0  # words it may leave out, small ones aside
    matched = 0
    for i in range(start, len(words)):
        word = words[i]
        lower = word.lower()
        if lower[0] == letters[matched] and lower not in STOPWORDS and not ACRONYM.fullmatch(word):
            matched += 1
            if matched == len(letters):
                return i
        elif matched and lower in EXPANSION_GLUE:
            continue
        elif spare and matched:
            spare -= 1
        else:
            return None
    return None


# ----- brief sections ---------------------------------------------------------------------------------

# "What to watch": sentences about what may come.
FUTURE_CUE = re.compile(
    r"\b(?:will|would|could|might|may|expected|expects|plans?|planned|faces|decision|whether|next|"
    r"upcoming|likely|possible|risk|warn(?:s|ed)?|pending|deadline|intends?|aims?)\b",
    re.I,
)
# "Background": sentences saying who did what.
EVENT_CUE = re.compile(
    r"\b(?:imposed|imposes|announced|announces|signed|launched|began|begun|started|ended|"
    r"voted|raised|cut|approved|rejected|filed|opened|closed|shipped|agreed|collapsed|struck|issued)\b",
    re.I,
)

# ----- questions about the articles themselves ----------------------------------------------------

META_AUTHOR = re.compile(
    r"\bwho (?:wrote|writes|authored|penned|is the (?:author|writer))\b|\bauthor of\b|\bby whom\b", re.I
)
META_DATE = re.compile(
    r"\bwhen (?:was|were) (?:the|this|these|that) (?:article|story|piece|report)s?\b.{0,60}"
    r"\b(?:published|written|posted)\b"
    r"|\b(?:publication|publishing) date\b|\bwhat date (?:was|is) (?:the|this) (?:article|story)\b",
    re.I,
)
META_SOURCE = re.compile(
    r"\b(?:which|what) (?:outlet|publication|newspaper|site|website|source|paper)\b.{0,40}"
    r"\b(?:publish|ran|run|carr|post)\w*\b|\bwhere (?:was|were) (?:the|this) (?:article|story)s? published\b",
    re.I,
)
ARTICLE_WORDS = re.compile(r"\b(?:article|story|piece|report|op-ed|column|analysis)s?\b", re.I)


def metadata_kind(question: str) -> str:
    """'author', 'date' or 'source' for a question about an article itself ("Who wrote the
    article about ...?"), else ''. A question must name the article: "who wrote the letter"
    asks about its content."""
    if not ARTICLE_WORDS.search(question):
        return ""
    for kind, pattern in (("author", META_AUTHOR), ("date", META_DATE), ("source", META_SOURCE)):
        if pattern.search(question):
            return kind
    return ""


def metadata_statements(title: str, author: str, source: str, date: str) -> dict[str, str]:
    """The sentences brief may state from an article's metadata, by kind; the citation check
    accepts exactly these against the article they came from."""
    name = f"“{title}”" if title else "The article"
    statements = {}
    if author:
        statements["author"] = f"{name} was written by {author}."
    if date:
        statements["date"] = f"{name} was published on {date}."
    if source:
        statements["source"] = f"{name} was published by {source}."
    return statements


# ----- statements to check ------------------------------------------------------------------------

# "True or false: X." / "X. True or false?" / "Is it true that X?": the question hands over a
# statement and asks whether the sources bear it out.
_TRUE_OR_FALSE = r"true\s*(?:or|/)\s*false"
STATEMENT_ASKED = re.compile(
    rf"^\s*(?:{_TRUE_OR_FALSE}|is it true that)\s*[:?.,-]?\s*(?P<lead>.+)$"
    rf"|^(?P<tail>.+?)\s*[(\[]?{_TRUE_OR_FALSE}[)\]]?\s*[?.:!]*\s*$",
    re.I | re.S,
)
# A negated statement and its affirmative are told apart by these words alone.
NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|none|nobody|nothing|without)\b|n[’']t\b", re.I)
VERDICT_TRUE = "True: "


def checked_statement(question: str) -> str:
    """The statement a true-or-false question asks about, ending in a full stop; '' for any
    other question."""
    match = STATEMENT_ASKED.match(question)
    if not match:
        return ""
    statement = (match.group("lead") or match.group("tail") or "").strip().rstrip("?.!:;, ").strip()
    return f"{statement}." if statement else ""


def verdict_sentence(statement: str) -> str:
    """How an answer says the sources bear a statement out."""
    return f"{VERDICT_TRUE}{statement}"


def verdict_statement(sentence: str) -> str:
    """The statement a verdict sentence vouches for; '' for any other sentence."""
    return sentence[len(VERDICT_TRUE) :] if sentence.startswith(VERDICT_TRUE) else ""


# ----- recency -------------------------------------------------------------------------------------

# Words by which a question asks about the newest state of a story, and how many days back
# from the question's date they reach.
RECENCY_WINDOWS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"\b(?:this|last|past) week(?:end)?\b|\btoday\b|\byesterday\b|\bthis weekend\b", re.I), 8),
    (re.compile(r"\b(?:this|last|past) month\b", re.I), 31),
    (re.compile(r"\b(?:latest|newest|most recent|recently|just|new)\b"), 14),
)


def recency_window(query: str) -> int:
    """Days back from the question's date that "this week", "latest" and the like reach; 0 when
    the question does not ask for the newest news."""
    return max((days for pattern, days in RECENCY_WINDOWS if pattern.search(query)), default=0)


# Words by which a question asks what happened in a recent span of time, not merely about
# something new ("the new sanctions" names a thing; "this week" and "recently" ask for news).
# "Last year" is left out: it names a year that may well be covered by older reports.
NEWEST_NEWS = re.compile(
    r"\b(?:this|last|past) (?:week(?:end)?|month)\b|\bthis year\b|\btoday\b|\byesterday\b"
    r"|\b(?:latest|newest|most recent|recently)\b",
    re.I,
)

# Words a title is quoted with or without ("The Star-Spangled Banner", "Laverne & Shirley").
PHRASE_GLUE = frozenset({"a", "an", "the", "and"})
# A title or name the question puts in quotation marks (“Inside Out 2”, ‘Only Murders in the
# Building’): those exact words are what it asks about. An opening mark follows no letter (an
# apostrophe does), a closing one precedes none; a span that starts in lower case is a scare
# quote ("more “palatable”"), not a title; one holding an apostrophe is left alone.
QUOTED_TITLE = re.compile(r"(?<!\w)[“\"‘']([A-Z0-9][^“”\"‘’']{0,78}?)[,.?!]?[”\"’'](?!\w)")

# ----- numbers in words ----------------------------------------------------------------------------

SCALE_WORDS = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
}
AMOUNT = re.compile(
    r"(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*"
    r"(?P<scale>thousand|million|billion|trillion|mn|bn|tn|[kmb](?![a-z]))?",
    re.I,
)


# "The", "A" or "An" opening a name or a quiz answer ("The Windsor Framework").
LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)


def number_values(text: str) -> list[float]:
    """Every amount in text as a number: "$12.6 million", "$12,600,000" and "12.6m" all give
    12600000.0."""
    values = []
    for match in AMOUNT.finditer(text):
        number = float(match.group("num").replace(",", ""))
        scale = (match.group("scale") or "").lower()
        values.append(round(number * SCALE_WORDS.get(scale, 1.0), 6))
    return values


def strip_amounts(text: str) -> str:
    """Text without its amounts (what is left of "$12.6 million" is "$")."""
    return AMOUNT.sub(" ", text)


# ----- who says what --------------------------------------------------------------------------------

SPEAKER_VERBS = (
    r"(?:said|says|say|tells|told|warned|warns|argues|argued|believes|believed|notes|noted|adds|added|"
    r"explains|explained|elaborates|expresses|offers|called|calls|claims|claimed|insisted|insists|"
    r"stressed|stresses|wrote|writes|announced|accused|urged|urges|dismissed|described|clarifies|"
    r"recalled|recalls|remembered|admitted|admits|acknowledged|acknowledges|asked|asks|predicted|"
    r"predicts|cautioned|cautions|estimated|estimates|worried|worries|complained|"
    r"complains|suggested|suggests|observed|observes|pointed out|points out|replied|replies)"
)
SPEAKER_TITLES = r"(?:Dr|Mr|Mrs|Ms|Prof|Gen|Sen|Rep|Gov)"  # abbreviations before a name
# Words that end a job title standing before a name ("Deputy Foreign Minister Ana Lopez").
TITLE_WORDS = frozenset(
    """Advisor Adviser Minister Secretary Director Chair Chairman Chairwoman President Spokesman
    Spokeswoman Spokesperson Governor Ambassador Commissioner Officer Chief Economist Analyst
    Editor Mayor Senator General Manager Head Envoy Representative Leader Premier Chancellor
    Counsel Executive Farmer Professor Researcher Founder Owner Coach Judge""".split()
)
ORGANISATION_WORDS = (
    r"Ministry|Department|Office|Bank|Union|Federation|Agency|Council|Commission|Government|"
    r"Administration|Company|Institute|Service|Authority|Association"
)
# A sentence that goes on about a speaker the one before named ("He added ...").
SPEAKER_PRONOUN = re.compile(r"^(?:He|She|They)\b")
# "... according to Ana Lopez, the minister"
ACCORDING_TO = r"[Aa]ccording to"
# Capitalised words that start sentences but never names.
NOT_NAMES = frozenset(
    """The This That These Those It He She They We In On But And While When As If Speaking
    Criticizing Instead However Meanwhile""".split()
)
