"""``RenderedBook`` → the zine's own pages: the print HTML laid out again, compactly, at the zine's page size.

The same rendered book, with ``styles/zine.css`` on top of ``print.css`` and zinepress's
rules for the format: the page size (half, quarter or eighth of the sheet) and margins that
keep at least 5 mm clear at every sheet edge once imposed; the body size and leading being tried; and
the room a chapter opening needs. Chapters run on: a chapter's ``::before`` is an empty
block one third of the page's text area tall, pulled back by a negative margin of the same
height, so it takes no room, yet WeasyPrint moves it (and the heading, which may not be
parted from it) to the next page exactly when less than a third of the page is left.

The cover is page 1 (the title page set as a cover, or the book's cover image); the
contents only when there are more than four chapters; the reader comments run on after the
last chapter; the colophon is the last page (the back cover). With ``cover = "separate"``
page 2 is left blank so the interior starts on page 3, and the cover sheet takes pages 1,
2 and the colophon.

The body size (and, for a short text, the leading) is fitted to the page count by
:mod:`.zinefit`, which lays out as few settings as it can, each at most once per build: each
layout tells it the page count, how far the text reaches into its last page and how tall the
text is, from which it predicts the other settings. WeasyPrint's public API is used
(``HTML``, ``CSS``, ``render``, ``write_pdf``), taken from the paged package's adapter with the
project-confined URL fetcher and the log capture of the print layout; how full a page is
(:func:`.paged.weasy.flow_fill`) the adapter reads from the page's boxes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from html import escape

import lxml.html

from .errors import Diagnostics, Problem, ProjectError
from .render import RenderedBook
from .writers.base import BuildSession
from .paged.context import writer_context
from .paged.watch import watched
from .paged.weasy import CSS, HTML, flow_fill
from .zinefit import Fit, NoFit, Pages, Search, Setting, setting_grid
from .zinesettings import ZineSettings

ZINE_STYLESHEETS = ("print.css", "zine.css")  # zine.css on top of print.css
CONTENTS_FROM_CHAPTERS = 5  # the contents are shown only for more than four chapters
BASE_LEADING = 1.32  # the body's line height, in ems
WIDEST_LEADING = 1.5  # the most a short text's leading opens to fill its pages
FRAMES = {"booklet": (2, 1), "quarter": (2, 2), "mini": (4, 2)}  # pages across, down the sheet side


@dataclass(frozen=True)
class PageGeometry:
    """A zine page's size and margins in mm (inner: the spine side)."""

    width: float
    height: float
    top: float
    bottom: float
    inner: float
    outer: float

    @property
    def text_height(self) -> float:
        return self.height - self.top - self.bottom


@dataclass(frozen=True)
class ZinePages:
    """The zine's pages laid out: their PDF at page size, the fit chosen, and the page geometry."""

    pdf: bytes
    fit: Fit
    geometry: PageGeometry
    total: int  # pages laid out, cover and colophon included


def sheet_side(settings: ZineSettings) -> tuple[float, float]:
    """The printed side of the sheet as width, height in mm: landscape, except the quarter's portrait."""
    width, height = settings.sheet_size
    return (width, height) if settings.format == "quarter" else (height, width)


def page_geometry(settings: ZineSettings) -> PageGeometry:
    """The page of the format: the sheet side split into its grid, margins in proportion (at least 6 mm)."""
    across, down = FRAMES[settings.format]
    side_width, side_height = sheet_side(settings)
    width, height = round(side_width / across, 3), round(side_height / down, 3)
    side = max(6.0, round(0.085 * width, 2))
    return PageGeometry(width, height, top=max(6.5, round(0.07 * height, 2)),
                        bottom=max(9.5, round(0.085 * height, 2)), inner=side, outer=side)


def zine_html(rendered: RenderedBook, settings: ZineSettings) -> str:
    """The print HTML made into the zine's: classes for the format, the cover page, contents only if due."""
    document = lxml.html.document_fromstring(rendered.print_html)
    classes = ["zine", f"zine-{settings.format}"] + (["zine-separate"] if settings.cover == "separate" else [])
    document.set("class", " ".join(classes))
    own_cover = rendered.config.cover is not None
    for section in document.xpath("//section[@id='cover']" if not own_cover else "//section[@id='titlepage']"):
        section.drop_tree()
    if len(rendered.book.chapters) < CONTENTS_FROM_CHAPTERS:
        for toc in document.xpath("//nav[@id='toc']"):
            toc.drop_tree()
    return lxml.html.tostring(document, encoding="unicode", doctype="<!DOCTYPE html>")


def zine_rules(rendered: RenderedBook, settings: ZineSettings, geometry: PageGeometry, setting: Setting) -> str:
    """zinepress's rules after zine.css: page size and margins, body size and leading, the chapter
    openings' room."""
    g = geometry
    third = round(g.text_height / 3, 3)
    rules = [f"@page {{ size: {g.width}mm {g.height}mm; margin: {g.top}mm {g.outer}mm {g.bottom}mm {g.inner}mm; }}",
             f"@page :left {{ margin-left: {g.outer}mm; margin-right: {g.inner}mm; }}",
             f"@page :right {{ margin-left: {g.inner}mm; margin-right: {g.outer}mm; }}",
             f"body {{ font-size: {setting.size}pt; line-height: {setting.leading}; }}",
             f".chapter::before, .comments::before {{ content: ''; display: block; height: {third}mm; "
             f"margin: 0 0 -{third}mm; }}",
             f"section.cover img {{ height: {round(g.text_height - 1, 3)}mm; }}"]
    if settings.cover == "separate":
        rules.append(".titlepage, section.cover { break-after: right; }")
    fonts = rendered.config.fonts
    for selector, family in (("body", fonts.body), ("h1, h2, h3, h4, h5, h6", fonts.headings),
                             ("code, pre, kbd, samp", fonts.code)):
        if family:
            rules.append(f"{selector} {{ font-family: {family}; }}")
    return "\n".join(rules)


class ZineLayout:
    """The zine laid out by WeasyPrint with one type setting or another, each setting once."""

    def __init__(self, rendered: RenderedBook, session: BuildSession):
        self.rendered, self.session = rendered, session
        self.context = writer_context(rendered, session)
        self.settings = rendered.config.zine
        self.geometry = page_geometry(self.settings)
        self.html = zine_html(rendered, self.settings)
        self.stylesheets = self._stylesheets()
        self.documents: dict[Setting, object] = {}
        self.warnings: dict[Setting, Diagnostics] = {}

    def _stylesheets(self) -> list:
        """print.css and zine.css, as the build read and checked them, parsed by WeasyPrint."""
        sheets = []
        for name in ZINE_STYLESHEETS:
            sheet = self.session.stylesheets[name]
            with watched(self.context, reading=sheet.path):
                sheets.append(CSS(string=sheet.text, base_url=str(sheet.path), url_fetcher=self.context.fetcher))
        return sheets

    def document(self, setting: Setting):
        """The zine laid out with the body text set at ``setting`` (kept for the build)."""
        if setting not in self.documents:
            quiet = self.context.quiet()  # the same confined fetcher; warnings kept apart per setting
            rules = CSS(string=zine_rules(self.rendered, self.settings, self.geometry, setting))
            with watched(quiet):
                html = HTML(string=self.html, base_url=str(self.rendered.config.manuscript) + "/",
                            url_fetcher=quiet.fetcher)
                self.documents[setting] = html.render(stylesheets=[*self.stylesheets, rules])
            self.warnings[setting] = quiet.diagnostics
        return self.documents[setting]

    def measure(self, setting: Setting) -> Pages:
        """The pages the booklet's count covers at ``setting`` (all, or the interior for a separate cover),
        how far the text reaches into the last of them, and the height of the text in pages."""
        pages = self.document(setting).pages
        separate = self.settings.cover == "separate"
        count = len(pages) - 3 if separate else len(pages)
        fills = [flow_fill(page) for page in pages[2 if separate else 1:-1]]  # after the cover, before the colophon
        return Pages(count, count - 1 + (fills[-1] if fills else 1.0), sum(fills), count - len(fills))

    def fit(self) -> Fit:
        """The body size and page count, as ``[zine] pages`` asks; an error at its line when none fits."""
        settings = self.settings
        low, high = settings.fit
        mini = settings.format == "mini"
        grid = setting_grid(low, high, BASE_LEADING, WIDEST_LEADING)
        search = Search(self.measure, grid, multiple=8 if mini else 4, minimum=8 if mini else 4)
        try:
            if mini:
                return search.exactly(8)
            return search.exactly(settings.pages) if settings.pages else search.auto()
        except NoFit as failure:
            raise ProjectError(no_fit_message(failure, settings), self.rendered.config.path,
                               settings.line("format" if mini else "pages")) from None

    def pdf(self, setting: Setting) -> bytes:
        """The pages laid out at ``setting`` as a PDF (reproducible: dates from the build, a stable /ID)."""
        document = self.document(setting)
        stamp = self.session.source_date.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        document.metadata.created = document.metadata.modified = stamp
        identifier = hashlib.md5(("zine:" + self.rendered.config.identifier).encode()).hexdigest()  # noqa: S324
        with watched(self.context):
            return document.write_pdf(pdf_identifier=identifier.encode("ascii"))


def no_fit_message(failure: NoFit, settings: ZineSettings) -> str:
    """Why the text does not fill the asked count, and which counts it would fill."""
    low, high = settings.fit
    fits = _counts_phrase(failure.fitting)
    if settings.format == "mini":
        return (f"the text needs {failure.fewest} pages even at {low:g}pt: a mini zine has 8; use format = "
                f"\"booklet\" or \"quarter\", or shorten the text")
    if failure.fewest is not None and failure.fewest > failure.pages:
        return (f"the text needs {failure.fewest} pages even at {low:g}pt, more than pages = {failure.pages}: "
                f"{fits}")
    if failure.most < failure.pages - 1:
        return (f"the text fills only {failure.most} pages at {high:g}pt, too few for pages = {failure.pages} "
                f"(at most one page is left blank): {fits}")
    return f"no body size from {low:g}pt to {high:g}pt fills pages = {failure.pages}: {fits}"


def _counts_phrase(counts: tuple[int, ...]) -> str:
    if not counts:
        return "no page count fits with at most one blank page; widen [zine] fit"
    words = [str(count) for count in counts]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"the text fits {listed} pages"


def zine_pages(rendered: RenderedBook, session: BuildSession) -> ZinePages:
    """The zine's pages, fitted to the count (once per build); the chosen layout's warnings are counted."""
    pages, warnings = zine_pages_apart(rendered, session)
    add_warnings(session, warnings)
    return pages


def zine_pages_apart(rendered: RenderedBook, session: BuildSession) -> tuple[ZinePages, list[Problem]]:
    """The zine's pages and the warnings of their layout, the session's own left untouched (a job that
    may run in another process: both pickle)."""
    apart = dataclasses.replace(session, diagnostics=Diagnostics())
    layout = ZineLayout(rendered, apart)
    fit = layout.fit()
    pdf = layout.pdf(fit.setting)
    pages = ZinePages(pdf, fit, layout.geometry, len(layout.document(fit.setting).pages))
    return pages, [*apart.diagnostics.warnings, *layout.warnings[fit.setting].warnings]


def add_warnings(session: BuildSession, warnings: list[Problem]) -> None:
    """Count ``warnings`` in the session's, each once."""
    known = {(p.message, p.path, p.line) for p in session.diagnostics.warnings}
    for problem in warnings:
        if (problem.message, problem.path, problem.line) not in known:
            known.add((problem.message, problem.path, problem.line))
            session.diagnostics.warnings.append(problem)


def instructions_pdf(rendered: RenderedBook, session: BuildSession, steps: tuple[str, ...],
                     size: tuple[float, float]) -> bytes:
    """One page of the sheet's size with the printing instructions, to print on its own."""
    items = "".join(f"<li>{escape(step)}</li>" for step in steps)
    html = (f"<!DOCTYPE html><html lang='en'><head><title>{escape(rendered.config.title)}: printing</title></head>"
            f"<body><h1>Printing and folding <cite>{escape(rendered.config.title)}</cite></h1><ol>{items}</ol>"
            "<p class='note'>This page is not part of the zine.</p></body></html>")
    css = CSS(string=f"@page {{ size: {size[0]}mm {size[1]}mm; margin: 14mm 16mm; }}\n"
                     "body { font: 11pt/1.4 'EB Garamond 12', 'Noto Serif CJK KR', serif; color: #111; }\n"
                     "h1 { font-size: 16pt; font-weight: normal; margin: 0 0 6mm; }\n"
                     "li { margin: 0 0 2.5mm; } .note { color: #444; font-style: italic; margin-top: 6mm; }")
    context = writer_context(rendered, session)
    with watched(context):
        document = HTML(string=html, url_fetcher=context.fetcher).render(stylesheets=[css])
        stamp = session.source_date.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        document.metadata.created = document.metadata.modified = stamp
        return document.write_pdf(pdf_identifier=b"zinepress-instructions")
