"""A project folder → the book as the preview shows it: the EPUB's documents, their files, the reading order."""

from __future__ import annotations

import dataclasses
import posixpath
import zipfile
from pathlib import Path

from lxml import etree

from .config import load_config
from .errors import Problem
from .fetch import RefusedFetch, read_confined
from .manuscript import load_manuscript
from .render import render
from .stylesheets import DEFAULT_STYLES, stylesheet_path


@dataclasses.dataclass(frozen=True)
class View:
    """The book as the browser sees it: the EPUB's documents by name, the files they use, the reading order."""

    title: str
    slug: str
    project: Path
    documents: dict[str, bytes]
    files: dict[str, Path]
    styles: Path
    order: tuple[str, ...]
    warnings: tuple[Problem, ...] = ()

    def get(self, name: str) -> bytes | None:
        """A file of the book by its name in the EPUB; stylesheets' fonts come from beside the stylesheet.

        Files of the project are read confined to it, as the build reads them."""
        if name in self.documents:
            return self.documents[name]
        path = self.files.get(name)
        if path is None and name.startswith("styles/"):
            path = self.styles / name.removeprefix("styles/")
            if not path.resolve().is_relative_to(self.styles.resolve()):
                return None
        if path is None:
            return None
        folder = DEFAULT_STYLES if path.resolve().is_relative_to(DEFAULT_STYLES.resolve()) else self.project
        try:
            return read_confined(folder, path)
        except RefusedFetch:
            return None


def render_view(project: Path) -> View:
    """Read and render the book: its XHTML documents as the EPUB holds them, with their stylesheet."""
    config = load_config(project)
    book = load_manuscript(config)
    rendered = render(book)
    documents = {document.file_name: document.xhtml.encode("utf-8") for document in rendered.epub_documents}
    documents["nav.xhtml"] = rendered.nav_xhtml.encode("utf-8")
    css_path = stylesheet_path(config.project, "epub.css")
    files = {"styles/epub.css": css_path, **{asset.href: asset.path for asset in rendered.book.assets}}
    return View(title=config.title, slug=config.slug, project=config.project, documents=documents, files=files,
                styles=css_path.parent, order=rendered.spine, warnings=(*config.warnings, *book.warnings))


def from_built_epub(epub: Path, name: str) -> bytes | None:
    """A file that only the EPUB writer makes (a generated cover, say), from the last EPUB built."""
    try:
        with zipfile.ZipFile(epub) as archive:
            container = etree.fromstring(archive.read("META-INF/container.xml"))
            package = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
            return archive.read(posixpath.join(posixpath.dirname(package), name))
    except (OSError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError, IndexError):
        return None
