"""Derived files: the EPUB's font subsets set text as the whole fonts do, and the cache of font subsets,
the generated cover and its thumbnail serves repeats but never a tampered entry."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import uharfbuzz
from fontTools.ttLib import TTFont

from zinepress.errors import ProjectError
from zinepress.derived import DerivedCache
from zinepress.fonts import embeddable_font

from conftest import ROOT

FONTS = ROOT / "styles" / "fonts"
SAMPLE = "The music video of Korean singer IU’s pre-release single “Love wins all” — V, Ji-hye, Tae-jun, fi ffi"


def _shaped(data: bytes, text: str) -> list[tuple[int, int, int]]:
    """Each glyph's advance and offsets when HarfBuzz sets ``text`` (kerning and ligatures applied)."""
    font = uharfbuzz.Font(uharfbuzz.Face(uharfbuzz.Blob(data)))
    buffer = uharfbuzz.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    uharfbuzz.shape(font, buffer, {})
    return [(p.x_advance, p.x_offset, p.y_offset) for p in buffer.glyph_positions]


@pytest.mark.parametrize("name", ["EBGaramond12-Regular.otf", "EBGaramond12-Italic.otf", "EBGaramond12-Bold.otf"])
def test_subset_sets_text_exactly_as_the_whole_font(name):
    whole = (FONTS / name).read_bytes()
    subset = embeddable_font(whole, FONTS / name, SAMPLE)
    assert len(subset) < len(whole)
    assert _shaped(subset, SAMPLE) == _shaped(whole, SAMPLE)  # kerning, ligatures and advances kept
    names = {(record.nameID, record.langID) for record in TTFont(io.BytesIO(subset))["name"].names}
    assert names == {(record.nameID, record.langID) for record in TTFont(io.BytesIO(whole))["name"].names}


def test_web_fonts_keep_their_flavour(tmp_path):
    font = TTFont(FONTS / "EBGaramond12-Regular.otf")
    font.flavor = "woff"
    buffer = io.BytesIO()
    font.save(buffer)
    subset = embeddable_font(buffer.getvalue(), tmp_path / "face.woff", "Love wins all")
    assert subset[:4] == b"wOFF"
    assert TTFont(io.BytesIO(subset)).getBestCmap().keys() >= {ord(char) for char in "Love wins al"}


def test_a_file_that_is_no_font_is_a_located_error(tmp_path):
    with pytest.raises(ProjectError, match="is not a font file"):
        embeddable_font(b"OTTO" + b"\0" * 40, tmp_path / "broken.otf", "text")
    with pytest.raises(ProjectError, match="is not a font file"):
        embeddable_font(b"<html>", tmp_path / "page.otf", "text")


def test_the_cache_serves_a_repeat_and_ignores_a_tampered_entry(tmp_path):
    whole = (FONTS / "EBGaramond12-Bold.otf").read_bytes()
    cache = DerivedCache(tmp_path / "fonts")
    made = embeddable_font(whole, FONTS / "EBGaramond12-Bold.otf", SAMPLE, cache)
    [entry] = (tmp_path / "fonts").iterdir()
    assert entry.read_bytes() == made
    entry.write_bytes(b"OTTO tampered")  # bytes that no longer match the hash in the name
    assert cache.get(entry.name.partition("-")[0]) is None
    assert embeddable_font(whole, FONTS / "EBGaramond12-Bold.otf", SAMPLE, cache) == made
    [entry] = (tmp_path / "fonts").iterdir()
    entry.unlink()
    entry.symlink_to(FONTS / "EBGaramond12-Bold.otf")
    assert embeddable_font(whole, FONTS / "EBGaramond12-Bold.otf", SAMPLE, cache) == made


def test_a_second_build_takes_every_subset_from_the_cache(bundled: Path, capsys):
    from zinepress.cli import main
    assert main(["build", str(bundled), "--format", "epub", "--quiet"]) == 0
    folder = bundled / ".zinepress-cache" / "fonts"
    stored = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    assert len(stored) == 3
    (bundled / "build" / "love-wins-all.epub").unlink()
    (bundled / "manuscript" / "book.toml").write_text((bundled / "manuscript" / "book.toml").read_text()
                                                      + "\n# a change the text does not show\n")
    assert main(["build", str(bundled), "--format", "epub", "--quiet"]) == 0
    assert {path.name for path in folder.iterdir()} == set(stored)  # no new subset was made


def test_the_generated_cover_and_thumbnail_come_back_from_the_cache_unchanged(bundled: Path):
    from zinepress.cli import main
    assert main(["build", str(bundled), "--format", "epub", "--format", "site", "--quiet"]) == 0
    fresh = {name: (bundled / "build" / name).read_bytes() for name in ("cover.png", "cover-thumbnail.png")}
    folder = bundled / ".zinepress-cache" / "covers"
    entries = sorted(folder.iterdir())
    assert sorted(path.read_bytes() for path in entries) == sorted(fresh.values())
    entries[0].write_bytes(entries[0].read_bytes()[:100])  # truncated: passed over, made anew
    (bundled / "manuscript" / "book.toml").write_text((bundled / "manuscript" / "book.toml").read_text() + "\n#\n")
    assert main(["build", str(bundled), "--format", "epub", "--format", "site", "--quiet"]) == 0
    assert {name: (bundled / "build" / name).read_bytes() for name in fresh} == fresh
    assert len(list(folder.iterdir())) == 2


def test_the_cover_knows_its_top_left_colour_for_the_print_cover_page(tmp_path: Path):
    """The print cover page's ground is the cover's top-left pixel, known without decoding it again."""
    import dataclasses

    from PIL import Image

    from zinepress.config import load_config
    from zinepress.cover import cover_for
    config = load_config(ROOT)
    generated = cover_for(config)
    with Image.open(io.BytesIO(generated.data)) as image:
        assert generated.ground == "#{:02x}{:02x}{:02x}".format(*image.convert("RGB").getpixel((0, 0)))
    picture = Image.new("RGB", (30, 40), (200, 10, 60))
    picture.putpixel((0, 0), (1, 2, 3))
    (tmp_path / "manuscript").mkdir()
    picture.save(tmp_path / "manuscript" / "cover.png")
    own = cover_for(dataclasses.replace(config, project=tmp_path, cover="cover.png"))
    assert own.ground == "#010203"
