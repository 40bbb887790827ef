"""The zine's laid-out pages and the imposition's sheet sides → the zine's PDF, drawn with pypdf.

Pages are placed unscaled as Form XObjects (each page's content drawn unchanged, wherever
placed, turned 180° for the mini's top row), with grey fold marks and dashed cut lines
that keep 5 mm clear of every sheet edge. The printing instructions go into the PDF's
document information (see :mod:`zinepress.printing`) and, with ``[zine] instructions =
true``, onto one last page.
"""

from __future__ import annotations

from io import BytesIO

import pypdf
from pypdf.generic import (ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, IndirectObject,
                           NameObject, TextStringObject)

from .. import imposition
from ..printing import INFO_KEY, Printing, steps
from ..render import RenderedBook
from ..zinelayout import instructions_pdf, sheet_side
from .base import BuildSession

POINTS_PER_MM = 72 / 25.4
GUIDE_GREY = 0.55
GUIDE_WIDTH_PT = 0.4


def reader(pdf: bytes) -> pypdf.PdfReader:
    """The zine's laid-out pages, to draw the sheets from."""
    return pypdf.PdfReader(BytesIO(pdf))


def imposed(rendered: RenderedBook, session: BuildSession, source: pypdf.PdfReader,
            sides: list[imposition.Side], printing: Printing | None) -> bytes:
    """The sheet ``sides`` drawn from the zine's pages in ``source``, with the printing instructions in the
    document information and, when ``[zine] instructions`` asks, on a last page."""
    settings = rendered.config.zine
    width, height = sheet_side(settings)
    writer = pypdf.PdfWriter()
    forms: dict[int, IndirectObject] = {}
    for side in sides:
        page = writer.add_blank_page(width * POINTS_PER_MM, height * POINTS_PER_MM)
        drawing, used = [], {}
        for placement in side.placements:
            if placement.page not in forms:
                forms[placement.page] = _as_form(writer, source.pages[placement.page])
            name = f"/Page{placement.page + 1}"
            used[NameObject(name)] = forms[placement.page]
            drawing.append(_placement(source.pages[placement.page], name, placement))
        drawing += [_guide(line) for line in side.lines]
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject(used)})
        stream = DecodedStreamObject()
        stream.set_data("".join(drawing).encode())
        page.replace_contents(stream)
    info = {"/Title": rendered.config.title, "/Creator": "zinepress", "/Producer": "zinepress with pypdf"}
    if printing is not None:
        lines = steps(printing)
        info[INFO_KEY] = "\n".join(lines)
        if settings.instructions:
            extra = pypdf.PdfReader(BytesIO(instructions_pdf(rendered, session, lines, (width, height))))
            writer.add_page(extra.pages[0])
    writer.add_metadata({key: TextStringObject(value) for key, value in info.items()})
    writer.pdf_header = source.pdf_header
    return finish(writer)


def _as_form(writer: pypdf.PdfWriter, page: pypdf.PageObject) -> IndirectObject:
    """A page as a Form XObject of ``writer``: its content drawn unchanged, wherever placed.

    Much faster than merging pages, which parses and rewrites every content stream.
    """
    contents = page.get_contents()
    form = DecodedStreamObject()
    form.set_data(contents.get_data() if contents is not None else b"")
    form.update({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): ArrayObject(FloatObject(value) for value in page.mediabox),
        NameObject("/Resources"): page["/Resources"].clone(writer) if "/Resources" in page else DictionaryObject(),
    })
    return writer._add_object(form.flate_encode())


def _placement(page: pypdf.PageObject, name: str, placement: imposition.Placement) -> str:
    """Operators drawing form ``name`` unscaled with its bottom left at the placement, or turned 180°."""
    box = page.mediabox
    x, y = placement.x * POINTS_PER_MM - float(box.left), placement.y * POINTS_PER_MM - float(box.bottom)
    if placement.turned:
        x += float(box.width) + 2 * float(box.left)
        y += float(box.height) + 2 * float(box.bottom)
        return f"q -1 0 0 -1 {x:.4f} {y:.4f} cm {name} Do Q\n"
    return f"q 1 0 0 1 {x:.4f} {y:.4f} cm {name} Do Q\n"


def _guide(line: imposition.Line) -> str:
    """A fold mark (solid grey) or a cut line (dashed grey)."""
    dash = "[3 2] 0 d " if line.kind == "cut" else ""
    points = (value * POINTS_PER_MM for value in (line.x1, line.y1, line.x2, line.y2))
    x1, y1, x2, y2 = points
    return f"q {GUIDE_GREY} G {GUIDE_WIDTH_PT} w {dash}{x1:.3f} {y1:.3f} m {x2:.3f} {y2:.3f} l S Q\n"


def finish(writer: pypdf.PdfWriter) -> bytes:
    """The edited PDF's bytes, content streams compressed and objects shared between pages merged."""
    for page in writer.pages:
        page.compress_content_streams()
    writer.compress_identical_objects()
    output = BytesIO()
    writer.write(output)
    return output.getvalue()
