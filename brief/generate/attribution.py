"""Who says what: find the speaker a sentence (or the quote it belongs to) is attributed to."""

from __future__ import annotations

import re
from dataclasses import dataclass

from brief.language import (
    ACCORDING_TO,
    NOT_NAMES,
    ORGANISATION_WORDS,
    SPEAKER_PRONOUN,
    SPEAKER_TITLES,
    SPEAKER_VERBS,
    TITLE_WORDS,
)

_TITLE = rf"(?:{SPEAKER_TITLES}\.?\s+)?"
_NAME = rf"{_TITLE}[A-Z][\w.'’-]+(?:\s+(?:[A-Z][\w.'’-]+|de|van|von|bin|al-\w+)){{0,7}}"
_VERB = SPEAKER_VERBS
# "Veridia's Ministry of Water Resources", "the Builders' Federation"
_ORG = rf"(?:[A-Z][\w’'.-]+\s+){{0,5}}(?:{ORGANISATION_WORDS})(?:\s+(?:of|for)(?:\s+the)?(?:\s+[A-Z][\w’'-]+)+)?"
# "Mara Quill, director of the Harbour Institute, tells ..." / "Quill warned ..." / "Lena Ott, said"
_NAME_VERB = re.compile(rf"(?P<name>{_NAME})(?:,\s*(?P<role>[^,“\"]{{3,140}}),)?,?\s+{_VERB}\b")
# "The region's water minister, Ana Lopez, said ..."
_ROLE_NAME_VERB = re.compile(rf"(?P<role>\b[\w’'-]+(?:\s+[\w’'-]+){{1,6}}),\s+(?P<name>{_NAME}),\s+{_VERB}\b")
_ORG_VERB = re.compile(rf"(?P<name>{_ORG})\s+{_VERB}\b")
_ACCORDING = re.compile(rf"\b{ACCORDING_TO} (?P<name>{_NAME})(?:,\s*(?P<role>[^,“\"]{{3,120}}),)?")
_VERB_NAME = re.compile(rf"[,”\"]\s*{_VERB}\s+(?P<name>{_NAME})(?:,\s*(?P<role>[^,.“\"]{{3,140}}))?")
_OPEN_QUOTE = re.compile(r"^[“\"‘]")


@dataclass(frozen=True)
class Speaker:
    name: str
    role: str = ""

    def label(self) -> str:
        return f"{self.name}, {self.role}" if self.role else self.name


def find_speaker(sentence: str, previous: str = "", following: str = "") -> Speaker | None:
    """The named speaker of a sentence, looking at the lead-in sentence for quotes, and at the
    next sentence for a quote that goes on there ("“... charity. / We ...,” said X.")."""
    found = _match(sentence)
    opens_quote = bool(_OPEN_QUOTE.match(sentence.lstrip()))
    if found is None and previous and (opens_quote or SPEAKER_PRONOUN.match(sentence)):
        found = _match(previous)
    if found is None and following and opens_quote and not _closes_quote(sentence):
        found = _match(following)
    return found


def _closes_quote(sentence: str) -> bool:
    if "“" in sentence or "”" in sentence:
        return sentence.count("”") >= sentence.count("“")
    return sentence.count('"') % 2 == 0


def _match(text: str) -> Speaker | None:
    for pattern in (_ROLE_NAME_VERB, _ORG_VERB, _NAME_VERB, _ACCORDING, _VERB_NAME):
        for match in pattern.finditer(text):
            name = _clean_name(match.group("name"))
            if name and pattern is _ORG_VERB:
                return Speaker(name)  # an organisation's name is all name: no title to split off
            if name:
                role = (match.groupdict().get("role") or "").strip()
                words = name.split()
                titled = [i for i, w in enumerate(words[:-1]) if w in TITLE_WORDS]
                if titled:
                    # "US Deputy National Security Advisor Jon Finer": the title is a role.
                    cut = titled[-1] + 1
                    title = " ".join(words[:cut])
                    name, role = " ".join(words[cut:]), f"{title}, {role}" if role else title
                elif len(words) > 3 and not role:
                    name, role = " ".join(words[-2:]), " ".join(words[:-2])
                return Speaker(name, role if len(role.split()) <= 16 else "")
    return None


def _clean_name(name: str) -> str:
    words = name.split()
    while words and words[0] in NOT_NAMES:
        words = words[1:]
    name = " ".join(words).strip(" ,.")
    return name if name and name[0].isupper() and len(name) > 2 else ""


def same_speaker(a: str, b: str) -> bool:
    """'Iqbal' and 'Dr Abdul Rauf Iqbal' are the same person."""
    wa, wb = a.replace(".", "").split(), b.replace(".", "").split()
    return bool(wa and wb) and (wa[-1] == wb[-1])
