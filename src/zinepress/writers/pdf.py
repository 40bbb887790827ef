"""``RenderedBook`` → ``S.pdf``: the book laid out by WeasyPrint at its trim size.

The layout (WeasyPrint's costly step) is made once per build and shared through the
build session, so the press PDF and the zine can reuse its pages. WeasyPrint runs
inside ``watch.watched``: its log messages are warnings, references it may not read errors.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from weasyprint import CSS, HTML

from ..render import RenderedBook
from ..stylesheets import check_stylesheet, stylesheet_path, stylesheet_text
from .base import BuildSession, Writer, write_atomically
from .watch import fetcher, watched


class PdfWriter(Writer):
    name = "pdf"
    suffix = ".pdf"
    description = "PDF for screens"

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path:
        document = session.once("pdf-layout", lambda: lay_out(rendered, session))
        with watched(rendered, session):
            data = document.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=_identifier(rendered))
        return write_atomically(folder / self.file_name(rendered), data)


def _identifier(rendered: RenderedBook) -> bytes:
    """A stable PDF /ID from the book's identifier, so builds are reproducible."""
    import hashlib
    return hashlib.md5(rendered.config.identifier.encode("utf-8")).hexdigest().encode("ascii")  # noqa: S324


def page_css(rendered: RenderedBook) -> str:
    """The trim size and font choices from book.toml, as CSS."""
    settings = rendered.config.print
    rules = [f"@page {{ size: {settings.trim_width}mm {settings.trim_height}mm; }}"]
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
    confined = fetcher(rendered, session)
    css_path = stylesheet_path(config.project, "print.css")
    check_stylesheet(config.project, css_path)
    with watched(rendered, session, reading=css_path):
        stylesheet = CSS(string=stylesheet_text(config.project, css_path), base_url=str(css_path),
                         url_fetcher=confined)
    with watched(rendered, session):
        page = CSS(string=page_css(rendered), url_fetcher=confined)
        html = HTML(string=rendered.print_html, base_url=str(config.manuscript) + "/", url_fetcher=confined)
        document = html.render(stylesheets=[stylesheet, page])
    stamp = session.source_date.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    document.metadata.created = stamp
    document.metadata.modified = stamp
    document.metadata.lang = config.language
    return document
