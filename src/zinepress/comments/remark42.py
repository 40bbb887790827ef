"""A Remark42 backup (JSON lines, often gzip-compressed) → records.

The first line holds the site's metadata (``version``, ``users``, ``posts``); each other
line is a comment: ``id``, ``pid`` (its parent), ``text`` (HTML), ``user.name``,
``locator.url``, ``title``, ``time`` (RFC 3339 with offset) and ``delete``. Deleted
comments and those of blocked users (``user.block``, or blocked in the metadata) are
skipped. The user's id, picture, e-mail and IP hash are never read.
"""

from __future__ import annotations

import json

from ..errors import Diagnostics
from .html import html_markdown
from .record import Imported, Source, clean_author, iso_datetime

NAME = "remark42"


def _objects(source: Source):
    for number, line in enumerate(source.text.split("\n"), start=1):
        if line.strip():
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                yield number, None
                continue
            yield number, value


def detect(source: Source) -> bool:
    if source.folder or not source.data.lstrip()[:1] == b"{":
        return False
    for _, value in _objects(source):
        return isinstance(value, dict) and ("version" in value and "users" in value
                                            or {"id", "pid", "locator"} <= set(value))
    return False


def read(source: Source, problems: Diagnostics) -> list[Imported]:
    blocked: set[str] = set()
    records = []
    for number, value in _objects(source):
        if value is None or not isinstance(value, dict):
            problems.error("not a JSON object on its own line, as a Remark42 backup holds", source.path, number)
            continue
        if "version" in value and "users" in value:
            blocked |= {str(user.get("id")) for user in value.get("users") or []
                        if isinstance(user, dict) and (user.get("blocked") or {}).get("status")}
            continue
        record = _record(value, blocked, source, number)
        if record is None:
            problems.error("a Remark42 comment without an id or a readable time", source.path, number)
        else:
            records.append(record)
    return records


def _record(value: dict, blocked: set[str], source: Source, number: int) -> Imported | None:
    user = value.get("user") if isinstance(value.get("user"), dict) else {}
    locator = value.get("locator") if isinstance(value.get("locator"), dict) else {}
    identifier = str(value.get("id") or "").strip()
    date = iso_datetime(str(value.get("time") or ""))
    if not identifier or date is None:
        return None
    skip = "deleted" if value.get("delete") else "blocked user" if user.get("block") or str(user.get("id")) in blocked \
        else None
    parent = str(value.get("pid") or "").strip()
    thread = tuple(str(name) for name in (value.get("title"), locator.get("url")) if name)
    return Imported(id=f"{NAME}-{identifier}", author=clean_author(user.get("name")) or "Anonymous", date=date,
                    body=html_markdown(str(value.get("text") or "")), parent=f"{NAME}-{parent}" if parent else None,
                    thread=thread, skip=skip, source=source.path, line=number)
