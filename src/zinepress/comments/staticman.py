"""A folder of Staticman entries (one YAML or JSON file per comment) → records.

Read: ``_id`` (else the file's name), ``name``, ``message`` (Markdown), ``date`` (ISO 8601,
or seconds or milliseconds since 1970, as ``generatedFields`` configures it) and the
parent comment's id from ``replying_to_uid``, ``parent_id``, ``replying_to`` or ``parent``,
whichever the site's ``staticman.yml`` uses. ``_parent`` names the post. Staticman
publishes only what was approved (moderation merges the entry's pull request), so
every entry is a published comment; files that are not entries are skipped. ``email``
(hashed or not), ``url`` and any other field are never read.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from ..errors import Diagnostics
from .record import Imported, Source, clean_author, decode, iso_datetime

NAME = "staticman"
PARENT_FIELDS = ("replying_to_uid", "parent_id", "replying_to", "parent")


def _entry(path: Path, data: bytes) -> dict | None:
    try:
        value = yaml.safe_load(decode(data, path))
    except (yaml.YAMLError, ValueError):
        return None
    if isinstance(value, dict) and "message" in value and ("name" in value or "_id" in value):
        return value
    return None


def detect(source: Source) -> bool:
    files = source.files if source.folder else ((source.path, source.data),)
    if not source.folder and source.path.suffix.lower() not in (".yml", ".yaml"):
        return False
    return any(_entry(path, data) is not None for path, data in files if path.suffix.lower() in (".yml", ".yaml", ".json"))


def read(source: Source, problems: Diagnostics) -> list[Imported]:
    entries, records = [], []
    for path, data in (source.files if source.folder else ((source.path, source.data),)):
        entry = _entry(path, data)
        if entry is None:
            records.append(Imported(id=f"{NAME}-{path.stem}", author="", date=dt.datetime(1970, 1, 1), body="",
                                    skip="not a comment entry", source=path))
        else:
            entries.append((path, entry))
    ids = {str(entry.get("_id") or path.stem) for path, entry in entries}
    for path, entry in entries:
        date = _date(entry.get("date"))
        if date is None:
            problems.error("a Staticman entry without a readable 'date'", path, 1)
            continue
        parent = next((str(entry[field]).strip() for field in PARENT_FIELDS if str(entry.get(field) or "").strip()), "")
        records.append(Imported(id=f"{NAME}-{entry.get('_id') or path.stem}", author=clean_author(entry.get("name"))
                                or "Anonymous", date=date, body=str(entry.get("message") or "").strip(),
                                parent=f"{NAME}-{parent}" if parent in ids else None,
                                thread=tuple(str(entry[key]) for key in ("_parent", "slug") if entry.get(key))
                                or (path.parent.name,), source=path, line=1))
    return records


def _date(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) or str(value).strip().isdigit():
        seconds = float(value)
        if seconds > 1e11:
            seconds /= 1000
        try:
            return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    return iso_datetime(str(value)) if isinstance(value, str) else None
