"""``RenderedBook`` → ``S.epub``: an EPUB 3.3 package assembled with ebooklib.

The XHTML documents and the navigation document come finished from the layouts and
are stored as they are; ebooklib writes the package document, the NCX and the
container. The archive is then re-packed with every entry dated from the build's
source date, because ebooklib stamps entries with the wall clock.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

from ebooklib import epub

from ..fetch import read_confined
from ..render import RenderedBook
from ..stylesheets import check_stylesheet, stylesheet_path, stylesheet_text
from .base import BuildSession, Writer, write_atomically

STYLE_FILE_TYPES = {".woff2": "font/woff2", ".woff": "font/woff", ".otf": "font/otf", ".ttf": "font/ttf",
                    ".css": "text/css", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                    ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"}


class EpubWriter(Writer):
    name = "epub"
    suffix = ".epub"
    description = "EPUB for e-readers"

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path:
        data = epub_bytes(rendered, session.source_date)
        return write_atomically(folder / self.file_name(rendered), data)


def _item_id(name: str) -> str:
    """An OPF manifest id (an XML name) for a file name."""
    return "item-" + re.sub(r"[^A-Za-z0-9_.-]", "-", name)


def epub_bytes(rendered: RenderedBook, source_date: dt.datetime) -> bytes:
    """The whole EPUB as bytes, reproducible for a given source date."""
    config = rendered.config
    book = epub.EpubBook()
    book.set_identifier(config.identifier)
    book.set_title(config.title)
    book.set_language(config.language)
    for index, author in enumerate(config.authors):
        book.add_author(author, uid=f"creator-{index + 1}")
    if config.subtitle:
        book.add_metadata("DC", "title", config.subtitle, {"id": "subtitle"})
        book.add_metadata(None, "meta", "subtitle", {"refines": "#subtitle", "property": "title-type"})
    for name in ("description", "publisher", "rights", "date"):
        if value := getattr(config, name):
            book.add_metadata("DC", name, value)
    for subject in config.subjects:
        book.add_metadata("DC", "subject", subject)

    _add_styles(book, config)
    for asset in rendered.book.assets:
        book.add_item(epub.EpubItem(uid=_item_id(asset.href), file_name=asset.href, media_type=asset.media_type,
                                    content=read_confined(config.project, asset.path)))

    documents = []
    for document in rendered.epub_documents:
        item = epub.EpubItem(uid=_item_id(document.file_name), file_name=document.file_name,
                             media_type="application/xhtml+xml", content=document.xhtml.encode("utf-8"))
        book.add_item(item)
        documents.append((document, item))
    nav = epub.EpubItem(uid="nav", file_name="nav.xhtml", media_type="application/xhtml+xml",
                        content=rendered.nav_xhtml.encode("utf-8"))
    nav.properties = ["nav"]
    book.add_item(nav)
    book.add_item(epub.EpubNcx())

    spine = []
    for document, item in documents:
        spine.append(item)
        if document.kind == "titlepage":
            spine.append(nav)
    book.spine = spine
    book.toc = [epub.Link(document.file_name, document.title, _item_id(document.file_name))
                for document, _ in documents if document.kind in ("chapter", "comments")]

    buffer = io.BytesIO()
    modified = source_date.astimezone(dt.timezone.utc).replace(tzinfo=None)
    writer = epub.EpubWriter(buffer, book, {"mtime": modified, "epub2_guide": False, "epub3_landmark": False,
                                            "epub3_pages": False, "raise_exceptions": True})
    writer.process()
    writer.write()
    return repack(buffer.getvalue(), source_date)


def _add_styles(book: epub.EpubBook, config) -> None:
    """The project's (or the default) epub.css and the fonts, images and imports it references."""
    css_path = stylesheet_path(config.project, "epub.css")
    css = stylesheet_text(config.project, css_path).encode("utf-8")
    book.add_item(epub.EpubItem(uid="style", file_name="styles/epub.css", media_type="text/css", content=css))
    added = set()
    for reference in check_stylesheet(config.project, css_path):
        media_type = STYLE_FILE_TYPES.get(reference.path.suffix.lower())
        styles = css_path.parent.resolve()
        name = reference.path.relative_to(styles).as_posix() if reference.path.is_relative_to(styles) else None
        if media_type and name and name not in added:
            added.add(name)
            book.add_item(epub.EpubItem(uid=_item_id(name), file_name=f"styles/{name}", media_type=media_type,
                                        content=read_confined(config.project, reference.path)))


def repack(data: bytes, source_date: dt.datetime) -> bytes:
    """Re-pack a zip with fixed entry dates and attributes: ``mimetype`` first and stored."""
    stamp = source_date.astimezone(dt.timezone.utc)
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    if stamp.year < 1980:
        date_time = (1980, 1, 1, 0, 0, 0)
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(output, "w") as target:
        names = source.namelist()
        ordered = ["mimetype"] + [name for name in names if name != "mimetype"]
        for name in ordered:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            if name == "mimetype":
                info.compress_type = zipfile.ZIP_STORED
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(name), compresslevel=9 if name != "mimetype" else None)
    return output.getvalue()
