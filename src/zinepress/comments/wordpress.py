"""A WordPress WXR export (Tools → Export) → records: the ``wp:comment`` entries of each post.

Read: ``comment_id``, ``comment_author``, ``comment_date`` and ``comment_date_gmt`` (their
difference is the site's offset), ``comment_content`` (text with HTML, paragraphs by blank
lines), ``comment_approved`` (``1``; ``0``, ``spam`` and ``trash`` are skipped),
``comment_type`` (pingbacks and trackbacks are skipped) and ``comment_parent``. The
author's e-mail, URL, IP number and user id, and the comment metadata, are never read.
"""

from __future__ import annotations

import datetime as dt
import re

from ..errors import Diagnostics
from .html import html_markdown
from .record import Imported, Source, clean_author, parse_xml

NAME = "wordpress"
NAMESPACE = re.compile(r'xmlns:wp="(http://wordpress\.org/export/[0-9.]+/)"')
SKIPPED_STATUS = {"spam": "spam", "trash": "deleted", "post-trashed": "deleted"}


def detect(source: Source) -> bool:
    return not source.folder and NAMESPACE.search(source.data[:8192].decode("utf-8", "replace")) is not None


def read(source: Source, problems: Diagnostics) -> list[Imported]:
    root = parse_xml(source)
    namespace = {"wp": root.nsmap.get("wp") or NAMESPACE.search(source.text).group(1)}
    records = []
    for item in root.iter("item"):
        thread = tuple(name for name in ((item.findtext("title") or "").strip(), (item.findtext("link") or "").strip(),
                                         item.findtext("wp:post_name", "", namespace).strip(),
                                         item.findtext("wp:post_id", "", namespace).strip()) if name)
        for comment in item.findall("wp:comment", namespace):
            record = _record(comment, namespace, thread, source, problems)
            if record is not None:
                records.append(record)
    return records


def _record(comment, namespace: dict, thread: tuple[str, ...], source: Source, problems: Diagnostics):
    def field(name: str) -> str:
        return (comment.findtext(f"wp:comment_{name}", "", namespace) or "").strip()

    identifier = field("id")
    date = _date(field("date"), field("date_gmt"))
    if not identifier or date is None:
        problems.error("a wp:comment without a comment_id or a readable comment_date", source.path,
                       comment.sourceline)
        return None
    kind = field("type").lower()
    status = field("approved").lower()
    skip = (kind if kind in ("pingback", "trackback") else SKIPPED_STATUS.get(status)
            or (None if status == "1" else "unapproved"))
    parent = field("parent")
    content = comment.findtext("wp:comment_content", "", namespace) or ""
    return Imported(id=f"{NAME}-{identifier}", author=clean_author(field("author")) or "Anonymous", date=date,
                    body=html_markdown(content, autop=True), parent=f"{NAME}-{parent}" if parent not in ("", "0") else None,
                    thread=thread, skip=skip, source=source.path, line=comment.sourceline)


def _date(local: str, gmt: str) -> dt.datetime | None:
    """The local time with the site's offset (local − GMT), or the local time alone."""
    try:
        when = dt.datetime.fromisoformat(local)
    except ValueError:
        return None
    try:
        offset = when - dt.datetime.fromisoformat(gmt)
    except ValueError:
        return when
    minutes = round(offset.total_seconds() / 60)
    if abs(minutes) >= 24 * 60:
        return when
    return when.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes)))
