"""``RenderedBook`` → ``S.pdf``: the book laid out by WeasyPrint at its trim size.

The layout (WeasyPrint's costly step) is made once per build and shared through the
build session, so the press PDF and the zine can reuse its pages. WeasyPrint's log
messages are captured as warnings; references it may not read are errors.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.logger import LOGGER as WEASYPRINT_LOGGER

from ..errors import ProjectError
from ..fetch import ConfinedFetcher
from ..render import RenderedBook
from ..stylesheets import stylesheet_path
from .base import BuildSession, Writer, write_atomically


class PdfWriter(Writer):
    name = "pdf"
    suffix = ".pdf"
    description = "PDF for screens"

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path:
        document = session.once("pdf-layout", lambda: lay_out(rendered, session))
        data = document.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=_identifier(rendered))
        return write_atomically(folder / self.file_name(rendered), data)


def _identifier(rendered: RenderedBook) -> bytes:
    """A stable PDF /ID from the book's identifier, so builds are reproducible."""
    import hashlib
    return hashlib.md5(rendered.config.identifier.encode("utf-8")).hexdigest().encode("ascii")  # noqa: S324


class _CollectWarnings(logging.Handler):
    """Keeps WeasyPrint's warnings and errors, with the stylesheet or document they came from."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


MARGIN_BOXES = ("top-left-corner", "top-left", "top-center", "top-right", "top-right-corner", "right-top",
                "right-middle", "right-bottom", "bottom-right-corner", "bottom-right", "bottom-center",
                "bottom-left", "bottom-left-corner", "left-bottom", "left-middle", "left-top")


def cover_css(height_mm: float) -> str:
    """The cover alone on the first page, edge to edge, without running heads or folio."""
    blank = " ".join(f"@{name} {{ content: none; }}" for name in MARGIN_BOXES)
    return (f"@page zinepress-cover {{ margin: 0; {blank} }}\n"
            "section.cover { page: zinepress-cover; break-after: page; margin: 0; padding: 0; }\n"
            f"section.cover img {{ display: block; width: 100%; height: {height_mm}mm; max-width: none; "
            "object-fit: contain; margin: 0; }")


def page_css(rendered: RenderedBook) -> str:
    """The trim size, the cover page and font choices from book.toml, as CSS."""
    settings = rendered.config.print
    rules = [f"@page {{ size: {settings.trim_width}mm {settings.trim_height}mm; }}",
             cover_css(settings.trim_height)]
    fonts = rendered.config.fonts
    if fonts.body:
        rules.append(f"body {{ font-family: {fonts.body}; }}")
    if fonts.headings:
        rules.append(f"h1, h2, h3, h4, h5, h6 {{ font-family: {fonts.headings}; }}")
    if fonts.code:
        rules.append(f"code, pre, kbd, samp {{ font-family: {fonts.code}; }}")
    return "\n".join(rules)


def lay_out(rendered: RenderedBook, session: BuildSession):
    """Lay out the print HTML with the project's print.css: a WeasyPrint Document."""
    config = rendered.config
    fetcher = ConfinedFetcher(config.project)
    css_path = stylesheet_path(config.project, "print.css")
    collector = _CollectWarnings()
    WEASYPRINT_LOGGER.addHandler(collector)
    try:
        stylesheets = [CSS(filename=str(css_path), url_fetcher=fetcher),
                       CSS(string=page_css(rendered), url_fetcher=fetcher)]
        html = HTML(string=rendered.print_html, base_url=str(config.manuscript) + "/", url_fetcher=fetcher)
        document = html.render(stylesheets=stylesheets)
    finally:
        WEASYPRINT_LOGGER.removeHandler(collector)
    if fetcher.refused:
        url, reason = fetcher.refused[0]
        raise ProjectError(f"refused to read '{url}': {reason}", css_path)
    for message in collector.messages:
        session.diagnostics.warn(f"WeasyPrint: {message}", css_path)
    stamp = session.source_date.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    document.metadata.created = stamp
    document.metadata.modified = stamp
    document.metadata.lang = config.language
    return document
