"""The zine: pages of S.pdf imposed for saddle stitching, checked by their text, sheet by sheet."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from conftest import PROJECTS, ROOT, copy_project, pdf_text
from zinepress.cli import main
from zinepress.writers.zine import booklet_sides, padded_sequence

NAMES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
         "kilo", "lima", "mike", "november", "oscar", "papa", "quebec"]


def zine_project(tmp_path, pages: int, sheet: str = "A4"):
    """The zine fixture with ``pages`` pages, one marked paragraph each."""
    project = copy_project(PROJECTS / "zine", tmp_path / f"zine-{pages}")
    paragraphs = "\n\n".join(f"Marker page {n:02d} {NAMES[n - 1]}." for n in range(1, pages + 1))
    (project / "manuscript" / "01-pages.md").write_text(f"---\ntitle: Pages\n---\n\n{paragraphs}\n", encoding="utf-8")
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('sheet = "A4"', f'sheet = "{sheet}"'), encoding="utf-8")
    assert main(["build", str(project), "--format", "pdf", "--format", "zine"]) == 0
    return project / "build"


def page_text(path, page: int) -> str:
    return " ".join(pdf_text(path, "-f", str(page), "-l", str(page)).split())


def half_text(path, page: int, half: int, width: float, height: float) -> str:
    """The text of the left (0) or right (1) half of one page of a PDF."""
    x = round(half * width / 2)
    return " ".join(pdf_text(path, "-f", str(page), "-l", str(page), "-x", str(x), "-y", "0",
                             "-W", str(round(width / 2)), "-H", str(round(height) + 1)).split())


def expected_halves(count: int) -> list[tuple[int | None, int | None]]:
    """For each zine side, the 1-based S.pdf pages (None for a blank) expected on its left and right.

    Written out independently of the writer: the padded book is pages 1..count-1, blanks,
    then the last page; sheet k (from 0) of n padded pages carries n-2k | 2k+1 on its front
    and 2k+2 | n-2k-1 on its back.
    """
    total = -(-count // 4) * 4
    book = list(range(1, count)) + [None] * (total - count) + [count] if count > 1 else [1, None, None, None]
    sides = []
    for k in range(total // 4):
        sides += [(book[total - 2 * k - 1], book[2 * k]), (book[2 * k + 1], book[total - 2 * k - 2])]
    return sides


def test_expected_orders_written_out():
    assert expected_halves(4) == [(4, 1), (2, 3)]
    assert expected_halves(8) == [(8, 1), (2, 7), (6, 3), (4, 5)]
    assert expected_halves(7) == [(7, 1), (2, None), (6, 3), (4, 5)]


def check_imposition(build_folder, stem: str) -> list[tuple]:
    """Compare every half of every zine side with the S.pdf page expected there; return the order."""
    book, zine = build_folder / f"{stem}.pdf", build_folder / f"{stem}-zine.pdf"
    count = len(PdfReader(book).pages)
    reader = PdfReader(zine)
    order = expected_halves(count)
    assert len(reader.pages) == len(order) == -(-count // 4) * 2
    for side, pages in enumerate(order, 1):
        width, height = (float(v) for v in reader.pages[side - 1].mediabox[2:])
        assert width > height, "zine sheets are landscape"
        for half, page in enumerate(pages):
            got = half_text(zine, side, half, width, height)
            assert got == (page_text(book, page) if page else ""), (side, half, page)
    return order


@pytest.mark.parametrize("pages", [4, 8, 12, 16, 7])
def test_imposition_by_content(tmp_path, pages):
    build = zine_project(tmp_path, pages)
    assert len(PdfReader(build / "zine.pdf").pages) == pages
    for n in range(1, pages + 1):
        assert page_text(build / "zine.pdf", n) == f"Marker page {n:02d} {NAMES[n - 1]}."
    order = check_imposition(build, "zine")
    assert order[0] == (pages, 1), "back and front covers on the outside of the first sheet"


def test_odd_count_pads_before_the_back_cover(tmp_path):
    build = zine_project(tmp_path, 7)
    order = expected_halves(7)
    assert order[0] == (7, 1), "back cover (page 7) and front cover on the outside of sheet 1"
    assert order[1] == (2, None), "the one blank sits just inside the back cover"
    check_imposition(build, "zine")


def test_letter_sheet_is_landscape_letter_and_pages_centred(tmp_path):
    build = zine_project(tmp_path, 4, sheet="letter")
    reader = PdfReader(build / "zine-zine.pdf")
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width, 1), round(height, 1)) == (792.0, 612.0)
    check_imposition(build, "zine")
    layout = pdf_text(build / "zine-zine.pdf", "-bbox", "-f", "1", "-l", "1")
    lefts = [float(x) for x in re.findall(r'<word xMin="([\d.]+)"[^>]*>Marker', layout)]
    assert len(lefts) == 2 and abs((lefts[1] - lefts[0]) - width / 2) < 1, "both pages placed alike in their halves"


def fold(count: int) -> list[int | None]:
    """Simulate printing duplex (short-edge flip), stacking sheet 1 outermost, folding, reading.

    Returns the page seen at each reading position: through the front halves of the stack
    (front right, then back left of each sheet inwards), then back out (back right, front left).
    """
    sequence = padded_sequence(count)
    sides = booklet_sides(count)
    sheets = [(sides[2 * k], sides[2 * k + 1]) for k in range(len(sides) // 2)]
    reading = []
    for front, back in sheets:
        reading += [front[1], back[0]]
    for front, back in reversed(sheets):
        reading += [back[1], front[0]]
    return [sequence[position] for position in reading]


@pytest.mark.parametrize("count", range(1, 41))
def test_folded_booklet_reads_in_order(count):
    pages = fold(count)
    printed = [p for p in pages if p is not None]
    assert printed == list(range(count)), "every page once, in order"
    if count > 1:
        assert pages[-1] == count - 1, "the last page stays the back cover"
    assert len(pages) % 4 == 0


@pytest.fixture(scope="module")
def bundled_zine(tmp_path_factory):
    project = copy_project(ROOT, tmp_path_factory.mktemp("bundled-zine") / "project")
    assert main(["build", str(project), "--format", "pdf", "--format", "zine"]) == 0
    return project / "build"


def test_bundled_manuscript_zine(bundled_zine):
    order = check_imposition(bundled_zine, "love-wins-all")
    count = len(PdfReader(bundled_zine / "love-wins-all.pdf").pages)
    assert order[0] == (count, 1)
