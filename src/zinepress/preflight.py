"""A PDF → the problems a printer would find: page boxes, fonts, image resolution, PDF/X, page count.

Each function reads one PDF with pypdf and returns located problems; ``preflight`` runs the
ones that apply to the kind of PDF (``pdf`` for screens, ``print`` for the press, ``zine``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import ContentStream

from .config import Config
from .errors import SEVERITY, Problem

POINTS_PER_MM = 72 / 25.4
TOLERANCE_PT = 1.0
MINIMUM_PPI = 150  # below this, images print visibly soft; presses ask for 300
IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def preflight(path: Path, kind: str, config: Config) -> list[Problem]:
    """Every check that applies to a PDF of this kind (``pdf``, ``print``, ``cover`` or ``zine``).

    The press PDF of a print target other than ``shop``, and the cover wrap, are checked
    against the target (:mod:`.printcheck`).
    """
    reader = PdfReader(path)
    if kind in ("print", "cover") and config.print.target != "shop":
        from . import printcheck
        if kind == "print":
            problems = printcheck.interior_problems(path, config)
        else:
            interior = path.with_name(f"{config.slug}-print.pdf")
            problems = printcheck.cover_problems(path, config, len(PdfReader(interior).pages)) \
                if interior.is_file() else [Problem(f"{interior.name} was not built: the spine cannot be checked")]
        return [Problem(p.message, Path(path.name), p.line, p.severity) for p in problems + pdfx_declared(reader)]
    problems = fonts_embedded(reader) + image_resolution(reader)
    if kind == "pdf":
        problems += page_size(reader, config.print.trim_width, config.print.trim_height)
    if kind == "print":
        problems += press_boxes(reader, config.print.trim_width, config.print.trim_height, config.print.bleed)
        problems += pdfx_declared(reader)
    if kind == "zine":
        problems += zine_page_count(reader)
    return [Problem(p.message, Path(path.name), p.line, p.severity) for p in problems]


def _box(page, name: str) -> tuple[float, float, float, float] | None:
    value = page.get(f"/{name}")
    if value is None:
        return None
    box = [float(number) for number in value.get_object()]
    return min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])


def _size_mm(box) -> str:
    return f"{(box[2] - box[0]) / POINTS_PER_MM:.1f} × {(box[3] - box[1]) / POINTS_PER_MM:.1f} mm"


def page_size(reader: PdfReader, width_mm: float, height_mm: float) -> list[Problem]:
    """Every page (its TrimBox, else its MediaBox) is the trim size."""
    for number, page in enumerate(reader.pages, 1):
        box = _box(page, "TrimBox") or _box(page, "MediaBox")
        if not _near(box[2] - box[0], width_mm * POINTS_PER_MM) or \
                not _near(box[3] - box[1], height_mm * POINTS_PER_MM):
            return [Problem(f"page {number} is {_size_mm(box)}, not the trim size "
                            f"{width_mm:g} × {height_mm:g} mm", line=None)]
    return []


def press_boxes(reader: PdfReader, width_mm: float, height_mm: float, bleed_mm: float) -> list[Problem]:
    """Every page has a TrimBox of the trim size inside a BleedBox with the bleed, inside its MediaBox."""
    for number, page in enumerate(reader.pages, 1):
        media, trim, bleed = (_box(page, name) for name in ("MediaBox", "TrimBox", "BleedBox"))
        if trim is None or bleed is None:
            missing = " and ".join(name for name, box in (("TrimBox", trim), ("BleedBox", bleed)) if box is None)
            return [Problem(f"page {number} has no {missing}: the printer cannot find the trim")]
        problems = page_size(reader, width_mm, height_mm)
        if problems:
            return problems
        needed = bleed_mm * POINTS_PER_MM - TOLERANCE_PT
        if min(trim[0] - bleed[0], trim[1] - bleed[1], bleed[2] - trim[2], bleed[3] - trim[3]) < needed:
            return [Problem(f"page {number}: the BleedBox leaves less than {bleed_mm:g} mm of bleed around the trim")]
        if min(bleed[0] - media[0], bleed[1] - media[1], media[2] - bleed[2], media[3] - bleed[3]) < -TOLERANCE_PT:
            return [Problem(f"page {number}: the BleedBox reaches outside the MediaBox")]
    return []


def pdfx_declared(reader: PdfReader) -> list[Problem]:
    """The PDF declares PDF/X: a GTS_PDFX output intent and a version in its metadata."""
    intents = reader.trailer["/Root"].get("/OutputIntents")
    has_intent = intents is not None and any(
        intent.get_object().get("/S") == "/GTS_PDFX" for intent in intents.get_object())
    info = reader.metadata or {}
    xmp = reader.trailer["/Root"].get("/Metadata")
    xmp_text = xmp.get_object().get_data().decode("utf-8", "replace") if xmp is not None else ""
    has_version = "/GTS_PDFXVersion" in info or "GTS_PDFXVersion" in xmp_text
    problems = []
    if not has_intent:
        problems.append(Problem("no PDF/X output intent (GTS_PDFX) with an ICC profile"))
    if not has_version:
        problems.append(Problem("no PDF/X version (GTS_PDFXVersion) in the document's metadata"))
    return problems


def zine_page_count(reader: PdfReader) -> list[Problem]:
    """A saddle-stitched booklet: two pages on each side of a landscape sheet, a multiple of 4 in all."""
    sides = len(reader.pages)
    first = _box(reader.pages[0], "MediaBox")
    per_side = 2 if first[2] - first[0] > first[3] - first[1] else 1
    pages = sides * per_side
    if pages % 4:
        return [Problem(f"the zine has {pages} pages ({sides} sheet sides): a folded booklet needs a multiple of 4")]
    return []


def fonts_embedded(reader: PdfReader) -> list[Problem]:
    """Every font that the pages use is embedded."""
    missing: set[str] = set()
    for page in reader.pages:
        for font in _fonts(page.get("/Resources"), set()):
            if font.get("/Subtype") == "/Type3":
                continue
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                missing.add(str(font.get("/BaseFont", "?")).lstrip("/"))
    return [Problem(f"font {name} is not embedded: the printer would substitute another") for name in sorted(missing)]


def _fonts(resources, seen: set[int]) -> Iterator:
    """The font dictionaries of a resource dictionary and of the forms it holds."""
    if resources is None:
        return
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        yield font.get_object()
    for reference in (resources.get("/XObject") or {}).values():
        xobject = reference.get_object()
        if xobject.get("/Subtype") == "/Form" and id(xobject) not in seen:
            seen.add(id(xobject))
            yield from _fonts(xobject.get("/Resources"), seen)


def image_resolution(reader: PdfReader, minimum: float = MINIMUM_PPI) -> list[Problem]:
    """Every image has at least ``minimum`` pixels per inch at the size it is printed."""
    problems = []
    reported: set[tuple[int, int]] = set()
    for number, page in enumerate(reader.pages, 1):
        for image, width_pt, height_pt in placed_images(reader, page):
            if width_pt < 1 or height_pt < 1:
                continue
            ppi = min(float(image["/Width"]) / (width_pt / 72), float(image["/Height"]) / (height_pt / 72))
            key = (int(image["/Width"]), int(image["/Height"]))
            if ppi < minimum and key not in reported:
                reported.add(key)
                problems.append(Problem(
                    f"page {number}: an image of {key[0]} × {key[1]} pixels is printed "
                    f"{width_pt / POINTS_PER_MM:.0f} mm wide, {ppi:.0f} pixels per inch; "
                    f"at least {minimum} are needed", severity=SEVERITY["image-resolution"]))
    return problems


def placed_images(reader: PdfReader, page) -> Iterator[tuple[object, float, float]]:
    """Each image drawn on a page with its printed width and height in points."""
    yield from _walk(reader, page.get_contents(), page.get("/Resources"), IDENTITY, 0)


def placed_boxes(reader: PdfReader, page) -> Iterator[tuple[float, float, float, float]]:
    """The box (x0, y0, x1, y1, in the page's points) of each image drawn on a page."""
    for _, ctm in _walk(reader, page.get_contents(), page.get("/Resources"), IDENTITY, 0, with_matrix=True):
        corners = [(ctm[0] * x + ctm[2] * y + ctm[4], ctm[1] * x + ctm[3] * y + ctm[5]) for x in (0, 1) for y in (0, 1)]
        xs, ys = [x for x, _ in corners], [y for _, y in corners]
        yield min(xs), min(ys), max(xs), max(ys)


def _walk(reader, content, resources, ctm, depth: int, with_matrix: bool = False):
    if content is None or resources is None or depth > 8:
        return
    resources = resources.get_object()
    xobjects = resources.get("/XObject") or {}
    stack = []
    stream = content if isinstance(content, ContentStream) else ContentStream(content, reader)
    for operands, operator in stream.operations:
        if operator == b"q":
            stack.append(ctm)
        elif operator == b"Q" and stack:
            ctm = stack.pop()
        elif operator == b"cm":
            ctm = _multiply(tuple(float(value) for value in operands), ctm)
        elif operator == b"Do" and operands[0] in xobjects:
            xobject = xobjects[operands[0]].get_object()
            if xobject.get("/Subtype") == "/Image":
                yield (xobject, ctm) if with_matrix else (xobject, math.hypot(ctm[0], ctm[1]),
                                                          math.hypot(ctm[2], ctm[3]))
            elif xobject.get("/Subtype") == "/Form":
                matrix = tuple(float(v) for v in xobject.get("/Matrix", IDENTITY))
                yield from _walk(reader, xobject, xobject.get("/Resources", resources),
                                 _multiply(matrix, ctm), depth + 1, with_matrix)


def _multiply(m, n) -> tuple[float, ...]:
    """The matrix product m × n of two PDF matrices [a b c d e f]."""
    return (m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3],
            m[2] * n[0] + m[3] * n[2], m[2] * n[1] + m[3] * n[3],
            m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5])


def _near(first: float, second: float) -> bool:
    return abs(first - second) <= TOLERANCE_PT
