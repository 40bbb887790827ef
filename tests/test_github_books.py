"""GitHub-flavoured Markdown books built as they are: a chapters list, links and anchors as GitHub
takes them, raw HTML figures, badges and broken links (tests/projects/github-book)."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader

from conftest import NS, PROJECTS, Epub, epubcheck, run
from zinepress.cli import main

BOOK = PROJECTS / "github-book"
ORDER = ["readme", "ch1", "ch2", "apa", "guide-ru", "guide-ko"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The fixture built once (EPUB and PDF), with the warnings it printed."""
    project = tmp_path_factory.mktemp("github") / "book"
    shutil.copytree(BOOK, project)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["build", str(project), "--format", "epub", "--format", "pdf", "--no-cache"])
    assert code == 0, err.getvalue()
    warnings = [line for line in err.getvalue().splitlines() if ": warning: " in line]
    return project, Epub(project / "build" / "small-functions.epub"), warnings


def xhtml(epub: Epub, name: str):
    return etree.fromstring(epub.zip.read(f"{epub.base}{name}.xhtml"))


def test_epubcheck_has_nothing_to_say(built):
    _, epub, _ = built
    assert epubcheck(Path(epub.zip.filename)) == []


def test_spine_follows_the_chapters_list_and_files_keep_their_names(built):
    _, epub, _ = built
    hrefs = {item.get("id"): item.get("href") for item in epub.opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
    spine = [hrefs[ref] for ref in epub.opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=NS)]
    chapters = [href.removesuffix(".xhtml") for href in spine if href.removesuffix(".xhtml") in ORDER]
    assert chapters == ORDER
    assert "notes.xhtml" not in hrefs.values()


def test_titles_from_headings_front_matter_and_table_each_shown_once(built):
    _, epub, _ = built
    titles = {name: xhtml(epub, name).xpath("string(//x:h1[@class='chapter-title'])", namespaces=NS)
              for name in ORDER}
    assert titles == {"readme": "Small Functions", "ch1": "Chapter 1: Why Small?", "ch2": "Chapter 2: Inputs",
                      "apa": "Appendix A: Notes", "guide-ru": "Руководство", "guide-ko": "안내서"}
    for name in ("ch1", "apa", "guide-ru"):
        headings = [" ".join(h.split()) for h in xhtml(epub, name).xpath("//x:h1//text()", namespaces=NS)]
        assert headings.count(titles[name]) == 1, (name, headings)
    # ch1 opens with the book's title repeated above its own: that line is not the chapter's title
    assert "Small Functions" not in xhtml(epub, "ch1").xpath("string(//x:section)", namespaces=NS)
    assert xhtml(epub, "guide-ru").get("lang") == "ru"


def test_links_as_authors_write_them_reach_their_targets(built):
    _, epub, _ = built
    ids = {name: set(xhtml(epub, name).xpath("//@id")) for name in ORDER}
    readme = xhtml(epub, "readme").xpath("//x:section//x:a/@href", namespaces=NS)
    assert {"ch1.xhtml", "ch1.xhtml#reading-code", "ch1.xhtml#naming-things", "ch2.xhtml#paramdestr",
            "ch2.xhtml#whats-this", "ch2.xhtml#inputs----and-outputs", "apa.xhtml",
            "guide-ru.xhtml#описание", "guide-ko.xhtml#기본-사용법"} <= set(readme)
    for name in ORDER:
        for href in xhtml(epub, name).xpath("//x:section//x:a/@href", namespaces=NS):
            if href.startswith("http"):
                continue
            document, _, anchor = href.partition("#")
            target = document.removesuffix(".xhtml") or name
            assert target in ids, href
            assert not anchor or anchor in ids[target], (name, href)


def test_a_name_becomes_an_id_and_no_a_has_a_name(built):
    _, epub, _ = built
    for name in ORDER:
        assert xhtml(epub, name).xpath("//x:a[@name]", namespaces=NS) == []
    assert xhtml(epub, "ch2").xpath("//x:a[@id='paramdestr']", namespaces=NS)
    assert xhtml(epub, "ch1").xpath("//x:a[@href='#note-1']", namespaces=NS)  # GitHub's user-content- prefix


def test_broken_links_become_text(built):
    _, epub, _ = built
    ch1 = xhtml(epub, "ch1")
    assert "A link to nowhere is broken" in " ".join(ch1.xpath("string(//x:section)", namespaces=NS).split())
    assert not [href for href in ch1.xpath("//x:a/@href", namespaces=NS) if "nowhere" in href.lower()]
    readme = xhtml(epub, "readme")
    assert "A chapter that was never written" in readme.xpath("string(//x:section)", namespaces=NS)
    assert not [href for href in readme.xpath("//x:a/@href", namespaces=NS) if "ch9" in href]


def test_raw_html_figures_become_css(built):
    _, epub, _ = built
    ch1 = xhtml(epub, "ch1")
    centred = ch1.xpath("//x:p[x:img[@alt='A box with one arrow going in and one arrow coming out']]",
                        namespaces=NS)[0]
    assert centred.get("style") == "text-align: center" and centred.get("align") is None
    figure = centred.xpath("x:img", namespaces=NS)[0]
    assert figure.get("style") == "width: 40%" and figure.get("width") is None
    small = ch1.xpath("//x:img[@alt='The same box, small']", namespaces=NS)[0]
    assert small.get("style") == "float: right; width: 9%; margin-left: 20px; margin-right: 20px"
    assert ch1.xpath("//x:div[@style='text-align: center']/x:span/@style", namespaces=NS) == \
        ["color: #336699; font-size: large"]
    table = ch1.xpath("//x:table", namespaces=NS)[0]
    assert table.get("style") == "border: 1px solid; width: 80%" and not set(table.attrib) - {"style"}
    assert ch1.xpath("//x:td[@style]/@style", namespaces=NS)[0] == "vertical-align: top; background-color: #eeeeee; padding: 4px"
    assert ch1.xpath("//x:img[not(@alt)]/@style", namespaces=NS) == ["width: 120px; height: 60px"]


def test_badges_give_way_to_their_alt_text(built):
    _, epub, _ = built
    readme = xhtml(epub, "readme")
    assert not [src for src in readme.xpath("//x:img/@src", namespaces=NS) if "//" in src]
    links = {a.get("href"): a.text for a in readme.xpath("//x:a[starts-with(@href, 'https:')]", namespaces=NS)}
    assert links == {"https://example.org/ci": "Build status", "https://example.org/license": "License"}


def test_every_warning_at_its_own_line_and_none_twice(built):
    _, _, warnings = built
    assert len(warnings) == len(set(warnings)), warnings
    assert all(re.match(r"\S+\.md:\d+: warning: ", line) for line in warnings), warnings
    nowhere = [line for line in warnings if "'#nowhere'" in line]
    assert [line.split(":")[1] for line in nowhere] == ["18", "29"]
    assert [line for line in warnings if "ch9.md" in line][0].split(":")[1] == "19"
    badges = [line for line in warnings if "not fetched: on the network" in line]
    assert len(badges) == 2 and all(":5: " in line for line in badges)
    assert not [line for line in warnings if "WeasyPrint" in line and "alt" in line]  # said once, by zinepress
    assert [line for line in warnings if "has no alt text" in line][0].split(":")[1] == "31"


def test_nav_and_ncx_nest_sections_under_chapters(built):
    _, epub, _ = built
    nav = xhtml(epub, "nav")
    ch2 = nav.xpath("//x:nav[@epub:type='toc']/x:ol/x:li[x:a/@href='ch2.xhtml']", namespaces=NS)[0]
    assert ch2.xpath("x:ol/x:li/x:a/text()", namespaces=NS) == ["Destructuring", "What’s This?", "Inputs – and Outputs"]
    assert not nav.xpath("//x:nav[@epub:type='toc']/x:ol/x:li/x:ol/x:li/x:ol", namespaces=NS)  # depth 2
    ncx = etree.fromstring(epub.zip.read(f"{epub.base}toc.ncx"))
    point = ncx.xpath("//ncx:navMap/ncx:navPoint[ncx:content/@src='ch2.xhtml']", namespaces=NS)[0]
    assert point.xpath("ncx:navPoint/ncx:content/@src", namespaces=NS) == \
        ["ch2.xhtml#destructuring", "ch2.xhtml#whats-this", "ch2.xhtml#inputs----and-outputs"]


def test_one_chapter_marker_per_chapter(built):
    _, epub, _ = built
    for name in ORDER:
        assert len(xhtml(epub, name).xpath("//*[@class='chapter']")) == 1, name


def test_pdf_links_reach_their_anchors(built):
    project, _, _ = built
    reader = PdfReader(project / "build" / "small-functions.pdf")
    names = set(reader.named_destinations)
    targets = {str(annotation.get_object().get("/Dest")) for page in reader.pages
               for annotation in page.get("/Annots") or [] if annotation.get_object().get("/Dest")}
    assert {"ch2--paramdestr", "guide-ru--описание", "guide-ko--기본-사용법", "ch1--note-1"} <= targets
    assert targets <= names
    contents = next(page.extract_text() for page in reader.pages if "Contents" in (page.extract_text() or ""))
    assert "Chapter 2: Inputs" in contents and "Destructuring" not in contents  # [print] toc_depth = 1


def test_toc_depth_one_and_a_bad_depth(tmp_path, capsys):
    project = tmp_path / "book"
    shutil.copytree(BOOK, project)
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[epub]\ntoc_depth = 1\n", encoding="utf-8")
    code, _, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 0, err
    epub = Epub(project / "build" / "small-functions.epub")
    assert not xhtml(epub, "nav").xpath("//x:nav[@epub:type='toc']//x:ol//x:ol", namespaces=NS)
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[print]\ntoc_depth = 0\n", encoding="utf-8")
    code, _, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 1 and re.search(r"book\.toml:\d+: error: 'toc_depth' in \[print\]", err), err


def test_strict_fails_on_the_warnings(tmp_path, capsys):
    project = tmp_path / "book"
    shutil.copytree(BOOK, project)
    code, _, err = run(["build", str(project), "--format", "epub", "--strict"], capsys)
    assert code == 1
    assert re.search(r"ch1\.md:18: error: link to a missing anchor '#nowhere'", err), err


def test_unlisted_markdown_named_once_under_verbose(tmp_path, capsys):
    project = tmp_path / "book"
    shutil.copytree(BOOK, project)
    code, out, err = run(["build", str(project), "--format", "epub", "--verbose", "--no-cache"], capsys)
    assert code == 0
    assert (out + err).count("notes.md") == 1


def test_listed_file_that_does_not_exist_is_an_error_at_its_line(tmp_path, capsys):
    project = tmp_path / "book"
    shutil.copytree(BOOK, project)
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('"ch2.md"', '"ch22.md"'), encoding="utf-8")
    code, _, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 1
    assert re.fullmatch(r".*book\.toml:10: error: 'ch22\.md' is listed in 'chapters' but there is no "
                        r"manuscript/ch22\.md", err.strip()), err
