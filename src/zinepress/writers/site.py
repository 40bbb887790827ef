"""Finished books → their distribution: a downloads page, an OPDS catalog, checksums and a bundle.

The site writer runs after the book writers and is handed their finished files. Beside
them it writes the cover and a thumbnail, ``S.zip`` (when ``[site] bundle = true``),
``SHA256SUMS``, ``opds.xml`` and ``index.html`` (from the ``site.html`` layout), in that
order, so that whatever lists a file is written after the file itself. Everything is
derived from the files' bytes, the metadata and the build's source date: the same input
gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import re
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from lxml import etree
import PIL
from PIL import Image, ImageOps

from ..atomic import write_atomically
from ..cover import Cover
from ..derived import DerivedCache, derived_cache
from ..printing import read_steps
from ..render import RenderedBook, Renderer
from .base import BuildSession, Writer, Written

MEDIA_TYPES = {".epub": "application/epub+zip", ".pdf": "application/pdf", ".zip": "application/zip",
               ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".html": "text/html"}
THUMBNAIL_BOX = (400, 640)
ATOM = "http://www.w3.org/2005/Atom"
DCTERMS = "http://purl.org/dc/terms/"
OPDS = "http://opds-spec.org/2010/catalog"
CATALOG_TYPE = "application/atom+xml;profile=opds-catalog;kind=acquisition"
LANGUAGE_NAMES = {"ar": "Arabic", "ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek",
                  "en": "English", "es": "Spanish", "fi": "Finnish", "fr": "French", "he": "Hebrew",
                  "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
                  "ko": "Korean", "nl": "Dutch", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese",
                  "ro": "Romanian", "ru": "Russian", "sv": "Swedish", "th": "Thai", "tr": "Turkish",
                  "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese"}


@dataclass(frozen=True)
class Download:
    """A file offered on the page and in the catalog: what it is, how big, and its checksum."""

    name: str
    description: str
    media_type: str
    size: int
    sha256: str
    steps: tuple[str, ...] = ()  # how to print it (a zine)

    @property
    def size_label(self) -> str:
        return human_size(self.size)

    @property
    def kind(self) -> str:
        """The file's type in one word, for the download button (``EPUB``, ``PDF``, ``ZIP``)."""
        return Path(self.name).suffix.lstrip(".").upper()


def human_size(size: int) -> str:
    """A byte count for people: ``812 bytes``, ``4.2 kB``, ``31 MB`` (decimal units)."""
    if size < 1000:
        return f"{size} bytes"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.5 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 9.95 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def describe(path: Path, description: str) -> Download:
    """A :class:`Download` for a finished file."""
    data = path.read_bytes()
    media_type = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return Download(path.name, description, media_type, len(data), hashlib.sha256(data).hexdigest())


class SiteWriter(Writer):
    name = "site"
    suffix = ".html"
    description = "Downloads page, OPDS catalog and checksums"
    needs_outputs = True
    works_early = True

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession,
              outputs: tuple[Written, ...] = ()) -> list[Path]:
        config = rendered.config
        books = [replace(describe(output.path, _description(output)), steps=read_steps(output.path))
                 if output.writer.name == "zine" else describe(output.path, _description(output))
                 for output in outputs]
        if not books:
            session.diagnostics.warn("the downloads page lists no book: build a book format first, or with 'site'",
                                     config.path)
        cover = rendered.cover
        pending = session.ahead.get(self.name)
        images = write_cover(cover, folder, derived_cache(session.store, "covers"),
                             pending.result if pending is not None else None)
        written = [folder / image.name for image in images]
        bundle = None
        if config.site.bundle and books:
            members = [output.path for output in outputs] + [folder / images[0].name]
            path = write_atomically(folder / f"{config.slug}.zip",
                                    bundle_bytes(members, config.slug, session.source_date))
            bundle = describe(path, "Every format in one ZIP archive")
            written.append(path)
        listed = books + ([bundle] if bundle else [])
        written.append(write_atomically(folder / "SHA256SUMS", checksums(listed + images)))
        written.append(write_atomically(folder / "opds.xml", opds_feed(rendered, listed, images,
                                                                        session.source_date)))
        context = page_context(rendered, books, bundle, images, cover, folder)
        page = Renderer(rendered.book).render("site.html", **context)
        written.append(write_atomically(folder / "index.html", page.encode("utf-8")))
        return written

    @classmethod
    def early(cls, rendered: RenderedBook, store):
        """The cover's thumbnail, scaled down as soon as the book is rendered, unless an earlier build's is kept."""
        cache = derived_cache(store, "covers")
        if cache is not None and cache.get(thumbnail_key(rendered.cover)) is not None:
            return None
        return functools.partial(thumbnail_bytes, rendered.cover)


def _description(output: Written) -> str:
    """What a listed file is: its writer's description, or the writer's words for that file."""
    describe_file = getattr(output.writer, "describe", None)
    return describe_file(output.path) if describe_file else getattr(output.writer, "description", output.writer.name)


def write_cover(cover: Cover, folder: Path, cache: DerivedCache | None = None,
                made: Callable[[], bytes] | None = None) -> list[Download]:
    """The cover and its thumbnail beside the page: ``cover.EXT`` and ``cover-thumbnail.EXT``.

    The thumbnail is taken from ``cache`` when an earlier build made it from the same cover, else
    from ``made`` (the site's ahead job) when given, else scaled down here."""
    suffix = Path(cover.file_name).suffix.lower()
    full = write_atomically(folder / f"cover{suffix}", cover.data)
    scaled = made or functools.partial(thumbnail_bytes, cover)
    small = scaled() if cache is None else cache.make(thumbnail_key(cover), scaled)
    thumbnail = write_atomically(folder / f"cover-thumbnail{suffix}", small)
    return [describe(full, "Cover image"), describe(thumbnail, "Cover thumbnail")]


def thumbnail_key(cover: Cover) -> str:
    """What the cover's thumbnail depends on: the cover, the box it is scaled into and this code."""
    return DerivedCache.key("thumbnail", cover.data, cover.media_type, repr(THUMBNAIL_BOX),
                            Path(__file__).read_bytes(), PIL.__version__)


def thumbnail_bytes(cover: Cover) -> bytes:
    """The cover scaled down to fit ``THUMBNAIL_BOX``, in the cover's own format, without metadata."""
    with Image.open(io.BytesIO(cover.data)) as image:
        image = ImageOps.exif_transpose(image)
        is_jpeg = cover.media_type == "image/jpeg"
        image = image.convert("RGB" if is_jpeg or image.mode not in ("RGB", "RGBA", "L", "LA") else image.mode)
        small = ImageOps.contain(image, THUMBNAIL_BOX, Image.Resampling.LANCZOS)
    output = io.BytesIO()
    if is_jpeg:
        small.save(output, format="JPEG", quality=85, optimize=True, progressive=False)
    else:
        small.save(output, format="PNG", compress_level=6)
    return output.getvalue()


def zip_date_time(source_date: dt.datetime) -> tuple[int, int, int, int, int, int]:
    """The source date as a zip entry date (zip dates start in 1980 and end in 2107)."""
    stamp = source_date.astimezone(dt.timezone.utc)
    if stamp.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    if stamp.year > 2107:
        return (2107, 12, 31, 23, 59, 58)
    return (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)


def bundle_bytes(paths: list[Path], slug: str, source_date: dt.datetime) -> bytes:
    """Every file in one zip, in folder ``slug/``: sorted entries, fixed dates and permissions."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for path in sorted(paths, key=lambda path: path.name):
            info = zipfile.ZipInfo(f"{slug}/{path.name}", date_time=zip_date_time(source_date))
            info.create_system = 3
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return output.getvalue()


def checksums(downloads: list[Download]) -> bytes:
    """``SHA256SUMS`` in the format ``sha256sum -c`` reads."""
    return "".join(f"{download.sha256}  {download.name}\n" for download in downloads).encode("utf-8")


def _xml_text(text: str) -> str:
    """``text`` without the control characters XML cannot hold."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)


def _iri(identifier: str, suffix: str = "") -> str:
    """An Atom id: the book's identifier when it is already a URI, else a name-based UUID URN."""
    if not suffix and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", identifier):
        return identifier
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'zinepress:{identifier}{suffix}')}"


def _atom_date(source_date: dt.datetime) -> str:
    return source_date.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(parent, tag: str, text: str | None = None, **attributes: str):
    element = etree.SubElement(parent, tag, {key.rstrip("_"): value for key, value in attributes.items()})
    if text is not None:
        element.text = _xml_text(text)
    return element


def opds_feed(rendered: RenderedBook, downloads: list[Download], images: list[Download],
              source_date: dt.datetime) -> bytes:
    """An OPDS 1.2 acquisition feed with one entry: the book, its cover and one link per file."""
    config = rendered.config
    atom = f"{{{ATOM}}}"
    feed = etree.Element(f"{atom}feed", nsmap={None: ATOM, "dc": DCTERMS, "opds": OPDS})
    _add(feed, f"{atom}id", _iri(config.identifier, "#catalog"))
    _add(feed, f"{atom}title", config.title)
    _add(feed, f"{atom}updated", _atom_date(source_date))
    _add(_add(feed, f"{atom}author"), f"{atom}name", config.publisher or ", ".join(config.authors) or config.title)
    for rel in ("self", "start"):
        _add(feed, f"{atom}link", rel=rel, href="opds.xml", type=CATALOG_TYPE)
    _add(feed, f"{atom}link", rel="alternate", href="index.html", type="text/html")

    entry = _add(feed, f"{atom}entry")
    _add(entry, f"{atom}title", config.title + (f": {config.subtitle}" if config.subtitle else ""))
    _add(entry, f"{atom}id", _iri(config.identifier))
    _add(entry, f"{atom}updated", _atom_date(source_date))
    for author in config.authors:
        _add(_add(entry, f"{atom}author"), f"{atom}name", author)
    _add(entry, f"{{{DCTERMS}}}identifier", config.identifier)
    _add(entry, f"{{{DCTERMS}}}language", config.language)
    for name in ("publisher", "rights"):
        if value := getattr(config, name):
            _add(entry, f"{{{DCTERMS}}}{name}" if name == "publisher" else f"{atom}rights", value)
    if config.date:
        _add(entry, f"{{{DCTERMS}}}issued", config.date)
    for subject in config.subjects:
        _add(entry, f"{atom}category", term=_xml_text(subject), label=_xml_text(subject))
    if config.description:
        _add(entry, f"{atom}summary", config.description, type="text")
    cover, thumbnail = images
    _add(entry, f"{atom}link", rel="http://opds-spec.org/image", href=cover.name, type=cover.media_type)
    _add(entry, f"{atom}link", rel="http://opds-spec.org/image/thumbnail", href=thumbnail.name,
         type=thumbnail.media_type)
    for download in downloads:
        _add(entry, f"{atom}link", rel="http://opds-spec.org/acquisition", href=download.name,
             type=download.media_type, title=_xml_text(download.description), length=str(download.size))
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)


def page_context(rendered: RenderedBook, books: list[Download], bundle: Download | None,
                 images: list[Download], cover_image: Cover, folder: Path) -> dict:
    """What the ``site.html`` layout is given, besides ``book`` (the metadata)."""
    config = rendered.config
    cover, thumbnail = images
    with Image.open(folder / thumbnail.name) as small:
        thumbnail_size = small.size
    base_url = config.site.url
    return {
        "lang": config.language,
        "language_name": LANGUAGE_NAMES.get(config.language.split("-")[0].lower(), config.language),
        "downloads": books,
        "bundle": bundle,
        "cover": {"href": cover.name, "media_type": cover.media_type, "alt": f"Cover of {config.title}",
                  "width": cover_image.width, "height": cover_image.height, "size": cover.size_label,
                  "thumbnail": thumbnail.name, "thumbnail_width": thumbnail_size[0],
                  "thumbnail_height": thumbnail_size[1]},
        "summary": config.description or config.subtitle or config.title,
        "page_url": base_url,
        "image_url": f"{base_url}{cover.name}" if base_url else cover.name,
        "checksums": "SHA256SUMS",
        "catalog": {"href": "opds.xml", "type": CATALOG_TYPE},
    }

