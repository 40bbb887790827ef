"""Laid-out parts' facts → their places in the book: counter shifts, sides and the page count.

Pure arithmetic over small values (no WeasyPrint), so that it can be tested alone. A
part's place follows from the parts before it: its page counter is moved on by them
(unless the part resets it), it must start on a right-hand page where it falls on one,
and the front matter's contents take the page numbers of the targets they link to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Problem
from ..pagelist import PageStart, format_counter

MAX_SIDE_ROUNDS = 3


@dataclass
class Facts:
    """What the parent needs from a laid-out part to place it in the book (small, picklable)."""

    index: int
    kept: int  # pages of the part in the book
    values: list[int]  # the page counter on each kept page, as laid out
    reset: list[bool]  # whether the page counter was reset (or set) in the part by that page
    before: int  # the page counter on the page before the first kept one (0 if none)
    first_left: bool  # the first kept page is a left-hand page
    anchors: dict[str, int]  # id → kept page index
    splits: bool  # the part's sections start and end on pages of their own
    dpi: dict[str, float]  # worst print resolution per image href
    missing_targets: bool = False  # it shows a target's page number or text that lives in another part
    warnings: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Placement:
    """Where the parent puts a part: the counter shift for its pages, and the book's page count."""

    shift: int
    total: int | None  # None when no stylesheet shows the page count (the parts are then written as they come)


@dataclass
class PartWritten:
    """A part's finished results."""

    index: int
    pdf: bytes | None
    borrowed: tuple[str, ...]
    starts: list[tuple[int, PageStart]]  # (kept page index, where it starts)
    folios: list[str]
    warnings: list[Problem] = field(default_factory=list)


def last_counter(facts: Facts) -> int:
    """The page counter on a part's last page, as laid out (the front matter is not moved)."""
    return facts.values[-1] if facts.kept else facts.before


@dataclass(frozen=True)
class Cursor:
    """Where the book stands after the parts placed so far: the last page's counter and the page count."""

    last: int
    pages: int


def after_front(front: Facts) -> Cursor:
    """The book after its front matter, which is never moved."""
    return Cursor(last_counter(front), front.kept)


def falls_on_other_side(cursor: Cursor, fact: Facts) -> bool:
    """Whether the part, placed next, would start on the other side than the one it was laid out on
    (the book's page ``cursor.pages`` is a left-hand page when it is odd, counting from 0)."""
    return bool(fact.kept) and fact.first_left != (cursor.pages % 2 == 1)


def place(cursor: Cursor, fact: Facts) -> tuple[Placement, Cursor]:
    """The part's placement next in the book, and the book after it.

    Its counter moves on from the last page before it, unless the part resets the counter itself.
    """
    shift = cursor.last - fact.before
    last = (fact.values[-1] + (0 if fact.reset[-1] else shift)) if fact.kept else cursor.last
    return Placement(shift, None), Cursor(last, cursor.pages + fact.kept)


def same_place(before: Facts, after: Facts) -> bool:
    """Whether a part laid out again (with its targets' page numbers) still fits where it was placed."""
    return (after.splits and after.kept == before.kept and after.first_left == before.first_left
            and after.before == before.before and after.values == before.values and after.reset == before.reset)


def target_numbers(links: tuple[str, ...], facts: dict[int, Facts], placements: dict[int, Placement]) -> dict[str, int]:
    """The page counter of each page of ``links`` (ids), where it falls in the book."""
    numbers = {}
    for target in links:
        for index in sorted(facts):
            fact = facts[index]
            if target in fact.anchors and index in placements:
                page = fact.anchors[target]
                numbers[target] = fact.values[page] + (0 if fact.reset[page] else placements[index].shift)
                break
    return numbers


def folio_strings(values: list[int], styles: list[str | None]) -> list[str]:
    """Each page's folio in the counter style it prints (or its neighbours print)."""
    known = [style for style in styles if style]
    fallback = known[0] if known else "decimal"
    result, last = [], None
    for value, style in zip(values, styles):
        last = style or last
        result.append(format_counter(value, style or last or fallback))
    return result
