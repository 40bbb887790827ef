"""The book laid out part by part must be the book laid out whole: same pages, folios, text, links."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from pathlib import Path

import pikepdf
import pytest

from zinepress import forking, markdown
from zinepress.config import load_config
from zinepress.errors import Diagnostics
from zinepress.manuscript import load_manuscript
from zinepress.render import render
from zinepress.paged import book as paged
from zinepress.paged import layout, workers
from zinepress.paged import parts as splitting
from zinepress.paged.join import join_tagged, save_reproducibly
from zinepress.stylesheets import load_stylesheets

from conftest import PROJECTS, copy_project


def _laid_out(project, whole: bool, tmp_path, name: str):
    """The book laid out by the layout stage (``whole``: forced to one part), its parts, and its PDF."""
    config = load_config(project)
    rendered = render(load_manuscript(config, markdown.chapter_html))
    print_css = load_stylesheets(project, ("print.css",))["print.css"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(splitting, "PART_CHARACTERS", 0)  # a part per section, however short
        parts = splitting.split(rendered)
        patch.setattr(paged, "worth_splitting", lambda rendered, parts: not whole)
        book = paged.lay_out(rendered, print_css, dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), Diagnostics(),
                             pdf=True)
    assert book.in_parts == (not whole and len(book.parts) > 1)
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(save_reproducibly(join_tagged(book.parts, book.borrowed), b"0" * 32))
    return book, parts, path


def _page_texts(path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return [" ".join(page.split()) for page in text.split("\f")]


@pytest.mark.parametrize("fixture", ["typography", "accessible"])
def test_parts_make_the_same_book_as_one_layout(fixture, tmp_path):
    project = copy_project(PROJECTS / fixture, tmp_path / "book")
    split_book, parts, split_pdf = _laid_out(project, False, tmp_path, "split")
    whole_book, _, whole_pdf = _laid_out(project, True, tmp_path, "whole")
    assert len(parts) > 2  # the front matter, the chapters and the back matter each on their own
    assert split_book.in_parts and len(split_book.parts) == len(parts) and not whole_book.in_parts
    assert split_book.pages == whole_book.pages
    assert split_book.folios == whole_book.folios
    assert split_book.first_body == whole_book.first_body
    assert split_book.page_starts == whole_book.page_starts
    assert _page_texts(split_pdf) == _page_texts(whole_pdf)  # folios, running heads, contents numbers
    with pikepdf.open(split_pdf) as split, pikepdf.open(whole_pdf) as one:
        assert [str(item.title) for item in split.open_outline().root] == \
               [str(item.title) for item in one.open_outline().root]
        for page_split, page_whole in zip(split.pages, one.pages):
            assert len(page_split.get("/Annots", [])) == len(page_whole.get("/Annots", []))


def test_a_book_whose_chapters_share_pages_is_laid_out_whole(tmp_path):
    project = copy_project(PROJECTS / "typography", tmp_path / "book")
    css = project / "styles" / "print.css"
    css.parent.mkdir(exist_ok=True)
    default = Path(paged.__file__).parent.parent / "styles" / "print.css"
    css.write_text(default.read_text(encoding="utf-8") + "\n.chapter, .comments, .colophon, .toc, .titlepage "
                   "{ break-before: auto !important; }\n", encoding="utf-8")
    split_book, parts, _ = _laid_out(project, False, tmp_path, "split")
    whole_book, _, _ = _laid_out(project, True, tmp_path, "whole")
    assert len(parts) > 2
    assert len(split_book.parts) == 1  # the split was refused and the book laid out as one part
    assert split_book.folios == whole_book.folios


def test_worker_processes_and_one_process_write_the_same_bytes(tmp_path, monkeypatch):
    """Parts laid out in forked workers or one after the other in this process (as in the preview server)."""
    from zinepress.cli import main
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    project = copy_project(PROJECTS / "typography", tmp_path / "book")
    builds = {}
    monkeypatch.setattr(splitting, "PART_CHARACTERS", 0)
    for name, count in (("forked", 2), ("in-process", 0)):
        for module in (workers, forking):
            monkeypatch.setattr(module, "workers_wanted", lambda: count)
        assert main(["build", str(project), "--no-cache", "--out", str(tmp_path / name)]) == 0
        builds[name] = {path.name: path.read_bytes() for path in sorted((tmp_path / name).iterdir())}
    assert builds["forked"] == builds["in-process"]


def test_a_project_built_in_another_folder_writes_the_same_pdf(tmp_path, monkeypatch):
    """The images' PDF names come from their bytes, not from their absolute paths (WeasyPrint hashes the URL)."""
    from zinepress.cli import main
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    pdfs = []
    for folder in ("here", "somewhere/else/entirely"):
        project = copy_project(PROJECTS / "typography", tmp_path / folder / "book")
        assert main(["build", str(project), "--no-cache", "--format", "pdf", "--out", str(tmp_path / folder / "out")]) == 0
        pdfs.append((tmp_path / folder / "out" / "typography.pdf").read_bytes())
    with pikepdf.open(io.BytesIO(pdfs[0])) as pdf:
        images = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"]
    assert len(images) >= 2
    assert pdfs[0] == pdfs[1]


def test_a_problem_found_in_a_worker_is_one_located_error(tmp_path, capsys, monkeypatch):
    """An error raised while a worker lays out a part reaches the command line as ``path:line: error``."""
    from zinepress.cli import main
    from zinepress.errors import ProjectError
    project = copy_project(PROJECTS / "typography", tmp_path / "book")
    chapter = project / "manuscript" / "02-pictures.md"

    def failing(pages, rendered):
        if any("pictures" in name for page in pages for name in page.anchors):
            raise ProjectError("this part cannot be laid out", chapter, 7)
        return {}

    monkeypatch.setattr(layout, "image_resolutions", failing)
    code = main(["build", str(project), "--no-cache"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().endswith("02-pictures.md:7: error: this part cannot be laid out"), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (project / "build").exists() or not any((project / "build").iterdir())


def _project_with_chapters(tmp_path, lengths: list[int], css: str, without: str = ""):
    """A project whose chapters have ``lengths`` paragraphs, with the default print.css (less the line
    ``without``) plus ``css``."""
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    for path in (project / "manuscript").glob("*.md"):
        path.unlink()
    sentence = "Words set in a paragraph long enough to fill a few lines of the page. " * 6
    for number, paragraphs in enumerate(lengths, start=1):
        body = "\n\n".join(f"{sentence}[^n{index}]\n\n[^n{index}]: A note." for index in range(paragraphs))
        (project / "manuscript" / f"{number:02d}-part-{number}.md").write_text(
            f"---\ntitle: Part {number}\n---\n\n{body}\n", encoding="utf-8")
    default = Path(paged.__file__).parent.parent / "styles" / "print.css"
    (project / "styles").mkdir(exist_ok=True)
    stylesheet = default.read_text(encoding="utf-8")
    assert without in stylesheet
    (project / "styles" / "print.css").write_text(stylesheet.replace(without, "") + css, encoding="utf-8")
    return project


@pytest.mark.parametrize("in_process", [False, True], ids=["workers", "one-process"])
def test_a_part_that_falls_on_the_other_side_is_laid_out_again(tmp_path, monkeypatch, in_process):
    """Chapters that open on any page (not only on the right) make parts start on left-hand pages."""
    if in_process:
        monkeypatch.setattr(workers, "workers_wanted", lambda: 0)
    flips = []
    original = paged.flip_start
    monkeypatch.setattr(paged, "flip_start", lambda part: flips.append(part.index) or original(part))
    project = _project_with_chapters(tmp_path, [3, 9, 4, 6, 2], "\n.chapter { break-before: page; }\n")
    split_book, parts, split_pdf = _laid_out(project, False, tmp_path, "split")
    whole_book, _, whole_pdf = _laid_out(project, True, tmp_path, "whole")
    assert flips and len(split_book.parts) == len(parts) > 2
    assert split_book.folios == whole_book.folios and split_book.page_starts == whole_book.page_starts
    assert _page_texts(split_pdf) == _page_texts(whole_pdf)


def test_footnotes_numbered_through_the_book_lay_it_out_whole(tmp_path):
    project = _project_with_chapters(tmp_path, [2, 3], "", without=".chapter, .comments { counter-reset: footnote; }")
    split_book, parts, split_pdf = _laid_out(project, False, tmp_path, "split")
    whole_book, _, whole_pdf = _laid_out(project, True, tmp_path, "whole")
    assert len(parts) > 2 and len(split_book.parts) == 1
    assert _page_texts(split_pdf) == _page_texts(whole_pdf)
    assert "5. A note." in " ".join(_page_texts(whole_pdf))  # the fifth note of the book, in the second chapter


@pytest.mark.parametrize("in_process", [False, True], ids=["workers", "one-process"])
def test_a_page_count_in_the_margins_is_the_whole_book_s(tmp_path, monkeypatch, in_process):
    """``counter(pages)`` shows the book's page count: parts are written once every part is laid out."""
    if in_process:
        monkeypatch.setattr(workers, "workers_wanted", lambda: 0)
    css = '\n@page :right { @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }\n'
    project = _project_with_chapters(tmp_path, [3, 5, 2], css)
    split_book, parts, split_pdf = _laid_out(project, False, tmp_path, "split")
    whole_book, _, whole_pdf = _laid_out(project, True, tmp_path, "whole")
    assert len(split_book.parts) == len(parts) > 2
    texts = _page_texts(split_pdf)
    assert texts == _page_texts(whole_pdf)
    assert any(f"/ {whole_book.pages}" in text for text in texts)
