"""The joined book → the interior a print-on-demand target takes: no cover, and only what the printer allows.

A target with a cover wrap prints the cover from ``S-cover.pdf``, so the interior starts
after it: the cover page goes, with the blank page behind it (the title page then opens on
the first recto, as laid out); when the page behind the cover is not blank, the cover page
is left blank instead, so every page keeps its side. Bookmarks and annotations go where the
target rejects them. The bleed a page keeps follows the target too: KDP's page has none on
its binding edge.
"""

from __future__ import annotations

from io import BytesIO

import pikepdf

from ..config import PrintSettings
from ..targets import spine_on_left, target_named

POINTS_PER_MM = 72 / 25.4
PAINTING = {"TJ", "Tj", "'", '"', "Do", "sh", "BI"}


def is_blank(page: pikepdf.Page) -> bool:
    """Whether a page paints no text, image or shading (a blank verso)."""
    return not any(str(item.operator) in PAINTING for item in pikepdf.parse_content_stream(page))


def cover_pages(first_pages: pikepdf.Pdf) -> int:
    """How many pages the interior drops at its start: the cover and its blank verso, or none."""
    pages = first_pages.pages
    return 2 if len(pages) > 1 and is_blank(pages[1]) else 0


def cover_pages_of(part: bytes | None) -> int:
    """:func:`cover_pages` of the front matter's laid-out PDF (2, the default layout's, when not at hand)."""
    if part is None:
        return 2
    with pikepdf.open(BytesIO(part)) as pdf:
        return cover_pages(pdf)


def make_interior(pdf: pikepdf.Pdf, settings: PrintSettings) -> int:
    """Make the joined book the target's interior, in place; returns the pages dropped at its start."""
    target = target_named(settings.target)
    dropped = 0
    if target.cover_wrap:
        dropped = cover_pages(pdf)
        if dropped:
            _drop_first(pdf, dropped)
        else:
            pdf.pages[0].obj.Contents = pdf.make_stream(b"")
    if not target.bookmarks:
        for key in ("/Outlines", "/PageMode"):
            if key in pdf.Root:
                del pdf.Root[key]
    if not target.annotations:
        for page in pdf.pages:
            if "/Annots" in page.obj:
                del page.obj["/Annots"]
    return dropped


def _drop_first(pdf: pikepdf.Pdf, count: int) -> None:
    """Remove the first ``count`` pages and the bookmarks that lead to them."""
    gone = {pdf.pages[index].obj.objgen for index in range(count)}
    del pdf.pages[:count]
    with pdf.open_outline() as outline:
        outline.root[:] = [item for item in outline.root if not _leads_to(item, gone)]


def _leads_to(item, pages: set[tuple[int, int]]) -> bool:
    destination = item.destination
    if isinstance(destination, pikepdf.Array) and len(destination) and isinstance(destination[0], pikepdf.Dictionary):
        return destination[0].objgen in pages
    return False


def bleed_edges(settings: PrintSettings, index: int, rtl: bool) -> tuple[float, float, float, float]:
    """The bleed in points past each edge (left, bottom, right, top) of interior page ``index``."""
    bleed = settings.bleed * POINTS_PER_MM
    if target_named(settings.target).bleed_at_spine:
        return bleed, bleed, bleed, bleed
    if spine_on_left(index, rtl):
        return 0.0, bleed, bleed, bleed
    return bleed, bleed, 0.0, bleed
