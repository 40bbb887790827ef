"""``RenderedBook`` → ``S-zine.pdf`` (and ``S-zine-cover.pdf``): the zine's own pages imposed for home printing.

The pages come from the zine's own layout (:mod:`zinepress.zinelayout`), fitted to the page
count; :mod:`zinepress.imposition` says where each goes on each sheet side, for the
``booklet``, ``mini`` or ``quarter`` format, with creep and signatures. Pages are placed
unscaled with pypdf as Form XObjects (each page's content drawn unchanged, wherever
placed, turned 180° for the mini's top row), with grey fold marks and dashed cut lines
that keep 5 mm clear of every sheet edge. The printing instructions go into the PDF's
document information (see :mod:`zinepress.printing`) and, with ``[zine] instructions =
true``, onto one last page. A booklet thicker than a stapler closes gives a warning.
"""

from __future__ import annotations

import functools
from io import BytesIO
from pathlib import Path

import pypdf
from pypdf.generic import (ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, IndirectObject,
                           NameObject, TextStringObject)

from .. import imposition
from ..atomic import write_atomically
from ..printing import INFO_KEY, Printing, steps
from ..render import RenderedBook
from ..zinelayout import ZinePages, add_warnings, instructions_pdf, sheet_side, zine_pages, zine_pages_apart
from ..zinesettings import SADDLE_STITCH_MM, ZineSettings
from .base import BuildSession, Writer

POINTS_PER_MM = 72 / 25.4
GUIDE_GREY = 0.55
GUIDE_WIDTH_PT = 0.4
COVER_SUFFIX = "-zine-cover.pdf"


def plan(settings: ZineSettings, pages: ZinePages) -> tuple[list[imposition.Side], list[imposition.Side]]:
    """The interior's sides and the separate cover's (none with a self-cover)."""
    total, count = pages.total, pages.fit.pages
    side = sheet_side(settings)
    if settings.cover == "separate":
        interior = list(range(2, total - 1))
        sequence = interior + [None] * (count - len(interior))
        cover_sequence: list[int | None] = [0, None, total - 1, None]  # outside front and back, inside covers
    else:
        sequence, cover_sequence = imposition.reading_sequence(list(range(total)), count), None
    if settings.format == "mini":
        return imposition.mini(sequence, side), []
    if settings.format == "quarter":
        cover = imposition.quarter(cover_sequence, side) if cover_sequence else []
        return imposition.quarter(sequence, side, settings.creep), cover
    cover = imposition.booklet(cover_sequence, side) if cover_sequence else []
    return imposition.booklet(sequence, side, settings.creep, settings.signature), cover


def folded_sheets(settings: ZineSettings, sides: list[imposition.Side]) -> int:
    """How many sheets are folded together: a signature's, a quarter's half-sheets, or the whole stack."""
    sheets = max((side.sheet for side in sides), default=0)
    if settings.format == "quarter":
        return sum(1 for side in sides for placement in side.placements) // 4
    if settings.signature:
        return min(settings.signature, sheets)
    return sheets


class ZineWriter(Writer):
    name = "zine"
    suffix = "-zine.pdf"
    description = "Zine to print and fold at home"

    def describe(self, path: Path) -> str:
        """What a file of this writer is, for the downloads page."""
        return "Zine cover, to print on cover stock" if path.name.endswith(COVER_SUFFIX) else self.description

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path | list[Path]:
        settings = rendered.config.zine
        pending = session.ahead.get(self.name)
        if pending is not None:
            pages, warnings = pending.result()
            add_warnings(session, warnings)
        else:
            pages = zine_pages(rendered, session)
        sides, cover_sides = plan(settings, pages)
        _warn_thickness(rendered, session, folded_sheets(settings, sides))
        source = pypdf.PdfReader(BytesIO(pages.pdf))
        shifts = [placement.shift for side in sides for placement in side.placements]
        printing = Printing(settings, max(side.sheet for side in sides), pages.fit.pages, max(shifts, default=0),
                            self.file_name(rendered),
                            f"{rendered.config.slug}{COVER_SUFFIX}" if cover_sides else None,
                            len(sides) + 1 if settings.instructions else None)
        written = [write_atomically(folder / self.file_name(rendered),
                                    self._imposed(rendered, session, source, sides, printing))]
        if cover_sides:
            written.append(write_atomically(folder / f"{rendered.config.slug}{COVER_SUFFIX}",
                                            self._imposed(rendered, session, source, cover_sides, None)))
        return written if len(written) > 1 else written[0]

    def ahead(self, rendered: RenderedBook, session: BuildSession):
        """The zine's own layouts and their fit, which need nothing from the print layout."""
        return functools.partial(zine_pages_apart, rendered, session)

    def _imposed(self, rendered: RenderedBook, session: BuildSession, source: pypdf.PdfReader,
                 sides: list[imposition.Side], printing: Printing | None) -> bytes:
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


def _warn_thickness(rendered: RenderedBook, session: BuildSession, sheets: int) -> None:
    """A warning when more sheets are folded together than a stapler closes well."""
    settings = rendered.config.zine
    caliper = settings.caliper
    if sheets * caliper <= SADDLE_STITCH_MM + 1e-9:
        return
    weight = settings.stock or 80
    session.diagnostics.warn(
        f"the zine folds {sheets} sheets together, about {sheets * caliper:.1f} mm of {weight} gsm paper: too thick "
        f"to saddle-stitch (at most {int(SADDLE_STITCH_MM / caliper + 1e-9)} sheets); print it in signatures with "
        "format = \"booklet\" and signature = 4 in [zine]",
        rendered.config.path, _thickness_line(settings))


def _thickness_line(settings: ZineSettings) -> int | None:
    """The line the thickness warning points at: the key that sets it, else the ``[zine]`` table."""
    given = dict(settings.lines)
    return next((given[key] for key in ("signature", "stock", "format") if key in given), settings.line(""))


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
