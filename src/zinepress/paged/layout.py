"""One part → WeasyPrint's layout of it, its facts, and its PDF written at its place in the book.

The pages before the part's first section are dropped; the pages up to the next
section's ghost are kept, so a blank verso before a chapter that opens on a right-hand
page belongs to the part before it. Writing a part at its place makes its margin boxes
(folios, running heads) again with the moved page counter.
"""

from __future__ import annotations

import copy
import datetime as dt
import posixpath
from io import BytesIO
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from PIL import Image, UnidentifiedImageError

from ..fetch import RefusedFetch, read_confined
from ..render import RenderedBook
from . import weasy
from .context import LayoutContext
from .pagecss import pdf_identifier
from .parts import LEAD_GHOST, TRAIL_GHOST, Part
from .schedule import Facts, PartWritten, Placement, folio_strings
from .starts import page_starts
from .watch import watched

class PartLayout:
    """One part laid out by WeasyPrint in this process, kept until it is written."""

    def __init__(self, part: Part, context: LayoutContext, stylesheets):
        self.part = part
        self.context = context
        self.rendered = context.rendered
        if part.extra_css:
            stylesheets = [*stylesheets, weasy.CSS(string=part.extra_css)]
        with watched(context) as log, weasy.margin_box_records() as self.records:
            html = weasy.HTML(string=part.html, base_url=str(self.rendered.config.manuscript) + "/",
                              url_fetcher=context.fetcher)
            self.document = html.render(stylesheets=stylesheets)
        self.missing_targets = any(weasy.is_missing_target(message) for message, _ in log.messages)
        self.pages = self.document.pages
        self.first, self.end, self.splits = self._kept_range()
        self.kept = self.pages[self.first:self.end]

    def _kept_range(self) -> tuple[int, int, bool]:
        """The pages that belong to the book (from the first section to the next part's ghost)."""
        where = {}
        for number, page in enumerate(self.pages):
            for name in page.anchors:
                where.setdefault(name, number)
        first = where.get(self.part.section_ids[0], 0) if LEAD_GHOST in where else 0
        end = where.get(TRAIL_GHOST, len(self.pages))
        splits = True
        if LEAD_GHOST in where:
            splits = where[LEAD_GHOST] < first and not _has_content(self.pages[where[LEAD_GHOST]])
        if TRAIL_GHOST in where:
            splits = splits and end > first and not _has_content(self.pages[end])
        if len(self.records) != len(self.pages):
            splits = False
        return first, end, splits

    def _page_counter_reset(self) -> list[bool]:
        """For each page, whether the page counter was reset (or set) on it or an earlier kept page of the part."""
        reset, seen = [], False
        for number, page in enumerate(self.pages):
            seen = number >= self.first and (seen or "page" in weasy.page_counter_changes(page))
            reset.append(seen)
        return reset

    def facts(self) -> Facts:
        values = [state[1].get("page", [0])[-1] for _, _, state in self.records]
        reset = self._page_counter_reset()
        kept = range(self.first, self.end)
        anchors = {}
        for number in kept:
            for name in self.pages[number].anchors:
                anchors.setdefault(name, number - self.first)
        first_page = self.pages[self.first] if self.first < len(self.pages) else None
        return Facts(
            index=self.part.index, kept=len(kept), values=[values[n] for n in kept], reset=[reset[n] for n in kept],
            before=values[self.first - 1] if self.first else 0,
            first_left=first_page is not None and weasy.page_side(first_page) == "left",
            anchors=anchors, splits=self.splits, dpi=image_resolutions(self.kept, self.rendered),
            missing_targets=self.missing_targets,
            warnings=list(self.context.diagnostics.warnings))

    def write(self, placement: Placement, pdf: bool, body_sections: list[str], first_body: str,
              anchors: frozenset[str] = frozenset()) -> PartWritten:
        """Make the margin boxes again for the part's place in the book; its PDF and where its pages start."""
        facts_values = []
        reset = self._page_counter_reset()
        for number, (context, page_box, state) in enumerate(self.records):
            if not self.first <= number < self.end:
                continue
            state = copy.deepcopy(state)
            counters = state[1]
            if "page" in counters and not reset[number]:
                counters["page"] = counters["page"][:-1] + [counters["page"][-1] + placement.shift]
            if placement.total is not None:
                counters["pages"] = [placement.total]
            facts_values.append(counters.get("page", [0])[-1])
            if pdf and (counters != self.records[number][2][1]):
                weasy.remake_margin_boxes(context, page_box, state, number)
        folios = folio_strings(facts_values, [weasy.folio_style(page) for page in self.kept])
        starts = page_starts(self.kept, body_sections, first_body, self.part.index > 0)
        data, borrowed = None, ()
        if pdf:
            data, borrowed = self._pdf(anchors)
        return PartWritten(self.part.index, data, borrowed, starts, folios, list(self.context.diagnostics.warnings))

    def _pdf(self, anchors: frozenset[str]) -> tuple[bytes, tuple[str, ...]]:
        """The part's kept pages as ``pdf/ua-1``; the ``anchors`` of other parts that it links to are named
        on its first page, so that its links to them survive until the join."""
        document = self.document.copy(self.kept)
        held = {name for page in self.kept for name in page.anchors}
        wanted = {target for page in self.kept for kind, target, *_ in page.links if kind == "internal"}
        borrowed = tuple(sorted((wanted - held) & anchors))
        if self.kept:
            for name in borrowed:
                self.kept[0].anchors[name] = (0, 0, 0, 0)
        relative_file_links(document, self.rendered.config.manuscript)
        stamp = self.context.source_date.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        document.metadata.created = document.metadata.modified = stamp
        document.metadata.lang = self.rendered.config.language
        with watched(self.context):
            data = document.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=pdf_identifier(self.rendered))
        return data, borrowed


def _has_content(page) -> bool:
    return any(True for _ in weasy.content_boxes(page))


def relative_file_links(document, base: Path) -> None:
    """Make links to local files relative to ``base``, so no path of this machine ends up in the PDF.

    WeasyPrint resolves a link such as ``notes.html`` against the document's base URL, which
    would write ``file:///home/…/manuscript/notes.html`` into the link annotation.
    """
    for page in document.pages:
        page.links[:] = [(kind, _relative_url(target, base) if kind == "external" else target, *rest)
                         for kind, target, *rest in page.links]


def _relative_url(url: str, base: Path) -> str:
    """A ``file:`` URL as a path relative to ``base`` (fragment kept); other URLs as they are."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file":
        return url
    relative = posixpath.relpath(unquote(parts.path), base.as_posix())
    return quote(relative) + (f"#{parts.fragment}" if parts.fragment else "")


MINIMUM_DPI = 300


def image_resolutions(pages, rendered: RenderedBook) -> dict[str, float]:
    """The lowest resolution (dpi) at which each raster image of the laid-out ``pages`` prints, by href."""
    assets = {asset.href: asset for asset in rendered.book.assets}
    worst: dict[str, float] = {}
    for page in pages:
        for element, width, height in weasy.replaced_boxes(page):
            asset = assets.get(element.get("src", ""))
            if asset is None or asset.media_type == "image/svg+xml":
                continue
            pixels = _pixel_size(rendered, asset.path)
            if pixels is None:
                continue
            dpi = min(pixels[0] / (width / 96), pixels[1] / (height / 96))
            worst[asset.href] = min(dpi, worst.get(asset.href, dpi))
    return worst


def _pixel_size(rendered: RenderedBook, path: Path) -> tuple[int, int] | None:
    """An image file's size in pixels (Pillow), or None when it cannot be read."""
    try:
        with Image.open(BytesIO(read_confined(rendered.config.project, path))) as image:
            return image.size
    except (OSError, RefusedFetch, UnidentifiedImageError):
        return None


def stylesheets_for(context: LayoutContext) -> list:
    """The project's print.css and zinepress's page rules, as WeasyPrint stylesheets."""
    css = context.print_css
    with watched(context, reading=css.path):
        sheets = [weasy.CSS(string=css.text, base_url=str(css.path), url_fetcher=context.fetcher)]
    with watched(context):
        sheets.append(weasy.CSS(string=context.page_css, url_fetcher=context.fetcher))
    return sheets

