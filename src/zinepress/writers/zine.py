"""``RenderedBook`` → ``S-zine.pdf``: the pages of ``S.pdf`` imposed as a saddle-stitched booklet.

The page count is padded with blank pages to a multiple of four, the blanks placed
before the back cover. Each side of a landscape sheet (A4 or Letter) holds two pages,
scaled to fit and centred in their half, in the order that comes out right when the
sheets are printed on both sides flipped on the short edge, folded in half together and
stapled on the fold. Pages are placed with pypdf as Form XObjects, not laid out again.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pypdf
from pypdf.generic import (ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, IndirectObject,
                           NameObject)

from ..atomic import write_atomically
from ..render import RenderedBook
from .base import BuildSession, Writer

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
    uses_layout = "pdf"

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path:
        source = pypdf.PdfReader(BytesIO(session.laid_out.pdf))
        width, height = (size * POINTS_PER_MM for size in reversed(rendered.config.zine.sheet_size))
        writer = pypdf.PdfWriter()
        sequence = padded_sequence(len(source.pages))
        for left, right in booklet_sides(len(source.pages)):
            side = writer.add_blank_page(width, height)
            drawing, forms = [_fold_guide(width, height)], {}
            for slot, position in ((0, left), (1, right)):
                index = sequence[position]
                if index is not None:
                    name = f"/Page{index + 1}"
                    forms[NameObject(name)] = _as_form(writer, source.pages[index])
                    drawing.append(_placement(source.pages[index], name, slot, width, height))
            side[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject(forms)})
            stream = DecodedStreamObject()
            stream.set_data("".join(drawing).encode())
            side.replace_contents(stream)
        writer.add_metadata({"/Title": rendered.config.title, "/Creator": "zinepress",
                             "/Producer": "zinepress with pypdf"})
        writer.pdf_header = source.pdf_header
        return write_atomically(folder / self.file_name(rendered), finish(writer))


def _as_form(writer: pypdf.PdfWriter, page: pypdf.PageObject) -> IndirectObject:
    """A page of the book as a Form XObject of ``writer``: its content drawn unchanged, wherever placed.

    Much faster than merging pages, which parses and rewrites every content stream.
    """
    contents = page.get_contents()
    form = DecodedStreamObject()
    form.set_data(contents.get_data() if contents is not None else b"")
    form.update({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): ArrayObject(FloatObject(value) for value in page.trimbox),
        NameObject("/Resources"): page["/Resources"].clone(writer) if "/Resources" in page else DictionaryObject(),
    })
    return writer._add_object(form.flate_encode())


def _placement(page: pypdf.PageObject, name: str, slot: int, width: float, height: float) -> str:
    """Operators drawing form ``name`` in the left (0) or right (1) half of a side, scaled to fit and centred."""
    box = page.trimbox
    page_width, page_height = float(box.width), float(box.height)
    margin = SHEET_MARGIN_MM * POINTS_PER_MM
    half = width / 2
    scale = min((half - margin) / page_width, (height - 2 * margin) / page_height)
    x = slot * half + (half - page_width * scale) / 2 - float(box.left) * scale
    y = (height - page_height * scale) / 2 - float(box.bottom) * scale
    return f"q {scale:.6f} 0 0 {scale:.6f} {x:.4f} {y:.4f} cm {name} Do Q\n"


def _fold_guide(width: float, height: float) -> str:
    """Short grey dashes on the fold line, in the clear band above and below the pages."""
    reach = (SHEET_MARGIN_MM - 1.5) * POINTS_PER_MM
    middle = width / 2
    operators = (f"q {FOLD_GUIDE_GREY} G {FOLD_GUIDE_WIDTH_PT} w [2 2] 0 d "
                 f"{middle:.3f} {height:.3f} m {middle:.3f} {height - reach:.3f} l S "
                 f"{middle:.3f} 0 m {middle:.3f} {reach:.3f} l S Q\n")
    return operators


def finish(writer: pypdf.PdfWriter) -> bytes:
    """The edited PDF's bytes, content streams compressed and objects shared between pages merged."""
    for page in writer.pages:
        page.compress_content_streams()
    writer.compress_identical_objects()
    output = BytesIO()
    writer.write(output)
    return output.getvalue()
