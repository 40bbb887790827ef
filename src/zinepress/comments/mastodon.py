"""A Mastodon ``GET /api/v1/statuses/:id/context`` response → records: the post's ``descendants``.

Read: each status's ``id``, ``in_reply_to_id`` (a reply to the post itself is a
top-level comment), ``created_at`` (UTC), ``content`` (HTML; mentions and hashtags
become their text), ``spoiler_text`` (shown first, as the content warning it is) and
``account.display_name`` (else ``account.username``). Statuses that are not public
(``private``, ``direct``), boosts and those of suspended accounts are skipped. The
account's URL, avatar, handle and other fields are never read; ``ancestors`` are not
comments on the post and are ignored.
"""

from __future__ import annotations

import json

from ..errors import Diagnostics
from .html import escape_text, html_markdown
from .record import Imported, Source, clean_author, iso_datetime

NAME = "mastodon"
PUBLIC = {"public", "unlisted"}


def _context(source: Source):
    if source.folder or source.data.lstrip()[:1] != b"{":
        return None
    try:
        value = json.loads(source.text)
    except (json.JSONDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) and isinstance(value.get("descendants"), list) else None


def detect(source: Source) -> bool:
    return _context(source) is not None


def read(source: Source, problems: Diagnostics) -> list[Imported]:
    statuses = [status for status in _context(source)["descendants"] if isinstance(status, dict)]
    known = {str(status.get("id")) for status in statuses}
    records = []
    for index, status in enumerate(statuses):
        account = status.get("account") if isinstance(status.get("account"), dict) else {}
        identifier, date = str(status.get("id") or "").strip(), iso_datetime(str(status.get("created_at") or ""))
        if not identifier or date is None:
            problems.error(f"descendant {index + 1} has no id or no readable created_at", source.path)
            continue
        visibility = str(status.get("visibility") or "public")
        skip = ("boost" if status.get("reblog") else "suspended account" if account.get("suspended")
                else None if visibility in PUBLIC else "not public")
        body = html_markdown(str(status.get("content") or ""))
        if status.get("spoiler_text"):
            body = f"Content warning: {escape_text(' '.join(str(status['spoiler_text']).split()))}\n\n{body}"
        parent = str(status.get("in_reply_to_id") or "")
        author = clean_author(account.get("display_name")) or clean_author(account.get("username")) or "Anonymous"
        records.append(Imported(id=f"{NAME}-{identifier}", author=author, date=date, body=body.strip(),
                                parent=f"{NAME}-{parent}" if parent in known else None, skip=skip,
                                source=source.path))
    return records
