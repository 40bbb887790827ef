"""Each form of a GitHub-flavoured chapter on its own: slugs, links, front matter, the chapters list,
raw HTML made valid or refused at its line."""

from __future__ import annotations

import re
import shutil
import zipfile

import pytest
from lxml import etree

from conftest import NS, PROJECTS, epubcheck, run
from zinepress.anchors import github_slug
from zinepress.errors import Locator

MINIMAL = PROJECTS / "minimal"


@pytest.mark.parametrize("heading, slug", [
    ("Chapter 1: Why Functional Programming?", "chapter-1-why-functional-programming"),
    ("What’s This?", "whats-this"),
    ("Inputs – and Outputs", "inputs----and-outputs"),
    ("Описание", "описание"),
    ("Ежедневное использование", "ежедневное-использование"),
    ("기본 사용법", "기본-사용법"),
    ("日本語の見出し", "日本語の見出し"),
    ("snake_case & C++", "snake_case--c"),
    ("  Spaced  out ", "spaced--out"),
])
def test_github_slugs(heading, slug):
    assert github_slug(heading) == slug


def test_locator_gives_each_occurrence_its_own_line():
    locator = Locator("a x\nb\nx x\n", 10)
    assert [locator.line("x"), locator.line("x"), locator.line("x"), locator.line("x")] == [10, 12, 12, 12]
    assert locator.line("missing") == 10


def project_with(tmp_path, chapters: dict[str, str], toml_extra: str = ""):
    project = tmp_path / "book"
    shutil.copytree(MINIMAL, project)
    manuscript = project / "manuscript"
    for path in manuscript.glob("*.md"):
        path.unlink()
    for name, text in chapters.items():
        (manuscript / name).parent.mkdir(parents=True, exist_ok=True)
        (manuscript / name).write_text(text, encoding="utf-8")
    toml = manuscript / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + toml_extra, encoding="utf-8")
    return project


def epub_document(project, name: str):
    with zipfile.ZipFile(project / "build" / "a-minimal-book.epub") as archive:
        return etree.fromstring(archive.read(f"EPUB/{name}.xhtml"))


def test_front_matter_optional_title_from_stem_or_heading(tmp_path, capsys):
    project = project_with(tmp_path, {"01-plain.md": "Text without front matter or heading.\n",
                                      "02-headed.md": "# A Heading Title\n\nBody.\n"})
    code, _, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 0, err
    assert epub_document(project, "plain").xpath("string(//x:h1)", namespaces=NS) == "01-plain"
    headed = epub_document(project, "headed")
    assert headed.xpath("//x:h1/text()", namespaces=NS) == ["A Heading Title"]


def test_chapters_in_subfolders_and_links_between_them(tmp_path, capsys):
    chapters = {"part1/one.md": "# One\n\nSee [two](../part2/two.md#later) and [top](/part2/two.md).\n",
                "part2/two.md": "# Two\n\n## Later\n\nBack to [one](../part1/one.md/).\n"}
    project = project_with(tmp_path, chapters, 'chapters = ["part1/one.md", "part2/two.md"]\n')
    code, _, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 0, err
    assert epub_document(project, "one").xpath("//x:section//x:a/@href", namespaces=NS) == \
        ["two.xhtml#later", "two.xhtml"]
    assert epubcheck(project / "build" / "a-minimal-book.epub") == []


@pytest.mark.parametrize("entry, words", [
    ('"../outside.md"', "is not a Markdown file (.md) inside manuscript/"),
    ('"notes.txt"', "is not a Markdown file"),
    ('{ file = "a.md", colour = "red" }', "unknown key 'colour'"),
    ('{ file = "a.md", lang = "no way" }', "'lang' of 'a.md' must be a BCP 47 tag"),
    ('"a.md", "a.md"', "'a.md' is listed twice"),
    ('5', "each entry of 'chapters' must be a file name"),
])
def test_bad_chapters_entry_is_an_error_at_its_line(tmp_path, capsys, entry, words):
    project = project_with(tmp_path, {"a.md": "# A\n\nText.\n"}, f"chapters = [\n  {entry},\n]\n")
    code, _, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 1
    assert re.fullmatch(rf".*book\.toml:6: error: .*{re.escape(words)}.*", err.strip()), err


@pytest.mark.parametrize("source, words", [
    ('<svg width="10"><circle r="4"/></svg>', "<svg> cannot go into the book"),
    ("<blink-tag>hi</blink-tag>", "<blink-tag> is not an HTML element"),
    ("<span>a <div>block</div> b</span>", "a <div> inside a <span>"),
    ('<p id="two words">x</p>', 'id="two words" is not a valid id'),
])
def test_html_that_cannot_be_made_valid_is_an_error_at_its_line(tmp_path, capsys, source, words):
    project = project_with(tmp_path, {"01-a.md": f"# A\n\nText.\n\n{source}\n"})
    code, _, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 1
    assert re.fullmatch(rf".*01-a\.md:5: error: {re.escape(words)}.*", err.strip()), err
    assert not (project / "build" / "a-minimal-book.epub").exists()


HOSTILE_HTML = """# Old HTML

<center>Centred <font face="Comic Sans MS, cursive" color="red" size="+1">words</font></center>

<font size="2"><p>A paragraph inside a font.</p></font>

<div align="justify" bgcolor="#fff" frame="box">Justified.</div>

<table align="center" cellspacing="2" summary="old" border="0"><tr align="right"><td nowrap width="50">a</td></tr></table>

<hr size="3" noshade width="50%">

<ul type="square"><li>one</li></ul>

<p>Break<br clear="all">here <tt>code</tt> <strike>gone</strike> <big>big</big> <acronym title="HyperText">HT</acronym>
<img src="images/dot.png" alt="a dot" border="2" vspace="4" name="dot"></p>

<a name="x1"></a><a name="x2">anchor text</a> [to x1](#X1) [to x2](#user-content-x2)

<h2 align="center">Centred heading</h2>

<dl compact><dt>t</dt><dd>d</dd></dl>
"""


def test_old_html_becomes_valid_epub(tmp_path, capsys):
    project = project_with(tmp_path, {"01-old.md": HOSTILE_HTML})
    (project / "manuscript" / "images").mkdir()
    from PIL import Image
    Image.new("RGB", (200, 200), "black").save(project / "manuscript" / "images" / "dot.png")
    code, _, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 0, err
    dropped = sorted(re.findall(r"01-old\.md:(\d+): warning: the attribute (\w+)=", err))
    assert dropped == [("11", "noshade"), ("22", "compact"), ("7", "frame"), ("9", "summary")], err
    assert "warning: the attribute bgcolor" not in err
    assert epubcheck(project / "build" / "a-minimal-book.epub") == []
    document = epub_document(project, "old")
    assert document.xpath("//x:div[x:span]/@style", namespaces=NS) == ["text-align: center"]
    assert document.xpath("//x:span[text()='words']/@style", namespaces=NS) == \
        ['color: red; font-family: "Comic Sans MS", cursive; font-size: larger']
    assert document.xpath("//x:div[x:p]/@style", namespaces=NS) == ["font-size: small"]
    assert document.xpath("//x:img/@style", namespaces=NS) == \
        ["border: 2px solid; margin-top: 4px; margin-bottom: 4px"]
    assert document.xpath("//x:img/@id", namespaces=NS) == ["dot"]
    assert document.xpath("//x:code/text()", namespaces=NS)[:1] == ["code"]
    assert document.xpath("//x:s/text()", namespaces=NS) == ["gone"]
    assert document.xpath("//x:abbr/@title", namespaces=NS) == ["HyperText"]
    assert set(document.xpath("//x:a/@href", namespaces=NS)) == {"#x1", "#x2"}
    assert document.xpath("//x:td/@style", namespaces=NS) == ["white-space: nowrap; width: 50px"]


def test_remote_image_and_broken_links_are_warnings(tmp_path, capsys):
    chapter = ("# A\n\nIntro.\n\n![A remote chart](http://127.0.0.1:9/x.png)\n\n![](//127.0.0.1:9/y.png)\n\n"
               "See [next](09-none.md) and [here](#nowhere) and [the file](data.csv).\n")
    project = project_with(tmp_path, {"01-a.md": chapter})
    code, _, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 0, err
    lines = err.strip().splitlines()
    assert [line.split(": warning: ")[0].rsplit(":", 1)[1] for line in lines] == ["5", "7", "9", "9", "9"], err
    assert "its alt text 'A remote chart' stands in its place" in lines[0]
    assert "missing chapter '09-none.md'" in lines[2] and "missing anchor '#nowhere'" in lines[3]
    assert "file that is not part of the book 'data.csv'" in lines[4]
    document = epub_document(project, "a")
    assert document.xpath("//x:img", namespaces=NS) == []
    assert "A remote chart" in document.xpath("string(//x:section)", namespaces=NS)
    assert epubcheck(project / "build" / "a-minimal-book.epub") == []
