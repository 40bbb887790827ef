"""``RenderedBook`` → ``S.pdf``: the book laid out by WeasyPrint at its trim size.

The layout (WeasyPrint's costly step) is made once per build and shared through the
build session, so the press PDF and the zine can reuse its pages. It is laid out with
the configured bleed, so page backgrounds reach into it; the digital edition is then
cut back to the trim, and given page labels (roman front matter, arabic from the first
chapter). WeasyPrint's log messages are captured as warnings; references it may not
read are errors; images below 300 dpi at their printed size are warned about.
WeasyPrint runs inside ``watch.watched``: its log messages are warnings, references it
may not read are errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import multiprocessing
import posixpath
import threading
from io import BytesIO
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from PIL import Image, UnidentifiedImageError
import pydyf
import pypdf
from pypdf.constants import PageLabelStyle
from weasyprint import CSS, HTML
from weasyprint.formatting_structure.boxes import ReplacedBox

from ..atomic import write_atomically
from ..fetch import RefusedFetch, read_confined
from ..render import RenderedBook
from ..stylesheets import check_stylesheet, stylesheet_path, stylesheet_text
from .base import BuildSession, Writer
from .watch import fetcher, watched


class PdfWriter(Writer):
    name = "pdf"
    suffix = ".pdf"
    description = "PDF for screens"

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path:
        return write_atomically(folder / self.file_name(rendered), digital_pdf(rendered, session))


def layout(rendered: RenderedBook, session: BuildSession):
    """The book's WeasyPrint Document, laid out once per build."""
    return session.once("pdf-layout", lambda: lay_out(rendered, session))


def digital_pdf(rendered: RenderedBook, session: BuildSession) -> bytes:
    """The bytes of ``S.pdf``, made once per build (the zine imposes these pages)."""
    return session.once("pdf-digital", lambda: _digital_pdf(rendered, session))


def written_pdf(rendered: RenderedBook, session: BuildSession, variant: str, finisher=None) -> bytes:
    """The laid-out book written by WeasyPrint as ``variant`` (``pdf/ua-1`` or ``pdf/x-4``)."""
    with watched(rendered, session):
        return layout(rendered, session).write_pdf(pdf_variant=variant, pdf_identifier=pdf_identifier(rendered),
                                                   finisher=finisher)


class InBackground:
    """Bytes computed from the laid-out book by a forked child process, while this one goes on.

    Writing a PDF is a third of a build's time, and the digital and press editions share
    nothing once the book is laid out: on two or more cores they are written side by side.
    """

    def __init__(self, compute):
        context = multiprocessing.get_context("fork")
        self.receiver, sender = context.Pipe(duplex=False)
        self.process = context.Process(target=self._run, args=(compute, sender), daemon=True)
        self.process.start()
        sender.close()

    @staticmethod
    def _run(compute, sender) -> None:
        logging.getLogger("weasyprint").disabled = True  # the parent reports the same messages
        sender.send_bytes(compute())
        sender.close()

    def result(self) -> bytes | None:
        """The bytes, or None when the child failed (the caller then computes them itself, errors and all)."""
        try:
            data = self.receiver.recv_bytes()
        except EOFError:
            data = None
        finally:
            self.receiver.close()
            self.process.join()
        return data


def computed(session: BuildSession, key: str, compute) -> bytes:
    """``compute()``'s bytes, once per build: taken from a background child when one was started."""
    value = session.once(key, compute)
    if isinstance(value, InBackground):
        value = session.cache[key] = value.result() or compute()
    return value


def _digital_pdf(rendered: RenderedBook, session: BuildSession) -> bytes:
    first_body = first_body_page(layout(rendered, session), rendered)
    forking_is_safe = threading.current_thread() is threading.main_thread()  # not inside a preview server
    if "print" in session.formats and "print-pdf" not in session.cache and forking_is_safe:
        from .press import press_pdf  # the press module builds on this one
        session.cache["print-pdf"] = InBackground(lambda: press_pdf(rendered, session))
    return written_pdf(rendered, session, "pdf/ua-1", finisher=lambda document, pdf: _trim_and_label(pdf, first_body))


def _trim_and_label(pdf: pydyf.PDF, first_body: int) -> None:
    """Cut every page of WeasyPrint's PDF back to its trim, and add page labels (roman, then arabic)."""
    for number in pdf.pages["Kids"][::3]:
        page = pdf.objects[number]
        page["MediaBox"] = page["BleedBox"] = page["TrimBox"]
    ranges = [0, pydyf.Dictionary({"S": "/r"})] if first_body > 0 else []
    ranges += [first_body, pydyf.Dictionary({"S": "/D"})]
    pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": pydyf.Array(ranges)})


def pdf_identifier(rendered: RenderedBook) -> bytes:
    """A stable PDF /ID from the book's identifier, so builds are reproducible."""
    return hashlib.md5(rendered.config.identifier.encode("utf-8")).hexdigest().encode("ascii")  # noqa: S324


def open_for_editing(data: bytes) -> pypdf.PdfWriter:
    """A pypdf writer holding a copy of the PDF ``data``, its header (PDF version) kept."""
    reader = pypdf.PdfReader(BytesIO(data))
    writer = pypdf.PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header
    return writer


def finish(writer: pypdf.PdfWriter) -> bytes:
    """The edited PDF's bytes, content streams compressed and objects shared between pages merged."""
    for page in writer.pages:
        page.compress_content_streams()
    writer.compress_identical_objects()
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


def first_body_page(document, rendered: RenderedBook) -> int:
    """The index of the page where the first chapter opens (0 when there is none)."""
    chapters = rendered.book.chapters
    if not chapters:
        return 0
    slug = chapters[0].slug
    return next((index for index, page in enumerate(document.pages) if slug in page.anchors), 0)


def set_page_labels(writer: pypdf.PdfWriter, first_body: int) -> None:
    """Roman page labels for the front matter, arabic from the first chapter on."""
    last = len(writer.pages) - 1
    if first_body > 0:
        writer.set_page_label(0, first_body - 1, style=PageLabelStyle.LOWERCASE_ROMAN, start=1)
    writer.set_page_label(first_body, last, style=PageLabelStyle.DECIMAL, start=1)


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
    relative_file_links(document, config.manuscript)
    _warn_low_resolution(document, rendered, session)
    stamp = session.source_date.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    document.metadata.created = stamp
    document.metadata.modified = stamp
    document.metadata.lang = config.language
    return document


MINIMUM_DPI = 300


def _warn_low_resolution(document, rendered: RenderedBook, session: BuildSession) -> None:
    """Warn about every raster image printed at less than 300 dpi, naming it once."""
    assets = {asset.href: asset for asset in rendered.book.assets}
    worst: dict[str, float] = {}
    for page in document.pages:
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
    for href, dpi in sorted(worst.items()):
        if dpi < MINIMUM_DPI:
            session.diagnostics.warn(f"image '{href}' prints at {dpi:.0f} dpi, under {MINIMUM_DPI} dpi: "
                                     "use a larger image or print it smaller", rendered.config.manuscript / href)


def _pixel_size(rendered: RenderedBook, path: Path) -> tuple[int, int] | None:
    """An image file's size in pixels (Pillow), or None when it cannot be read."""
    try:
        with Image.open(BytesIO(read_confined(rendered.config.project, path))) as image:
            return image.size
    except (OSError, RefusedFetch, UnidentifiedImageError):
        return None
