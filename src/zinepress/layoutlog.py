"""A WeasyPrint log message → the chapter ``file:line`` it comes from, or nothing when zinepress said it already.

WeasyPrint lays out the print edition made from the chapters, so its messages name what it saw
there: an image's ``src`` ("Image "images/fig1.png" has no required alt description"), an
anchor with the chapter's slug before it ("Anchor defined twice: 'ch2--funcparamdestr'"). Such
a message is placed at the chapter and line that wrote it; one that repeats a warning zinepress
gave when it read the chapters (an image without alt text) is dropped, so no problem is told
twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import line_of
from .manuscript import Book

QUOTED = re.compile(r"\"([^\"\n]+)\"|'([^'\n]+)'|`([^`\n]+)`")
NO_ALT = re.compile(r'Image "(?P<src>[^"]+)" has no required alt description')


@dataclass(frozen=True)
class Placement:
    """Where a WeasyPrint message belongs; ``repeat`` when zinepress already reported it."""

    path: Path | None
    line: int | None
    repeat: bool = False


def place_message(message: str, book: Book, texts: Mapping[Path, str]) -> Placement | None:
    """Where ``message`` comes from in the chapters, or None when it names nothing of theirs.

    A message that repeats a warning of the book's reading (``book.warnings``) is a ``repeat``.
    ``texts`` holds the chapters' texts already read (by source path), so that many messages
    do not read every chapter again each.
    """
    if (missing := NO_ALT.search(message)) and any(
            f"image '{missing['src']}' has no alt text" in problem.message for problem in book.warnings):
        return Placement(None, None, repeat=True)
    for match in QUOTED.finditer(message):
        snippet = next(group for group in match.groups() if group)
        anchor = _chapter_anchor(snippet, book)
        if anchor:
            chapter, name = anchor
            text = texts[chapter.source]
            return Placement(chapter.source, line_of(text, f'"{name}"') or line_of(text, name) or chapter.body_line)
        for chapter in book.chapters:
            if line := line_of(texts[chapter.source], snippet):
                return Placement(chapter.source, line)
    return None


def _chapter_anchor(anchor: str, book: Book):
    """``slug--id`` of the print edition → (the chapter of that slug, ``id``); None when not such."""
    slug, separator, name = anchor.partition("--")
    if not separator:
        return None
    chapter = next((chapter for chapter in book.chapters if chapter.slug == slug), None)
    return (chapter, name) if chapter else None
