"""``RenderedBook`` → ``S-print.pdf``: the press edition, PDF/X-4 with bleed and the target's marks.

It reuses the one layout of the book: the joined pages of ``S.pdf``, laid out with the
bleed. For a print-on-demand target the book becomes its interior first (``interior.py``:
no cover, no bookmarks or annotations where the printer rejects them). pikepdf sets on
every page the TrimBox (the trim), the BleedBox (trim plus the bleed the target wants on
each edge) and a MediaBox with room for the marks around it, frames each page's content
streams (without decoding them) with a clip to the BleedBox and the printer's marks
outside it, drops the structure tree, and declares PDF/X-4 (OutputIntent, XMP with a
stable document id) instead of PDF/UA-1. With a cover wrap target the print format also
writes ``S-cover.pdf`` (``wrap.py``).
"""

from __future__ import annotations

import uuid
from io import BytesIO
from pathlib import Path

import pikepdf
from lxml import etree

from ..atomic import write_atomically
from ..config import PrintSettings
from ..paged.join import joined_book, set_page_labels
from ..paged.weasy import srgb_profile
from ..render import RenderedBook
from ..targets import is_rtl, target_named
from .base import BuildSession, Writer, Written
from .interior import bleed_edges, make_interior

POINTS_PER_MM = 72 / 25.4
MARKS_ROOM_MM = 10.0  # the slug around the bleed that holds the marks
MARK_GAP_MM = 1.0  # between the bleed edge and the start of a crop mark
MARK_WIDTH_PT = 0.25
OUTPUT_CONDITION = "sRGB IEC61966-2.1"
PRESS_SAVE_OPTIONS = {"force_version": "1.6", "deterministic_id": True, "fix_metadata_version": False}
"""``pikepdf.Pdf.save`` options for the press edition: PDF/X-4 is PDF 1.6, a reproducible /ID, the XMP as made."""


class PressWriter(Writer):
    name = "print"
    suffix = "-print.pdf"
    description = "Press PDF for print shops"
    uses_layout = "pdf"

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path | list[Written]:
        press = write_atomically(folder / self.file_name(rendered), press_pdf(rendered, session))
        if not target_named(rendered.config.print.target).cover_wrap:
            return press
        from .wrap import CoverWrapWriter
        wrap = CoverWrapWriter()
        return [Written(press, self), Written(wrap.write(rendered, folder, session), wrap)]


def press_pdf(rendered: RenderedBook, session: BuildSession) -> bytes:
    """The bytes of ``S-print.pdf``, made from the book's parts joined for it alone (the interior of a
    print-on-demand target first)."""
    laid = session.laid_out
    pdf = joined_book(laid.parts, laid.borrowed, laid.first_body, rendered)
    settings = rendered.config.print
    dropped = make_interior(pdf, settings)
    if dropped:
        set_page_labels(pdf, max(laid.first_body - dropped, 0))
    make_press_edition(pdf, settings, rendered.config.identifier, is_rtl(rendered.config.language))
    output = BytesIO()
    pdf.save(output, **PRESS_SAVE_OPTIONS)
    return output.getvalue()


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


def make_press_edition(pdf: pikepdf.Pdf, settings: PrintSettings, identifier: str, rtl: bool = False) -> None:
    """Turn the tagged book (``pdf/ua-1``, pages laid out with the bleed) into the press edition, in place.

    Save it with ``PRESS_SAVE_OPTIONS``.
    """
    _drop_structure(pdf)
    framings: dict[tuple, tuple[pikepdf.Stream, pikepdf.Stream]] = {}
    for index, page in enumerate(pdf.pages):
        _frame_page(pdf, page, settings, bleed_edges(settings, index, rtl), framings)
    declare_pdfx4(pdf, identifier)


def declare_pdfx4(pdf: pikepdf.Pdf, identifier: str) -> None:
    """PDF/X-4's output intent and metadata, for a PDF made for the press (the interior or the cover wrap)."""
    _press_output_intent(pdf)
    _declare_pdfx4(pdf, identifier)


def _drop_structure(pdf: pikepdf.Pdf) -> None:
    """Remove the structure tree and what points into it: the marks added to the pages are untagged."""
    for key in ("/StructTreeRoot", "/MarkInfo"):
        if key in pdf.Root:
            del pdf.Root[key]
    for page in pdf.pages:
        for key in ("/StructParents", "/Tabs"):
            if key in page.obj:
                del page.obj[key]
        for annotation in page.obj.get("/Annots", ()):
            if "/StructParent" in annotation:
                del annotation["/StructParent"]


def _frame_page(pdf: pikepdf.Pdf, page: pikepdf.Page, settings: PrintSettings,
                edges: tuple[float, float, float, float],
                framings: dict[tuple, tuple[pikepdf.Stream, pikepdf.Stream]]) -> None:
    """Boxes, clipping to the bleed, and marks for one page, its own content streams left as they are.

    ``edges`` is the bleed past the left, bottom, right and top edge of the trim, in points.
    The clip (opening) and the marks (closing) are streams shared by all pages of one trim.
    """
    trim = tuple(float(value) for value in page.trimbox)
    left, bottom, right, top = trim
    bleed = settings.bleed * POINTS_PER_MM
    room = MARKS_ROOM_MM * POINTS_PER_MM if settings.marks != "none" else 0.0
    bleed_box = (left - edges[0], bottom - edges[1], right + edges[2], top + edges[3])
    media = (bleed_box[0] - room, bleed_box[1] - room, bleed_box[2] + room, bleed_box[3] + room)
    key = (trim, edges, room, settings.marks)
    if key not in framings:
        x0, y0, x1, y1 = bleed_box
        clip = f"q {x0:.3f} {y0:.3f} {x1 - x0:.3f} {y1 - y0:.3f} re W n\n".encode()
        marks = b"\nQ\n" + _marks(trim, bleed, room, settings.marks)
        framings[key] = (pdf.make_stream(clip), pdf.make_stream(marks))
    opening, closing = framings[key]
    contents = page.obj.get("/Contents")
    body = [] if contents is None else list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    page.obj.Contents = pikepdf.Array([opening, *body, closing])
    page.obj.MediaBox = page.obj.CropBox = pikepdf.Array(media)
    page.obj.BleedBox = pikepdf.Array(bleed_box)
    page.obj.TrimBox = page.obj.ArtBox = pikepdf.Array(trim)


def _press_output_intent(pdf: pikepdf.Pdf) -> None:
    """Exactly one PDF/X OutputIntent: WeasyPrint's (a project's @color-profile), or sRGB."""
    intents = [intent for intent in pdf.Root.get("/OutputIntents", ()) if intent.get("/S") == pikepdf.Name.GTS_PDFX]
    if not intents:
        profile = pdf.make_stream(srgb_profile(), N=3)
        intents = [pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent,
            S=pikepdf.Name.GTS_PDFX,
            OutputConditionIdentifier=pikepdf.String(OUTPUT_CONDITION),
            RegistryName=pikepdf.String("http://www.color.org"),
            Info=pikepdf.String(OUTPUT_CONDITION),
            DestOutputProfile=profile,
        ))]
    pdf.Root.OutputIntents = pikepdf.Array(intents[:1])


XMP_NAMESPACES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "pdfx": "http://ns.adobe.com/pdfx/1.3/",
    "pdfxid": "http://www.npes.org/pdfx/ns/id/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
}
PDFUA_NAMESPACE = "http://www.aiim.org/pdfua/ns/id/"
XPACKET_BEGIN = b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
XPACKET_END = b'\n<?xpacket end="r"?>'
EMPTY_XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
             b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>')


def _xmp_name(qualified: str) -> str:
    prefix, local = qualified.split(":")
    return f"{{{XMP_NAMESPACES[prefix]}}}{local}"


def _declare_pdfx4(pdf: pikepdf.Pdf, identifier: str) -> None:
    """XMP and document info that declare PDF/X-4 as WeasyPrint's ``pdf/x-4`` does, PDF/UA no more.

    Title, authors and dates stay; the XMP document id is made from the book's identifier.
    """
    metadata = pdf.Root.get("/Metadata")
    root = etree.fromstring(metadata.read_bytes() if metadata is not None else EMPTY_XMP)
    rdf = root.find(_xmp_name("rdf:RDF"))
    modified = _xmp_value(rdf, _xmp_name("xmp:ModifyDate"))
    document_id = uuid.uuid5(uuid.NAMESPACE_URL, "zinepress-print:" + identifier)
    identification = [("pdfxid:GTS_PDFXVersion", "PDF/X-4"), ("pdfx:GTS_PDFXVersion", "PDF/X-4"),
                      ("pdfx:GTS_PDFXConformance", "PDF/X-4"), ("pdf:Trapped", "False"),
                      ("xmp:MetadataDate", modified), ("xmpMM:DocumentID", f"xmp.did:{document_id}"),
                      ("xmpMM:RenditionClass", "proof:pdf"), ("xmpMM:VersionID", "1")]
    replaced = {_xmp_name(name) for name, _ in identification}
    for description in rdf.findall(_xmp_name("rdf:Description")):
        for name in [name for name in description.attrib
                     if name in replaced or name.startswith(f"{{{PDFUA_NAMESPACE}}}")]:
            del description.attrib[name]
        for child in list(description):
            if child.tag in replaced or child.tag.startswith(f"{{{PDFUA_NAMESPACE}}}"):
                description.remove(child)
        if len(description) == 0 and set(description.attrib) <= {_xmp_name("rdf:about")}:
            rdf.remove(description)
    namespaces = sorted({**rdf.nsmap, **XMP_NAMESPACES}.items(), key=lambda item: item[0] or "")
    press_rdf = etree.Element(rdf.tag, nsmap=dict(namespaces), attrib=rdf.attrib)
    press_rdf.text, press_rdf.tail = rdf.text, rdf.tail
    description = etree.SubElement(press_rdf, _xmp_name("rdf:Description"), {_xmp_name("rdf:about"): ""})
    for name, value in identification:
        if value is not None:
            etree.SubElement(description, _xmp_name(name)).text = value
    press_rdf.extend(list(rdf))
    root.replace(rdf, press_rdf)
    etree.cleanup_namespaces(root)
    packet = XPACKET_BEGIN + etree.tostring(root, encoding="utf-8", xml_declaration=False) + XPACKET_END
    pdf.Root.Metadata = pdf.make_stream(packet, Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
    pdf.docinfo[pikepdf.Name.Trapped] = pikepdf.Name("/False")


def _xmp_value(rdf: etree._Element, name: str) -> str | None:
    """A simple XMP property's value, written as an attribute or as an element."""
    for description in rdf.findall(_xmp_name("rdf:Description")):
        if name in description.attrib:
            return description.attrib[name]
        element = description.find(name)
        if element is not None:
            return element.text
    return None
