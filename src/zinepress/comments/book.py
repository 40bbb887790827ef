"""``comments.md`` → validated :class:`Comment` values, and comments → the threads layouts nest.

Comments come from untrusted readers: their bodies are rendered by
:func:`zinepress.markdown.comment_html`, never evaluated. A comment may carry an ``id``
and answer an earlier one with ``reply_to``; a reply to a missing comment, or to one
that comes later in the file, is an error at its line, so threads cannot loop.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from .. import markdown
from ..errors import Diagnostics
from .text import HEADER_KEYS, NOT_IN_XML, Entry, remove_unsafe_characters, split_entries

COMMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
MAX_NESTING = 4  # replies deeper than this are shown beside their parent, still naming whom they answer


@dataclass(frozen=True)
class Comment:
    """A reader comment: untrusted, its body already made safe."""

    author: str
    date: dt.datetime
    html: str
    source: Path
    line: int
    id: str | None = None
    reply_to: str | None = None

    @property
    def datetime_attribute(self) -> str:
        return self.date.isoformat(timespec="minutes" if not self.date.second else "seconds")

    @property
    def anchor(self) -> str | None:
        return f"comment-{self.id}" if self.id else None


def load_comments(path: Path, problems: Diagnostics, text: str | None = None) -> tuple[Comment, ...]:
    """``comments.md`` (or ``text`` meant for it) → comments in file order; errors and warnings
    go to ``problems``."""
    from ..manuscript import read_text
    text = remove_unsafe_characters(read_text(path) if text is None else text, path, problems)
    comments: list[Comment] = []
    lines_of: dict[str, int] = {}
    entries = split_entries(text, path, problems)
    later_ids = {}
    for entry in entries:
        meta = _header(entry, path, problems)
        if meta is not None and identifier(meta.get("id")):
            later_ids.setdefault(identifier(meta["id"]), entry.line)
    for entry in entries:
        comment = _comment(entry, path, problems, lines_of, later_ids)
        if comment is not None:
            comments.append(comment)
            if comment.id:
                lines_of[comment.id] = entry.line
    return tuple(comments)


def _header(entry: Entry, path: Path, problems: Diagnostics | None) -> dict | None:
    from ..errors import ProjectError
    from ..manuscript import parse_yaml
    try:
        meta = parse_yaml(entry.header, path, entry.line + 1)
    except ProjectError as error:
        if problems is not None:
            problems.errors.extend(error.problems)
        return None
    except (ValueError, OverflowError) as error:  # a YAML timestamp out of range, such as 15:07:60
        if problems is not None:
            problems.error(f"invalid comment header: {error}", path, entry.line + 1)
        return None
    if not isinstance(meta, dict):
        if problems is not None:
            problems.error("a comment header must be 'author:' and 'date:' lines", path, entry.line + 1)
        return None
    return meta


def identifier(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    value = str(value).strip()
    return value if COMMENT_ID.fullmatch(value) else None


def _comment(entry: Entry, path: Path, problems: Diagnostics, lines_of: dict[str, int],
             later_ids: dict[str, int]) -> Comment | None:
    """One entry checked; None (its problems reported) when it cannot be shown."""
    from ..manuscript import key_line
    meta = _header(entry, path, None)
    if meta is None:
        return None
    before = len(problems.errors)

    def line(key: str) -> int:
        return key_line(entry.header, key, entry.line + 1)

    for key in meta:
        if key not in HEADER_KEYS:
            problems.error(f"unknown comment key '{key}' (known: {', '.join(HEADER_KEYS)})", path, line(str(key)))
    author = meta.get("author")
    if not isinstance(author, (str, int)) or isinstance(author, bool) or not str(author).strip():
        problems.error("a comment needs an 'author'", path, line("author"))
    date = comment_date(meta.get("date"))
    if date is None:
        problems.error("a comment needs a 'date' as an ISO 8601 date-time, such as 2024-02-29T15:07",
                       path, line("date"))
    comment_id = identifier(meta["id"]) if "id" in meta else None
    if "id" in meta and comment_id is None:
        problems.error("'id' must be letters, digits, '.', '_' or '-' (such as wordpress-12)", path, line("id"))
    elif comment_id in lines_of:
        problems.error(f"the id '{comment_id}' is already used by the comment at line {lines_of[comment_id]}",
                       path, line("id"))
    parent = identifier(meta["reply_to"]) if "reply_to" in meta else None
    if "reply_to" in meta and parent not in lines_of:
        if parent is not None and parent in later_ids:
            problems.error(f"a reply must come after the comment it answers ('{parent}' is at line "
                           f"{later_ids[parent]})", path, line("reply_to"))
        else:
            problems.error(f"reply_to: no comment before this one has the id '{meta['reply_to']}'",
                           path, line("reply_to"))
    if not entry.body:
        problems.error("the comment has no text", path, entry.body_line - 1)
    if len(problems.errors) > before:
        return None
    try:
        html = markdown.comment_html(entry.body)
    except RecursionError:
        problems.error("the comment is nested too deeply to be read", path, entry.body_line)
        return None
    author = " ".join(str(author).split())
    if NOT_IN_XML.search(author):
        problems.warn("removed characters that a book cannot hold from the author's name", path, line("author"))
        author = NOT_IN_XML.sub("", author)
    return Comment(author=author, date=date, html=html, source=path, line=entry.line,
                   id=comment_id, reply_to=parent)


def comment_date(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def threads(comments: tuple[Comment, ...], content) -> tuple[list[dict], list[dict]]:
    """Comments → (every comment in file order, the top-level ones), as the layouts see them.

    Each is a dict with ``author``, ``date``, ``datetime``, ``content`` (``content(comment)``),
    ``anchor``, ``in_reply_to`` (the author answered, or None), ``reply_anchor`` and ``replies``.
    """
    by_id: dict[str, dict] = {}
    every, top = [], []
    for comment in comments:
        item = {"author": comment.author, "date": comment.date, "datetime": comment.datetime_attribute,
                "content": content(comment), "anchor": comment.anchor, "in_reply_to": None,
                "reply_anchor": None, "replies": [], "depth": 0, "parent": None}
        parent = by_id.get(comment.reply_to) if comment.reply_to else None
        if parent is None:
            top.append(item)
        else:
            item["in_reply_to"], item["reply_anchor"] = parent["author"], parent["anchor"]
            holder = parent if parent["depth"] < MAX_NESTING else parent["parent"]
            item["depth"], item["parent"] = holder["depth"] + 1, holder
            holder["replies"].append(item)
        if comment.id:
            by_id[comment.id] = item
        every.append(item)
    return every, top
