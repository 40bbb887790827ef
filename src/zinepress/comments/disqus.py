"""A Disqus export (Admin → Export) → records: its ``post`` elements, threaded by ``parent``.

Read: the post's ``dsq:id``, ``message`` (HTML), ``createdAt`` (UTC), ``author/name``
(else ``author/username``), ``isSpam``, ``isDeleted`` (also of its ``thread``),
``isApproved`` where present, ``thread`` and ``parent``. The author's e-mail and the
``ipAddress`` are never read.
"""

from __future__ import annotations

import re

from ..errors import Diagnostics
from .html import html_markdown
from .record import Imported, Source, clean_author, iso_datetime, parse_xml

NAME = "disqus"
NS = {"d": "http://disqus.com", "dsq": "http://disqus.com/disqus-internals"}
DSQ_ID = "{http://disqus.com/disqus-internals}id"
ROOT = re.compile(r"<disqus\b[^>]*xmlns=[\"']http://disqus\.com[\"']")


def detect(source: Source) -> bool:
    return not source.folder and ROOT.search(source.data[:8192].decode("utf-8", "replace")) is not None


def _true(element, name: str) -> bool:
    return (element.findtext(f"d:{name}", "", NS) or "").strip().lower() == "true"


def read(source: Source, problems: Diagnostics) -> list[Imported]:
    root = parse_xml(source)
    threads = {}
    for thread in root.findall("d:thread", NS):
        names = tuple(name for name in ((thread.findtext("d:title", "", NS) or "").strip(),
                                        (thread.findtext("d:link", "", NS) or "").strip(),
                                        (thread.findtext("d:id", "", NS) or "").strip(), thread.get(DSQ_ID, "")) if name)
        threads[thread.get(DSQ_ID, "")] = (names, _true(thread, "isDeleted"))
    records = []
    for post in root.findall("d:post", NS):
        identifier = post.get(DSQ_ID, "").strip()
        date = iso_datetime(post.findtext("d:createdAt", "", NS) or "")
        if not identifier or date is None:
            problems.error("a Disqus post without a dsq:id or a readable createdAt", source.path, post.sourceline)
            continue
        thread_element, parent_element = post.find("d:thread", NS), post.find("d:parent", NS)
        names, thread_deleted = threads.get(thread_element.get(DSQ_ID, "") if thread_element is not None else "", ((), False))
        approved = (post.findtext("d:isApproved", "true", NS) or "true").strip().lower() != "false"
        skip = ("spam" if _true(post, "isSpam") else "deleted" if _true(post, "isDeleted") or thread_deleted
                else None if approved else "unapproved")
        author = post.findtext("d:author/d:name", "", NS) or post.findtext("d:author/d:username", "", NS)
        parent = parent_element.get(DSQ_ID, "").strip() if parent_element is not None else ""
        records.append(Imported(id=f"{NAME}-{identifier}", author=clean_author(author) or "Anonymous", date=date,
                                body=html_markdown(post.findtext("d:message", "", NS) or ""),
                                parent=f"{NAME}-{parent}" if parent else None, thread=names, skip=skip,
                                source=source.path, line=post.sourceline))
    return records
