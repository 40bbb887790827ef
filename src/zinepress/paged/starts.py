"""Laid-out pages → where each printed page begins in the book's text (:class:`~..pagelist.PageStart`).

Every page is asked for its first piece of content (the first text box of the main flow
that is not generated content, or an image). That box is traced back to its element and
to the character it starts with, counted as the number of non-blank characters from the
start of its section; :mod:`..pagelist` places the EPUB's markers from these starts.
"""

from __future__ import annotations

from ..pagelist import HYPHENS, PageStart, fold, offset_in, own_nodes, own_position, solid, solid_text
from . import weasy

FOLLOWING = 32


class _Tracker:
    """Follows the text boxes of the layout through their elements' own text, in order."""

    def __init__(self):
        self.cursor: dict[int, int] = {}
        self.chars: dict[int, str] = {}

    def locate(self, box) -> int | None:
        """Which of its element's own non-blank characters ``box`` starts with.

        None for text laid out again, such as a table header repeated on a new page.
        """
        key = id(box.element)
        if key not in self.chars:
            self.chars[key] = fold("".join(solid("".join(own_nodes(box.element)))))
        own, start = self.chars[key], self.cursor.get(key, 0)
        text = fold("".join(solid(box.text)))
        wanted = text.rstrip(HYPHENS) or text
        found = own.find(wanted, start) if wanted else -1
        if found < 0 and wanted and own.find(wanted) >= 0:
            return None
        position = found if found >= 0 else start
        self.cursor[key] = position + len(wanted)
        return position


def _parents(root) -> dict[int, object]:
    return {id(child): parent for parent in root.iter() for child in parent}


def _section_of(element, parents: dict[int, object], section_ids: set[str]):
    while element is not None:
        if element.get("id") in section_ids:
            return element
        element = parents.get(id(element))
    return None


def page_starts(pages, body_sections: list[str], first_body: str | None,
                in_body: bool = False) -> list[tuple[int, PageStart]]:
    """Where each of the laid-out ``pages`` begins, for pages from the body's start on.

    Returns (page index, start) pairs; the starts' folios are left for the caller, who
    knows the page numbers the pages get in the book. ``in_body`` says the pages come
    after the start of the body (a later part of the book).
    """
    if not pages:
        return []
    root = weasy.root_element(pages[0])
    parents = _parents(root)
    wanted = set(body_sections)
    tracker = _Tracker()
    texts: dict[int, str] = {}
    starts: list[tuple[int, PageStart]] = []
    for number, page in enumerate(pages):
        first = None
        for box in weasy.content_boxes(page):
            if weasy.is_image(box):
                first = first or (box, None)
                continue
            index = tracker.locate(box)
            if first is None and index is not None:
                first = (box, own_position(box.element, index))
        if first is None:
            continue
        box, position = first
        section = _section_of(box.element, parents, wanted)
        if section is None:
            continue
        in_body = in_body or section.get("id") == first_body
        if not in_body:
            continue
        if weasy.is_image(box):
            images = [element for element in section.iter() if element.tag == box.element.tag]
            starts.append((number, PageStart("", section.get("id"), 0, images.index(box.element))))
        elif position is not None:
            offset = offset_in(section, box.element, *position)
            key = id(section)
            if key not in texts:
                texts[key] = solid_text(section)
            following = texts[key][offset:offset + FOLLOWING]
            starts.append((number, PageStart("", section.get("id"), offset, None, following)))
    return starts
