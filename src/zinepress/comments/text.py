"""``comments.md`` text ↔ entries: each comment's header lines and its Markdown body.

A comment starts with a ``---`` line at the start of the file or after a blank line,
followed at once by header lines (``author:``, ``date:``, ``id:``, ``reply_to:``) and a
closing ``---``; its body runs to the next comment. A body cannot open a comment: a line
of its own that is exactly ``---`` is written ``\\---`` (and ``\\---`` as ``\\\\---``) and read
back without the added backslash, and an unescaped ``---`` line inside a body followed by
header lines is an error at its line. Characters that cannot appear in XML are removed
with a warning at their line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import Diagnostics

HEADER_KEYS = ("author", "date", "id", "reply_to")
HEADER_LINE = re.compile(r"(?:author|date|id|reply_to)[ \t]*:")
FENCE = re.compile(r"---[ \t]*")
ESCAPED_FENCE = re.compile(r"\\+---[ \t]*")
PLAIN_SCALAR = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`\\][^:#\\]*")
NONCHARACTERS = "".join(chr(plane * 0x10000 + 0xFFFE) + chr(plane * 0x10000 + 0xFFFF) for plane in range(1, 17))
NOT_IN_XML = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff{NONCHARACTERS}]")


@dataclass(frozen=True)
class Entry:
    """One comment as ``comments.md`` holds it: its header (parsed by the caller) and body."""

    line: int  # the line of its opening ``---``
    header: str
    body: str  # Markdown, escapes undone
    body_line: int


def remove_unsafe_characters(text: str, path: Path, problems: Diagnostics) -> str:
    """``text`` without the characters XML cannot hold, each line that had some warned about."""
    if not NOT_IN_XML.search(text):
        return text
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        found = NOT_IN_XML.findall(line)
        if found:
            names = ", ".join(sorted({f"U+{ord(character):04X}" for character in found}))
            problems.warn(f"removed {len(found)} character{'s' if len(found) > 1 else ''} that a book "
                          f"cannot hold ({names})", path, number)
            lines[number - 1] = NOT_IN_XML.sub("", line)
    return "\n".join(lines)


def _opens_comment(lines: list[str], index: int) -> bool:
    return (FENCE.fullmatch(lines[index]) is not None and index + 1 < len(lines)
            and HEADER_LINE.match(lines[index + 1]) is not None)


def split_entries(text: str, path: Path, problems: Diagnostics) -> list[Entry]:
    """``comments.md`` text → entries; structural problems are added to ``problems``."""
    lines = text.split("\n")
    index = next((number for number, line in enumerate(lines) if line.strip()), len(lines))
    if index < len(lines) and not _opens_comment(lines, index):
        problems.error("comments.md must be a series of comments, each starting with '---', "
                       "'author: …' and 'date: …' lines, then '---' and the comment's text", path, index + 1)
        return []
    entries = []
    while index < len(lines):
        start = index
        closing = next((number for number in range(start + 1, len(lines)) if FENCE.fullmatch(lines[number])), None)
        if closing is None or any(not line.strip() for line in lines[start + 1:closing]):
            problems.error("comment header is not closed: add a '---' line after 'date: …'", path, start + 1)
            return entries
        index = closing + 1
        while index < len(lines) and not (_opens_comment(lines, index) and not lines[index - 1].strip()):
            if _opens_comment(lines, index):
                problems.error("a '---' line inside a comment's text must be written '\\---': a comment starts "
                               "with '---' after a blank line", path, index + 1)
            index += 1
        body = "\n".join(_unescape(line) for line in lines[closing + 1:index]).strip()
        entries.append(Entry(line=start + 1, header="\n".join(lines[start + 1:closing]), body=body,
                             body_line=closing + 2))
    return entries


def _unescape(line: str) -> str:
    return line[1:] if ESCAPED_FENCE.fullmatch(line) else line


def escape_body(body: str) -> str:
    """A comment's Markdown as ``comments.md`` holds it: ``---`` lines escaped, ends trimmed."""
    lines = body.strip().split("\n")
    return "\n".join("\\" + line if FENCE.fullmatch(line) or ESCAPED_FENCE.fullmatch(line) else line
                     for line in lines)


def yaml_scalar(value: str) -> str:
    """A string as a YAML value that reads back as itself: plain when it can be, else quoted."""
    if PLAIN_SCALAR.fullmatch(value) and value == value.strip():
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    quoted = json.dumps(value, ensure_ascii=False)
    return quoted.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def format_entry(author: str, date: str, body: str, id: str | None = None, reply_to: str | None = None) -> str:
    """One comment in ``comments.md``'s form, ending with a newline."""
    header = [f"author: {yaml_scalar(author)}", f"date: {date}"]
    if id:
        header.append(f"id: {id}")
    if reply_to:
        header.append(f"reply_to: {reply_to}")
    return "---\n" + "\n".join(header) + "\n---\n" + escape_body(body) + "\n"
