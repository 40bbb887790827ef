"""``RenderedBook`` → ``S-print.pdf``: the press edition, PDF/X-4 with bleed and crop marks.

It reuses the one layout of the book (the pages of ``S.pdf``, laid out with the bleed),
written by WeasyPrint as ``pdf/x-4``; pypdf then sets on every page the TrimBox (the
trim), the BleedBox (trim plus bleed), a MediaBox with room for the marks around it,
clips the page's content to the BleedBox, draws the printer's marks outside it, and adds
the OutputIntent and a stable XMP document id.
"""

from __future__ import annotations

import re
import uuid
from importlib import resources
from pathlib import Path

import pypdf
from pypdf.generic import (ArrayObject, ByteStringObject, DecodedStreamObject, DictionaryObject, NameObject,
                           NumberObject, RectangleObject, StreamObject, TextStringObject)

from ..atomic import write_atomically
from ..config import PrintSettings
from ..render import RenderedBook
from .base import BuildSession, Writer
from .pdf import computed, finish, first_body_page, layout, open_for_editing, set_page_labels, written_pdf

POINTS_PER_MM = 72 / 25.4
MARKS_ROOM_MM = 10.0  # the slug around the bleed that holds the marks
MARK_GAP_MM = 1.0  # between the bleed edge and the start of a crop mark
MARK_WIDTH_PT = 0.25
OUTPUT_CONDITION = "sRGB IEC61966-2.1"


class PressWriter(Writer):
    name = "print"
    suffix = "-print.pdf"
    description = "Press PDF for print shops"

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path:
        data = computed(session, "print-pdf", lambda: press_pdf(rendered, session))
        return write_atomically(folder / self.file_name(rendered), data)


def press_pdf(rendered: RenderedBook, session: BuildSession) -> bytes:
    """The bytes of ``S-print.pdf``."""
    writer = open_for_editing(written_pdf(rendered, session, "pdf/x-4"))
    settings = rendered.config.print
    for page in writer.pages:
        _prepare_page(page, settings)
    set_page_labels(writer, first_body_page(layout(rendered, session), rendered))
    _add_output_intent(writer)
    _stable_document_id(writer, rendered.config.identifier)
    return finish(writer)


def _prepare_page(page: pypdf.PageObject, settings: PrintSettings) -> None:
    """Boxes, clipping to the bleed, and marks for one page."""
    left, bottom, right, top = (float(value) for value in page.trimbox)
    bleed = settings.bleed * POINTS_PER_MM
    room = MARKS_ROOM_MM * POINTS_PER_MM if settings.marks != "none" else 0.0
    trim = (left, bottom, right, top)
    bleed_box = (left - bleed, bottom - bleed, right + bleed, top + bleed)
    media = (left - bleed - room, bottom - bleed - room, right + bleed + room, top + bleed + room)
    content = page.get_contents()
    body = content.get_data() if content is not None else b""
    clip = "q {:.3f} {:.3f} {:.3f} {:.3f} re W n\n".format(
        bleed_box[0], bleed_box[1], bleed_box[2] - bleed_box[0], bleed_box[3] - bleed_box[1]).encode()
    stream = DecodedStreamObject()
    stream.set_data(clip + body + b"\nQ\n" + _marks(trim, bleed, room, settings.marks))
    page.replace_contents(stream)
    page.mediabox = RectangleObject(media)
    page.cropbox = RectangleObject(media)
    page.bleedbox = RectangleObject(bleed_box)
    page.trimbox = RectangleObject(trim)
    page.artbox = RectangleObject(trim)


def _marks(trim: tuple[float, float, float, float], bleed: float, room: float, marks: str) -> bytes:
    """Crop marks (and registration crosses) as PDF drawing operators, outside the bleed."""
    if room <= 0:
        return b""
    left, bottom, right, top = trim
    start = bleed + MARK_GAP_MM * POINTS_PER_MM
    end = bleed + room
    lines: list[tuple[float, float, float, float]] = []
    if "crop" in marks:
        for x, sx in ((left, -1), (right, 1)):
            for y, sy in ((bottom, -1), (top, 1)):
                lines.append((x + sx * start, y, x + sx * end, y))
                lines.append((x, y + sy * start, x, y + sy * end))
    operators = [f"q 0 G {MARK_WIDTH_PT} w 0 J"]
    operators += [f"{x0:.3f} {y0:.3f} m {x1:.3f} {y1:.3f} l S" for x0, y0, x1, y1 in lines]
    if "cross" in marks:
        middle = bleed + room / 2
        radius = room / 5
        centre_x, centre_y = (left + right) / 2, (bottom + top) / 2
        for x, y in ((centre_x, bottom - middle), (centre_x, top + middle),
                     (left - middle, centre_y), (right + middle, centre_y)):
            operators.append(_registration_target(x, y, radius))
    operators.append("Q")
    return ("\n".join(operators) + "\n").encode()


def _registration_target(x: float, y: float, radius: float) -> str:
    """A circle with a cross through it, centred on (x, y)."""
    k = 0.5523 * radius
    circle = (f"{x + radius:.3f} {y:.3f} m "
              f"{x + radius:.3f} {y + k:.3f} {x + k:.3f} {y + radius:.3f} {x:.3f} {y + radius:.3f} c "
              f"{x - k:.3f} {y + radius:.3f} {x - radius:.3f} {y + k:.3f} {x - radius:.3f} {y:.3f} c "
              f"{x - radius:.3f} {y - k:.3f} {x - k:.3f} {y - radius:.3f} {x:.3f} {y - radius:.3f} c "
              f"{x + k:.3f} {y - radius:.3f} {x + radius:.3f} {y - k:.3f} {x + radius:.3f} {y:.3f} c S")
    reach = radius * 1.6
    cross = (f"{x - reach:.3f} {y:.3f} m {x + reach:.3f} {y:.3f} l S "
             f"{x:.3f} {y - reach:.3f} m {x:.3f} {y + reach:.3f} l S")
    return f"{circle} {cross}"


def _add_output_intent(writer: pypdf.PdfWriter) -> None:
    """A PDF/X OutputIntent, unless WeasyPrint wrote one (a project's @color-profile)."""
    root = writer.root_object
    if "/OutputIntents" in root:
        return
    profile = StreamObject()
    profile.set_data(resources.files("weasyprint").joinpath("pdf", "sRGB2014.icc").read_bytes())
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject({
        NameObject("/Type"): NameObject("/OutputIntent"),
        NameObject("/S"): NameObject("/GTS_PDFX"),
        NameObject("/OutputConditionIdentifier"): TextStringObject(OUTPUT_CONDITION),
        NameObject("/RegistryName"): TextStringObject("http://www.color.org"),
        NameObject("/Info"): TextStringObject(OUTPUT_CONDITION),
        NameObject("/DestOutputProfile"): writer._add_object(profile),
    })
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])


def _stable_document_id(writer: pypdf.PdfWriter, identifier: str) -> None:
    """Replace WeasyPrint's random XMP document id and the file's /ID by ones made from the book's identifier.

    (WeasyPrint writes a fresh uuid4 into the XMP of PDF/X files, and hashes it into the /ID.)
    """
    stable = uuid.uuid5(uuid.NAMESPACE_URL, "zinepress-print:" + identifier)
    metadata = writer.root_object.get("/Metadata")
    if metadata is not None:
        stream = metadata.get_object()
        stream.set_data(re.sub(rb"xmp\.did:[0-9a-f-]{36}", f"xmp.did:{stable}".encode("ascii"),
                               stream.get_data()))
    if writer._ID:
        writer._ID = ArrayObject([writer._ID[0], ByteStringObject(stable.hex.encode("ascii"))])
