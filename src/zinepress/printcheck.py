"""``S-print.pdf`` and ``S-cover.pdf`` → what the book's print target would reject, one line per problem.

The interior: its page count, each page's boxes (the trim, the bleed on the edges the
target wants, no room for marks where it wants none), bookmarks and annotations, fonts,
image resolution, and the margins as printed (the words' positions, read with poppler's
``pdftotext -bbox``): the gutter of the page count's band on the binding edge, the target's
minimum on the others. The cover wrap: its size against the interior's page count, its
boxes, spine text only when the spine may carry it, and nothing in the barcode's box. A
requirement zinepress cannot meet (a PDF standard it cannot write) is said plainly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

from pypdf import PdfReader

from .config import Config
from .coverwrap import Box, wrap_for
from .errors import Problem
from .preflight import _box, fonts_embedded, image_resolution, placed_boxes
from .targets import Target, is_rtl, spine_on_left, target_named

POINTS_PER_MM = 72 / 25.4
TOLERANCE_PT = 1.0
MARGIN_TOLERANCE_MM = 0.3
WRITTEN_STANDARD = "PDF/X-4"
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def target_of(config: Config) -> Target:
    return target_named(config.print.target)


def _grouped(found: dict[str, list[int]]) -> list[Problem]:
    """One line per kind of problem, naming its pages."""
    return [Problem(f"{_pages(numbers)}: {message}") for message, numbers in found.items()]


def _pages(numbers: list[int]) -> str:
    """``[3, 4, 5, 9]`` → ``pages 3-5, 9``."""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    text = ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)
    return f"page{'s' if len(numbers) > 1 else ''} {text}"


def standard_problems(target: Target) -> list[Problem]:
    """A PDF standard the target asks for that zinepress does not write."""
    if "PDF" in target.standards or WRITTEN_STANDARD in target.standards:
        return []
    return [Problem(f"{target.title} asks for {' or '.join(target.standards)} with CMYK colour; zinepress writes "
                    f"{WRITTEN_STANDARD} in sRGB (WeasyPrint cannot write CMYK): convert this file with a prepress "
                    "tool (Acrobat's PDF/X-1a preset, or Ghostscript with a CMYK profile) before uploading it")]


def interior_problems(path: Path, config: Config) -> list[Problem]:
    """Every problem the target would find in the interior ``path``."""
    target = target_of(config)
    reader = PdfReader(path)
    pages = len(reader.pages)
    problems = []
    if target.pages and not target.pages[0] <= pages <= target.pages[1]:
        problems.append(Problem(f"the interior has {pages} pages: {target.title} prints paperbacks of "
                                f"{target.page_range()}"))
    problems += page_box_problems(reader, config, target)
    if not target.bookmarks and "/Outlines" in reader.trailer["/Root"]:
        problems.append(Problem(f"the interior has bookmarks: {target.title} rejects them"))
    annotated = [number for number, page in enumerate(reader.pages, 1) if page.get("/Annots")]
    if not target.annotations and annotated:
        problems += _grouped({f"annotations (links): {target.title} rejects them": annotated})
    problems += fonts_embedded(reader) + image_resolution(reader, target.min_ppi)
    problems += margin_problems(path, reader, config, target)
    return problems + standard_problems(target)


def page_box_problems(reader: PdfReader, config: Config, target: Target) -> list[Problem]:
    """Each page's TrimBox is the trim, its BleedBox the bleed the target wants, its MediaBox no larger."""
    from .writers.interior import bleed_edges
    settings, rtl = config.print, is_rtl(config.language)
    width, height = settings.trim_width * POINTS_PER_MM, settings.trim_height * POINTS_PER_MM
    found: dict[str, list[int]] = defaultdict(list)
    for index, page in enumerate(reader.pages):
        media, trim, bleed = (_box(page, name) for name in ("MediaBox", "TrimBox", "BleedBox"))
        if trim is None or bleed is None:
            found["no TrimBox or BleedBox: the printer cannot find the trim"].append(index + 1)
            continue
        if not (_near(trim[2] - trim[0], width) and _near(trim[3] - trim[1], height)):
            found[f"the trim is not {settings.trim_width:g} × {settings.trim_height:g} mm"].append(index + 1)
        edges = bleed_edges(settings, index, rtl)
        actual = (trim[0] - bleed[0], trim[1] - bleed[1], bleed[2] - trim[2], bleed[3] - trim[3])
        if not all(_near(have, want) for have, want in zip(actual, edges)):
            wanted = f"{settings.bleed:g} mm" + ("" if target.bleed_at_spine else ", none on the binding edge")
            found[f"the bleed is not the {wanted} {target.title} asks for"].append(index + 1)
        if target.marks == "none" and not all(_near(a, b) for a, b in zip(media, bleed)):
            found[f"room for printer's marks outside the bleed: {target.title} rejects marks"].append(index + 1)
    return _grouped(found)


def words(path: Path) -> list[list[tuple[float, float, float, float, str]]] | None:
    """Each page's words with their boxes (points from the page's top-left), by poppler; None without it."""
    if shutil.which("pdftotext") is None:
        return None
    run = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=False)
    pages = run.stdout.split("<page ")[1:]
    return [[(float(a), float(b), float(c), float(d), text) for a, b, c, d, text in WORD.findall(page)]
            for page in pages]


def margin_problems(path: Path, reader: PdfReader, config: Config, target: Target) -> list[Problem]:
    """The printed margins: words at least the gutter from the binding edge and the minimum from the others."""
    if not target.gutter and not target.outside_margin:
        return []
    found_words = words(path)
    if found_words is None:
        return [Problem("the margins could not be measured: pdftotext (poppler-utils) is not installed")]
    gutter = target.gutter_for(len(reader.pages))
    outside = target.outside_margin
    rtl = is_rtl(config.language)
    found: dict[str, list[int]] = defaultdict(list)
    for index, (page, page_words) in enumerate(zip(reader.pages, found_words)):
        if not page_words:
            continue
        media, trim = _box(page, "MediaBox"), _box(page, "TrimBox")
        left = (min(word[0] for word in page_words) + media[0] - trim[0]) / POINTS_PER_MM
        right = (trim[2] - media[0] - max(word[2] for word in page_words)) / POINTS_PER_MM
        top = (min(word[1] for word in page_words) - (media[3] - trim[3])) / POINTS_PER_MM
        bottom = (trim[3] - trim[1] - (max(word[3] for word in page_words) - (media[3] - trim[3]))) / POINTS_PER_MM
        inside, side = (left, right) if spine_on_left(index, rtl) else (right, left)
        if inside < gutter - MARGIN_TOLERANCE_MM:
            found[f"text {inside:.1f} mm from the binding edge: {target.title} needs a gutter of "
                  f"{gutter:.1f} mm ({gutter / 25.4:g} in) for {len(reader.pages)} pages"].append(index + 1)
        if min(side, top, bottom) < outside - MARGIN_TOLERANCE_MM:
            found[f"text nearer the trim than the {outside:.1f} mm ({outside / 25.4:g} in) {target.title} "
                  "allows on the top, bottom and outside edge"].append(index + 1)
    return _grouped(found)


def cover_problems(path: Path, config: Config, interior_pages: int) -> list[Problem]:
    """Every problem the target would find in the cover wrap ``path`` of an interior of ``interior_pages``."""
    target = target_of(config)
    wrap = wrap_for(config, interior_pages)
    reader = PdfReader(path)
    page = reader.pages[0]
    media, trim, bleed = (_box(page, name) for name in ("MediaBox", "TrimBox", "BleedBox"))
    problems = []
    width, height = (media[2] - media[0]) / POINTS_PER_MM, (media[3] - media[1]) / POINTS_PER_MM
    if not _near(width * POINTS_PER_MM, wrap.width * POINTS_PER_MM):
        problems.append(Problem(
            f"the cover is {width:.2f} mm wide; {interior_pages} interior pages on {config.print.paper} paper need "
            f"2 × {wrap.trim_width:g} + {wrap.spine:.2f} (spine) + 2 × {wrap.bleed:.2f} (bleed) = {wrap.width:.2f} mm"))
    if not _near(height * POINTS_PER_MM, wrap.height * POINTS_PER_MM):
        problems.append(Problem(f"the cover is {height:.2f} mm high, not the trim and bleed's {wrap.height:.2f} mm"))
    if trim is None or bleed is None:
        problems.append(Problem("the cover has no TrimBox or BleedBox: the printer cannot find the trim"))
    found_words = words(path)
    placed = [(text, _sheet_box(box)) for *box, text in (found_words or [[]])[0]]
    if not wrap.spine_text and any(_overlaps(box, wrap.spine_box) for _, box in placed):
        problems.append(Problem(f"text on the spine: {target.title} allows it from {target.spine_text_pages} pages, "
                                f"the book has {interior_pages}"))
    if wrap.barcode:
        images = [_sheet_box((x0 - media[0], media[3] - y1, x1 - media[0], media[3] - y0))
                  for x0, y0, x1, y1 in placed_boxes(reader, page)]
        if any(_overlaps(box, wrap.barcode) for box in [box for _, box in placed] + images):
            problems.append(Problem("something is printed in the barcode's keep-clear box on the back cover"))
    return problems + fonts_embedded(reader) + image_resolution(reader, target.min_ppi) + standard_problems(target)


def _sheet_box(box) -> Box:
    """A box in points from the page's top-left → a :class:`Box` in mm on the sheet."""
    x0, y0, x1, y1 = box
    return Box(x0 / POINTS_PER_MM, y0 / POINTS_PER_MM, (x1 - x0) / POINTS_PER_MM, (y1 - y0) / POINTS_PER_MM)


def _overlaps(first: Box, second: Box) -> bool:
    return first.x < second.right and second.x < first.right and first.y < second.bottom and second.y < first.bottom


def _near(first: float, second: float) -> bool:
    return abs(first - second) <= TOLERANCE_PT
