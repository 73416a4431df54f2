"""Who says what: find the speaker a sentence (or the quote it belongs to) is attributed to."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TITLE = r"(?:(?:Dr|Mr|Mrs|Ms|Prof|Gen|Sen|Rep|Gov)\.?\s+)?"
_NAME = rf"{_TITLE}[A-Z][\w.'’-]+(?:\s+(?:[A-Z][\w.'’-]+|de|van|von|bin|al-\w+)){{0,7}}"
_VERB = (
    r"(?:said|says|say|tells|told|warned|warns|argues|argued|believes|believed|notes|noted|adds|added|"
    r"explains|explained|elaborates|expresses|offers|called|calls|claims|claimed|insisted|insists|"
    r"stressed|stresses|wrote|writes|announced|accused|urged|urges|dismissed|described|clarifies)"
)
_ORG = (
    r"(?:[A-Z][\w’'.-]+\s+){0,5}(?:Ministry|Department|Office|Bank|Union|Federation|Agency|Council|"
    r"Commission|Government|Administration|Company|Institute|Service|Authority|Association)"
)
# "Abdullah Khan, managing director of PICSS, tells ..." / "Finer warned ..."
_NAME_VERB = re.compile(rf"(?P<name>{_NAME})(?:,\s*(?P<role>[^,“\"]{{3,140}}),)?\s+{_VERB}\b")
_ORG_VERB = re.compile(rf"(?P<name>{_ORG})\s+{_VERB}\b")
_ACCORDING = re.compile(rf"\b[Aa]ccording to (?P<name>{_NAME})(?:,\s*(?P<role>[^,“\"]{{3,120}}),)?")
_VERB_NAME = re.compile(rf"[,”\"]\s*{_VERB}\s+(?P<name>{_NAME})(?:,\s*(?P<role>[^,.“\"]{{3,140}}))?")
# Words that end a job title standing before a name ("Deputy Foreign Minister Ana Lopez").
_TITLE_WORDS = {
    "Advisor",
    "Adviser",
    "Minister",
    "Secretary",
    "Director",
    "Chair",
    "Chairman",
    "Chairwoman",
    "President",
    "Spokesman",
    "Spokeswoman",
    "Spokesperson",
    "Governor",
    "Ambassador",
    "Commissioner",
    "Officer",
    "Chief",
    "Economist",
    "Analyst",
    "Editor",
    "Mayor",
    "Senator",
    "General",
    "Manager",
    "Head",
    "Envoy",
    "Representative",
    "Leader",
    "Premier",
    "Chancellor",
    "Counsel",
    "Executive",
}
_PRONOUN_START = re.compile(r"^(?:He|She|They)\b")
_NOT_NAMES = {
    "The",
    "This",
    "That",
    "These",
    "Those",
    "It",
    "He",
    "She",
    "They",
    "We",
    "In",
    "On",
    "But",
    "And",
    "While",
    "When",
    "As",
    "If",
    "Speaking",
    "Criticizing",
    "Instead",
    "However",
    "Meanwhile",
}


@dataclass(frozen=True)
class Speaker:
    name: str
    role: str = ""

    def label(self) -> str:
        return f"{self.name}, {self.role}" if self.role else self.name


def find_speaker(sentence: str, previous: str = "") -> Speaker | None:
    """The named speaker of a sentence, looking at the lead-in sentence for quotes."""
    found = _match(sentence)
    if found is None and previous and (sentence.lstrip()[:1] in "“\"'‘" or _PRONOUN_START.match(sentence)):
        found = _match(previous)
    return found


def _match(text: str) -> Speaker | None:
    for pattern in (_NAME_VERB, _ACCORDING, _VERB_NAME, _ORG_VERB):
        for match in pattern.finditer(text):
            name = _clean_name(match.group("name"))
            if name:
                role = (match.groupdict().get("role") or "").strip()
                words = name.split()
                titled = [i for i, w in enumerate(words[:-1]) if w in _TITLE_WORDS]
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
    while words and words[0] in _NOT_NAMES:
        words = words[1:]
    name = " ".join(words).strip(" ,.")
    return name if name and name[0].isupper() and len(name) > 2 else ""


def same_speaker(a: str, b: str) -> bool:
    """'Iqbal' and 'Dr Abdul Rauf Iqbal' are the same person."""
    wa, wb = a.replace(".", "").split(), b.replace(".", "").split()
    return bool(wa and wb) and (wa[-1] == wb[-1])
