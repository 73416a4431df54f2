"""Parse Markdown or plain text into raw blocks (headings, paragraphs) and front matter."""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from brief.ingest.files import DEFAULT_MAX_FRONT_MATTER_BYTES
from brief.ingest.metadata import byline_author, is_email_line, labelled_field, parse_date, url_in_line

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3})(?=\S)(.+?)(?<=\S)\1")
_SINGLE_UNDERSCORE = re.compile(r"(?<![\w])_(?=\S)(.+?)(?<=\S)_(?![\w])")
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_QUOTE_MARK = re.compile(r"^\s*>\s?")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")


@dataclass
class RawBlock:
    """A block before cleaning. `emphasized` marks a line wholly in bold/italic."""

    kind: str  # "heading" | "paragraph"
    text: str
    level: int = 0
    emphasized: bool = False
    links: tuple[str, ...] = ()


class FrontMatterError(ValueError):
    """The YAML front matter of a Markdown file does not parse."""


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases: front matter needs none, and nested aliases
    expand exponentially (a few hundred bytes can stand for gigabytes)."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases are not allowed", event.start_mark)
        return super().compose_node(parent, index)


def split_front_matter(text: str, max_bytes: int = DEFAULT_MAX_FRONT_MATTER_BYTES) -> tuple[dict[str, str], str]:
    """Return (front matter fields, remaining text). Fields are strings."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    size = len(match.group(1).encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise FrontMatterError(f"front matter too large ({size // 1024} KB; limit {max_bytes // 1024} KB)")
    try:
        data = yaml.load(match.group(1), Loader=_NoAliasLoader) or {}  # noqa: S506 - a safe loader
    except yaml.composer.ComposerError as exc:
        if exc.problem == "aliases are not allowed":
            raise FrontMatterError("front matter uses YAML aliases (*name), which are not allowed") from exc
        raise FrontMatterError(f"front matter is not valid YAML ({exc.__class__.__name__})") from exc
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"front matter is not valid YAML ({exc.__class__.__name__})") from exc
    except RecursionError as exc:
        raise FrontMatterError("front matter is nested too deeply") from exc
    if not isinstance(data, dict):
        raise FrontMatterError("front matter is not a mapping of fields")
    fields = {str(k).strip().lower(): str(v).strip() for k, v in data.items() if v is not None}
    return fields, text[match.end() :]


def parse_blocks(text: str) -> list[RawBlock]:
    """Headings and paragraphs of Markdown-ish text, with inline markup removed."""
    blocks: list[RawBlock] = []
    lines: list[str] = []

    def flush() -> None:
        if lines:
            raw = " ".join(line.strip() for line in lines)
            blocks.append(_paragraph(raw, lines))
            lines.clear()

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip() or _RULE.match(line):
            flush()
            continue
        heading = _HEADING.match(line.strip())
        if heading:
            flush()
            plain, _ = strip_inline(heading.group(2))
            if plain:
                blocks.append(RawBlock("heading", plain, level=len(heading.group(1))))
            continue
        if _LIST_MARK.match(line) and lines:
            flush()  # each list item is its own block
        if _is_metadata_line(line):
            # Plain text often stacks title, byline, date and URL on consecutive lines:
            # such a line is never part of the prose around it.
            flush()
            lines.append(line)
            flush()
            continue
        lines.append(_QUOTE_MARK.sub("", _LIST_MARK.sub("", line)))
    flush()
    return blocks


def _is_metadata_line(line: str) -> bool:
    line = line.strip()
    if len(line) > 120:
        return False
    if url_in_line(line) or is_email_line(line):
        return True
    # A capital letter or digit first: "by the council" in wrapped prose is not a byline.
    return (line[:1].isupper() or line[:1].isdigit()) and bool(
        labelled_field(line) or byline_author(line) or parse_date(line)
    )


def _paragraph(raw: str, lines: list[str]) -> RawBlock:
    plain, links = strip_inline(raw)
    stripped = raw.strip()
    emphasized = len(lines) == 1 and bool(re.fullmatch(r"(\*{1,3}|_{1,3}).+\1", stripped))
    return RawBlock("paragraph", plain, emphasized=emphasized, links=links)


def strip_inline(text: str) -> tuple[str, tuple[str, ...]]:
    """Remove Markdown inline markup; return plain text and the link targets found."""
    links: list[str] = []
    text = _HTML_BREAK.sub(" ", text)
    text = _IMAGE.sub("", text)

    def keep_link_text(match: re.Match[str]) -> str:
        links.append(match.group(2).strip())
        return match.group(1)

    text = _LINK.sub(keep_link_text, text)
    text = _AUTOLINK.sub(lambda m: links.append(m.group(1)) or m.group(1), text)
    for _ in range(3):  # nested emphasis such as ***bold italic***
        text = _EMPHASIS.sub(r"\2", text)
    text = _SINGLE_UNDERSCORE.sub(r"\1", text)
    # Bold runs split across a quote leave stray markers ("**“Direct ...”**").
    text = re.sub(r"(?<!\w)\*{2,3}|\*{2,3}(?!\w)", "", text)
    return re.sub(r"[ \t\u00a0]+", " ", text).strip(), tuple(links)
