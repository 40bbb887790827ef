"""``RenderedBook`` → the print edition laid out part by part: each part's PDF, folios and page starts.

WeasyPrint's layout is the cost of a build. The print HTML is split at its top-level
sections into parts: the front matter (everything before the first chapter), then one
part per section. Forked workers (one per CPU) lay the parts out in book order, side by
side; each part is written as its own ``pdf/ua-1`` file (with the bleed) as soon as its
place in the book is known, and freed, so no process holds more than a few chapters. The
part PDFs are joined afterwards (``joining.py``). With one CPU, or where forking is not
safe, the same run happens in this process.

What makes the parts add up to the book laid out whole:

* **Neighbours.** Each part holds an empty copy ("ghost") of the section before it and of
  the one after it, so selectors such as ``.toc + .chapter`` and the section's own
  ``break-before`` behave as in the whole book. The pages before the part's first section
  are dropped; the pages up to the next section's ghost are kept, so a blank verso before
  a chapter that opens on a right-hand page belongs to the part before it.
* **Folios.** A part's place follows from the parts before it: its page counter is moved
  on by them, and WeasyPrint's margin boxes (folios, running heads) are made again with the
  moved counter. A stylesheet that shows the page count (``counter(pages)``) makes every
  part wait until all are laid out.
* **Sides.** A part starts on a right-hand page; one whose first page falls on a left-hand
  page of the book is laid out again starting on the left.
* **The contents.** The front matter is laid out first without its targets' numbers (its
  length and folios place the other parts), and last with them: for every link it holds
  to a later part, an empty placeholder page carries the target's page number, so
  ``target-counter()`` gives the real number; the placeholders are dropped.
* **Links across parts** keep working: a part names the anchors it links to on its first
  page ("borrowed" names), and the join keeps only each anchor's real place.

A book whose sections do not each start a new page, or whose stylesheet counts across parts
(pages to targets in other parts, footnotes numbered through the book), is laid out whole,
as one part.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import posixpath
import re
import sys
import threading
import traceback
from dataclasses import dataclass, field
from html import escape
from io import BytesIO
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import lxml.html
from PIL import Image, UnidentifiedImageError
from weasyprint import CSS, HTML
from weasyprint import layout as weasy_layout
from weasyprint.formatting_structure import boxes
from weasyprint.formatting_structure.boxes import ReplacedBox
from weasyprint.layout.background import layout_backgrounds

from ..errors import Diagnostics, Problem, ProjectError
from ..fetch import RefusedFetch, read_confined
from ..gutter import PAGE_CSS_KEY, gutter_css, settle_gutter
from ..render import RenderedBook
from ..stylesheets import check_stylesheet, stylesheet_path, stylesheet_text
from . import pagelist
from .base import BuildSession
from .watch import fetcher, watched

LEAD_GHOST = "zinepress-lead-ghost"
TRAIL_GHOST = "zinepress-trail-ghost"
PLACEHOLDER_PAGE = "zinepress-target"
MAX_SIDE_ROUNDS = 3

_make_margin_boxes = weasy_layout.make_margin_boxes
_recording: list | None = None


def _recording_margin_boxes(context, page, state):
    """WeasyPrint's own ``make_margin_boxes``, remembering what it needs to make them again."""
    if _recording is not None:
        _recording.append((context, page, copy.deepcopy(state)))
    return _make_margin_boxes(context, page, state)


weasy_layout.make_margin_boxes = _recording_margin_boxes


# ---------------------------------------------------------------- the parts


@dataclass(frozen=True)
class Part:
    """One part of the print HTML: a whole HTML document with its ghosts, ready for WeasyPrint."""

    index: int
    html: str
    section_ids: tuple[str, ...]  # ids of the book's sections it holds
    links_out: tuple[str, ...] = ()  # ids it links to that live in other parts
    size: int = 0  # a measure of its work (characters), to share the parts between workers
    extra_css: str = ""  # rules for this part alone (the front matter's placeholder pages)
    ids: tuple[str, ...] = ()  # every id its sections hold


def split(rendered: RenderedBook) -> list[Part]:
    """The print HTML as parts: the front matter, then one per top-level section; one part when it cannot split."""
    document = lxml.html.document_fromstring(rendered.print_html)
    body = document.find("body")
    chapters = rendered.book.chapters
    sections = list(body) if body is not None else []
    if (not sections or not chapters or (body.text or "").strip()
            or any(not isinstance(section.tag, str) or (section.tail or "").strip() for section in sections)):
        return [split_whole(rendered)]
    first = next((index for index, section in enumerate(sections) if section.get("id") == chapters[0].slug), None)
    if not first:
        return [split_whole(rendered)]
    groups = [sections[:first]] + [[section] for section in sections[first:]]
    for number, group in enumerate(groups):
        if group[0].get("id") is None:
            group[0].set("id", f"zinepress-part-{number}")
    owner = {}
    for number, group in enumerate(groups):
        for section in group:
            for element_id in section.xpath(".//@id | @id"):
                owner.setdefault(element_id, number)
    shell = _empty_shell(document)
    parts = []
    for number, group in enumerate(groups):
        before = groups[number - 1][-1] if number else None
        after = groups[number + 1][0] if number + 1 < len(groups) else None
        links = sorted({target for section in group for target in _internal_links(section)
                        if owner.get(target, number) != number})
        html = _part_html(shell, group, before, after)
        ids = tuple(sorted(element_id for element_id, owned_by in owner.items() if owned_by == number))
        parts.append(Part(number, html, tuple(element.get("id") for element in group), tuple(links), len(html),
                          ids=ids))
    return parts


def _internal_links(element) -> list[str]:
    return [href[1:] for href in element.xpath(".//a/@href") if href.startswith("#") and len(href) > 1]


def _ghost(section, ghost_id: str):
    """An empty copy of ``section``: same element and attributes, no content, its own id."""
    attributes = "".join(f' {name}="{escape(value, quote=True)}"' for name, value in section.attrib.items()
                         if name not in ("id", "aria-labelledby", "style"))
    return lxml.html.fragment_fromstring(f'<{section.tag}{attributes} id="{ghost_id}"></{section.tag}>')


def _empty_shell(document):
    """A copy of the print document with an empty body, to fill with one part."""
    body = document.find("body")
    sections = list(body)
    for section in sections:
        body.remove(section)
    shell = copy.deepcopy(document)
    body.extend(sections)
    shell.find("body").text = "\n"
    return shell


def _part_html(shell, group, before, after) -> str:
    """One part as a whole HTML document: ``group`` between ghosts of its neighbours."""
    part = copy.deepcopy(shell)
    body = part.find("body")
    if before is not None:
        body.append(_ghost(before, LEAD_GHOST))
    for section in group:
        body.append(copy.deepcopy(section))
    if after is not None:
        body.append(_ghost(after, TRAIL_GHOST))
    for child in body:
        child.tail = "\n"
    return lxml.html.tostring(part, doctype="<!DOCTYPE html>", encoding="unicode")


# ---------------------------------------------------------------- laying out one part


@dataclass
class Facts:
    """What the parent needs from a laid-out part to place it in the book (small, picklable)."""

    index: int
    kept: int  # pages of the part in the book
    values: list[int]  # the page counter on each kept page, as laid out
    reset: list[bool]  # whether the page counter was reset (or set) in the part by that page
    before: int  # the page counter on the page before the first kept one (0 if none)
    first_left: bool  # the first kept page is a left-hand page
    anchors: dict[str, int]  # id → kept page index
    splits: bool  # the part's sections start and end on pages of their own
    dpi: dict[str, float]  # worst print resolution per image href
    warnings: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Placement:
    """Where the parent puts a part: the counter shift for its pages, and the book's page count."""

    shift: int
    total: int | None  # None when no stylesheet shows the page count (the parts are then written as they come)


@dataclass
class Written:
    """A part's finished results."""

    index: int
    pdf: bytes | None
    borrowed: tuple[str, ...]
    starts: list[tuple[int, pagelist.PageStart]]  # (kept page index, where it starts)
    folios: list[str]
    warnings: list[Problem] = field(default_factory=list)


class PartLayout:
    """One part laid out by WeasyPrint in this process, kept until it is written."""

    def __init__(self, part: Part, rendered: RenderedBook, session: BuildSession, stylesheets):
        global _recording
        self.part = part
        self.rendered = rendered
        self.session = session
        _recording = self.records = []
        if part.extra_css:
            stylesheets = [*stylesheets, CSS(string=part.extra_css)]
        try:
            with watched(rendered, session):
                html = HTML(string=part.html, base_url=str(rendered.config.manuscript) + "/",
                            url_fetcher=fetcher(rendered, session))
                self.document = html.render(stylesheets=stylesheets)
        finally:
            _recording = None
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
            style = page._page_box.style
            seen = number >= self.first and (seen or any(
                name == "page" for name, _ in (*style["counter_reset"], *style["counter_set"])))
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
            first_left=first_page is not None and first_page._page_box.page_type.side == "left",
            anchors=anchors, splits=self.splits, dpi=image_resolutions(self.kept, self.rendered),
            warnings=list(self.session.diagnostics.warnings))

    def write(self, placement: Placement, pdf: bool, body_sections: list[str], first_body: str,
              anchors: frozenset[str] = frozenset()) -> Written:
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
                _remake_margin_boxes(context, page_box, state, number)
        folios = _folio_strings(facts_values, [pagelist._folio_style(page._page_box) for page in self.kept])
        starts = pagelist.page_starts(self.kept, body_sections, first_body, self.part.index > 0)
        data, borrowed = None, ()
        if pdf:
            data, borrowed = self._pdf(anchors)
        return Written(self.part.index, data, borrowed, starts, folios, list(self.session.diagnostics.warnings))

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
        stamp = self.session.source_date.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        document.metadata.created = document.metadata.modified = stamp
        document.metadata.lang = self.rendered.config.language
        with watched(self.rendered, self.session):
            data = document.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=pdf_identifier(self.rendered))
        return data, borrowed


def _has_content(page) -> bool:
    return any(True for _ in pagelist._content_boxes(page._page_box))


def _remake_margin_boxes(context, page_box, state, number: int) -> None:
    """Replace a page's margin boxes by ones made with ``state`` (moved counters)."""
    context.current_page = number + 1
    kept = [child for child in page_box.children if not isinstance(child, boxes.MarginBox)]
    page_box.children = tuple(kept) + tuple(_make_margin_boxes(context, page_box, state))
    layout_backgrounds(page_box, context.get_image_from_uri)


def _folio_strings(values: list[int], styles: list[str | None]) -> list[str]:
    """Each page's folio in the counter style it prints (or its neighbours print)."""
    known = [style for style in styles if style]
    fallback = known[0] if known else "decimal"
    result, last = [], None
    for value, style in zip(values, styles):
        last = style or last
        result.append(pagelist.format_counter(value, style or last or fallback))
    return result


# ---------------------------------------------------------------- page rules, links, images


def pdf_identifier(rendered: RenderedBook) -> bytes:
    """A stable PDF /ID from the book's identifier, so builds are reproducible."""
    return hashlib.md5(rendered.config.identifier.encode("utf-8")).hexdigest().encode("ascii")  # noqa: S324


MARGIN_BOXES = ("top-left-corner", "top-left", "top-center", "top-right", "top-right-corner", "right-top",
                "right-middle", "right-bottom", "bottom-right-corner", "bottom-right", "bottom-center",
                "bottom-left", "bottom-left-corner", "left-bottom", "left-middle", "left-top")


def cover_css(height_mm: float, ground: str) -> str:
    """The cover alone on the first page, without running heads or folio.

    The image is fitted whole within the trim; the page around it, bleed included, takes
    the colour of the cover's edge, so the cover runs to the edge without being cropped.
    """
    blank = " ".join(f"@{name} {{ content: none; }}" for name in MARGIN_BOXES)
    return (f"@page zinepress-cover {{ margin: 0; background: {ground}; {blank} }}\n"
            "section.cover { page: zinepress-cover; break-after: page; margin: 0; padding: 0; }\n"
            f"section.cover img {{ display: block; width: 100%; height: {height_mm}mm; max-width: none; "
            "object-fit: contain; margin: 0; }")


def cover_ground(cover) -> str:
    """The colour of the cover image's top-left corner, as CSS."""
    with Image.open(BytesIO(cover.data)) as image:
        red, green, blue = image.convert("RGB").getpixel((0, 0))
    return f"#{red:02x}{green:02x}{blue:02x}"


def page_css(rendered: RenderedBook) -> str:
    """The trim size, the cover page and font choices from book.toml, as CSS."""
    settings = rendered.config.print
    rules = [f"@page {{ size: {settings.trim_width}mm {settings.trim_height}mm; "
             f"bleed: {settings.bleed}mm; marks: none; }}"]
    width, height = settings.trim_width + 2 * settings.bleed, settings.trim_height + 2 * settings.bleed
    rules.append(f".full-bleed {{ margin: -{settings.bleed}mm; width: {width}mm; height: {height}mm; }}")
    rules.append(cover_css(settings.trim_height, cover_ground(rendered.cover)))
    fonts = rendered.config.fonts
    if fonts.body:
        rules.append(f"body {{ font-family: {fonts.body}; }}")
    if fonts.headings:
        rules.append(f"h1, h2, h3, h4, h5, h6 {{ font-family: {fonts.headings}; }}")
    if fonts.code:
        rules.append(f"code, pre, kbd, samp {{ font-family: {fonts.code}; }}")
    return "\n".join(rules)


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
        for box in page._page_box.descendants():
            if not isinstance(box, ReplacedBox) or box.element is None or box.width <= 0:
                continue
            asset = assets.get(box.element.get("src", ""))
            if asset is None or asset.media_type == "image/svg+xml":
                continue
            pixels = _pixel_size(rendered, asset.path)
            if pixels is None:
                continue
            dpi = min(pixels[0] / (box.width / 96), pixels[1] / (box.height / 96))
            worst[asset.href] = min(dpi, worst.get(asset.href, dpi))
    return worst


def _pixel_size(rendered: RenderedBook, path: Path) -> tuple[int, int] | None:
    """An image file's size in pixels (Pillow), or None when it cannot be read."""
    try:
        with Image.open(BytesIO(read_confined(rendered.config.project, path))) as image:
            return image.size
    except (OSError, RefusedFetch, UnidentifiedImageError):
        return None


# ---------------------------------------------------------------- workers


def page_rules(rendered: RenderedBook, session: BuildSession) -> str:
    """:func:`page_css` once per build (the cover's ground colour is read from the decoded cover)."""
    return session.once(PAGE_CSS_KEY, lambda: "\n".join(filter(None, (
        page_css(rendered), gutter_css(rendered.config, session.cache)))))


def stylesheets_for(rendered: RenderedBook, session: BuildSession) -> list:
    """The project's print.css and zinepress's page rules, as WeasyPrint stylesheets."""
    config = rendered.config
    confined = fetcher(rendered, session)
    css_path = stylesheet_path(config.project, "print.css")
    check_stylesheet(config.project, css_path)
    with watched(rendered, session, reading=css_path):
        sheets = [CSS(string=stylesheet_text(config.project, css_path), base_url=str(css_path),
                      url_fetcher=confined)]
    with watched(rendered, session):
        sheets.append(CSS(string=page_rules(rendered, session), url_fetcher=confined))
    return sheets


def _quiet_session(session: BuildSession) -> BuildSession:
    """A session like ``session`` whose warnings stay apart (each part reports its own)."""
    quiet = BuildSession(session.rendered, session.source_date, Diagnostics(), session.formats)
    quiet.cache = {key: value for key, value in session.cache.items() if key == "weasyprint-fetcher"}
    return quiet


# ---------------------------------------------------------------- streams: parts laid out and written as they come


class LocalStream:
    """Parts laid out one after another in this process (one CPU, or no fork), answering as a Stream does."""

    def __init__(self, parts: list[Part], rendered: RenderedBook, session: BuildSession, stylesheets):
        self.rendered, self.session, self.stylesheets = rendered, session, stylesheets
        self.queue, self.held, self.outbox = list(parts), {}, []

    def send(self, index: int, message) -> None:
        kind, value = message
        if kind == "layout":
            self.queue.insert(0, value)
        else:
            index, placement, pdf, body_sections, first_body, anchors = value
            self.outbox.append(("written", self.held.pop(index).write(placement, pdf, body_sections, first_body,
                                                                      anchors)))

    def receive(self):
        if self.outbox:
            return self.outbox.pop(0)
        part = self.queue.pop(0)
        self.held[part.index] = PartLayout(part, self.rendered, _quiet_session(self.session), self.stylesheets)
        return "facts", self.held[part.index].facts()

    def close(self) -> None:
        self.held.clear()


class Stream:
    """Forked workers that lay out parts in book order and write each one as soon as its place is known.

    The parts are dealt out in turn, so the workers move through the book side by side; a
    worker holds only the parts it has laid out and not yet written, not half the book.
    """

    def __init__(self, parts: list[Part], workers: int, rendered, session, stylesheets):
        context = multiprocessing.get_context("fork")
        shares = [parts[start::workers] for start in range(workers)]
        self.channels, self.holder, self.processes = [], {}, []
        for share in shares:
            mine, theirs = context.Pipe()
            process = context.Process(target=_stream, args=(theirs, share, rendered, session, stylesheets),
                                      daemon=True)
            process.start()
            theirs.close()
            for part in share:
                self.holder[part.index] = len(self.channels)
            self.channels.append(mine)
            self.processes.append(process)

    def send(self, index: int, message) -> None:
        """Send ``message`` to the worker that holds (or is to lay out) part ``index``."""
        worker = self.holder.setdefault(index, index % len(self.channels))
        self.channels[worker].send_bytes(pickle.dumps(message))

    def receive(self):
        """The next (kind, value) any worker reports: ("facts", Facts) or ("written", Written)."""
        ready = multiprocessing.connection.wait(self.channels)
        try:
            kind, value = pickle.loads(ready[0].recv_bytes())
        except EOFError:
            raise RuntimeError("a layout worker stopped unexpectedly") from None
        if kind == "error":
            raise ProjectError("", problems=value)
        if kind == "crash":
            raise RuntimeError(value)
        return kind, value

    def close(self) -> None:
        for channel in self.channels:
            try:
                channel.send_bytes(pickle.dumps(("stop", None)))
            except OSError:
                pass
            channel.close()
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
        self.channels, self.processes = [], []


def _stream(channel, share: list[Part], rendered, session, stylesheets) -> None:
    """A worker: a LocalStream of its parts, laying them out in order and answering the parent's messages
    (write a part at its place, lay a part out again) between layouts."""
    logging.getLogger("weasyprint").propagate = False
    local = LocalStream(share, rendered, session, stylesheets)
    try:
        while True:
            while channel.poll() or not local.queue:
                kind, value = pickle.loads(channel.recv_bytes())
                if kind == "write":
                    local.send(value[0], (kind, value))
                    channel.send_bytes(pickle.dumps(local.receive()))
                elif kind == "layout":
                    local.send(value.index, (kind, value))
                else:
                    return
            channel.send_bytes(pickle.dumps(local.receive()))
    except ProjectError as error:
        channel.send_bytes(pickle.dumps(("error", error.problems)))
    except EOFError:
        return
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it as a bug
        channel.send_bytes(pickle.dumps(("crash", traceback.format_exc())))
    finally:
        channel.close()
        os._exit(0)


def _lay_out(parts: list[Part], rendered: RenderedBook, session: BuildSession, stylesheets, pdf: bool,
             cache: PartCache | None = None, hold: bool = False):
    """Lay out and write ``parts``; None when they turn out not to split the book cleanly (or the front
    matter's length changes), and the caller lays the book out whole.

    The front matter's length and folios come first, from a layout of it without its
    targets' numbers, made while the workers start; each later part's place then follows
    from the parts before it, and the part is written as soon as its place is known (all at
    the end when the stylesheet shows the page count). The contents are laid out last, with
    the real numbers. Parts an earlier build stored are taken from the cache.
    """
    return _Layout(parts, rendered, session, stylesheets, pdf, cache, hold).run()


class _Layout:
    """One run of :func:`_lay_out`: the parts' facts and results as they come in."""

    def __init__(self, parts, rendered, session, stylesheets, pdf, cache, hold):
        self.parts, self.rendered, self.session, self.stylesheets = parts, rendered, session, stylesheets
        self.pdf, self.cache, self.hold = pdf, cache, hold
        self.body_sections, self.first_body = _body(rendered)
        self.anchors = frozenset(name for part in parts for name in part.ids)
        self.current = {part.index: part for part in parts[1:]}
        self.workers = min(workers_wanted(), len(self.current))
        self.stream = None
        self.total: int | None = None
        self.facts: dict[int, Facts] = {}
        self.placements: dict[int, Placement] = {}
        self.written: dict[int, Written] = {}
        self.fresh: set[int] = set()
        self.awaiting: dict[int, Placement] = {}  # parts to lay out (again) before they are written
        self.in_stream: set[int] = set()  # parts whose current version the stream holds, laid out
        self.waiting = 0  # writes asked for and not yet answered

    def _open(self, parts: list[Part]):
        if self.stream is None:
            self.stream = (Stream(parts, self.workers, self.rendered, self.session, self.stylesheets)
                           if self.workers > 1 else LocalStream(parts, self.rendered, self.session, self.stylesheets))
        return self.stream

    def run(self):
        self.facts = _cached_facts(self.cache, self.current.values())
        if not all(fact.splits for fact in self.facts.values()):
            return None
        pending = [part for index, part in sorted(self.current.items()) if index not in self.facts]
        if pending:
            self._open(pending)
        fronts = FrontLayouts(self.rendered, self.session, self.stylesheets, self.cache)
        try:
            guess = fronts.facts(self.parts[0])
            if not guess.splits or not self._place_all(guess):
                return None
        finally:
            if self.stream is not None:
                self.stream.close()
        front = _numbered_front(self.parts[0], self.facts, self.placements, fronts, guess)
        if front is None:
            return None
        self.current[0], self.facts[0] = front
        self.placements[0] = Placement(0, self.total)
        stored = self.cache.written(self.current[0], self.placements[0], self.pdf) if self.cache else None
        if stored is None:
            stored = fronts.write(self.current[0], self.placements[0], self.pdf, self.body_sections,
                                  self.first_body, self.anchors)
            self.fresh.add(0)
        self.written[0] = stored
        defined = {name for fact in self.facts.values() for name in fact.anchors}
        if any(name not in defined for result in self.written.values() for name in result.borrowed):
            return None  # a link to an element that has no place on a page: the whole layout drops it
        if self.cache:
            for index in self.fresh:
                self.cache.store_written(self.current[index], self.placements[index], self.written[index])
        return _assemble(self.parts, self.facts, self.written, self.rendered, self.session)

    def _place_all(self, front: Facts) -> bool:
        """Place every later part in book order, writing each as its place is known; False when one does not split."""
        last, offset, flips = _last_counter(front), front.kept, {}
        order, position = sorted(self.current), 0
        while True:
            if position < len(order) and order[position] in self.facts:
                index = order[position]
                fact = self.facts[index]
                if not fact.splits:
                    return False
                if fact.kept and fact.first_left != (offset % 2 == 1):
                    flips[index] = flips.get(index, 0) + 1
                    if flips[index] > MAX_SIDE_ROUNDS:
                        return False
                    self._flip(index)
                    continue
                self.placements[index] = Placement(last - fact.before, None)
                if not self.hold:
                    self._write(index)
                if fact.kept:
                    last = fact.values[-1] + (0 if fact.reset[-1] else self.placements[index].shift)
                offset += fact.kept
                position += 1
            elif position == len(order) and self.hold and self.total is None:
                self.total = offset
                for index in order:
                    self.placements[index] = dataclasses.replace(self.placements[index], total=self.total)
                    self._write(index)
            elif position == len(order) and not self.waiting and not self.awaiting:
                return True
            else:
                self._receive()

    def _flip(self, index: int) -> None:
        """Lay part ``index`` out again, starting on the other side."""
        part = dataclasses.replace(self.current[index], html=_flip_start(self.current[index]))
        self.current[index] = part
        del self.facts[index]
        self.in_stream.discard(index)
        known = _cached_facts(self.cache, [part])
        if known:
            self.facts.update(known)
        else:
            self._open([]).send(index, ("layout", part))

    def _write(self, index: int) -> None:
        """Have part ``index`` written at its place: from the cache, by the stream, or laid out first."""
        placement = self.placements[index]
        stored = self.cache.written(self.current[index], placement, self.pdf) if self.cache else None
        if stored is not None:
            self.written[index] = stored
        elif index in self.in_stream:
            self.stream.send(index, ("write", (index, placement, self.pdf, self.body_sections, self.first_body,
                                               self.anchors)))
            self.waiting += 1
        else:
            self.awaiting[index] = placement
            self._open([]).send(index, ("layout", self.current[index]))

    def _receive(self) -> None:
        kind, value = self.stream.receive()
        if kind == "facts":
            self.facts[value.index] = value
            self.in_stream.add(value.index)
            if self.cache:
                self.cache.store_facts(self.current[value.index], value)
            if value.index in self.awaiting:
                del self.awaiting[value.index]
                self._write(value.index)
        else:
            self.written[value.index] = value
            self.fresh.add(value.index)
            self.waiting -= 1


# ---------------------------------------------------------------- the cache


class PartCache:
    """Parts laid out by earlier builds, in the project's cache (``layout/``).

    A part's facts are found by the hash of its HTML, the stylesheets, the files they and
    the chapters use, the source date and zinepress's fingerprint; its written PDF and page
    starts also by its place in the book (counter shift and page count). Only the entries
    of the latest build are kept.
    """

    def __init__(self, store, rendered: RenderedBook, session: BuildSession):
        from ..cache import INPUT_FOLDERS, _font_folders, _walk, file_digest, tool_fingerprint
        self.store = store
        self.folder = store.folder / "layout"
        config = rendered.config
        digest = hashlib.sha256(f"{tool_fingerprint()}\n{_font_folders()}\n{session.source_date.isoformat()}\n"
                                f"{config.identifier}\n{config.language}\n{page_rules(rendered, session)}\n".encode())
        css_path = stylesheet_path(config.project, "print.css")
        files = [path for folder in INPUT_FOLDERS for path in _walk(config.project / folder, (store.folder,))
                 if path.suffix.lower() not in (".md", ".markdown")]  # chapters are in the parts' HTML
        files += [reference.path for reference in check_stylesheet(config.project, css_path)]
        for path in files:
            try:
                digest.update(f"{path}\0{file_digest(path)}\n".encode())
            except OSError:
                digest.update(f"{path}\0-\n".encode())
        self.base = digest.hexdigest()
        self.used: set[str] = set()

    def _key(self, part: Part) -> str:
        key = hashlib.sha256(f"{self.base}\n{part.extra_css}\n{part.html}".encode()).hexdigest()
        self.used.add(key)
        return key

    def _read(self, name: str) -> bytes | None:
        try:
            return (self.folder / name).read_bytes()
        except OSError:
            return None

    def _write(self, name: str, data: bytes) -> None:
        from ..atomic import write_atomically
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(self.folder / name, data)
        except OSError:
            pass  # not kept (a read-only project): laid out again next time

    def facts(self, part: Part) -> Facts | None:
        """The stored facts of ``part``; None when there are none (or they cannot be read)."""
        data = self._read(f"{self._key(part)}.facts.json")
        try:
            record = json.loads(data)
            record["warnings"] = [self.store._problem(problem) for problem in record["warnings"]]
            return Facts(**{**record, "index": part.index})
        except (TypeError, ValueError, KeyError):
            return None

    def written(self, part: Part, placement: Placement, pdf: bool) -> Written | None:
        """The stored PDF and page starts of ``part`` at its place; None when not stored (or damaged)."""
        name = f"{self._key(part)}-{placement.shift}-{placement.total}"
        try:
            record = json.loads(self._read(f"{name}.json"))
            document = self._read(f"{name}.pdf") if record["pdf"] else None
            if pdf and document is None:
                return None
            return Written(part.index, document, tuple(record["borrowed"]),
                           [(page, pagelist.PageStart(**start)) for page, start in record["starts"]],
                           record["folios"], [self.store._problem(problem) for problem in record["warnings"]])
        except (TypeError, ValueError, KeyError):
            return None

    def store_facts(self, part: Part, facts: Facts) -> None:
        record = dataclasses.asdict(facts)
        record["warnings"] = [self.store._record(problem) for problem in facts.warnings]
        self._write(f"{self._key(part)}.facts.json", json.dumps(record).encode())

    def store_written(self, part: Part, placement: Placement, written: Written) -> None:
        name = f"{self._key(part)}-{placement.shift}-{placement.total}"
        if written.pdf is not None:
            self._write(f"{name}.pdf", written.pdf)
        self._write(f"{name}.json", json.dumps({
            "pdf": written.pdf is not None, "borrowed": list(written.borrowed),
            "starts": [[page, dataclasses.asdict(start)] for page, start in written.starts],
            "folios": written.folios, "warnings": [self.store._record(problem) for problem in written.warnings],
        }).encode())

    def keep_used(self) -> None:
        """Drop the entries this build did not look up or store."""
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if path.name.split(".")[0].split("-")[0] not in self.used:
                path.unlink(missing_ok=True)


# ---------------------------------------------------------------- the book


@dataclass
class PagedBook:
    """The laid-out print edition: part PDFs in order and what the other writers need."""

    parts: list[bytes | None]
    borrowed: list[tuple[str, ...]]
    page_starts: list[pagelist.PageStart]
    first_body: int  # index of the first chapter's first page
    pages: int
    folios: list[str] = dataclasses.field(default_factory=list)


def workers_wanted() -> int:
    """Worker processes for the layout: one per CPU this process may use, when it may fork.

    Only on Linux, and only from the main thread (a preview server builds in a thread):
    forking a process that runs Pango is not safe elsewhere.
    """
    if threading.current_thread() is not threading.main_thread() or not sys.platform.startswith("linux"):
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return cpus if cpus > 1 else 0


def paged_book(rendered: RenderedBook, session: BuildSession, pdf: bool = True) -> PagedBook:
    """The print edition laid out (once per build, shared by the PDF writers and the EPUB's page list)."""
    key = "paged-book"
    if key in session.cache and (not pdf or session.cache[key].parts[0] is not None):
        return session.cache[key]
    pdf = pdf or any(name in session.formats for name in ("pdf", "print", "zine"))
    session.cache[key] = settle_gutter(rendered.config, session, lambda: _paged_book(rendered, session, pdf))
    return session.cache[key]


def _paged_book(rendered: RenderedBook, session: BuildSession, pdf: bool) -> PagedBook:
    stylesheets = stylesheets_for(rendered, session)
    cache = PartCache(session.store, rendered, session) if session.store else None
    css = stylesheet_text(rendered.config.project, stylesheet_path(rendered.config.project, "print.css"))
    hold = _shows_page_count(css)
    parts = split(rendered)
    if len(parts) > 1 and _counts_across_parts(parts, css):
        parts = [split_whole(rendered)]
    result = _lay_out(parts, rendered, session, stylesheets, pdf, cache, hold)
    if result is None:
        result = _lay_out([split_whole(rendered)], rendered, session, stylesheets, pdf, cache, hold)
    if cache:
        cache.keep_used()
    return result


def _shows_page_count(css: str) -> bool:
    """Whether the print stylesheet ``css`` may show the book's page count (``counter(pages)``): every
    part must then wait until all are laid out before it is written."""
    return re.search(r"counters?\(\s*pages\b", css) is not None


def split_whole(rendered: RenderedBook) -> Part:
    return Part(0, rendered.print_html, (), (), len(rendered.print_html))


def _counts_across_parts(parts: list[Part], css: str) -> bool:
    """Whether the book numbers something through parts that a part cannot know before it is laid out:
    pages to targets in other parts (``target-counter()`` outside the front matter), or footnotes
    numbered through the book (``float: footnote`` without a ``counter-reset`` of ``footnote``)."""
    if "target-" in css and any(part.links_out for part in parts[1:]):
        return True
    through = (re.search(r"float\s*:\s*footnote", css) is not None
               and re.search(r"counter-reset\s*:[^;}]*\bfootnote\b", css) is None)
    return through and sum('class="footnote-note"' in part.html for part in parts) > 1


def _body(rendered: RenderedBook) -> tuple[list[str], str | None]:
    body = [document.id for document in rendered.epub_documents if document.kind in pagelist.BODY_KINDS]
    first = next((document.id for document in rendered.epub_documents if document.kind == "chapter"), None)
    return body, first


def _assemble(parts: list[Part], facts: dict[int, Facts], written: dict[int, Written], rendered: RenderedBook,
              session: BuildSession) -> PagedBook:
    """The laid-out book from its parts' facts and results; their warnings reported once."""
    for index in sorted(facts):
        for warning in facts[index].warnings + written[index].warnings:
            session.diagnostics.warnings.append(warning)
    _warn_low_resolution(facts, rendered, session)
    _dedupe_warnings(session)
    offsets, offset = {}, 0
    for index in sorted(facts):
        offsets[index] = offset
        offset += facts[index].kept
    starts = [start for index in sorted(written) for _, start in _with_folios(written[index])]
    return PagedBook(parts=[written[index].pdf for index in sorted(written)],
                     borrowed=[written[index].borrowed for index in sorted(written)],
                     page_starts=starts,
                     first_body=offsets[1] if len(parts) > 1 else _first_body_in(facts[0], rendered),
                     pages=offset,
                     folios=[folio for index in sorted(written) for folio in written[index].folios])


def _last_counter(facts: Facts) -> int:
    """The page counter on a part's last page, as laid out (the front matter is not moved)."""
    return facts.values[-1] if facts.kept else facts.before


def _cached_facts(cache, parts) -> dict[int, Facts]:
    if cache is None:
        return {}
    return {part.index: found for part in parts if (found := cache.facts(part)) is not None}


def _with_folios(written: Written):
    for page, start in written.starts:
        yield page, dataclasses.replace(start, folio=written.folios[page])


def _first_body_in(facts: Facts, rendered: RenderedBook) -> int:
    chapters = rendered.book.chapters
    return facts.anchors.get(chapters[0].slug, 0) if chapters else 0


START_LEFT = '<html style="break-before: left" '


def _flip_start(part: Part) -> str:
    """The part's HTML with its first page on the other side (WeasyPrint reads the side from the root's break)."""
    if part.html.find(START_LEFT) >= 0:
        return part.html.replace(START_LEFT, "<html ", 1)
    return part.html.replace("<html ", START_LEFT, 1)


class FrontLayouts:
    """The front matter's layouts, made in this process (it is small), kept until one is written."""

    def __init__(self, rendered: RenderedBook, session: BuildSession, stylesheets, cache: PartCache | None):
        self.rendered, self.session, self.stylesheets, self.cache = rendered, session, stylesheets, cache
        self.layouts: dict[Part, PartLayout] = {}

    def _lay_out(self, placed: Part) -> PartLayout:
        if placed not in self.layouts:
            self.layouts[placed] = PartLayout(placed, self.rendered, _quiet_session(self.session), self.stylesheets)
        return self.layouts[placed]

    def facts(self, placed: Part) -> Facts:
        """The facts of the front matter as ``placed``: from the cache, or laid out here."""
        found = self.cache.facts(placed) if self.cache else None
        if found is None:
            found = self._lay_out(placed).facts()
            if self.cache:
                self.cache.store_facts(placed, found)
        return found

    def write(self, placed: Part, placement: Placement, pdf: bool, body_sections, first_body, anchors) -> Written:
        return self._lay_out(placed).write(placement, pdf, body_sections, first_body, anchors)


def _numbered_front(front: Part, facts: dict[int, Facts], placements: dict[int, Placement], fronts: FrontLayouts,
                    guess: Facts):
    """The front matter laid out with the page numbers of its links' targets: (part, facts).

    None when it does not split, or when the numbers change its length or its last folio:
    the other parts were placed after ``guess``, its layout without the numbers.
    """
    html, extra = _with_placeholders(front, _target_numbers(front, facts, placements))
    placed = dataclasses.replace(front, html=html, extra_css=extra)
    found = fronts.facts(placed)
    if not found.splits or (found.kept, _last_counter(found)) != (guess.kept, _last_counter(guess)):
        return None
    return placed, found


def _target_numbers(front: Part, facts: dict[int, Facts], placements: dict[int, Placement]) -> dict[str, int]:
    """The page counter of each page the front matter links to, where it falls in the book."""
    numbers = {}
    for target in front.links_out:
        for index in sorted(facts):
            fact = facts[index]
            if target in fact.anchors:
                page = fact.anchors[target]
                numbers[target] = fact.values[page] + (0 if fact.reset[page] else placements[index].shift)
                break
    return numbers


def _with_placeholders(front: Part, numbers: dict[str, int]) -> tuple[str, str]:
    """The front part's HTML with a placeholder page per link target, and the CSS that numbers them."""
    if not numbers:
        return front.html, ""
    divs, rules = [], []
    for number, (target, value) in enumerate(sorted(numbers.items())):
        name = f"{PLACEHOLDER_PAGE}-{number}"
        divs.append(f'<div id="{target}" style="page: {name}; break-before: page"></div>')
        rules.append(f"@page {name} {{ counter-reset: page {value}; }}")
    closing = front.html.rindex("</body>")
    return front.html[:closing] + "\n".join(divs) + front.html[closing:], "\n".join(rules)


def _warn_low_resolution(facts: dict[int, Facts], rendered: RenderedBook, session: BuildSession) -> None:
    worst: dict[str, float] = {}
    for fact in facts.values():
        for href, dpi in fact.dpi.items():
            worst[href] = min(dpi, worst.get(href, dpi))
    for href, dpi in sorted(worst.items()):
        if dpi < MINIMUM_DPI:
            session.diagnostics.warn(f"image '{href}' prints at {dpi:.0f} dpi, under {MINIMUM_DPI} dpi: "
                                     "use a larger image or print it smaller", rendered.config.manuscript / href)


def _dedupe_warnings(session: BuildSession) -> None:
    seen, unique = set(), []
    for warning in session.diagnostics.warnings:
        key = (warning.message, str(warning.path), warning.line)
        if key not in seen:
            seen.add(key)
            unique.append(warning)
    session.diagnostics.warnings[:] = unique
