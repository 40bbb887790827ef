"""The build cache: a rebuild it answers writes the very bytes a build without it writes.

Each test builds a small real project (two chapters, a figure without alt text so that a
warning is replayed, and a print stylesheet reaching a file outside ``styles/``) and
compares whole output files byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from conftest import PROJECTS, ROOT, run
from zinepress.build import ALL_FORMATS
from zinepress.writers import WRITERS, Writer

PRINT_CSS = """@page { margin: 15mm; @bottom-center { content: counter(page); } }
body { font-family: serif; font-size: 11pt; }
.titlepage { background: url(../art/paper.png) no-repeat; }
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    project = shutil.copytree(PROJECTS / "minimal", tmp_path / "book")
    (project / "manuscript/images").mkdir()
    Image.new("RGB", (60, 40), "teal").save(project / "manuscript/images/figure.png")
    (project / "manuscript/02-more.md").write_text(
        "---\ntitle: More\n---\n\nA second chapter with a figure.\n\n![](images/figure.png)\n", encoding="utf-8")
    (project / "styles").mkdir()
    (project / "styles/print.css").write_text(PRINT_CSS, encoding="utf-8")
    (project / "art").mkdir()
    Image.new("RGB", (40, 40), "wheat").save(project / "art/paper.png")
    return project


def outputs(folder) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def build(capsys, project, out, *flags) -> str:
    code, _, err = run(["build", str(project), "--out", str(out), *flags], capsys)
    assert code == 0, err
    return err


BOOKS = ["a-minimal-book.epub", "a-minimal-book.pdf", "a-minimal-book-print.pdf", "a-minimal-book-zine.pdf"]
SITE = {"cover.png", "cover-thumbnail.png", "SHA256SUMS", "opds.xml", "index.html"}


def written(stdout: str) -> list[str]:
    """The names of the files a build says it wrote, in the order it wrote them."""
    return [line.rsplit("/", 1)[-1] for line in stdout.splitlines() if line.startswith("wrote ")]


def test_cached_rebuild_is_byte_identical_and_replays_warnings(project, tmp_path, capsys):
    code, fresh, first = run(["build", str(project), "--out", str(tmp_path / "first")], capsys)
    assert code == 0 and "no alt text" in first
    code, cached, second = run(["build", str(project), "--out", str(tmp_path / "second")], capsys)
    assert code == 0
    build(capsys, project, tmp_path / "plain", "--no-cache")
    assert second == first
    assert written(cached) == written(fresh)
    assert outputs(tmp_path / "first") == outputs(tmp_path / "second") == outputs(tmp_path / "plain")
    assert set(outputs(tmp_path / "plain")) == set(BOOKS) | SITE
    stored = list((project / ".zinepress-cache/builds").glob("*.json"))
    assert len(stored) == 1
    names = [name for name, _ in json.loads(stored[0].read_bytes().split(b"\n", 1)[1])["outputs"]]  # after the hash line
    assert names[:4] == BOOKS and set(names[4:]) == SITE and names[-1] == "index.html", \
        "stored in publishing order: the books first, the page that lists them last"


def test_the_registry_names_every_writer_and_loads_it_on_demand():
    program = ("import sys\nfrom zinepress.build import ALL_FORMATS\nfrom zinepress.writers import WRITERS\n"
               "before = 'weasyprint' in sys.modules\n"
               "print(before, [(n, WRITERS[n].name, WRITERS[n].needs_outputs, bool(WRITERS[n].description))"
               " for n in ALL_FORMATS])")
    shown = subprocess.run([sys.executable, "-c", program], check=True, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT / "src")}).stdout.strip()
    assert shown == ("False [('epub', 'epub', False, True), ('pdf', 'pdf', False, True), "
                     "('print', 'print', False, True), ('zine', 'zine', False, True), ('site', 'site', True, True)]")
    assert [WRITERS.lists_books(name) for name in ALL_FORMATS] == [False, False, False, False, True], \
        "the registry's own table agrees with the classes"
    assert [WRITERS.lays_out(name) for name in ALL_FORMATS] == [bool(WRITERS[name].uses_layout)
                                                              for name in ALL_FORMATS] == \
        [True, True, True, False, False], "the registry knows which writers use the print layout"
    assert [WRITERS.works_early(name) for name in ALL_FORMATS] == [WRITERS[name].works_early
                                                                  for name in ALL_FORMATS] == \
        [False, False, False, False, True], "the registry knows which writers have early work"
    assert [WRITERS.works_ahead(name) for name in ALL_FORMATS] == [WRITERS[name].works_ahead
                                                                  for name in ALL_FORMATS] == \
        [False, False, False, True, False], "the registry knows which writers have ahead work"
    assert [WRITERS[name].ahead is not Writer.ahead for name in ALL_FORMATS] == \
        [WRITERS.works_ahead(name) for name in ALL_FORMATS], "works_ahead says which writers have an ahead job"


def test_strict_fails_on_replayed_warnings_without_writing(project, tmp_path, capsys):
    build(capsys, project, tmp_path / "first")
    code, _, err = run(["build", str(project), "--out", str(tmp_path / "strict"), "--strict"], capsys)
    assert code == 1 and "error: image 'images/figure.png' has no alt text" in err
    assert not (tmp_path / "strict").exists()


def test_a_cached_build_does_not_load_weasyprint(project, tmp_path, capsys):
    build(capsys, project, project / "build")
    (project / "build/a-minimal-book.pdf").unlink()
    program = ("import sys, zinepress; zinepress.build(sys.argv[1]); "
               "print('weasyprint' in sys.modules)")
    loaded = subprocess.run([sys.executable, "-c", program, str(project)], check=True, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert loaded.stdout.strip() == "False"
    build(capsys, project, tmp_path / "plain", "--no-cache")
    assert outputs(project / "build") == outputs(tmp_path / "plain")


@pytest.mark.parametrize("change", ["chapter", "image", "outside styles", "layout", "date"])
def test_every_input_is_part_of_the_key(project, tmp_path, capsys, monkeypatch, change):
    build(capsys, project, tmp_path / "before")
    if change == "chapter":
        (project / "manuscript/01-start.md").write_text("---\ntitle: Start\n---\n\nA changed paragraph.\n")
    elif change == "image":
        Image.new("RGB", (60, 40), "crimson").save(project / "manuscript/images/figure.png")
    elif change == "outside styles":
        Image.new("RGB", (40, 40), "navy").save(project / "art/paper.png")
    elif change == "layout":
        (project / "layouts").mkdir()
        (project / "layouts/colophon.html").write_text('<section class="colophon" id="colophon">'
                                                        "<p>Made by hand.</p></section>\n")
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    build(capsys, project, tmp_path / "after")
    build(capsys, project, tmp_path / "plain", "--no-cache")
    assert outputs(tmp_path / "after") == outputs(tmp_path / "plain")
    assert outputs(tmp_path / "after") != outputs(tmp_path / "before")


def test_chapter_markdown_is_reused_and_pruned(project, tmp_path, capsys):
    build(capsys, project, tmp_path / "one")
    markdown = project / ".zinepress-cache/markdown"
    before = {path.name for path in markdown.glob("*/*.html")}
    assert len(before) == 2
    (project / "manuscript/01-start.md").write_text("---\ntitle: Start\n---\n\nA changed paragraph.\n")
    build(capsys, project, tmp_path / "two")
    after = {path.name for path in markdown.glob("*/*.html")}
    assert len(after) == 2 and len(after & before) == 1, "the unchanged chapter keeps its cached HTML"


def test_a_cache_that_cannot_be_written_does_not_fail_the_build(project, tmp_path, capsys):
    (project / ".zinepress-cache").write_text("not a folder")
    build(capsys, project, tmp_path / "first")
    build(capsys, project, tmp_path / "plain", "--no-cache")
    assert outputs(tmp_path / "first") == outputs(tmp_path / "plain")


@pytest.mark.parametrize("damage", ["entry", "outputs"])
def test_a_damaged_cache_means_a_full_build(project, tmp_path, capsys, damage):
    build(capsys, project, tmp_path / "first")
    cache = project / ".zinepress-cache"
    for stored in (cache / "builds").glob("*.json") if damage == "entry" else (cache / "objects").glob("*/*"):
        stored.write_bytes(b'{"outputs": 3}')
    build(capsys, project, tmp_path / "second")
    assert outputs(tmp_path / "second") == outputs(tmp_path / "first")


def test_verbose_shows_a_cached_build_as_read_then_restore(project, tmp_path, capsys):
    build(capsys, project, tmp_path / "first", "--format", "epub")
    err = build(capsys, project, tmp_path / "second", "--format", "epub", "--verbose")
    stages = [line.split(":")[0] for line in err.splitlines() if not line.startswith(str(project))]
    assert stages == ["read", "restore"], err
    err = build(capsys, project, tmp_path / "third", "--format", "epub", "--verbose", "--no-cache")
    stages = [line.split(":")[0] for line in err.splitlines() if not line.startswith(str(project))]
    assert stages == ["read", "render", "layout", "epub"], err  # the EPUB's page list needs the layout


def test_editing_one_chapter_lays_out_only_that_chapter(tmp_path, capsys, monkeypatch, in_parts):
    """The per-part layout cache: the other chapters, the contents and the colophon are reused. (The zine
    has a layout of its own, made anew for each build: it is left out here.)"""
    books = ("--format", "epub", "--format", "pdf", "--format", "print")
    from weasyprint import HTML
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    project = shutil.copytree(PROJECTS / "typography", tmp_path / "book")
    log = tmp_path / "renders.log"
    original = HTML.render

    def counting_render(self, *args, **kwargs):
        with log.open("a") as stream:  # forked layout workers append too
            stream.write("render\n")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HTML, "render", counting_render)
    build(capsys, project, tmp_path / "first", *books)
    first = len(log.read_text().splitlines())
    chapter = project / "manuscript/03-closing.md"
    text = chapter.read_text(encoding="utf-8")
    chapter.write_text(text.replace("Closing paragraph 1.", "Closing paragraph 1!", 1), encoding="utf-8")
    log.write_text("")
    build(capsys, project, tmp_path / "after", *books)
    assert "Closing paragraph 1." in text and first >= 4 and len(log.read_text().splitlines()) == 1
    build(capsys, project, tmp_path / "plain", "--no-cache", *books)
    assert outputs(tmp_path / "after") == outputs(tmp_path / "plain")


def test_a_damaged_layout_cache_means_laying_out_again(project, tmp_path, capsys):
    build(capsys, project, tmp_path / "first")
    for path in (project / ".zinepress-cache/layout").iterdir():
        path.write_bytes(b"{not json")
    shutil.rmtree(project / ".zinepress-cache/builds")
    build(capsys, project, tmp_path / "after")
    build(capsys, project, tmp_path / "plain", "--no-cache")
    assert outputs(tmp_path / "after") == outputs(tmp_path / "plain")
