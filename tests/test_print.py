"""The press edition (PDF/X-4, bleed, marks), trim sizes, page labels and book typography for print."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader
from weasyprint import HTML

from conftest import PROJECTS, ROOT, copy_project, pdf_text, run
from zinepress.cli import main
from zinepress.paged import workers

MM = 72 / 25.4


@pytest.fixture(scope="module")
def typography(tmp_path_factory):
    """The typography fixture built in every format, with the warnings the build printed."""
    project = copy_project(PROJECTS / "typography", tmp_path_factory.mktemp("typography") / "project")
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        assert main(["build", str(project)]) == 0
    return project / "build", errors.getvalue()


def boxes(path) -> list[dict[str, tuple[float, ...]]]:
    """``pdfinfo -box`` for every page: {box name: (x0, y0, x1, y1)} in points."""
    count = len(PdfReader(path).pages)
    output = subprocess.run(["pdfinfo", "-box", "-f", "1", "-l", str(count), str(path)], check=True,
                            capture_output=True, text=True).stdout
    pages: list[dict] = [{} for _ in range(count)]
    for number, name, values in re.findall(r"^Page\s+(\d+) (\w+Box):\s+(.+)$", output, re.MULTILINE):
        pages[int(number) - 1][name] = tuple(float(v) for v in values.split())
    return pages


def size_mm(box) -> tuple[float, float]:
    return round((box[2] - box[0]) / MM, 2), round((box[3] - box[1]) / MM, 2)


def same_size(size, expected) -> bool:
    return all(abs(a - b) < 0.06 for a, b in zip(size, expected))


def page_text(path, page: int, *args: str) -> str:
    return pdf_text(path, *args, "-f", str(page), "-l", str(page))


def test_press_boxes_on_every_page(typography):
    build, _ = typography
    pages = boxes(build / "typography-print.pdf")
    assert len(pages) == len(PdfReader(build / "typography.pdf").pages)
    for page in pages:
        trim, bleed, media = page["TrimBox"], page["BleedBox"], page["MediaBox"]
        assert same_size(size_mm(trim), (148.0, 210.0))
        for inner, outer in zip(trim, bleed):
            assert abs(abs(outer - inner) - 3 * MM) < 0.01, (trim, bleed)
        assert bleed[0] > media[0] and bleed[1] > media[1] and bleed[2] < media[2] and bleed[3] < media[3], \
            "room for the crop marks outside the bleed"


def test_press_declares_pdfx4_with_output_intent(typography):
    build, _ = typography
    reader = PdfReader(build / "typography-print.pdf")
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert "<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in xmp
    intents = reader.trailer["/Root"]["/OutputIntents"]
    intent = intents[0].get_object()
    assert intent["/S"] == "/GTS_PDFX" and intent["/OutputConditionIdentifier"]
    profile = intent["/DestOutputProfile"].get_object().get_data()
    assert profile[36:40] == b"acsp", "an ICC profile is embedded"
    assert reader.metadata["/Trapped"] == "/False"
    assert reader.pdf_header >= "%PDF-1.6"


def test_press_fonts_all_embedded(typography):
    build, _ = typography
    fonts = subprocess.run(["pdffonts", str(build / "typography-print.pdf")], capture_output=True, text=True,
                           check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(row.split()[-5] == "yes" for row in rows), fonts


def test_press_has_the_same_pages_as_the_digital_edition(typography):
    build, _ = typography
    digital, press = build / "typography.pdf", build / "typography-print.pdf"
    count = len(PdfReader(digital).pages)
    for page in range(1, count + 1):
        assert page_text(press, page) == page_text(digital, page), page


def test_crop_marks_sit_outside_the_bleed(typography, tmp_path):
    build, _ = typography
    subprocess.run(["pdftoppm", "-png", "-r", "72", "-gray", "-f", "2", "-l", "2",  # page 1 is the cover
                    str(build / "typography-print.pdf"), str(tmp_path / "sheet")], check=True)
    image = Image.open(next(tmp_path.glob("sheet*.png"))).convert("L")
    page = boxes(build / "typography-print.pdf")[1]
    media, trim, bleed = page["MediaBox"], page["TrimBox"], page["BleedBox"]
    to_x = lambda x: round(x - media[0])  # noqa: E731 - points to pixels at 72 dpi
    to_y = lambda y: round(media[3] - y)  # noqa: E731
    mark_row = [image.getpixel((x, to_y(trim[3]))) for x in range(0, to_x(bleed[0]) - 2)]
    assert min(mark_row) < 128, "a crop mark along the top trim line, left of the bleed"
    bleed_zone = [image.getpixel((x, y)) for x in range(to_x(bleed[0]) + 1, to_x(trim[0]) - 1)
                  for y in range(to_y(bleed[3]) + 1, to_y(trim[3]) - 1)]
    assert min(bleed_zone) > 200, "nothing drawn in the bleed of a white page"


def test_full_bleed_picture_runs_into_the_bleed(typography, tmp_path):
    build, _ = typography
    press = build / "typography-print.pdf"
    reader = PdfReader(press)
    page = next(i for i, p in enumerate(reader.pages) if i > 0  # page 1 is the cover
                and not p.extract_text().strip() and b" Do" in p.get_contents().get_data())
    subprocess.run(["pdftoppm", "-png", "-r", "72", "-f", str(page + 1), "-l", str(page + 1), str(press),
                    str(tmp_path / "bleed")], check=True)
    image = Image.open(next(tmp_path.glob("bleed*.png"))).convert("RGB")
    media, bleed = boxes(press)[page]["MediaBox"], boxes(press)[page]["BleedBox"]
    inside = (round(bleed[0] - media[0]) + 1, round(media[3] - bleed[3]) + 1)
    outside = (round(bleed[0] - media[0]) - 3, round(media[3] - bleed[3]) - 3)
    assert image.getpixel(inside)[2] > 120 > image.getpixel(inside)[0], "the blue picture reaches the bleed edge"
    assert image.getpixel(outside) == (255, 255, 255), "and stops there"


def test_page_background_runs_into_the_bleed(tmp_path):
    project = copy_project(PROJECTS / "press", tmp_path / "press")
    assert main(["build", str(project), "--format", "print"]) == 0
    press = project / "build" / "press-print.pdf"
    subprocess.run(["pdftoppm", "-png", "-r", "72", "-f", "2", "-l", "2", str(press), str(tmp_path / "page")],
                   check=True)  # page 1 is the cover
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    page = boxes(press)[1]
    media, bleed, trim = page["MediaBox"], page["BleedBox"], page["TrimBox"]
    assert same_size(size_mm(trim), (105.0, 148.0))
    middle_y = round(media[3] - (trim[1] + trim[3]) / 2)
    yellow = (250, 200, 60)
    assert all(abs(a - b) < 8 for a, b in zip(image.getpixel((round(bleed[0] - media[0]) + 1, middle_y)), yellow))
    assert image.getpixel((round(bleed[0] - media[0]) - 2, middle_y)) == (255, 255, 255)
    cross_x = round((trim[0] + trim[2]) / 2 - media[0])
    column = [image.getpixel((cross_x, y))[0] for y in range(0, round(media[3] - bleed[3]) - 1)]
    assert min(column) < 128, "a registration cross above the page ('cross' marks)"


PRESETS = {"A5": (148.0, 210.0), "A6": (105.0, 148.0), "half-letter": (139.7, 215.9),
           "digest": (139.7, 209.55), '["120mm", "7in"]': (120.0, 177.8)}


@pytest.mark.parametrize("trim", PRESETS)
def test_trim_presets_set_the_page_size(tmp_path, trim):
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    toml = project / "manuscript" / "book.toml"
    value = trim if trim.startswith("[") else f'"{trim}"'
    toml.write_text(toml.read_text(encoding="utf-8") + f'\n[print]\ntrim = {value}\nbleed = "5mm"\n',
                    encoding="utf-8")
    assert main(["build", str(project), "--format", "pdf", "--format", "print"]) == 0
    slug = "a-minimal-book"
    for page in boxes(project / "build" / f"{slug}.pdf"):
        assert same_size(size_mm(page["MediaBox"]), PRESETS[trim])
    for page in boxes(project / "build" / f"{slug}-print.pdf"):
        assert same_size(size_mm(page["TrimBox"]), PRESETS[trim])
        width, height = PRESETS[trim]
        assert same_size(size_mm(page["BleedBox"]), (width + 10, height + 10))


def test_unknown_trim_preset_is_an_error_naming_the_line(tmp_path, capsys):
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    toml = project / "manuscript" / "book.toml"
    lines = toml.read_text(encoding="utf-8").splitlines() + ["", "[print]", 'trim = "B5"']
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(["build", str(project), "--format", "print"], capsys)
    assert code == 1
    assert re.fullmatch(rf"\S*book\.toml:{len(lines)}: error: unknown trim 'B5'[^\n]*\n", err), err
    assert "Traceback" not in err and not (project / "build" / "a-minimal-book-print.pdf").exists()


def test_page_labels_roman_then_arabic_matching_toc_and_folios(typography):
    build, _ = typography
    path = build / "typography.pdf"
    reader = PdfReader(path)
    labels = reader.page_labels
    first = reader.get_destination_page_number(reader.outline[0])
    # cover, its verso, title page, its verso, contents, its verso
    assert first == 6 and labels[:first] == ["i", "ii", "iii", "iv", "v", "vi"]
    assert labels[first:] == [str(n) for n in range(1, len(labels) - first + 1)]
    toc = page_text(path, 5, "-layout")
    for item in reader.outline:
        label = labels[reader.get_destination_page_number(item)]
        assert re.search(rf"{re.escape(item.title)}[ .]+{label}\s*$", toc, re.MULTILINE), (item.title, label)
    for index in range(first + 1, first + 4):
        assert page_text(path, index + 1).split()[-1] == labels[index], "printed folio equals the page label"


def test_no_running_head_or_folio_on_openings_and_blanks(typography):
    build, _ = typography
    path = build / "typography.pdf"
    reader = PdfReader(path)
    openings = [reader.get_destination_page_number(item) for item in reader.outline]
    for index in openings:
        words = page_text(path, index + 1).split()
        assert words[-1] != reader.page_labels[index], "no folio on a chapter opening"
        assert words[0] == reader.outline[openings.index(index)].title.split()[0], "no running head"
    blanks = [i for i, page in enumerate(reader.pages) if not page_text(path, i + 1).strip()]
    assert blanks, "the fixture has blank versos"
    for index in blanks:
        assert index not in openings
    following = page_text(path, openings[0] + 2).split()
    assert following[:2] == ["Typography", "Fixture"], "the running head is back on the next (left) page"
    assert following[-1] == reader.page_labels[openings[0] + 1], "and so is the folio"


def test_footnotes_sit_at_the_foot_of_their_page(typography):
    build, _ = typography
    path = build / "typography.pdf"
    reader = PdfReader(path)
    for call, note in (("first note", "Footnote alpha"), ("second note", "Footnote beta")):
        pages = [i for i, page in enumerate(reader.pages) if call in " ".join(page_text(path, i + 1).split())]
        assert len(pages) == 1, call
        lines = [line.strip() for line in page_text(path, pages[0] + 1, "-layout").splitlines() if line.strip()]
        note_line = next(i for i, line in enumerate(lines) if line.startswith(note) or note in line)
        body_lines = [i for i, line in enumerate(lines) if line.startswith("Paragraph")]
        assert note_line > max(body_lines), "the note is below the text of its page"
    text = pdf_text(path)
    assert "Back to the text" not in text and "↩" not in text
    assert "A second paragraph of the beta note." in " ".join(text.split())


def test_low_resolution_image_is_named_in_a_warning(typography):
    _, errors = typography
    warnings = [line for line in errors.splitlines() if "dpi" in line]
    assert len(warnings) == 1 and "images/small.png" in warnings[0] and "warning" in warnings[0], errors


def test_layout_is_made_once_for_all_three_pdfs(tmp_path, monkeypatch, in_parts):
    """Each part of the book is laid out once, however many PDFs are made from it (workers included).
    The zine is not made from it: it has a layout of its own (test_zine)."""
    project = copy_project(PROJECTS / "typography", tmp_path / "book")
    log = tmp_path / "renders.log"
    original = HTML.render

    def counting_render(self, *args, **kwargs):
        with log.open("a") as stream:  # appended to by forked workers too
            stream.write("render\n")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HTML, "render", counting_render)
    counts = []
    for formats in (["pdf"], ["pdf", "print"]):
        log.write_text("")
        argv = ["build", str(project), "--no-cache", "--out", str(tmp_path / "-".join(formats))]
        assert main(argv + [f"--format={name}" for name in formats]) == 0
        counts.append(len(log.read_text().splitlines()))
    assert counts[0] == counts[1]
    assert counts[0] >= 2  # the book was laid out in parts


def test_a_small_book_is_laid_out_once_whole(tmp_path, monkeypatch):
    """Below SPLIT_FROM_CHARACTERS the parts would cost more than they save: one layout, no fork."""
    project = copy_project(PROJECTS / "typography", tmp_path / "book")
    renders, forks = [], []
    original = HTML.render
    monkeypatch.setattr(HTML, "render", lambda self, *a, **k: renders.append(1) or original(self, *a, **k))
    monkeypatch.setattr(workers, "Stream", lambda *a, **k: forks.append(1))
    assert main(["build", str(project), "--no-cache", "--format=pdf", "--out", str(tmp_path / "out")]) == 0
    assert renders == [1] and not forks


def test_press_and_zine_are_reproducible(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    outputs = []
    for out in ("one", "two"):
        assert main(["build", str(project), "--out", str(tmp_path / out), "--format", "pdf",
                     "--format", "print", "--format", "zine"]) == 0
        outputs.append([(tmp_path / out / name).read_bytes() for name in
                        ("a-minimal-book.pdf", "a-minimal-book-print.pdf", "a-minimal-book-zine.pdf")])
    assert outputs[0] == outputs[1]


def test_marks_none_leaves_no_room_beyond_the_bleed(tmp_path):
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    toml = project / "manuscript" / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[print]\nmarks = "none"\n', encoding="utf-8")
    assert main(["build", str(project), "--format", "print"]) == 0
    for page in boxes(project / "build" / "a-minimal-book-print.pdf"):
        assert page["MediaBox"] == page["BleedBox"]
        assert same_size(size_mm(page["BleedBox"]), (154.0, 216.0))


def test_first_lines_keep_their_text_in_the_pdf(tmp_path):
    """Accents and ligatures on a chapter's first line come back out of the PDF as written."""
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    shutil.copytree(ROOT / "styles", project / "styles")
    words = "A fine café, a résumé, naïve fiction, affluent élan"
    (project / "manuscript" / "01-start.md").write_text(f"---\ntitle: Start\n---\n\n{words}.\n", encoding="utf-8")
    assert main(["build", str(project), "--format", "pdf"]) == 0
    assert words in " ".join(pdf_text(project / "build" / "a-minimal-book.pdf").split())
