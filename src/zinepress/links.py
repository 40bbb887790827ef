"""Built files → broken links: references inside the EPUB, and the downloads page with its files.

Nothing is fetched: links to the web are only checked for a scheme that readers can follow.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree
from lxml import html as lxml_html

from .errors import SEVERITY, Problem

WEB_SCHEMES = {"http", "https", "mailto"}
REFERENCES = "//*[local-name()='a']/@href | //*[local-name()='img']/@src | //*[local-name()='link']/@href"


def epub_link_problems(documents: dict[str, etree._Element], files: set[str], locate) -> list[Problem]:
    """Every link, image and stylesheet reference of the EPUB's documents reaches a file and an id.

    ``documents`` maps each XHTML document's name (relative to the package folder) to its root;
    ``files`` holds every file name of the package; ``locate(name, text)`` gives a source location.
    """
    ids = {name: set(root.xpath("//@id")) for name, root in documents.items()}
    problems = []
    for name, root in documents.items():
        for reference in root.xpath(REFERENCES):
            problem = _reference_problem(name, str(reference), files, ids)
            if problem:
                problems.append(Problem(problem, *locate(name, str(reference)), SEVERITY["link"]))
    return problems


def _reference_problem(name: str, reference: str, files: set[str], ids: dict[str, set[str]]) -> str | None:
    parts = urlsplit(reference)
    if parts.scheme:
        if parts.scheme.lower() not in WEB_SCHEMES:
            return f"link '{reference}' in {name} uses '{parts.scheme}:', which readers cannot follow"
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(name), unquote(parts.path))) \
        if parts.path else name
    if target not in files:
        return f"link '{reference}' in {name} points to a file that is not in the book"
    if parts.fragment and target in ids and unquote(parts.fragment) not in ids[target]:
        return f"link '{reference}' in {name} points to an anchor that does not exist"
    return None


def downloads_problems(folder: Path, books: list[str]) -> list[Problem]:
    """The downloads page: it links to every book file in ``books`` and shows its SHA-256; its links
    reach files; SHA256SUMS, when there is one, matches the files."""
    page = folder / "index.html"
    if not page.is_file():
        return [Problem("no downloads page (index.html) was built")]
    shown = Path("index.html")
    root = lxml_html.fromstring(page.read_bytes())
    problems = []
    if not root.get("lang"):
        problems.append(Problem("the downloads page declares no language", shown))
    text = etree.tostring(root, method="text", encoding="unicode")
    linked = set()
    for reference in root.xpath("//a/@href | //img/@src | //link/@href"):
        parts = urlsplit(str(reference))
        if parts.scheme or parts.netloc or not parts.path:
            continue
        target = (folder / unquote(parts.path)).resolve()
        if not target.is_relative_to(folder.resolve()) or not target.is_file():
            problems.append(Problem(f"the downloads page links to '{reference}', which was not built", shown))
        linked.add(target.name)
    for name in books:
        if name not in linked:
            problems.append(Problem(f"the downloads page does not offer {name}", shown))
        elif hashlib.sha256((folder / name).read_bytes()).hexdigest() not in text:
            problems.append(Problem(f"the downloads page does not show the SHA-256 of {name}", shown))
    for digest, name in _checksums(folder):
        path = folder / name
        if not path.is_file():
            problems.append(Problem(f"SHA256SUMS lists '{name}', which was not built", Path("SHA256SUMS")))
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(Problem(f"the SHA-256 of '{name}' does not match SHA256SUMS", Path("SHA256SUMS")))
    if (folder / "opds.xml").is_file():
        try:
            etree.parse(str(folder / "opds.xml"))
        except etree.XMLSyntaxError as error:
            problems.append(Problem(f"the OPDS feed is not well-formed XML: {error}", Path("opds.xml")))
    return problems


def _checksums(folder: Path) -> list[tuple[str, str]]:
    """The ``sha256sum`` lines of SHA256SUMS: (hex digest, file name)."""
    path = folder / "SHA256SUMS"
    if not path.is_file():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line.strip()):
            found.append((match[1], match[2]))
    return found
