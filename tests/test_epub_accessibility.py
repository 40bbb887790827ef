"""The accessible EPUB: metadata, semantics, cover, fonts, Korean text, print page list, reproducibility.

Most tests use the ``accessible`` fixture (images, footnotes, a table, a Korean chapter, A6 pages
so that print pages begin mid-paragraph); the page list and Ace also run on the bundled review.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image
from pypdf import PdfReader

from conftest import NEEDS_NODE, NS, PROJECTS, ROOT, Epub, copy_project, epubcheck, pdf_text, squash
from zinepress.ace import run_ace
from zinepress.cli import main

MM = 72 / 25.4


@pytest.fixture(scope="module")
def accessible(tmp_path_factory) -> Path:
    """The fixture built with --strict: any warning, WeasyPrint's included, fails the build."""
    project = copy_project(PROJECTS / "accessible", tmp_path_factory.mktemp("accessible") / "project")
    assert main(["build", str(project), "--strict"]) == 0
    return project / "build"


@pytest.fixture(scope="module")
def review(tmp_path_factory) -> Path:
    project = copy_project(ROOT, tmp_path_factory.mktemp("review") / "project")
    assert main(["build", str(project)]) == 0
    return project / "build"


def metadata(book: Epub, name: str) -> list[str]:
    return book.opf.xpath("//opf:meta[@property=$name]/text()", name=name, namespaces=NS)


def test_fixture_passes_epubcheck(accessible):
    assert epubcheck(accessible / "reading-slowly.epub") == []


def test_accessibility_metadata_follows_the_content(accessible):
    book = Epub(accessible / "reading-slowly.epub")
    assert book.opf.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert sorted(metadata(book, "schema:accessMode")) == ["textual", "visual"]
    assert "textual" in metadata(book, "schema:accessModeSufficient")
    features = metadata(book, "schema:accessibilityFeature")
    for feature in ("tableOfContents", "readingOrder", "structuralNavigation", "alternativeText",
                    "pageNavigation", "pageBreakMarkers"):
        assert feature in features
    assert metadata(book, "schema:accessibilityHazard") == ["none"]
    assert "table of contents" in metadata(book, "schema:accessibilitySummary")[0]
    assert metadata(book, "dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]
    assert "reading-slowly.pdf" in metadata(book, "pageBreakSource")[0]


def test_no_alt_text_means_no_claim(tmp_path):
    project = copy_project(PROJECTS / "accessible", tmp_path / "project")
    chapter = project / "manuscript" / "01-reading-slowly.md"
    text = chapter.read_text(encoding="utf-8")
    start, end = text.index("![") + 2, text.index("](images/shelf.png)")
    chapter.write_text(text[:start] + text[end:], encoding="utf-8")
    assert main(["build", str(project), "--format", "epub"]) == 0
    book = Epub(project / "build" / "reading-slowly.epub")
    assert "alternativeText" not in metadata(book, "schema:accessibilityFeature")
    assert metadata(book, "schema:accessModeSufficient") == ["textual,visual"]
    assert metadata(book, "dcterms:conformsTo") == []


def test_decorative_image_is_no_warning_and_keeps_the_claim(tmp_path, capsys):
    """An image marked role="presentation" needs no alt text: not in the build, not in the metadata."""
    project = copy_project(PROJECTS / "accessible", tmp_path / "project")
    chapter = project / "manuscript" / "01-reading-slowly.md"
    text = chapter.read_text(encoding="utf-8")
    start, end = text.index("!["), text.index("](images/shelf.png)") + len("](images/shelf.png)")
    chapter.write_text(text[:start] + '<img src="images/shelf.png" alt="" role="presentation">' + text[end:],
                       encoding="utf-8")
    assert main(["build", str(project), "--format", "epub"]) == 0
    assert "alt text" not in capsys.readouterr().err
    book = Epub(project / "build" / "reading-slowly.epub")
    assert book.xml("reading-slowly.xhtml").xpath("//x:img[@role='presentation']", namespaces=NS)
    assert metadata(book, "dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]


def test_skipped_heading_level_is_a_warning_and_no_claim(tmp_path, capsys):
    project = copy_project(PROJECTS / "minimal", tmp_path / "project")
    chapter = project / "manuscript" / "01-start.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\n### Too deep\n\nText.\n", encoding="utf-8")
    assert main(["build", str(project), "--format", "epub"]) == 0
    assert "01-start.md:7: warning: heading 'Too deep' is level 3 right after level 1" in capsys.readouterr().err
    assert metadata(Epub(project / "build" / "a-minimal-book.epub"), "dcterms:conformsTo") == []


def test_footnotes_carry_epub_types_and_roles(accessible):
    root = Epub(accessible / "reading-slowly.epub").xml("reading-slowly.xhtml")
    refs = root.xpath("//x:a[@epub:type='noteref']", namespaces=NS)
    notes = root.xpath("//x:aside[@epub:type='footnote']", namespaces=NS)
    assert len(refs) == len(notes) == 2
    assert all(ref.get("role") == "doc-noteref" for ref in refs)
    assert all(note.get("role") == "doc-footnote" for note in notes)
    assert [ref.get("href")[1:] for ref in refs] == [note.get("id") for note in notes]
    backlinks = root.xpath("//x:aside//x:a[@role='doc-backlink']", namespaces=NS)
    assert len(backlinks) == 2


def test_cover_image_cover_page_and_landmarks(accessible):
    book = Epub(accessible / "reading-slowly.epub")
    covers = [href for href, item in book.manifest().items() if item.get("properties") == "cover-image"]
    assert covers == ["images/cover.png"]
    assert book.spine_hrefs()[0] == "cover.xhtml"
    image = book.xml("cover.xhtml").xpath("//x:img", namespaces=NS)[0]
    assert image.get("src") == "images/cover.png" and image.get("role") == "doc-cover"
    assert image.get("alt").startswith("Cover: Reading Slowly")
    nav = book.xml(book.nav_href())
    landmarks = nav.xpath("//x:nav[@epub:type='landmarks']//x:a/@epub:type", namespaces=NS)
    assert {"cover", "toc", "bodymatter"} <= set(landmarks)


def test_cover_from_book_toml_is_used_in_epub_and_pdf(tmp_path):
    project = copy_project(PROJECTS / "accessible", tmp_path / "project")
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('slug = "reading-slowly"',
                                                             'slug = "reading-slowly"\ncover = "images/shelf.png"'),
                    encoding="utf-8")
    assert main(["build", str(project)]) == 0
    book = Epub(project / "build" / "reading-slowly.epub")
    shelf = (project / "manuscript" / "images" / "shelf.png").read_bytes()
    assert book.read("images/cover.png") == shelf
    assert epubcheck(project / "build" / "reading-slowly.epub") == []
    subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", "-singlefile",
                    str(project / "build" / "reading-slowly.pdf"), str(tmp_path / "first")], check=True)
    colours = {colour for _, colour in Image.open(tmp_path / "first.png").convert("RGB").getcolors(1 << 20)}
    near = [colour for colour in colours if sum(abs(a - b) for a, b in zip(colour, (0x6b, 0x4f, 0x3a))) < 20]
    assert near, "the first page shows the shelf drawing's brown shelf"


def test_korean_chapter_has_its_language_and_font_everywhere(accessible):
    book = Epub(accessible / "reading-slowly.epub")
    root = book.xml("chaek.xhtml")
    assert root.get("lang") == "ko" and root.get("{http://www.w3.org/XML/1998/namespace}lang") == "ko"
    korean = {char for char in "".join(root.itertext()) if "\uac00" <= char <= "\ud7a3"}
    assert len(korean) > 100
    font = TTFont(io.BytesIO(book.read("styles/fonts/NotoSerifCJKkr-Regular-subset.otf")))
    assert korean <= {chr(code) for code in font.getBestCmap()}
    nav = book.xml(book.nav_href())
    assert nav.xpath("//x:a[@href='chaek.xhtml']/@lang", namespaces=NS) == ["ko"]
    pdf = accessible / "reading-slowly.pdf"
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Noto-Serif-CJK-KR" in fonts
    assert all(row.split()[-5] == "yes" for row in fonts.splitlines()[2:]), fonts
    paragraph = root.xpath("//x:p", namespaces=NS)[0]
    assert squash("".join(paragraph.itertext())) in squash(pdf_text(pdf))


def test_korean_lines_break_between_words_in_the_pdf(accessible):
    root = Epub(accessible / "reading-slowly.epub").xml("chaek.xhtml")
    words = set("".join(root.xpath("//x:section", namespaces=NS)[0].itertext()).split())
    pdf = accessible / "reading-slowly.pdf"
    reader = PdfReader(pdf)
    starts = [reader.get_destination_page_number(item) + 1 for item in reader.outline]
    opening = next(start for item, start in zip(reader.outline, starts) if item.title == "천천히 읽는 즐거움")
    end = min([start - 1 for start in starts if start > opening] or [len(reader.pages)])
    text = pdf_text(pdf, "-f", str(opening), "-l", str(end))
    lines = [line for line in text.splitlines() if re.search("[\uac00-\ud7a3]", line)]
    assert len(lines) > 10
    assert {token for line in lines for token in line.split()} <= words


def test_fonts_are_subset_to_the_text(review):
    book = Epub(review / "love-wins-all.epub")
    text = set(book.text())
    original = TTFont(ROOT / "styles" / "fonts" / "EBGaramond12-Regular.otf")
    data = book.read("styles/fonts/EBGaramond12-Regular.otf")
    embedded = TTFont(io.BytesIO(data))
    covered = {chr(code) for code in original.getBestCmap()} & text
    assert covered <= {chr(code) for code in embedded.getBestCmap()}
    assert len(data) < (ROOT / "styles" / "fonts" / "EBGaramond12-Regular.otf").stat().st_size / 2
    assert len(embedded.getBestCmap()) < len(original.getBestCmap()) / 4


def with_fs_type(project: Path, fs_type: int) -> Path:
    """The fixture's Korean font with its OS/2 embedding flags set to ``fs_type``."""
    path = project / "styles" / "fonts" / "NotoSerifCJKkr-Regular-subset.otf"
    font = TTFont(path)
    font["OS/2"].fsType = fs_type
    font.save(path)
    return path


def test_font_that_forbids_embedding_is_refused(tmp_path, capsys):
    project = copy_project(PROJECTS / "accessible", tmp_path / "project")
    with_fs_type(project, 0x0002)
    assert main(["build", str(project), "--format", "epub"]) == 1
    err = capsys.readouterr().err.strip()
    assert "NotoSerifCJKkr-Regular-subset.otf" in err and "forbids embedding" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert not (project / "build" / "reading-slowly.epub").exists()


def test_font_that_forbids_subsetting_is_embedded_whole(tmp_path):
    project = copy_project(PROJECTS / "accessible", tmp_path / "project")
    path = with_fs_type(project, 0x0100)
    assert main(["build", str(project), "--format", "epub"]) == 0
    book = Epub(project / "build" / "reading-slowly.epub")
    assert book.read("styles/fonts/NotoSerifCJKkr-Regular-subset.otf") == path.read_bytes()


def page_list(book: Epub) -> list[tuple[str, str]]:
    nav = book.xml(book.nav_href())
    links = nav.xpath("//x:nav[@epub:type='page-list']//x:a", namespaces=NS)
    return [(link.text, link.get("href")) for link in links]


def body_pages(pdf: Path) -> list[int]:
    """1-based numbers of the PDF pages from the first chapter on that hold any text."""
    reader = PdfReader(pdf)
    first = reader.get_destination_page_number(reader.outline[0]) + 1
    return [number for number in range(first, len(reader.pages) + 1)
            if pdf_text(pdf, "-f", str(number), "-l", str(number)).strip()]


def check_page_list(build: Path, slug: str) -> list[tuple[int, str, str]]:
    """Entries match the body pages one to one, point at markers, and carry the printed folios."""
    book, pdf = Epub(build / f"{slug}.epub"), build / f"{slug}.pdf"
    entries, pages = page_list(book), body_pages(pdf)
    assert len(entries) == len(pages) > 0
    matched = []
    for (folio, href), number in zip(entries, pages):
        file_name, fragment = href.split("#")
        marker = book.xml(file_name).xpath("//*[@id=$id]", id=fragment, namespaces=NS)
        assert len(marker) == 1, href
        assert marker[0].get("{http://www.idpf.org/2007/ops}type") == "pagebreak"
        assert marker[0].get("role") == "doc-pagebreak" and marker[0].get("aria-label") == folio
        printed = pdf_text(pdf, "-f", str(number), "-l", str(number)).split()
        if printed[-1].isdigit():
            assert printed[-1] == folio, (number, folio)
        matched.append((number, file_name, fragment))
    return matched


def text_after(book: Epub, file_name: str, fragment: str) -> str:
    """The reading text that follows a marker in its document, whitespace removed."""
    root = book.xml(file_name)
    return squash("".join(root.xpath("//*[@id=$id]/following::text()", id=fragment)))


def table_header(book: Epub, file_name: str, fragment: str) -> str:
    """The header of the table a marker sits in, if it sits in one."""
    cells = book.xml(file_name).xpath("//*[@id=$id]/ancestor::x:table//x:thead//text()", id=fragment,
                                      namespaces=NS)
    return "".join(cells)


def check_first_words(build: Path, print_only: str = "", slug: str = "reading-slowly") -> None:
    """For every page of the list, the words after its marker are the first words of that PDF page
    (leaving out ``print_only``, text that only the print edition has)."""
    matched = check_page_list(build, slug)
    book, pdf = Epub(build / f"{slug}.epub"), build / f"{slug}.pdf"
    width, height = (float(v) for v in PdfReader(pdf).pages[0].mediabox[2:])
    top, bottom = 17 * MM, 19 * MM  # inside print.css's page margins: no running heads, no folios
    mid_paragraph = 0
    for number, file_name, fragment in matched:
        area = ["-x", "0", "-y", str(int(top)), "-W", str(int(width)), "-H", str(int(height - top - bottom))]
        # casefolded: a first line set in small capitals may come out of the PDF in capitals
        page_start = squash(pdf_text(pdf, "-f", str(number), "-l", str(number), *area)).casefold()
        page_start = page_start.replace(squash(print_only).casefold(), "") if print_only else page_start
        header = squash(table_header(book, file_name, fragment)).casefold()
        if header and page_start.startswith(header):  # a table's header repeated on the new page
            page_start = page_start[len(header):]
        marker = book.xml(file_name).xpath("//*[@id=$id]", id=fragment)[0]
        if list(marker.iterancestors("{http://www.w3.org/1999/xhtml}li")):  # the list's number is generated
            page_start = re.sub(r"^\d+\.", "", page_start)
        following = squash(text_after(book, file_name, fragment)).casefold()
        # pdftotext reads a table by columns: compare only the first cell there
        size = min(12 if list(marker.iterancestors("{http://www.w3.org/1999/xhtml}td")) else 40, len(page_start))
        assert following[:size] == page_start[:size], (number, following[:size], page_start[:size])
        mid_paragraph += marker.getparent().tag.endswith("}p") and bool((marker.getparent().text or "").strip())
    assert mid_paragraph >= 1, "some pages begin in the middle of a paragraph"


def test_page_list_matches_the_pdf_pages_of_the_fixture(accessible):
    check_first_words(accessible)


def test_page_list_follows_the_text_when_print_has_more_of_it(tmp_path):
    """A print-only paragraph in every chapter shifts positions; the markers still land right."""
    project = copy_project(PROJECTS / "accessible", tmp_path / "project")
    (project / "layouts").mkdir()
    default = (ROOT / "src" / "zinepress" / "layouts" / "chapter.html").read_text(encoding="utf-8")
    sentence = "This paragraph is in the print edition only."
    extra = '{% if target == "print" %}<p>' + sentence + '</p>{% endif %}\n'
    (project / "layouts" / "chapter.html").write_text(default.replace("{{ content }}", extra + "{{ content }}"),
                                                      encoding="utf-8")
    assert main(["build", str(project)]) == 0
    assert squash("print edition only") in squash(pdf_text(project / "build" / "reading-slowly.pdf"))
    check_first_words(project / "build", print_only=sentence)


def test_page_list_folios_follow_a_restarted_page_counter(tmp_path):
    """Front matter numbered in roman, the body from 1 at the first chapter: the list says so too."""
    project = copy_project(PROJECTS / "accessible", tmp_path / "project")
    css = project / "styles" / "print.css"
    css.write_text(css.read_text(encoding="utf-8") + """
@page front { @bottom-center { content: counter(page, lower-roman); } }
#reading-slowly { page: opening; }
@page opening:nth(1 of opening) { counter-reset: page 1; }
""", encoding="utf-8")
    assert main(["build", str(project)]) == 0
    build = project / "build"
    check_page_list(build, "reading-slowly")
    folios = [folio for folio, _ in page_list(Epub(build / "reading-slowly.epub"))]
    assert folios[:3] == ["1", "2", "3"]
    assert pdf_text(build / "reading-slowly.pdf", "-f", "2", "-l", "2").split()[-1] == "ii"


def test_page_list_of_the_review(review):
    check_page_list(review, "love-wins-all")


def test_page_list_of_the_review_on_small_pages(tmp_path):
    """At A6 the review's paragraphs run over pages, the first ones with a small-capital first line."""
    project = copy_project(ROOT, tmp_path / "project")
    shutil.copy(PROJECTS / "accessible" / "styles" / "print.css", project / "styles" / "print.css")
    shutil.copy(PROJECTS / "accessible" / "styles" / "fonts" / "NotoSerifCJKkr-Regular-subset.otf",
                project / "styles" / "fonts")
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('trim = "A5"', 'trim = "A6"'), encoding="utf-8")
    assert main(["build", str(project), "--format", "epub"]) == 0
    assert main(["build", str(project), "--format", "pdf"]) == 0
    check_first_words(project / "build", slug="love-wins-all")


@pytest.mark.skipif(shutil.which("ebook-meta") is None, reason="Calibre (ebook-meta, ebook-convert) is not installed")
def test_calibre_reads_title_language_cover_and_contents(accessible, tmp_path):
    epub = accessible / "reading-slowly.epub"
    meta = subprocess.run(["ebook-meta", str(epub), f"--get-cover={tmp_path / 'cover.png'}"], capture_output=True,
                          text=True, check=True, timeout=300).stdout
    assert re.search(r"^Title\s*: Reading Slowly: Notes on books", meta, re.MULTILINE), meta
    assert re.search(r"^Languages\s*: eng$", meta, re.MULTILINE), meta
    assert Image.open(tmp_path / "cover.png").size == (1600, 2560)
    subprocess.run(["ebook-convert", str(epub), str(tmp_path / "book.txt")], capture_output=True, check=True,
                   timeout=300)
    text = (tmp_path / "book.txt").read_text(encoding="utf-8")
    contents = text[text.index("Contents"):text.index("There is a particular pleasure")].split()
    assert contents == ["Contents", "Reading", "slowly", "The", "pencil", "in", "the", "margin", "Rereading",
                        "Keeping", "track", "천천히", "읽는", "즐거움", "Reading", "slowly"], \
        "contents (chapters and their ## sections), then the first chapter: landmarks and page list stay hidden"


def build_in(folder: Path, time_zone: str) -> bytes:
    project = copy_project(PROJECTS / "accessible", folder)
    environment = {**os.environ, "TZ": time_zone, "SOURCE_DATE_EPOCH": "1714557600",
                   "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([sys.executable, "-m", "zinepress", "build", str(project), "--format", "epub"],
                   check=True, env=environment, capture_output=True, cwd=folder)
    return (project / "build" / "reading-slowly.epub").read_bytes()


def test_builds_are_byte_identical_across_folders_and_time_zones(tmp_path):
    first = build_in(tmp_path / "one", "Asia/Seoul")
    second = build_in(tmp_path / "elsewhere" / "two", "America/Los_Angeles")
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    archive = zipfile.ZipFile(io.BytesIO(first))
    assert {info.date_time for info in archive.infolist()} == {(2024, 5, 1, 10, 0, 0)}
    assert archive.namelist()[0] == "mimetype"
    book_opf = [name for name in archive.namelist() if name.endswith(".opf")][0]
    assert b"<meta property=\"dcterms:modified\">2024-05-01T10:00:00Z</meta>" in archive.read(book_opf)


@NEEDS_NODE
@pytest.mark.parametrize("which", ["accessible", "review"])
def test_ace_finds_no_violations(which, request):
    """Ace by DAISY, found or installed by zinepress itself, as ``zinepress check`` runs it."""
    build = request.getfixturevalue(which)
    assert run_ace(next(build.glob("*.epub")), print) == []
