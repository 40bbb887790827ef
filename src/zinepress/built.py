"""A check's build folder → the built book: the EPUB's documents parsed, and any element of
them traced back to the manuscript file and line it came from.

The EPUB carries no source positions, so an element is found in its chapter's Markdown by what
the author typed: an image's or a link's address, an id, or its text (the longest run that
smart punctuation left as typed). What cannot be traced keeps its place in the EPUB
(``book.epub!/EPUB/colophon.xhtml:12``).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from .config import Config
from .errors import line_of
from .manuscript import load_manuscript, read_text

SMART_PUNCTUATION = re.compile("[\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00ab\u00bb\u00a0]")
SHORTEST_TEXT = 4


class BuiltBook:
    """The built outputs of one check, with the EPUB's documents parsed and mapped to their sources."""

    def __init__(self, config: Config, out: Path):
        self.config = config
        self.out = out
        self.epub = out / f"{config.slug}.epub"
        with zipfile.ZipFile(io.BytesIO(self.epub.read_bytes())) as archive:
            container = etree.fromstring(archive.read("META-INF/container.xml"))
            opf = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
            self.base = opf.rsplit("/", 1)[0] + "/" if "/" in opf else ""
            names = [name for name in archive.namelist() if name.startswith(self.base)]
            self.files = {name[len(self.base):] for name in names}
            self.documents = {name[len(self.base):]: etree.fromstring(archive.read(name))
                              for name in names if name.endswith(".xhtml")}
        manuscript = load_manuscript(config)
        self.sources = {f"{chapter.slug}.xhtml": chapter.source for chapter in manuscript.chapters}
        if manuscript.comments:
            self.sources["reader-comments.xhtml"] = manuscript.comments[0].source

    def in_epub(self, name: str) -> Path:
        """How a file inside the EPUB is shown: ``book.epub!/EPUB/name``."""
        return Path(f"{self.epub.name}!/{self.base}{name}")

    def document_name(self, path_in_zip: str) -> str:
        """A path inside the EPUB's zip (``EPUB/x.xhtml``) → the document's name (``x.xhtml``)."""
        path_in_zip = path_in_zip.lstrip("/")
        return path_in_zip[len(self.base):] if path_in_zip.startswith(self.base) else path_in_zip

    def locate(self, name: str, text: str | None) -> tuple[Path | None, int | None]:
        """The source file (relative to the project) and line of ``text`` in EPUB document ``name``."""
        source = self.sources.get(name)
        if source is None:
            return self.in_epub(name), None
        line = line_of(read_text(source), text) if text else None
        return source.relative_to(self.config.project), line

    def locate_element(self, name: str, element: etree._Element | None,
                       line: int | None = None) -> tuple[Path, int | None]:
        """Where ``element`` of document ``name`` was written; else its place in the EPUB (or ``line`` there)."""
        source = self.sources.get(name)
        if source is not None and element is not None:
            found = source_line(element, read_text(source))
            if found:
                return source.relative_to(self.config.project), found
        return self.in_epub(name), element.sourceline if element is not None else line

    def locate_line(self, name: str, line: int | None) -> tuple[Path, int | None]:
        """A line of an EPUB document (as EPUBCheck gives it) → where its element was written."""
        root = self.documents.get(name)
        element = element_at_line(root, line) if root is not None and line else None
        return self.locate_element(name, element, line)

    def locate_cfi(self, name: str, cfi: str | None) -> tuple[Path, int | None]:
        """An element given by its CFI steps (as Ace gives it) → where it was written."""
        root = self.documents.get(name)
        element = element_at_cfi(root, cfi) if root is not None and cfi else None
        return self.locate_element(name, element)

    def offered(self) -> list[str]:
        """The book files a downloads page must offer."""
        return sorted(path.name for path in self.out.iterdir()
                      if path.suffix in (".epub", ".pdf") and path.name.startswith(self.config.slug))


def element_at_line(root: etree._Element, line: int) -> etree._Element | None:
    """The last element that starts on or before ``line`` of the document."""
    found = None
    for element in root.iter():
        if not isinstance(element.tag, str) or element.sourceline is None:
            continue
        if element.sourceline > line:
            break
        found = element
    return found


def element_at_cfi(root: etree._Element, cfi: str) -> etree._Element | None:
    """The element at a CFI path such as ``/4/2[chapter]/6`` (even steps count elements from 2)."""
    element = root
    for step, assertion in re.findall(r"/(\d+)(?:\[([^\]]*)\])?", cfi.split("!")[-1]):
        if int(step) % 2:
            break
        children = [child for child in element if isinstance(child.tag, str)]
        index = int(step) // 2 - 1
        if not 0 <= index < len(children):
            return None
        element = children[index]
        if assertion and element.get("id") != assertion:
            by_id = root.xpath("//*[@id=$id]", id=assertion)
            if not by_id:
                return None
            element = by_id[0]
    return element


def source_line(element: etree._Element, source: str) -> int | None:
    """The line of the source text where ``element`` was written, if something of it is found there."""
    for needle in needles(element):
        line = line_of(source, needle)
        if line:
            return line
    return None


def needles(element: etree._Element) -> Iterator[str]:
    """What the author typed for ``element``, most telling first."""
    local = etree.QName(element).localname
    for attribute in {"img": ("src",), "a": ("href",), "link": ("href",)}.get(local, ()):
        if element.get(attribute):
            yield element.get(attribute)
    if element.get("id"):
        yield f"#{element.get('id')}"
        yield f'id="{element.get("id")}"'
    whole = " ".join("".join(element.itertext()).split())
    runs = [run.strip() for text in element.itertext() for run in SMART_PUNCTUATION.split(" ".join(text.split()))]
    if whole and not SMART_PUNCTUATION.search(whole):
        yield whole
    runs = [run for run in runs if len(run) >= SHORTEST_TEXT]
    yield from sorted(runs, key=len, reverse=True)
    for words in (6, 3):  # a paragraph wrapped in the source: its first words are on its first line
        yield from (" ".join(run.split()[:words]) for run in runs if len(run.split()) > words)
    if element.getparent() is not None and not whole:
        yield from needles(element.getparent())
