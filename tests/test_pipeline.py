"""The bundled manuscript, end to end: a valid EPUB and an A5 PDF holding every word of the seed."""

from __future__ import annotations

import re
import subprocess

import pytest
from pypdf import PdfReader

from conftest import NS, SEED, Epub, epubcheck, pdf_text, squash


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from conftest import ROOT, copy_project
    project = copy_project(ROOT, tmp_path_factory.mktemp("review") / "project")
    from zinepress.cli import main
    assert main(["build", str(project)]) == 0
    return project / "build"


def seed_parts():
    lines = SEED.read_text(encoding="utf-8").splitlines()
    review = lines[:-4]
    comments = [(lines[i].split(" • ")[0], lines[i].split(" • ")[1], lines[i + 1]) for i in (-4, -2)]
    return review, comments


def test_outputs_exist(built):
    assert (built / "love-wins-all.epub").stat().st_size > 1000
    assert (built / "love-wins-all.pdf").stat().st_size > 1000


def test_epubcheck_is_clean(built):
    assert epubcheck(built / "love-wins-all.epub") == []


def test_every_seed_paragraph_in_epub_and_pdf(built):
    review, comments = seed_parts()
    epub_text = Epub(built / "love-wins-all.epub").text()
    pdf = squash(pdf_text(built / "love-wins-all.pdf"))
    for paragraph in review:
        assert paragraph in epub_text
        assert squash(paragraph) in pdf, paragraph[:60]
    for author, date, text in comments:
        assert author in epub_text and text in epub_text and date in epub_text
        assert squash(text) in pdf and squash(date) in pdf


def test_package_metadata(built):
    book = Epub(built / "love-wins-all.epub")
    opf = book.opf
    assert opf.get("version") == "3.0"
    assert opf.xpath("//dc:language/text()", namespaces=NS) == ["en"]
    assert opf.xpath("//dc:identifier/text()", namespaces=NS)[0].startswith("urn:uuid:")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                        opf.xpath("//opf:meta[@property='dcterms:modified']/text()", namespaces=NS)[0])
    assert opf.xpath("//dc:creator", namespaces=NS) == [], "the seed names no author"
    assert "toc.ncx" in book.manifest()


def test_every_document_has_language_and_matching_roles(built):
    book = Epub(built / "love-wins-all.epub")
    for href in book.spine_hrefs():
        root = book.xml(href)
        assert root.get("lang") and root.get("{http://www.w3.org/XML/1998/namespace}lang"), href
    chapters = [s for h in book.spine_hrefs()
                for s in book.xml(h).xpath("//x:section[@epub:type='chapter']", namespaces=NS)]
    assert len(chapters) == 6
    assert all(s.get("role") == "doc-chapter" for s in chapters)


def test_comments_are_articles_with_time(built):
    book = Epub(built / "love-wins-all.epub")
    root = book.xml("reader-comments.xhtml")
    articles = root.xpath("//x:article", namespaces=NS)
    assert len(articles) == 2
    times = root.xpath("//x:article//x:time/@datetime", namespaces=NS)
    assert times == ["2024-02-29T15:07", "2024-09-30T14:59"]
    assert "e" in "".join(articles[0].itertext()) and "Emily Kang" in "".join(articles[1].itertext())


def test_pdf_is_a5_with_embedded_fonts_and_bookmarks(built):
    path = built / "love-wins-all.pdf"
    reader = PdfReader(path)
    for page in reader.pages:
        width_mm, height_mm = (float(v) * 25.4 / 72 for v in page.mediabox[2:])
        assert round(width_mm) == 148 and round(height_mm) == 210
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(row.split()[-5] == "yes" for row in rows), fonts
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles == ["The setting", "The camcorder", "The restaurant", "The wedding", "The final battle",
                      "The verdict", "Reader comments"]


def test_printed_toc_shows_real_page_numbers(built):
    """The TOC's numbers are the folios of the chapter openings, i.e. their PDF page labels."""
    path = built / "love-wins-all.pdf"
    reader = PdfReader(path)
    toc_page = next(i for i, page in enumerate(reader.pages) if "Contents" in page.extract_text())
    toc_text = pdf_text(path, "-layout", "-f", str(toc_page + 1), "-l", str(toc_page + 1))
    for item in reader.outline:
        folio = reader.page_labels[reader.get_destination_page_number(item)]
        assert folio.isdigit()
        assert re.search(rf"{re.escape(item.title)}[ .]+{folio}\b", toc_text), (item.title, folio)


def test_cover_first_then_title_page_without_folio(built):
    path = built / "love-wins-all.pdf"
    reader = PdfReader(path)
    cover = reader.pages[0]
    assert pdf_text(path, "-f", "1", "-l", "1").split() == [], "the cover page is the cover image alone"
    images = list(cover.images)
    assert len(images) == 1 and images[0].image.size == (1600, 2560)
    assert pdf_text(path, "-f", "2", "-l", "2").split() == [], "the cover's verso is blank"
    title = pdf_text(path, "-f", "3", "-l", "3").split()
    assert "Love" in title and not title[-1].isdigit(), "the title page is a right-hand page, without folio"


def test_no_folio_on_chapter_openings(built):
    path = built / "love-wins-all.pdf"
    reader = PdfReader(path)
    for item in reader.outline:
        opening = reader.get_destination_page_number(item)
        words = pdf_text(path, "-f", str(opening + 1), "-l", str(opening + 1)).split()
        assert words[0] == item.title.split()[0] and words[-1] != reader.page_labels[opening]
