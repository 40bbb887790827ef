"""A zine's page count and format → where each page goes on each sheet side, and how to print and fold it.

Pure geometry, in millimetres on the printed side of the sheet (origin at its bottom left,
as in PDF). Three formats:

- ``booklet``: two pages a side of a landscape sheet; the sheets of a signature nest, the
  outermost holding the covers. Sheet ``k`` (from 0) of an ``n``-page signature carries
  ``n-2k | 2k+1`` on its front and ``2k+2 | n-2k-1`` on its back (1-based), the back
  printed flipped on the short edge. Pages of inner sheets move towards the spine by the
  creep times the sheets outside them.
- ``quarter``: a portrait sheet with two booklet sheets, one above the other. The top halves
  of the stack are booklet sheets 1…S, the bottom halves S+1…; cut across, the top-half stack
  goes on the bottom-half stack and the whole is folded as one booklet.
- ``mini``: eight pages on one side: the bottom row 6 7 8 1, the top row 5 4 3 2 turned 180°.

Blank pages (at most one when the text fills the count) sit just inside the back cover.
"""

from __future__ import annotations

from dataclasses import dataclass

GUIDE_FROM_EDGE_MM = 6.0  # guides start here: nothing is printed within 5 mm of a sheet edge
GUIDE_LENGTH_MM = 3.0
MINI_ORDER = ((5, 6, 7, 0), (4, 3, 2, 1))  # bottom row, top row (turned): 0-based positions in reading order


@dataclass(frozen=True)
class Placement:
    """Page ``page`` (0-based in the laid-out pages) drawn with its bottom left at (x, y), maybe turned 180°."""

    page: int
    x: float
    y: float
    turned: bool = False
    shift: float = 0.0  # the creep applied, towards the spine


@dataclass(frozen=True)
class Line:
    """A guide: a fold (solid grey) or cut (dashed) mark from (x1, y1) to (x2, y2)."""

    x1: float
    y1: float
    x2: float
    y2: float
    kind: str  # "fold" or "cut"


@dataclass(frozen=True)
class Side:
    """One printed side of one sheet: its pages and guides."""

    sheet: int  # 1-based
    face: str  # "front" or "back"
    placements: tuple[Placement, ...]
    lines: tuple[Line, ...]


def reading_sequence(pages: list[int], count: int) -> list[int | None]:
    """``pages`` in reading order, padded with blanks (None) to ``count``, the blanks before the last page."""
    blanks = count - len(pages)
    if blanks < 0:
        raise ValueError(f"{len(pages)} pages do not fit in {count}")
    if len(pages) < 2:
        return pages + [None] * blanks
    return pages[:-1] + [None] * blanks + pages[-1:]


def booklet_pairs(count: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """For each sheet of a ``count``-page signature: (front left, front right), (back left, back right),
    as 0-based positions in the signature's reading order."""
    return [((count - 2 * k - 1, 2 * k), (2 * k + 1, count - 2 * k - 2)) for k in range(count // 4)]


def signatures(sequence: list[int | None], sheets_per_signature: int | None) -> list[list[int | None]]:
    """The reading sequence cut into signatures of ``sheets_per_signature`` sheets (one when None)."""
    size = 4 * sheets_per_signature if sheets_per_signature else len(sequence)
    return [sequence[start:start + size] for start in range(0, len(sequence), size)]


def _spread(positions: tuple[int, int], sequence: list[int | None], x: float, y: float, page_width: float,
            shift: float) -> list[Placement]:
    """A spread of two pages side by side from (x, y), each moved ``shift`` towards the middle."""
    left, right = (sequence[position] for position in positions)
    placed = []
    if left is not None:
        placed.append(Placement(left, x + shift, y, shift=shift))
    if right is not None:
        placed.append(Placement(right, x + page_width - shift, y, shift=shift))
    return placed


def booklet(sequence: list[int | None], side: tuple[float, float], creep: float = 0.0,
            sheets_per_signature: int | None = None) -> list[Side]:
    """The sides of a saddle-stitched booklet (or of its signatures, one after another)."""
    width, height = side
    sides, sheet = [], 0
    for signature in signatures(sequence, sheets_per_signature):
        for k, (front, back) in enumerate(booklet_pairs(len(signature))):
            sheet += 1
            guides = booklet_guides(width, height)
            for face, positions in (("front", front), ("back", back)):
                sides.append(Side(sheet, face, tuple(_spread(positions, signature, 0, 0, width / 2, creep * k)),
                                  guides))
    return sides


def booklet_guides(width: float, height: float) -> tuple[Line, ...]:
    """Short fold marks on the spine, near the top and bottom edges."""
    middle, start = width / 2, GUIDE_FROM_EDGE_MM
    return (Line(middle, height - start, middle, height - start - GUIDE_LENGTH_MM, "fold"),
            Line(middle, start, middle, start + GUIDE_LENGTH_MM, "fold"))


def quarter(sequence: list[int | None], side: tuple[float, float], creep: float = 0.0) -> list[Side]:
    """Cut and stack: booklet sheet j on the top half of sheet j (j < S), else the bottom half of sheet j - S."""
    width, height = side
    pairs = booklet_pairs(len(sequence))
    per_half = -(-len(pairs) // 2)
    sides = []
    for sheet in range(per_half):
        for face in (0, 1):
            placed: list[Placement] = []
            for half, y in ((0, height / 2), (1, 0.0)):
                k = sheet + half * per_half
                if k < len(pairs):
                    placed += _spread(pairs[k][face], sequence, 0, y, width / 2, creep * k)
            sides.append(Side(sheet + 1, ("front", "back")[face], tuple(placed), quarter_guides(width, height)))
    return sides


def quarter_guides(width: float, height: float) -> tuple[Line, ...]:
    """The dashed cut across the middle and fold marks on the spine of both halves."""
    start, length, middle, centre = GUIDE_FROM_EDGE_MM, GUIDE_LENGTH_MM, width / 2, height / 2
    return (Line(start, centre, width - start, centre, "cut"),
            Line(middle, height - start, middle, height - start - length, "fold"),
            Line(middle, centre + 3, middle, centre + 3 + length, "fold"),
            Line(middle, centre - 3, middle, centre - 3 - length, "fold"),
            Line(middle, start, middle, start + length, "fold"))


def mini(sequence: list[int | None], side: tuple[float, float]) -> list[Side]:
    """The one-sheet eight-page zine: one side, a 4 × 2 grid, the top row turned 180°."""
    width, height = side
    cell_width, cell_height = width / 4, height / 2
    placed = []
    for row, order in enumerate(MINI_ORDER):
        for column, position in enumerate(order):
            page = sequence[position]
            if page is not None:
                placed.append(Placement(page, column * cell_width, row * cell_height, turned=row == 1))
    return [Side(1, "front", tuple(placed), mini_guides(width, height))]


def mini_guides(width: float, height: float) -> tuple[Line, ...]:
    """The dashed cut along the middle of the centre row line, fold marks at every cell boundary."""
    start, length, centre = GUIDE_FROM_EDGE_MM, GUIDE_LENGTH_MM, height / 2
    lines = [Line(width / 4, centre, 3 * width / 4, centre, "cut")]
    for column in (1, 2, 3):
        x = column * width / 4
        lines += [Line(x, height - start, x, height - start - length, "fold"), Line(x, start, x, start + length, "fold")]
    lines += [Line(start, centre, start + length, centre, "fold"),
              Line(width - start, centre, width - start - length, centre, "fold")]
    return tuple(lines)
