"""``RenderedBook`` → ``S-zine.pdf``: the pages of ``S.pdf`` imposed as a saddle-stitched booklet.

The page count is padded with blank pages to a multiple of four, the blanks placed
before the back cover. Each side of a landscape sheet (A4 or Letter) holds two pages,
scaled to fit and centred in their half, in the order that comes out right when the
sheets are printed on both sides flipped on the short edge, folded in half together and
stapled on the fold. Pages are placed with pypdf, not laid out again.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pypdf
from pypdf import Transformation
from pypdf.generic import DecodedStreamObject

from ..render import RenderedBook
from .base import BuildSession, Writer, write_atomically
from .pdf import digital_pdf, finish

POINTS_PER_MM = 72 / 25.4
SHEET_MARGIN_MM = 6.0  # kept clear at the sheet's edges, where home printers do not print
FOLD_GUIDE_GREY = 0.6
FOLD_GUIDE_WIDTH_PT = 0.3


def padded_sequence(count: int) -> list[int | None]:
    """Page indices in reading order, padded with blanks (None) to a multiple of four.

    The blanks go before the last page, so the back cover stays at the back.
    """
    blanks = -count % 4
    if count < 2:
        return list(range(count)) + [None] * blanks
    return list(range(count - 1)) + [None] * blanks + [count - 1]


def booklet_sides(count: int) -> list[tuple[int, int]]:
    """Positions (left, right) in the padded sequence for each side, sheet by sheet, front then back.

    For ``n`` padded pages, sheet ``k`` (from 0) carries ``n-2k | 2k+1`` on its front and
    ``2k+2 | n-2k-1`` on its back (1-based): the outermost sheet holds the covers.
    """
    total = count + (-count % 4)
    sides = []
    for sheet in range(total // 4):
        sides.append((total - 2 * sheet - 1, 2 * sheet))
        sides.append((2 * sheet + 1, total - 2 * sheet - 2))
    return sides


class ZineWriter(Writer):
    name = "zine"
    suffix = "-zine.pdf"
    description = "Zine to print and fold at home"

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path:
        source = pypdf.PdfReader(BytesIO(digital_pdf(rendered, session)))
        width, height = (size * POINTS_PER_MM for size in reversed(rendered.config.zine.sheet_size))
        writer = pypdf.PdfWriter()
        sequence = padded_sequence(len(source.pages))
        for left, right in booklet_sides(len(source.pages)):
            side = writer.add_blank_page(width, height)
            side.replace_contents(_fold_guide(width, height))
            for slot, position in ((0, left), (1, right)):
                index = sequence[position]
                if index is not None:
                    _place(side, source.pages[index], slot, width, height)
        writer.add_metadata({"/Title": rendered.config.title, "/Creator": "zinepress",
                             "/Producer": "zinepress with pypdf"})
        writer.pdf_header = source.pdf_header
        return write_atomically(folder / self.file_name(rendered), finish(writer))


def _place(side: pypdf.PageObject, page: pypdf.PageObject, slot: int, width: float, height: float) -> None:
    """Put ``page`` in the left (0) or right (1) half of ``side``, scaled to fit and centred."""
    box = page.trimbox
    page_width, page_height = float(box.width), float(box.height)
    margin = SHEET_MARGIN_MM * POINTS_PER_MM
    half = width / 2
    scale = min((half - margin) / page_width, (height - 2 * margin) / page_height)
    x = slot * half + (half - page_width * scale) / 2
    y = (height - page_height * scale) / 2
    transformation = (Transformation().translate(-float(box.left), -float(box.bottom))
                      .scale(scale, scale).translate(x, y))
    side.merge_transformed_page(page, transformation)


def _fold_guide(width: float, height: float) -> DecodedStreamObject:
    """Short grey dashes on the fold line, in the clear band above and below the pages."""
    reach = (SHEET_MARGIN_MM - 1.5) * POINTS_PER_MM
    middle = width / 2
    operators = (f"q {FOLD_GUIDE_GREY} G {FOLD_GUIDE_WIDTH_PT} w [2 2] 0 d "
                 f"{middle:.3f} {height:.3f} m {middle:.3f} {height - reach:.3f} l S "
                 f"{middle:.3f} 0 m {middle:.3f} {reach:.3f} l S Q\n")
    stream = DecodedStreamObject()
    stream.set_data(operators.encode())
    return stream
