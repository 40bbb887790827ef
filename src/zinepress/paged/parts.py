"""The print HTML → parts: whole HTML documents of one section each (or of a run of short
ones), with empty "ghosts" of their neighbours. Pure lxml and text: no layout happens here.

The split is at the body's top-level sections: the front matter (everything before the first
chapter), then one part per section, short sections sharing a part (:func:`grouped`). Each
part holds an empty copy ("ghost") of the section before it and of the one after it, so
selectors such as ``.toc + .chapter`` and the section's own ``break-before`` behave as in
the whole book. This module also makes the variants the schedule asks for: a part started on
the other side, and a part with placeholder pages that carry the page numbers of the targets
it links to.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from html import escape

import lxml.html

from ..render import RenderedBook

LEAD_GHOST = "zinepress-lead-ghost"
TRAIL_GHOST = "zinepress-trail-ghost"
PLACEHOLDER_PAGE = "zinepress-target"
START_LEFT = '<html style="break-before: left" '


@dataclass(frozen=True)
class Part:
    """One part of the print HTML: a whole HTML document with its ghosts, ready for WeasyPrint."""

    index: int
    html: str
    section_ids: tuple[str, ...]  # ids of the book's sections it holds
    links_out: tuple[str, ...] = ()  # ids it links to that live in other parts
    size: int = 0  # a measure of its work (characters), to share the parts between workers
    extra_css: str = ""  # rules for this part alone (the placeholder pages)
    ids: tuple[str, ...] = ()  # every id its sections hold


def split(rendered: RenderedBook) -> list[Part]:
    """The print HTML as parts: the front matter, then one per top-level section; one part when it cannot split."""
    document = lxml.html.document_fromstring(rendered.print_html)
    body = document.find("body")
    chapters = rendered.book.chapters
    sections = list(body) if body is not None else []
    if (not sections or not chapters or (body.text or "").strip()
            or any(not isinstance(section.tag, str) or (section.tail or "").strip() for section in sections)):
        return [split_whole(rendered)]
    first = next((index for index, section in enumerate(sections) if section.get("id") == chapters[0].slug), None)
    if not first:
        return [split_whole(rendered)]
    groups = [sections[:first]] + grouped(sections[first:], [len(lxml.html.tostring(section))
                                                               for section in sections[first:]])
    for number, group in enumerate(groups):
        if group[0].get("id") is None:
            group[0].set("id", f"zinepress-part-{number}")
    owner = {}
    for number, group in enumerate(groups):
        for section in group:
            for element_id in section.xpath(".//@id | @id"):
                owner.setdefault(element_id, number)
    shell = _empty_shell(document)
    parts = []
    for number, group in enumerate(groups):
        before = groups[number - 1][-1] if number else None
        after = groups[number + 1][0] if number + 1 < len(groups) else None
        links = sorted({target for section in group for target in _internal_links(section)
                        if owner.get(target, number) != number})
        html = _part_html(shell, group, before, after)
        ids = tuple(sorted(element_id for element_id, owned_by in owner.items() if owned_by == number))
        parts.append(Part(number, html, tuple(element.get("id") for element in group), tuple(links), len(html),
                          ids=ids))
    return parts


PART_CHARACTERS = 24_000
"""Sections shorter than this (in characters of HTML, about four A5 pages) share a part with the
sections after them until the part is this long: each part costs a layout of its own, so a
book of a thousand one-paragraph chapters is not a thousand layouts."""


def grouped(sections: list, sizes: list[int], least: int | None = None) -> list[list]:
    """``sections`` in runs of at least ``least`` characters (``PART_CHARACTERS``), in order.

    A section as long stands alone; shorter ones join the run before them until it is long
    enough, so an edit moves the runs' ends only among the short sections after it.
    """
    least = PART_CHARACTERS if least is None else least
    groups: list[list] = []
    open_size = least
    for section, size in zip(sections, sizes):
        if open_size >= least or size >= least:
            groups.append([])
            open_size = 0
        groups[-1].append(section)
        open_size += size
    return groups


def split_whole(rendered: RenderedBook) -> Part:
    """The whole print HTML as one part."""
    return Part(0, rendered.print_html, (), (), len(rendered.print_html))


def _internal_links(element) -> list[str]:
    return [href[1:] for href in element.xpath(".//a/@href") if href.startswith("#") and len(href) > 1]


def _ghost(section, ghost_id: str):
    """An empty copy of ``section``: same element and attributes, no content, its own id."""
    attributes = "".join(f' {name}="{escape(value, quote=True)}"' for name, value in section.attrib.items()
                         if name not in ("id", "aria-labelledby", "style"))
    return lxml.html.fragment_fromstring(f'<{section.tag}{attributes} id="{ghost_id}"></{section.tag}>')


def _empty_shell(document):
    """A copy of the print document with an empty body, to fill with one part."""
    body = document.find("body")
    sections = list(body)
    for section in sections:
        body.remove(section)
    shell = copy.deepcopy(document)
    body.extend(sections)
    shell.find("body").text = "\n"
    return shell


def _part_html(shell, group, before, after) -> str:
    """One part as a whole HTML document: ``group`` between ghosts of its neighbours."""
    part = copy.deepcopy(shell)
    body = part.find("body")
    if before is not None:
        body.append(_ghost(before, LEAD_GHOST))
    for section in group:
        body.append(copy.deepcopy(section))
    if after is not None:
        body.append(_ghost(after, TRAIL_GHOST))
    for child in body:
        child.tail = "\n"
    return lxml.html.tostring(part, doctype="<!DOCTYPE html>", encoding="unicode")


def flip_start(part: Part) -> str:
    """The part's HTML with its first page on the other side (WeasyPrint reads the side from the root's break)."""
    if part.html.find(START_LEFT) >= 0:
        return part.html.replace(START_LEFT, "<html ", 1)
    return part.html.replace("<html ", START_LEFT, 1)


def with_placeholders(part: Part, numbers: dict[str, int]) -> tuple[str, str]:
    """The part's HTML with a placeholder page per link target, and the CSS that numbers them.

    Each placeholder carries a target's id on a page whose counter is the target's page
    number, so ``target-counter()`` gives the real number; the pages fall after the part's
    last kept page and are dropped.
    """
    if not numbers:
        return part.html, ""
    divs, rules = [], []
    for number, (target, value) in enumerate(sorted(numbers.items())):
        name = f"{PLACEHOLDER_PAGE}-{number}"
        divs.append(f'<div id="{target}" style="page: {name}; break-before: page"></div>')
        rules.append(f"@page {name} {{ counter-reset: page {value}; }}")
    closing = part.html.rindex("</body>")
    return part.html[:closing] + "\n".join(divs) + part.html[closing:], "\n".join(rules)


def shows_page_count(css: str) -> bool:
    """Whether the print stylesheet ``css`` may show the book's page count (``counter(pages)``): every
    part must then wait until all are laid out before it is written."""
    return re.search(r"counters?\(\s*pages\b", css) is not None


def counts_across_parts(parts: list[Part], css: str) -> bool:
    """Whether the book numbers something through parts that a part cannot know before it is laid out:
    footnotes numbered through the book (``float: footnote`` without a ``counter-reset`` of
    ``footnote``). Pages of targets in other parts (``target-counter()``) are given to the parts
    that show them (:func:`with_placeholders`)."""
    through = (re.search(r"float\s*:\s*footnote", css) is not None
               and re.search(r"counter-reset\s*:[^;}]*\bfootnote\b", css) is None)
    return through and sum('class="footnote-note"' in part.html for part in parts) > 1
