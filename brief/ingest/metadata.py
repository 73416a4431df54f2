"""Recognise metadata and boilerplate lines: dates, bylines, URLs, languages."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlparse

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_DATE_PATTERNS = [
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$"),
    re.compile(r"^(?P<y>\d{4})[/.](?P<m>\d{1,2})[/.](?P<d>\d{1,2})$"),  # 2024/12/29
    re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$"),  # 29.12.2024 (day first)
    re.compile(r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})$"),  # 12/29/2024 (US order)
    re.compile(rf"^(?:[A-Za-z]+,?\s+)?{_MONTH}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})$"),
    re.compile(rf"^(?:[A-Za-z]+,?\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<y>\d{{4}})$"),
    re.compile(r"^D:(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),  # PDF date strings
]
_DATE_PREFIX = re.compile(r"^(?:published|updated|posted|date|dated)\s*(?:on)?\s*:?\s*", re.I)

_BYLINE = re.compile(r"^(?:by|written by|author:?)\s+(?P<name>.+)$", re.I)
_NAME = re.compile(r"^(?:[A-Z][\w'’.-]*\.?\s*){1,5}$")
_URL = re.compile(r"^(?:url:\s*)?(?P<url>(?:https?://|www\.)\S+)$", re.I)
_EMAIL = re.compile(r"^(?:e-?mail:\s*)?\S+@\S+\.\w+$", re.I)
_FIELD = re.compile(r"^(?P<key>source|outlet|publication|url|author|date|published)\s*:\s*(?P<value>.+)$", re.I)

# Lines that belong to the page, not the article. Matched against whole short lines.
_BOILERPLATE = [
    re.compile(p, re.I)
    for p in (
        r"^(?:photo|image|picture|video)(?:\s+credit)?s?\s*[:/|-]",
        r"^(?:photo|image)\s+(?:by|courtesy)\b",
        r"^\(?(?:photo|image)s?:.*\)?$",
        r"^(?:credit|source of image)\s*:",
        r"copyright|©|all rights reserved",
        r"^(?:follow us|like us|share this|share on|subscribe|sign up|newsletter|advertisement|read more|"
        r"related(?: stories| articles)?|click here|download our app)\b",
        r"^(?:home|menu|skip to content)(?:\s*[|»>/·•]\s*\w+)+",
        r"^\S+(?:\s*\|\s*\S+){2,}$",  # navigation menus: "Home | World | Business"
        r"^(?:tags?|filed under|topics?)\s*:",
        r"^this (?:article|story) (?:was|has been) (?:originally )?(?:published|updated)",
        r"cookies?\b.*\b(?:accept|consent|policy|use)",
    )
]


def parse_date(text: str) -> str:
    """An ISO date (YYYY-MM-DD) for a date line, or "" if the line is not a date."""
    text = _DATE_PREFIX.sub("", text.strip().strip("*_ ").strip())
    if len(text) > 40:
        return ""
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        groups = match.groupdict()
        month: int | None
        if "month" in groups and groups["month"]:
            month = _MONTHS.get(groups["month"].lower())
        else:
            month = int(groups["m"])
        try:
            return date(int(groups["y"]), month or 0, int(groups["d"])).isoformat()
        except (TypeError, ValueError):
            return ""
    return ""


# "June 12, 2022 10:30 AM EST", "2022/06/12 08:00": a time after the date says nothing more.
_TRAILING_TIME = re.compile(r"(?:,?\s+(?:at\s+)?\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s*[A-Z]{2,5})?)$")


def parse_any_date(value: str) -> str:
    """Like parse_date, but also accepts ISO datetimes with time zones, RFC 2822 dates
    ("Sun, 12 Jun 2022 08:00:00 +0000") and dates followed by a time; "" if none of these."""
    iso = parse_date(value) or parse_date(_TRAILING_TIME.sub("", value.strip()))
    if iso:
        return iso
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return ""


def byline_author(line: str, emphasized: bool = False) -> str:
    """The author's name if the line is a byline ("By Jane Doe", or a lone emphasized name)."""
    line = line.strip()
    match = _BYLINE.match(line)
    if match:
        name = re.split(r"\s*[,|·•–—-]\s+|\s+and\s+(?=[A-Z].*,)", match.group("name"))[0]
        return name.strip().rstrip(".") if _looks_like_name(name) else ""
    if emphasized and _looks_like_name(line):
        return line
    return ""


def _looks_like_name(text: str) -> bool:
    text = text.strip()
    return 2 <= len(text) <= 60 and not any(ch.isdigit() for ch in text) and bool(_NAME.match(text))


def url_in_line(line: str) -> str:
    match = _URL.match(line.strip())
    if not match:
        return ""
    url = match.group("url").rstrip(").,")
    return url if url.lower().startswith("http") else f"http://{url}"


def domain_of(url: str) -> str:
    host = urlparse(url if "//" in url else f"http://{url}").hostname or ""
    return host.removeprefix("www.")


def is_email_line(line: str) -> bool:
    return bool(_EMAIL.match(line.strip()))


def labelled_field(line: str) -> tuple[str, str] | None:
    """("source", "The Cradle") for a line such as "Source: The Cradle"."""
    match = _FIELD.match(line.strip())
    if not match or len(line) > 200:
        return None
    key = match.group("key").lower()
    key = {"outlet": "source", "publication": "source", "published": "date"}.get(key, key)
    return key, match.group("value").strip()


def is_boilerplate(line: str) -> bool:
    """True for page furniture: photo credits, share prompts, navigation, copyright lines."""
    line = line.strip()
    if len(line) > 300:
        return False
    if url_in_line(line) or is_email_line(line):
        return True
    return any(p.search(line) for p in _BOILERPLATE)


_SCRIPT_SAMPLE = 4000  # letters: enough to tell the writing system, cheap on long articles


def script_of(text: str) -> str:
    """The dominant writing system of `text`: latin, arabic, cyrillic, cjk, other or none."""
    counts: dict[str, int] = {}
    letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        if letters > _SCRIPT_SAMPLE:
            break
        script = "LATIN" if ch.isascii() else _script_of_letter(ch)
        counts[script] = counts.get(script, 0) + 1
    if not counts:
        return "none"
    return max(counts, key=counts.__getitem__).lower()


_STOPWORDS_BY_LANGUAGE = {
    "en": "the and of to in is that for it with as was on are by this be from",
    "de": "der die und in den von zu das mit sich des auf ist im dem nicht ein eine",
    "fr": "le la les de des et un une est que dans pour par sur pas du au",
    "es": "el la los las de y en que por un una para con del se es",
    "it": "il di che la per un una sono del della non con le gli",
    "nl": "de het een en van is dat op te in voor met zijn niet",
    "pt": "o a os as de do da que em um uma para com não por",
}


_STOPWORD_SETS = {lang: frozenset(words.split()) for lang, words in _STOPWORDS_BY_LANGUAGE.items()}


def _script_of_letter(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return next(
        (s for s in ("LATIN", "ARABIC", "CYRILLIC", "CJK", "HANGUL", "HIRAGANA", "GREEK") if name.startswith(s)),
        "OTHER",
    )


def detect_language(text: str) -> str:
    """A best-effort ISO 639-1 code from script and common words; "" when unsure."""
    script = script_of(text)
    if script == "arabic":
        # Persian uses letters Arabic does not (pe, che, zhe, gaf).
        return "fa" if re.search("[پچژگ]", text) else "ar"
    if script == "cyrillic":
        return "ru"
    if script != "latin":
        return ""
    words = re.findall(r"[a-zà-ÿ]+", text.lower()[:20000])
    if not words:
        return ""
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPWORD_SETS.items()}
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= max(3, len(words) // 50) else ""
