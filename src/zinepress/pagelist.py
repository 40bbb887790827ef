"""Where printed pages start → the EPUB's page-break markers and its page list.

A page's start (:class:`PageStart`, found by :mod:`.paged.starts` in the print layout) is
the number of non-blank characters from the start of its section (sections keep their
ids in both editions). The EPUB document holding the same section gets a ``pagebreak``
marker before the same character, and the navigation document a ``page-list`` of them
all. The folio is the page counter as the print edition computes and shows it. The
character counting lives here, shared by both sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

XHTML = "http://www.w3.org/1999/xhtml"
EPUB = "http://www.idpf.org/2007/ops"
HYPHENS = "\u2010-\u00ad"
BODY_KINDS = ("chapter", "comments", "colophon")
NO_SPANS = {"ol", "ul", "dl", "table", "thead", "tbody", "tfoot", "tr", "colgroup", "select", "optgroup",
            "hgroup", "ruby", "head", "html"}
ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
         (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]


@dataclass(frozen=True)
class PageStart:
    """Where a printed page begins: its folio, its section's id and the position in that section."""

    folio: str
    section: str
    offset: int  # non-blank characters of the section before the page's first one
    image: int | None = None  # when the page begins with an image: its index among the section's images
    following: str = ""  # the non-blank characters from there on (a few words), to check the place


@dataclass(frozen=True)
class PageBreak:
    """A page break marker placed in an EPUB document."""

    folio: str
    file_name: str
    id: str


def solid(text: str) -> list[str]:
    """The characters that count for positions: no whitespace, no soft hyphens."""
    return [char for char in text if not char.isspace() and char != "\u00ad"]


def fold(text: str) -> str:
    """Lower case, one character for one, so that positions stay put."""
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in text)


def solid_text(section) -> str:
    """All of a section's non-blank characters, in document order."""
    return "".join("".join(solid(text)) for _, _, text in text_nodes(section))


def text_nodes(element):
    """An element's text nodes in document order, as (owner, node, text): node 0 is the owner's
    own text, node i its i-th child's tail. Comments and processing instructions hold no text."""
    if isinstance(element.tag, str):
        yield element, 0, element.text or ""
    for index, child in enumerate(element, start=1):
        yield from text_nodes(child)
        yield element, index, child.tail or ""


def own_nodes(element) -> list[str]:
    return [element.text or ""] + [child.tail or "" for child in element]


def own_position(element, index: int) -> tuple[int, int] | None:
    """The (node, offset) of the element's own non-blank character number ``index``."""
    for node, text in enumerate(own_nodes(element)):
        for offset, char in enumerate(text):
            if not char.isspace() and char != "\u00ad":
                if index == 0:
                    return node, offset
                index -= 1
    return None


def offset_in(section, target, node: int, offset: int) -> int:
    """Non-blank characters of ``section`` before character ``offset`` of ``target``'s text node ``node``."""
    count = 0
    for owner, index, text in text_nodes(section):
        if owner is target and index == node:
            return count + len(solid(text[:offset]))
        count += len(solid(text))
    return count


def format_counter(value: int, style: str) -> str:
    """A page number in a CSS counter style (decimal, roman and alphabetic; others as decimal)."""
    if style in ("lower-roman", "upper-roman") and 0 < value < 4000:
        text = ""
        for amount, letters in ROMAN:
            while value >= amount:
                text, value = text + letters, value - amount
        return text.upper() if style == "upper-roman" else text
    if style in ("lower-alpha", "lower-latin", "upper-alpha", "upper-latin") and value > 0:
        text = ""
        while value:
            value, rest = divmod(value - 1, 26)
            text = chr(ord("a") + rest) + text
        return text.upper() if style.startswith("upper") else text
    return str(value)


def _unique_id(wanted: str, taken: set[str]) -> str:
    candidate, number = wanted, 1
    while candidate in taken:
        number += 1
        candidate = f"{wanted}-{number}"
    taken.add(candidate)
    return candidate


def _marker(root, folio: str, taken: set[str]):
    span = etree.Element(f"{{{XHTML}}}span", nsmap=root.nsmap)
    span.set(f"{{{EPUB}}}type", "pagebreak")
    span.set("role", "doc-pagebreak")
    span.set("id", _unique_id(f"page-{folio}", taken))
    span.set("aria-label", folio)
    return span


def _insert_at(section, offset: int, span) -> bool:
    """Put ``span`` before the non-blank character number ``offset`` of ``section``'s text.

    At the very start of an element's text the marker goes before the element itself where
    its parent may hold a ``<span>``, so that it stays outside headings and paragraphs.
    """
    remaining = offset
    for owner, node, text in text_nodes(section):
        solid = [index for index, char in enumerate(text) if not char.isspace() and char != "\u00ad"]
        if remaining >= len(solid):
            remaining -= len(solid)
            continue
        cut = solid[remaining]
        if node == 0:
            parent = owner.getparent()
            if owner is not section and not text[:cut].strip() and etree.QName(parent).localname not in NO_SPANS:
                owner.addprevious(span)
                span.tail = "\n"
            else:
                owner.text, span.tail = text[:cut], text[cut:]
                owner.insert(0, span)
        else:
            child = owner[node - 1]
            child.tail, span.tail = text[:cut], text[cut:]
            child.addnext(span)
        return True
    return False


def _checked_offset(section, start: PageStart, text: str) -> int:
    """The page's offset in the EPUB section, moved to the nearest place where its text really is.

    The two editions share their text, but a layout may move things (a footnote set at its call,
    say); the characters that follow the page break tell where it belongs.
    """
    if not start.following or text[start.offset:start.offset + len(start.following)] == start.following:
        return start.offset
    places = [match.start() for match in re.finditer(re.escape(start.following), text)]
    return min(places, key=lambda place: abs(place - start.offset)) if places else start.offset


def place_page_breaks(documents: dict[str, tuple[str, bytes]], starts: list[PageStart]):
    """Insert the markers into the EPUB documents.

    ``documents`` maps each section id to (file name, XHTML bytes); returns the documents'
    new bytes by file name and the page breaks in order.
    """
    trees = {}
    taken: dict[str, set[str]] = {}
    placed: list[PageBreak] = []
    texts: dict[tuple[str, str], str] = {}  # markers add no text, so a section's text stays the same
    for start in starts:
        if start.section not in documents:
            continue
        file_name, data = documents[start.section]
        if file_name not in trees:
            trees[file_name] = etree.fromstring(data)
            taken[file_name] = set(trees[file_name].xpath("//@id"))
        root = trees[file_name]
        section = root.xpath("//*[@id=$id]", id=start.section)[0]
        span = _marker(root, start.folio, taken[file_name])
        if start.image is not None:
            images = section.xpath(".//x:img", namespaces={"x": XHTML})
            if start.image >= len(images):
                continue
            images[start.image].addprevious(span)
            span.tail = None
        else:
            key = (file_name, start.section)
            if key not in texts:
                texts[key] = solid_text(section)
            if not _insert_at(section, _checked_offset(section, start, texts[key]), span):
                continue
        placed.append(PageBreak(start.folio, file_name, span.get("id")))
    serialized = {name: etree.tostring(tree, xml_declaration=True, encoding="UTF-8", doctype="<!DOCTYPE html>")
                  for name, tree in trees.items()}
    return serialized, placed


def page_list_nav(breaks: list[PageBreak], nav: bytes) -> bytes:
    """The navigation document with a ``page-list`` of the page breaks."""
    root = etree.fromstring(nav)
    body = root.find(f"{{{XHTML}}}body")
    page_list = etree.SubElement(body, f"{{{XHTML}}}nav", nsmap=root.nsmap)
    page_list.set(f"{{{EPUB}}}type", "page-list")
    page_list.set("role", "doc-pagelist")
    page_list.set("id", "page-list")
    page_list.set("aria-label", "Print page numbers")
    page_list.set("hidden", "hidden")
    page_list.text = "\n"
    page_list.tail = "\n"
    ordered = etree.SubElement(page_list, f"{{{XHTML}}}ol")
    ordered.tail = "\n"
    for page_break in breaks:
        item = etree.SubElement(ordered, f"{{{XHTML}}}li")
        link = etree.SubElement(item, f"{{{XHTML}}}a", href=f"{page_break.file_name}#{page_break.id}")
        link.text = page_break.folio
        item.tail = "\n"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", doctype="<!DOCTYPE html>")
