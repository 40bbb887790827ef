"""The zine, read back from its imposed sheets region by region and folded in the test's own model.

The fixture gives every page one marker paragraph ("Marker page 05"), the cover page 1
and the colophon the last page, so each region of each sheet side must hold the page the
fold brings to that place. The bundled review is compared with its own laid-out pages.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from conftest import PROJECTS, ROOT, copy_project, pdf_text, run
from zinepress import markdown
from zinepress.stylesheets import load_stylesheets
from zinepress.build import source_date
from zinepress.cli import main
from zinepress.config import load_config
from zinepress.errors import Diagnostics
from zinepress.manuscript import load_manuscript
from zinepress.printing import read_steps
from zinepress.render import render
from zinepress.stylesheets import DEFAULT_STYLES
from zinepress.writers.base import BuildSession
from zinepress.zinelayout import zine_pages

MM = 72 / 25.4
GRIDS = {"booklet": (2, 1), "quarter": (2, 2), "mini": (4, 2)}


def marker_project(tmp_path, pages: int, zine: str = "", name: str = "zine", first: int = 2):
    """The fixture with a cover, marker pages ``first`` to ``pages - 1`` and the colophon; ``zine`` adds
    [zine] lines."""
    project = copy_project(PROJECTS / "zine", tmp_path / name)
    paragraphs = "\n\n".join(f"Marker page {n:02d}." for n in range(first, pages))
    (project / "manuscript" / "01-pages.md").write_text(f"---\ntitle: Pages\n---\n\n{paragraphs}\n", encoding="utf-8")
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + zine + "\n", encoding="utf-8")
    own = project / "styles" / "zine.css"  # the fixture's few rules after the default ones, as a project would
    own.write_text((DEFAULT_STYLES / "zine.css").read_text(encoding="utf-8") + own.read_text(encoding="utf-8"),
                   encoding="utf-8")
    return project


def build_zine(project, *extra: str) -> int:
    return main(["build", str(project), "--format", "zine", "--no-cache", *extra])


def clean(text: str) -> str:
    return " ".join(text.split())


def region(path, page: int, box: tuple[float, float, float, float]) -> str:
    """The text of one region (x, y from the top left, width, height, in points) of one page."""
    x, y, width, height = (str(round(value)) for value in box)
    return clean(pdf_text(path, "-f", str(page), "-l", str(page), "-x", x, "-y", y, "-W", width, "-H", height))


def turned_copy(path, folder):
    """The PDF with every page turned 180°, to read the mini's top row the right way up."""
    reader, writer = PdfReader(path), PdfWriter()
    for page in reader.pages:
        writer.add_page(page).rotate(180)
    copy = folder / f"turned-{path.name}"
    with open(copy, "wb") as stream:
        writer.write(stream)
    return copy


def cells(path, kind: str, folder) -> list[list[str]]:
    """Each sheet side's regions, row by row from the top, left to right; the mini's top row read turned."""
    reader = PdfReader(path)
    across, down = GRIDS[kind]
    turned = turned_copy(path, folder) if kind == "mini" else None
    sides = []
    for number, page in enumerate(reader.pages, 1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        w, h = width / across, height / down
        texts = []
        for row in range(down):
            for column in range(across):
                if turned is not None and row == 0:  # the top row, turned: it is the bottom row, mirrored
                    texts.append(region(turned, number, ((across - 1 - column) * w, h, w, h)))
                else:
                    texts.append(region(path, number, (column * w, row * h, w, h)))
        sides.append(texts)
    return sides


def nested_reading(sheets: list[tuple[tuple[str, str], tuple[str, str]]]) -> list[str]:
    """Fold nested sheets (the first outermost) and read: in through the right-hand pages, out again."""
    pages = []
    for front, back in sheets:
        pages += [front[1], back[0]]
    for front, back in reversed(sheets):
        pages += [back[1], front[0]]
    return pages


def folded(sides: list[list[str]], kind: str, signature: int | None = None) -> list[str]:
    """The pages in the order a reader meets them once the sheets are printed, cut, stacked and folded."""
    if kind == "mini":
        # The cut and the long fold leave a ring of panels, neighbours sharing a fold:
        # B0 B1 B2 B3 T3 T2 T1 T0 (B bottom row, T top row, by column). Collapsed with the
        # spine at the middle, the cover is B3, then T3…T0, then B0, B1 and the back B2.
        top, bottom = sides[0][:4], sides[0][4:]
        return [bottom[3], top[3], top[2], top[1], top[0], bottom[0], bottom[1], bottom[2]]
    pairs = [(sides[i], sides[i + 1]) for i in range(0, len(sides), 2)]
    if kind == "quarter":
        halves = [((f[0], f[1]), (b[0], b[1])) for f, b in pairs] + [((f[2], f[3]), (b[2], b[3])) for f, b in pairs]
        while halves and not any(halves[-1][0] + halves[-1][1]):
            halves.pop()  # the empty bottom half of the last sheet
        return nested_reading(halves)
    sheets = [((f[0], f[1]), (b[0], b[1])) for f, b in pairs]
    size = signature or len(sheets)
    return [page for start in range(0, len(sheets), size) for page in nested_reading(sheets[start:start + size])]


def check_markers(reading: list[str], pages: int, title: str = "Zine Fixture") -> None:
    """Page 1 the cover, 2…N-1 their markers, the last page the colophon; blanks only just before it."""
    assert title in reading[0], reading[0]
    assert "Colophon" in reading[-1]
    text_pages = [n for n in range(2, pages)]
    inner = reading[1:-1]
    blanks = [index for index, text in enumerate(inner) if not text]
    assert len(inner) - len(blanks) == len(text_pages)
    for number, text in zip(text_pages, [text for text in inner if text]):
        assert f"Marker page {number:02d}." in text, (number, text)
    assert blanks == list(range(len(inner) - len(blanks), len(inner))), "blanks sit inside the back cover"


@pytest.mark.parametrize("pages", [8, 12, 16])
def test_booklet_reads_in_order_when_folded(tmp_path, pages):
    project = marker_project(tmp_path, pages)
    assert build_zine(project) == 0
    zine = project / "build" / "zine-zine.pdf"
    sides = cells(zine, "booklet", tmp_path)
    assert len(sides) == pages // 2
    reading = folded(sides, "booklet")
    check_markers(reading, pages)
    assert sides[0][0].startswith("Colophon") and "Zine Fixture" in sides[0][1], "the covers outside sheet 1"


def test_one_blank_inside_the_back_cover(tmp_path):
    project = marker_project(tmp_path, 7)
    assert build_zine(project) == 0
    reading = folded(cells(project / "build" / "zine-zine.pdf", "booklet", tmp_path), "booklet")
    assert len(reading) == 8 and reading[6] == "" and "Colophon" in reading[7]
    check_markers(reading, 7)


def test_mini_is_one_side_of_eight_pages_top_row_turned(tmp_path):
    project = marker_project(tmp_path, 8, 'format = "mini"')
    assert build_zine(project) == 0
    zine = project / "build" / "zine-zine.pdf"
    reader = PdfReader(zine)
    assert len(reader.pages) == 1
    width, height = (float(value) for value in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (842, 595), "one landscape A4 side"
    sides = cells(zine, "mini", tmp_path)
    check_markers(folded(sides, "mini"), 8)
    words = words_on(zine, 1)
    for column in range(4):  # upside down in the top row: the folio nearer the sheet's top than the text
        inside = [word for word in words if column * width / 4 < word[0] < (column + 1) * width / 4]
        for upper in (True, False):
            half = [word for word in inside if (word[1] < height / 2) == upper]
            marker = [word[1] for word in half if word[4] == "Marker"]
            folio = [word[1] for word in half if re.fullmatch(r"\d", word[4])]
            if marker and folio:
                assert (folio[0] < marker[0]) == upper, (column, upper)


def words_on(path, page: int) -> list[tuple[float, float, float, float, str]]:
    """pdftotext's words with their boxes (xMin, yMin, xMax, yMax from the top left) on one page."""
    xml = pdf_text(path, "-bbox", "-f", str(page), "-l", str(page))
    return [(float(a), float(b), float(c), float(d), word) for a, b, c, d, word in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', xml)]


def test_quarter_cut_and_stack_reads_in_order(tmp_path):
    project = marker_project(tmp_path, 12, 'format = "quarter"')
    assert build_zine(project) == 0
    zine = project / "build" / "zine-zine.pdf"
    sides = cells(zine, "quarter", tmp_path)
    assert len(sides) == 4, "three booklet sheets on two sheets, the last bottom half empty"
    width, height = (float(value) for value in PdfReader(zine).pages[0].mediabox[2:])
    assert width < height, "portrait"
    assert sides[1][2:] == ["", ""] or sides[3][2:] == ["", ""]
    check_markers(folded(sides, "quarter"), 12)


def test_signatures_impose_each_on_its_own(tmp_path):
    project = marker_project(tmp_path, 24, 'signature = 2')
    assert build_zine(project) == 0
    sides = cells(project / "build" / "zine-zine.pdf", "booklet", tmp_path)
    assert len(sides) == 12
    check_markers(folded(sides, "booklet", signature=2), 24)
    assert "Marker page 08." in sides[0][0] and "Zine Fixture" in sides[0][1], "signature 1: pages 8 | 1"
    assert "Marker page 16." in sides[4][0] and "Marker page 09." in sides[4][1], "signature 2: pages 16 | 9"


def folio_centres(path, page: int, width: float) -> tuple[float, float]:
    """The centre of the folio (a number alone at the foot) in the left and right halves of a side."""
    words = [word for word in words_on(path, page) if re.fullmatch(r"\d+", word[4])]
    left = [(w[0] + w[2]) / 2 for w in words if w[2] < width / 2]
    right = [(w[0] + w[2]) / 2 for w in words if w[0] > width / 2]
    return left[0], right[0]


def test_creep_moves_inner_pages_towards_the_spine(tmp_path):
    project = marker_project(tmp_path, 16, 'creep = "0.5mm"')
    assert build_zine(project) == 0
    zine = project / "build" / "zine-zine.pdf"
    width = float(PdfReader(zine).pages[0].mediabox.width)
    for sheet in range(4):
        back = 2 * sheet + 2  # backs carry a folio on both halves
        left, right = folio_centres(zine, back, width)
        assert abs(left - (width / 4 + 0.5 * MM * sheet)) < 0.3, (sheet, left)
        assert abs(right - (3 * width / 4 - 0.5 * MM * sheet)) < 0.3, (sheet, right)
    steps = read_steps(zine)
    assert any("1.50 mm towards the spine" in step for step in steps)


def test_separate_cover_and_instructions_page(tmp_path, capsys):
    project = marker_project(tmp_path, 11, 'cover = "separate"\npages = 8\ninstructions = true', first=3)
    code, out, err = run(["build", str(project), "--format", "zine", "--format", "site", "--no-cache"], capsys)
    assert code == 0, err
    build = project / "build"
    cover = cells(build / "zine-zine-cover.pdf", "booklet", tmp_path)
    assert len(cover) == 2
    assert cover[0][0] == "" and "Zine Fixture" in cover[0][1], "outside: back (blank) | front"
    assert cover[1][0] == "" and "Colophon" in cover[1][1], "inside: blank | colophon"
    zine = build / "zine-zine.pdf"
    reader = PdfReader(zine)
    assert len(reader.pages) == 5, "4 sides of the 8-page interior and the instructions"
    reading = folded(cells(zine, "booklet", tmp_path)[:4], "booklet")
    assert [re.search(r"Marker page (\d+)", page)[1] for page in reading] == [f"{n:02d}" for n in range(3, 11)]
    assert "Printing and folding" in pdf_text(zine, "-f", "5", "-l", "5")
    assert "flip on short edge" in out and "cover stock" in out
    page = (build / "index.html").read_text(encoding="utf-8")
    assert "flip on short edge" in page and "Zine cover, to print on cover stock" in page


def test_clear_of_every_sheet_edge(tmp_path):
    for kind in ("booklet", "quarter", "mini"):
        project = marker_project(tmp_path, 8, f'format = "{kind}"', name=f"edge-{kind}")
        assert build_zine(project) == 0
        assert_clear_edges(project / "build" / "zine-zine.pdf", tmp_path / kind)


def assert_clear_edges(path, stem) -> None:
    """Nothing printed within 5 mm of any sheet edge: the rendered sheets are white there."""
    subprocess.run(["pdftoppm", "-gray", "-r", "72", "-png", str(path), str(stem)], check=True)
    margin = int(5 * MM)  # 14 px at 72 dpi
    pictures = sorted(stem.parent.glob(f"{stem.name}-*.png"))
    assert pictures
    for picture in pictures:
        with Image.open(picture) as image:
            grey = image.convert("L")
            width, height = grey.size
            for band in ((0, 0, width, margin), (0, height - margin, width, height),
                         (0, 0, margin, height), (width - margin, 0, width, height)):
                assert grey.crop(band).getextrema()[0] > 245, (picture.name, band)
            assert grey.getextrema()[0] < 100, "the sheet is not blank"


def halves(path) -> list[list[str]]:
    """Each side's left and right half of a booklet, read from one ``pdftotext -bbox`` of the whole file."""
    xml = pdf_text(path, "-bbox")
    sides = []
    for page in xml.split("<page ")[1:]:
        width = float(re.search(r'width="([\d.]+)"', page)[1])
        words = re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', page)
        texts = []
        for left in (True, False):
            inside = sorted((float(y), float(x), word) for x, y, right, word in words
                            if (float(right) <= width / 2) == left)
            texts.append(" ".join(word for _, _, word in inside))
        sides.append(texts)
    return sides


def test_thick_book_warns_and_signatures_quiet_it(tmp_path, capsys):
    project = marker_project(tmp_path, 400)
    code, _, err = run(["build", str(project), "--format", "zine", "--no-cache"], capsys)
    assert code == 0
    assert "folds 100 sheets together" in err and "signature = 4" in err
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "signature = 4\n", encoding="utf-8")
    code, out, err = run(["build", str(project), "--format", "zine", "--no-cache"], capsys)
    assert code == 0 and "folds" not in err
    assert "25 signatures of 4 sheets" in out
    zine = project / "build" / "zine-zine.pdf"
    sides = halves(zine)
    assert len(sides) == 200
    check_markers(folded(sides, "booklet", signature=4), 400)
    assert "Marker page 16." in sides[0][0] and "Zine Fixture" in sides[0][1], "signature 1 outside: 16 | 1"
    assert "Marker page 32." in sides[8][0] and "Marker page 17." in sides[8][1], "signature 2 outside: 32 | 17"
    with pytest.raises(AssertionError):  # folded as one stack, the sheets would not read in order
        check_markers(folded(sides, "booklet"), 400)


# ---------------------------------------------------------------- the bundled review


def laid_out(project, folder):
    """The zine's pages before imposition, as the build lays them out, in a PDF file."""
    config = load_config(project)
    rendered = render(load_manuscript(config, markdown.chapter_html))
    session = BuildSession(rendered, source_date([]), Diagnostics(), stylesheets=load_stylesheets(project, ("print.css", "zine.css")))
    pages = zine_pages(rendered, session)
    path = folder / "laid-out.pdf"
    path.write_bytes(pages.pdf)
    return path, pages


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review")
    project = copy_project(ROOT, folder / "project")
    assert build_zine(project) == 0
    return project, folder


def test_review_zine_is_compact_and_reads_in_order(review):
    project, folder = review
    zine = project / "build" / "love-wins-all-zine.pdf"
    pages_pdf, pages = laid_out(project, folder)
    assert pages.fit.pages <= 12 and pages.fit.blanks <= 1
    sides = cells(zine, "booklet", folder)
    assert len(sides) * 2 == pages.fit.pages
    reading = folded(sides, "booklet")
    expected = [clean(pdf_text(pages_pdf, "-f", str(n), "-l", str(n))) for n in range(1, pages.total + 1)]
    expected = expected[:-1] + [""] * pages.fit.blanks + expected[-1:]
    assert reading == expected
    assert "Love wins all" in reading[0] and "Colophon" in reading[-1]
    assert_clear_edges(zine, folder / "review")


def test_review_chapters_run_on(review):
    """A chapter starts a new page only when less than a third of the page was left for it."""
    project, folder = review
    pages_pdf, pages = laid_out(project, folder)
    geometry = pages.geometry
    third = geometry.text_height / 3 * MM
    bottom = (geometry.height - geometry.bottom) * MM
    previous_bottom, run_on, openings = None, 0, 0
    for number in range(2, pages.total):
        words = [word for word in words_on(pages_pdf, number) if word[3] < bottom]  # the folio left out
        heights = sorted(word[3] - word[1] for word in words)
        median = heights[len(heights) // 2]
        headings = sorted({round(word[1], 1) for word in words if word[3] - word[1] > 1.3 * median})
        lines = sorted({round(word[3], 1) for word in words})
        for top in headings:
            above = [line for line in lines if line < top - 1]
            openings += 1
            if above:
                run_on += 1
                assert bottom - max(above) >= third - 1, (number, top, "ran on with too little room")
            elif previous_bottom is not None:
                assert bottom - previous_bottom < third + 1, (number, top, "a new page though a third was left")
        previous_bottom = max(lines) if lines else None
    assert openings == 6 + 1, "six chapters and the reader comments (the contents heading is smaller)"
    assert run_on >= 3


@pytest.mark.parametrize("pages, fits", [(8, True), (12, False), (16, False)])
def test_review_page_counts(tmp_path, capsys, pages, fits):
    project = copy_project(ROOT, tmp_path / "project")
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + f"pages = {pages}\n", encoding="utf-8")
    line = len(toml.read_text(encoding="utf-8").splitlines())
    code, _, err = run(["build", str(project), "--format", "zine", "--no-cache"], capsys)
    if fits:
        assert code == 0
        assert len(PdfReader(project / "build" / "love-wins-all-zine.pdf").pages) == pages // 2
    else:
        assert code == 1
        assert f"book.toml:{line}: error:" in err and "the text fits 8 pages" in err


def test_review_mini_says_how_many_pages_the_text_needs(tmp_path, capsys):
    project = copy_project(ROOT, tmp_path / "project")
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + 'format = "mini"\n', encoding="utf-8")
    code, _, err = run(["build", str(project), "--format", "zine", "--no-cache"], capsys)
    assert code == 1
    assert re.search(r"book\.toml:\d+: error: the text needs \d+ pages even at 9pt: a mini zine has 8", err)
    assert not (project / "build" / "love-wins-all-zine.pdf").exists()


def test_review_mini_in_smaller_type(tmp_path):
    project = copy_project(ROOT, tmp_path / "project")
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + 'format = "mini"\nfit = "7pt..9pt"\n', encoding="utf-8")
    assert build_zine(project) == 0
    zine = project / "build" / "love-wins-all-zine.pdf"
    pages_pdf, pages = laid_out(project, tmp_path)
    reading = folded(cells(zine, "mini", tmp_path), "mini")
    expected = [clean(pdf_text(pages_pdf, "-f", str(n), "-l", str(n))) for n in range(1, pages.total + 1)]
    assert reading == expected[:-1] + [""] * pages.fit.blanks + expected[-1:]
    assert_clear_edges(zine, tmp_path / "mini")


def test_printing_steps_fit_each_format():
    """The steps name the folios the reader sees, the flip the imposition needs, and what is not the zine."""
    from zinepress.printing import Printing, steps
    from zinepress.zinesettings import ZineSettings

    separate = steps(Printing(ZineSettings(cover="separate"), 2, 8, 0, "z-zine.pdf", "z-zine-cover.pdf", 5))
    assert "sheet 1 (pages 10 and 3) goes outside" in separate[3] and "page 3 outside" in separate[4]
    assert separate[2].startswith("Print pages 1–4 of z-zine.pdf") and "page 5, these instructions" in separate[2]
    quarter = steps(Printing(ZineSettings(format="quarter", cover="separate"), 1, 8, 0, "z-zine.pdf", "z-c.pdf"))
    assert all("flip on long edge" in step for step in quarter[1:3]) and "cut off its top half" in quarter[1]
    mini = steps(Printing(ZineSettings(format="mini"), 1, 8, 0, "z-zine.pdf"))
    assert "on one side of the sheet" in mini[1] and not any("flip" in step or "Staple" in step for step in mini)
    assert sum("cut along the dashed line" in step for step in mini) == 1
    signed = steps(Printing(ZineSettings(signature=4), 85, 340, 0, "z-zine.pdf"))
    assert "22 signatures: 21 of 4 sheets" in signed[2] and "a last one of 1 (sheet 85)" in signed[2]
    thick = steps(Printing(ZineSettings(), 85, 340, 0, "z-zine.pdf"))
    assert "8.5 mm" in thick[-1] and "signature = 4" in thick[-1]
    assert "signature" not in " ".join(steps(Printing(ZineSettings(), 12, 48, 0, "z-zine.pdf")))
