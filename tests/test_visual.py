"""Visual regression and shape checks on the multilingual fixture's print edition.

The fixture (en, ko, ja, zh, ru, with ar, he, zh-Hant and el passages) is built once. Chosen
pages are rendered with pdftoppm and compared with the reference PNGs in tests/visual/ (a
change that moves a glyph, a margin or a line break shows); where a picture would be
fragile the shape is checked instead: the ink where the text layer says "•" is a filled
disc, each CJK chapter's page uses its own face and a monospace, every chapter not in
English carries /Lang. Set ZINEPRESS_UPDATE_REFERENCES=1 to write the references again.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageChops

from conftest import PROJECTS, copy_project
from zinepress.cli import main

REFERENCES = Path(__file__).parent / "visual"
DPI = 50
TOLERANCE = 0.004  # the share of pixels that may differ noticeably (anti-aliasing across poppler versions)
# page (1-based) → what it shows
PAGES = {7: "lists, nested lists, bullets, inline code in a justified paragraph",
         8: "multi-paragraph item, figures at 40% and 100%, wrapped code with continuation marks",
         9: "right-to-left passages, a long heading kept with its paragraph",
         11: "Korean: KR face, bold emphasis, monospace code with Korean",
         13: "Japanese: JP face, emphasis dots, monospace code"}


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("multilingual")
    project = copy_project(PROJECTS / "multilingual", folder / "project")
    assert main(["build", str(project), "--format", "pdf", "--out", str(folder / "build"), "--quiet"]) == 0
    return folder / "build" / "multilingual.pdf"


def render(pdf: Path, page: int, dpi: int, out: Path) -> Image.Image:
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(out)], check=True)
    return Image.open(f"{out}.png").convert("L")


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_matches_its_reference(book, tmp_path, page):
    image = render(book, page, DPI, tmp_path / f"page-{page}")
    reference = REFERENCES / f"multilingual-p{page:02d}.png"
    if os.environ.get("ZINEPRESS_UPDATE_REFERENCES"):
        image.save(reference, optimize=True)
        pytest.skip(f"reference written: {reference.name}")
    assert reference.exists(), f"no reference for page {page}: run with ZINEPRESS_UPDATE_REFERENCES=1"
    expected = Image.open(reference).convert("L")
    assert image.size == expected.size, PAGES[page]
    difference = ImageChops.difference(image, expected).point(lambda value: 255 if value > 64 else 0)
    changed = sum(difference.histogram()[255:]) / (image.size[0] * image.size[1])
    assert changed <= TOLERANCE, f"page {page} ({PAGES[page]}) differs from its reference in {changed:.2%} of pixels"


def _bullets(pdf: Path, page: int) -> list[tuple[float, float, float, float]]:
    text = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    pattern = r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">\u2022<'
    return [tuple(map(float, found)) for found in re.findall(pattern, text)]


def test_bullets_are_drawn_as_filled_discs(book, tmp_path):
    bullets = _bullets(book, 7)
    assert len(bullets) >= 3
    scale = 300 / 72
    image = render(book, 7, 300, tmp_path / "bullets")
    for x_min, y_min, x_max, y_max in bullets:
        box = image.crop((int(x_min * scale) - 2, int(y_min * scale), int(x_max * scale) + 2, int(y_max * scale)))
        ink = [(x, y) for y in range(box.size[1]) for x in range(box.size[0]) if box.getpixel((x, y)) < 128]
        assert ink, "no ink where the text layer says •"
        xs, ys = [x for x, _ in ink], [y for _, y in ink]
        width, height = max(xs) - min(xs) + 1, max(ys) - min(ys) + 1
        assert 0.75 <= width / height <= 1.33, f"the bullet's ink is {width}×{height} pixels: not round"
        assert len(ink) >= 0.6 * width * height, "the bullet's ink is not a filled disc"
        assert height <= 0.5 * box.size[1], "the bullet is as tall as a letter"


def _fonts(pdf: Path, page: int) -> str:
    """The faces the text of page ``page`` (from 1) is set in (not every face its resources list)."""
    import pdfplumber
    with pdfplumber.open(pdf) as document:
        return " ".join(sorted({char["fontname"] for char in document.pages[page - 1].chars}))


@pytest.mark.parametrize("page,face,mono", [(11, "Noto-Serif-CJK-KR", "Noto-Sans-Mono-CJK-KR"),
                                            (13, "Noto-Serif-CJK-JP", "Noto-Sans-Mono-CJK-JP"),
                                            (15, "Noto-Serif-CJK-SC", "Noto-Sans-Mono-CJK-SC")])
def test_each_cjk_chapter_uses_its_own_face_and_a_monospace(book, page, face, mono):
    fonts = _fonts(book, page)
    assert face in fonts and mono in fonts and "DejaVu-Sans-Mono" in fonts, fonts
    others = {"Noto-Serif-CJK-KR", "Noto-Serif-CJK-JP", "Noto-Serif-CJK-SC"} - {face}
    assert not any(other in fonts for other in others), fonts


def test_code_is_monospace_in_every_chapter(book):
    for page in (8, 11, 13, 15, 17):
        assert "DejaVu-Sans-Mono" in _fonts(book, page), page


def _languages(pdf: Path) -> list[tuple[str, str]]:
    found = []
    with pikepdf.open(pdf) as document:
        def walk(element):
            if element.get("/Lang") is not None:
                found.append((str(element.S), str(element.Lang)))
            kids = element.get("/K")
            for kid in (kids if isinstance(kids, pikepdf.Array) else []):
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    walk(kid)
        walk(document.Root.StructTreeRoot.K[0])
        assert str(document.Root.Lang) == "en"
    return found


def test_chapters_and_passages_carry_their_language(book):
    languages = _languages(book)
    for lang in ("ko", "ja", "zh-Hans", "ru"):
        assert ("/Sect", lang) in languages, languages
    for lang in ("ar", "he", "zh-Hant", "el"):
        assert ("/P", lang) in languages, languages
    assert not any(lang == "en" for _, lang in languages)
