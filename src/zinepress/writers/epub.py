"""``RenderedBook`` → ``S.epub``: an EPUB 3.3 package assembled with ebooklib.

The XHTML documents and the navigation document come finished from the layouts; the
writer adds what only the build knows: the print edition's page breaks and page list
(from the PDF layout, see pagelist.py), the cover image, the stylesheet's fonts cut
down to the book's characters, and accessibility metadata read off the finished
documents. ebooklib writes the package document, the NCX and the container. The archive
is then re-packed with every entry dated from the build's source date, because ebooklib
stamps entries with the wall clock.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import zipfile
from pathlib import Path

from ebooklib import epub
from lxml import etree

from ..atomic import write_atomically
from ..fetch import read_confined
from ..render import RenderedBook
from ..stylesheets import Stylesheet
from .. import pagelist
from ..derived import DerivedCache, derived_cache
from ..fonts import embeddable_font
from ..images import IMAGE_TYPES
from . import accessibility
from .base import BuildSession, Writer
from .site import zip_date_time

STYLE_FILE_TYPES = {".woff2": "font/woff2", ".woff": "font/woff", ".otf": "font/otf", ".ttf": "font/ttf",
                    ".css": "text/css", **IMAGE_TYPES}


class EpubWriter(Writer):
    name = "epub"
    suffix = ".epub"
    description = "EPUB for e-readers"
    uses_layout = "page-list"

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path:
        data = epub_bytes(rendered, session)
        return write_atomically(folder / self.file_name(rendered), data)


class _PackageWriter(epub.EpubWriter):
    """ebooklib's writer, with the book's language on the package document itself."""

    def __init__(self, *args, language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.language = language

    def _write_opf_file(self, root):
        root.set("{http://www.w3.org/XML/1998/namespace}lang", self.language)
        super()._write_opf_file(root)


def _item_id(name: str) -> str:
    """An OPF manifest id (an XML name) for a file name."""
    return "item-" + re.sub(r"[^A-Za-z0-9_.-]", "-", name)


def _descriptive_metadata(book: epub.EpubBook, config) -> None:
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


def _paginated_documents(rendered: RenderedBook, session: BuildSession) -> tuple[dict[str, bytes], list]:
    """The EPUB documents (by file name) with print page breaks placed, and those breaks in order."""
    documents = {document.file_name: document.xhtml.encode("utf-8") for document in rendered.epub_documents}
    body = [document for document in rendered.epub_documents if document.kind in pagelist.BODY_KINDS]
    if not any(document.kind == "chapter" for document in body):
        return documents, []
    starts = session.laid_out.page_starts
    sections = {document.id: (document.file_name, documents[document.file_name]) for document in body}
    paginated, breaks = pagelist.place_page_breaks(sections, starts)
    documents.update(paginated)
    return documents, breaks


def _stylesheet_and_fonts(book: epub.EpubBook, config, sheet: Stylesheet, text: str,
                          fonts: DerivedCache | None) -> None:
    """The EPUB stylesheet and the files it references; fonts subset to the book's characters."""
    css_path, css_text = sheet.path, sheet.text
    book.add_item(epub.EpubItem(uid="style", file_name="styles/epub.css", media_type="text/css",
                                content=css_text.encode("utf-8")))
    generated = "".join(re.findall(r"content\s*:\s*[\"']([^\"']*)[\"']", css_text))
    styles = css_path.parent.resolve()
    added = set()
    for reference in sheet.references:
        media_type = STYLE_FILE_TYPES.get(reference.path.suffix.lower())
        name = reference.path.relative_to(styles).as_posix() if reference.path.is_relative_to(styles) else None
        if not media_type or not name or name in added:
            continue
        added.add(name)
        data = read_confined(config.project, reference.path)
        if media_type.startswith("font/"):
            data = embeddable_font(data, reference.path, text + generated, fonts)
        book.add_item(epub.EpubItem(uid=_item_id(name), file_name=f"styles/{name}", media_type=media_type,
                                    content=data))


def ncx_toc(entries, counter) -> list:
    """The contents as ebooklib's NCX wants them: a link, or (link, [its sections]) when it has some."""
    items = []
    for entry in entries:
        link = epub.Link(entry.href, entry.title, f"navpoint-{next(counter)}")
        items.append((link, ncx_toc(entry.children, counter)) if entry.children else link)
    return items


def _text_of(documents: dict[str, bytes]) -> str:
    """Every character the documents show."""
    return "".join("".join(etree.fromstring(data).itertext()) for data in documents.values())


def epub_bytes(rendered: RenderedBook, session: BuildSession) -> bytes:
    """The whole EPUB as bytes, reproducible for a given source date."""
    config = rendered.config
    book = epub.EpubBook()
    _descriptive_metadata(book, config)
    documents, breaks = _paginated_documents(rendered, session)
    nav_xhtml = rendered.nav_xhtml.encode("utf-8")
    if breaks:
        nav_xhtml = pagelist.page_list_nav(breaks, nav_xhtml)
    _stylesheet_and_fonts(book, config, session.stylesheets["epub.css"],
                          _text_of({**documents, "nav.xhtml": nav_xhtml}), derived_cache(session.store, "fonts"))

    cover = rendered.cover
    cover_item = epub.EpubItem(uid="cover-image", file_name=cover.file_name, media_type=cover.media_type,
                               content=cover.data)
    cover_item.properties = ["cover-image"]
    book.add_item(cover_item)
    book.add_metadata(None, "meta", "", {"name": "cover", "content": "cover-image"})  # for EPUB 2 readers
    for asset in rendered.book.assets:
        if asset.href != cover.file_name:
            book.add_item(epub.EpubItem(uid=_item_id(asset.href), file_name=asset.href,
                                        media_type=asset.media_type,
                                        content=read_confined(config.project, asset.path)))

    items = {}
    for document in rendered.epub_documents:
        items[document.file_name] = epub.EpubItem(uid=_item_id(document.file_name), file_name=document.file_name,
                                                  media_type="application/xhtml+xml",
                                                  content=documents[document.file_name])
        book.add_item(items[document.file_name])
    nav = items["nav.xhtml"] = epub.EpubItem(uid="nav", file_name="nav.xhtml", media_type="application/xhtml+xml",
                                             content=nav_xhtml)
    nav.properties = ["nav"]
    book.add_item(nav)
    book.add_item(epub.EpubNcx())
    book.spine = [items[name] for name in rendered.spine]
    book.toc = ncx_toc(rendered.toc, itertools.count(1))
    accessibility.add_metadata(book, config, {**documents, "nav.xhtml": nav_xhtml}, rendered.book.assets, breaks)

    buffer = io.BytesIO()
    modified = session.source_date.astimezone(dt.timezone.utc).replace(tzinfo=None)
    writer = _PackageWriter(buffer, book, {"mtime": modified, "epub2_guide": False, "epub3_landmark": False,
                                           "epub3_pages": False, "raise_exceptions": True},
                            language=config.language)
    writer.process()
    writer.write()
    return repack(buffer.getvalue(), session.source_date)


def repack(data: bytes, source_date: dt.datetime) -> bytes:
    """Re-pack a zip with fixed entry dates and attributes: ``mimetype`` first and stored."""
    date_time = zip_date_time(source_date)
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
