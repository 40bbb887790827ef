"""Print targets: book.toml's [print] target, the interior a printer takes, the cover wrap, and the preflight."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pdfplumber
import pikepdf
import pytest

from conftest import PROJECTS, copy_project, run
from zinepress.config import load_config
from zinepress.preflight import preflight
from zinepress.targets import target_named

PT = 72 / 25.4
IN = 25.4
STYLES = Path(__file__).resolve().parent.parent / "src" / "zinepress" / "styles" / "print.css"
LARGE = "body { font-size: 26pt; line-height: 1.3; }\n"  # two hundred pages of little text lay out fast
WORDS = ("river stone window lantern morning harbour paper quiet garden letter thread orchard signal "
         "meadow ember journey candle winter silver margin").split()


def make_book(folder: Path, target: str, chapters: int, paragraphs: int, extra_css: str = "",
              print_keys: str = "") -> Path:
    """A generated book: ``chapters`` chapters of ``paragraphs`` paragraphs, set large so that pages come cheap."""
    (folder / "manuscript").mkdir(parents=True)
    (folder / "styles").mkdir()
    (folder / "styles" / "print.css").write_text(STYLES.read_text() + "\nbody { font-size: 20pt; }\n" + extra_css)
    (folder / "manuscript" / "book.toml").write_text(
        'title = "Long Fixture"\nauthors = ["Fixture Author"]\nlanguage = "en"\n'
        'identifier = "urn:uuid:3f0c2a8e-6b1d-4e7a-9c55-1d2e3f4a5b6c"\n'
        'description = "A generated book for the print targets."\n\n'
        f'[print]\ntarget = "{target}"\n{print_keys}')
    for number in range(1, chapters + 1):
        add_chapter(folder, number, paragraphs)
    return folder


def add_chapter(folder: Path, number: int, paragraphs: int) -> None:
    body = [" ".join(WORDS[(number * 7 + index * 3 + k) % len(WORDS)] for k in range(60)).capitalize() + "."
            for index in range(paragraphs)]
    (folder / "manuscript" / f"{number:02d}-part-{number}.md").write_text(
        f"---\ntitle: Chapter {number}\n---\n\n# Chapter {number}\n\n" + "\n\n".join(body) + "\n")


def build(project: Path, capsys, *formats: str) -> Path:
    argv = ["build", str(project), "--no-cache"] + [arg for name in formats for arg in ("--format", name)]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    return project / "build"


def cover_width_mm(path: Path) -> tuple[float, float]:
    with pikepdf.open(path) as pdf:
        box = [float(value) for value in pdf.pages[0].mediabox]
    return (box[2] - box[0]) / PT, (box[3] - box[1]) / PT


def page_count(path: Path) -> int:
    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


# ---------------------------------------------------------------- book.toml


@pytest.mark.parametrize(("keys", "key", "wanted"), [
    ('target = "kdp"\nmarks = "crop"\n', "marks", "Amazon KDP rejects files with printer's marks"),
    ('bleed = "3mm"\ntarget = "lulu"\n', "bleed", "Lulu needs a bleed of 3.2 mm (0.125 in)"),
    ('target = "ingram"\ntrim = "A6"\n', "trim", "IngramSpark does not print the trim 105 × 148 mm"),
    ('target = "press"\n', "target", "unknown print target 'press'"),
    ('target = "kdp"\npaper = "blue"\n', "paper", "'paper' must be one of white, cream, color"),
])
def test_a_key_the_target_forbids_is_an_error_at_its_line(tmp_path, capsys, keys, key, wanted):
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text() + 'description = "d"\n\n[print]\n' + keys)
    line = next(number for number, text in enumerate(toml.read_text().splitlines(), 1) if text.startswith(key))
    code, _, err = run(["build", str(project), "--format", "print"], capsys)
    assert code == 1
    assert re.search(rf"book\.toml:{line}: error: {re.escape(wanted)}", err), err
    assert not (project / "build").exists()


def test_a_target_sets_the_defaults_and_allowed_keys_win(tmp_path):
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    toml = project / "manuscript" / "book.toml"
    base = toml.read_text()
    toml.write_text(base + '\n[print]\ntarget = "kdp"\npaper = "cream"\n')
    settings = load_config(project).print
    assert (settings.trim_width, settings.trim_height) == pytest.approx((6 * IN, 9 * IN))
    assert (settings.bleed, settings.marks, settings.paper) == (pytest.approx(0.125 * IN, abs=0.001), "none", "cream")
    toml.write_text(base + '\n[print]\ntarget = "kdp"\ntrim = "5.5x8.5in"\nmarks = "none"\n')
    assert load_config(project).print.trim_width == pytest.approx(5.5 * IN)
    toml.write_text(base + '\n[print]\ntarget = "home"\nmarks = "crop"\n')
    assert (load_config(project).print.bleed, load_config(project).print.marks) == (0.0, "crop")


def test_the_table_has_each_printers_spine_and_gutter():
    kdp, lulu = target_named("kdp"), target_named("lulu")
    assert kdp.spine_width(200, "white") == pytest.approx(200 * 0.002252 * IN)
    assert lulu.spine_width(444, "cream") == pytest.approx(1.06 * IN, abs=0.01)
    assert [kdp.gutter_for(pages) for pages in (24, 150, 151, 300, 301, 828)] == \
        pytest.approx([0.375 * IN, 0.375 * IN, 0.5 * IN, 0.5 * IN, 0.625 * IN, 0.875 * IN])
    with pytest.raises(KeyError):
        kdp.caliper("blue")


# ---------------------------------------------------------------- a short KDP book


@pytest.fixture(scope="module")
def kdp_small(tmp_path_factory):
    """The minimal fixture as a KDP paperback, built once with the PDF, the press edition and the site."""
    project = copy_project(PROJECTS / "minimal", tmp_path_factory.mktemp("kdp") / "book")
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text() + 'description = "A short book."\n\n[print]\ntarget = "kdp"\n')
    code = __import__("zinepress.cli", fromlist=["main"]).main(
        ["build", str(project), "--no-cache", "--quiet", "--format", "pdf", "--format", "print", "--format", "site"])
    assert code == 0
    return project


def test_kdp_interior_has_bleed_but_no_cover_marks_bookmarks_or_links(kdp_small):
    build_dir = kdp_small / "build"
    digital = page_count(build_dir / "a-minimal-book.pdf")
    with pikepdf.open(build_dir / "a-minimal-book-print.pdf") as pdf:
        assert len(pdf.pages) == digital - 2  # the cover and its blank verso are the wrap's
        assert "/Outlines" not in pdf.Root
        for index, page in enumerate(pdf.pages):
            media, bleed, trim = ([float(v) for v in page.obj[key]] for key in ("/MediaBox", "/BleedBox", "/TrimBox"))
            assert "/Annots" not in page.obj
            assert media == pytest.approx(bleed)
            assert (trim[2] - trim[0], trim[3] - trim[1]) == pytest.approx((6 * 72, 9 * 72), abs=0.01)
            assert (media[2] - media[0], media[3] - media[1]) == pytest.approx((6.125 * 72, 9.25 * 72), abs=0.01)
            spine_left = index % 2 == 0
            assert (trim[0] - media[0] if spine_left else media[2] - trim[2]) == pytest.approx(0, abs=0.01)
    with pdfplumber.open(build_dir / "a-minimal-book-print.pdf") as pdf:
        assert "A Minimal Book" in pdf.pages[0].extract_text()


def test_kdp_interior_has_the_gutter_of_its_page_count(kdp_small):
    path = kdp_small / "build" / "a-minimal-book-print.pdf"
    gutter = target_named("kdp").gutter_for(page_count(path))
    with pdfplumber.open(path) as pdf:
        recto_lefts = [min(char["x0"] for char in page.chars)  # a recto's media box starts at its trim
                       for index, page in enumerate(pdf.pages) if index % 2 == 0 and page.chars]
    assert min(recto_lefts) / PT == pytest.approx(gutter, abs=0.3)


def test_cover_wrap_is_back_spine_front_with_bleed_and_a_clear_barcode_box(kdp_small):
    build_dir = kdp_small / "build"
    pages = page_count(build_dir / "a-minimal-book-print.pdf")
    width, height = cover_width_mm(build_dir / "a-minimal-book-cover.pdf")
    spine = pages * 0.002252 * IN
    assert width * PT == pytest.approx((2 * 6 * IN + spine + 2 * 0.125 * IN) * PT, abs=0.5)
    assert height * PT == pytest.approx((9 * IN + 2 * 0.125 * IN) * PT, abs=0.5)
    with pdfplumber.open(build_dir / "a-minimal-book-cover.pdf") as pdf:
        page = pdf.pages[0]
        bleed, trim = 0.125 * 72, 6 * 72
        barcode = (bleed + trim - 0.25 * 72 - 2 * 72, page.height - bleed - 0.25 * 72 - 1.2 * 72,
                   bleed + trim - 0.25 * 72, page.height - bleed - 0.25 * 72)
        inside = page.crop(barcode, strict=False)
        assert not inside.chars and not inside.images
        spine_box = (bleed + trim, 0, bleed + trim + spine * PT, page.height)
        assert not page.crop(spine_box).chars  # fewer than 79 pages: no spine text
        assert "short book" in page.crop((0, 0, bleed + trim, page.height)).extract_text()
        assert "A Minimal Book" in page.crop((bleed + trim + spine * PT, 0, page.width, page.height)).extract_text()
    assert preflight(build_dir / "a-minimal-book-cover.pdf", "cover", load_config(kdp_small)) == []


def test_downloads_page_lists_the_cover_wrap_with_the_press_pdf(kdp_small):
    page = (kdp_small / "build" / "index.html").read_text()
    assert 'href="a-minimal-book-cover.pdf"' in page and "Cover for the print shop" in page
    assert page.index("a-minimal-book-print.pdf") < page.index("a-minimal-book-cover.pdf")
    assert "a-minimal-book-cover.pdf" in (kdp_small / "build" / "SHA256SUMS").read_text()


def test_short_book_preflight_names_the_minimum_page_count(kdp_small):
    problems = preflight(kdp_small / "build" / "a-minimal-book-print.pdf", "print", load_config(kdp_small))
    assert [problem.message for problem in problems] == \
        [f"the interior has {page_count(kdp_small / 'build' / 'a-minimal-book-print.pdf')} pages: "
         "Amazon KDP prints paperbacks of 24 to 828 pages"]


# ---------------------------------------------------------------- page count and spine


def test_adding_a_chapter_widens_the_spine_by_its_pages(tmp_path, capsys):
    project = make_book(tmp_path / "book", "lulu", chapters=2, paragraphs=12, print_keys='paper = "cream"\n')
    out = build(project, capsys, "print")
    pages, (width, _) = page_count(out / "long-fixture-print.pdf"), cover_width_mm(out / "long-fixture-cover.pdf")
    kept_cover = (out / "long-fixture-cover.pdf").read_bytes()
    add_chapter(project, 3, 12)
    out = build(project, capsys, "print")
    more, (wider, _) = page_count(out / "long-fixture-print.pdf"), cover_width_mm(out / "long-fixture-cover.pdf")
    assert more > pages
    assert (wider - width) * PT == pytest.approx((more - pages) * 0.0022523 * IN * PT, abs=0.5)
    config = load_config(project)
    assert preflight(out / "long-fixture-cover.pdf", "cover", config) == []
    (out / "long-fixture-cover.pdf").write_bytes(kept_cover)
    problems = preflight(out / "long-fixture-cover.pdf", "cover", config)
    assert len(problems) == 1 and re.match(rf"the cover is {width:.2f} mm wide; {more} interior pages on cream "
                                           r"paper need 2 × 152\.4 \+ [\d.]+ \(spine\)", problems[0].message)


def test_ingram_names_exactly_what_zinepress_cannot_write(tmp_path, capsys):
    project = make_book(tmp_path / "book", "ingram", chapters=2, paragraphs=12)
    out = build(project, capsys, "print")
    config = load_config(project)
    for kind, name in (("print", "long-fixture-print.pdf"), ("cover", "long-fixture-cover.pdf")):
        messages = [problem.message for problem in preflight(out / name, kind, config)]
        assert len(messages) == 1, messages
        assert messages[0].startswith("IngramSpark asks for PDF/X-1a or PDF/X-3 with CMYK colour; zinepress "
                                      "writes PDF/X-4 in sRGB")


def test_a_gutter_narrower_than_the_table_fails_naming_the_pages(tmp_path, capsys):
    narrow = "@page chapter:right { margin-left: 5mm; }\n@page chapter:left { margin-right: 5mm; }\n"
    project = make_book(tmp_path / "book", "kdp", chapters=3, paragraphs=8, extra_css=narrow)
    out = build(project, capsys, "print")
    messages = [problem.message for problem in preflight(out / "long-fixture-print.pdf", "print", load_config(project))]
    gutter = [message for message in messages if "from the binding edge" in message]
    assert len(gutter) == 1, messages
    assert re.match(r"pages? [\d, -]+: text 5\.0 mm from the binding edge: Amazon KDP needs a gutter of 9\.5 mm "
                    r"\(0\.375 in\) for \d+ pages", gutter[0])


# ---------------------------------------------------------------- two hundred pages


@pytest.mark.parametrize("target", ["kdp", "lulu"])
def test_a_two_hundred_page_book_passes_its_targets_preflight(tmp_path, capsys, target):
    project = make_book(tmp_path / "book", target, chapters=30, paragraphs=6, extra_css=LARGE)
    out = build(project, capsys, "print")
    config = load_config(project)
    pages = page_count(out / "long-fixture-print.pdf")
    assert 180 <= pages <= 260
    assert preflight(out / "long-fixture-print.pdf", "print", config) == []
    assert preflight(out / "long-fixture-cover.pdf", "cover", config) == []
    gutter = target_named(target).gutter_for(pages)
    assert gutter > target_named(target).gutter[0][1]  # laid out again in the wider band
    with pdfplumber.open(out / "long-fixture-print.pdf") as pdf:
        lefts = [min(char["x0"] for char in page.chars) for index, page in enumerate(pdf.pages[:40])
                 if index % 2 == 0 and page.chars]
    assert min(lefts) / PT == pytest.approx(gutter, abs=0.3)
    assert_spine_text(out / "long-fixture-cover.pdf", config, pages)


def assert_spine_text(path: Path, config, pages: int) -> None:
    """The title and author sit on the spine, centred across it, reading top to bottom."""
    target = target_named(config.print.target)
    spine = target.spine_width(pages, "white") * PT
    bleed, trim = config.print.bleed * PT, config.print.trim_width * PT
    with pdfplumber.open(path) as pdf:
        page = pdf.pages[0]
        chars = page.crop((bleed + trim, 0, bleed + trim + spine, page.height)).chars
        text = "".join(char["text"] for char in sorted(chars, key=lambda char: char["top"]))
        assert text.replace(" ", "").startswith("LongFixture") and "FixtureAuthor" in text.replace(" ", "")
        assert all(not char["upright"] for char in chars)
        middle = sum((char["x0"] + char["x1"]) / 2 for char in chars) / len(chars)
        assert middle == pytest.approx(bleed + trim + spine / 2, abs=spine / 4)
        tops = [char["top"] for char in chars]
        assert tops == sorted(tops)  # in reading order, top to bottom


def test_the_bundled_review_is_too_short_for_kdp(bundled, capsys):
    toml = bundled / "manuscript" / "book.toml"
    text = re.sub(r'\nbleed = "3mm"\nmarks = "crop"\n', '\ntarget = "kdp"\n', toml.read_text())
    toml.write_text(text)
    out = build(bundled, capsys, "print")
    pages = page_count(out / "love-wins-all-print.pdf")
    messages = [problem.message for problem in preflight(out / "love-wins-all-print.pdf", "print", load_config(bundled))]
    assert f"the interior has {pages} pages: Amazon KDP prints paperbacks of 24 to 828 pages" in messages
    shutil.rmtree(out)
