"""``Config`` → the cover image: the author's own file, or a typographic cover generated at store size.

The generated cover (1600 × 2560 px, PNG) sets the title, subtitle and authors in the
book's serif face on a quiet coloured ground. It is deterministic: the same metadata
gives the same bytes, so it is kept in the derived cache by the metadata, the font files
it is set in and this module's own code.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import PIL
from PIL import Image, ImageDraw, ImageFont

from .config import Config, setting_line
from .derived import DerivedCache
from .errors import ProjectError
from .fetch import RefusedFetch, read_confined
from .images import image_problem

COVER_SIZE = (1600, 2560)
GROUNDS = [("#1f2a44", "#f4efe6", "#c9a96e"), ("#3b1f2b", "#f6ede8", "#d8a48f"),
           ("#17332f", "#eef3ee", "#a9c5a0"), ("#2d2a26", "#f3eee4", "#d6b25e")]
COVER_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
SCRIPT_FAMILIES = ((re.compile(r"[\u0590-\u05ff\ufb1d-\ufb4f]"), "Noto Serif Hebrew"),
                   (re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]"),
                    "Noto Naskh Arabic"),
                   (re.compile(r"[\u2e80-\uffff]"), "Noto Serif CJK KR"))


@dataclass(frozen=True)
class Cover:
    """The cover's bytes, file name (inside the EPUB and beside the downloads), media type, size and the
    colour of its top-left corner as CSS (the print cover's ground)."""

    data: bytes
    file_name: str
    media_type: str
    width: int
    height: int
    ground: str
    missing: str = ""  # characters of a generated cover's text that its fonts cannot show


@lru_cache(maxsize=8)
def _font_file(family: str) -> str | None:
    """The file fontconfig picks for a family, or None without fontconfig."""
    try:
        result = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True,
                                timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None


def _family(text: str, italic: bool = False) -> str:
    """The fontconfig pattern of the face that sets ``text``: by its script, EB Garamond for Latin."""
    for pattern, family in SCRIPT_FAMILIES:
        if pattern.search(text):
            return f"{family}:style=Regular"
    return f"EB Garamond 12:style={'Italic' if italic else 'Regular'}"


@lru_cache(maxsize=8)
def _characters(path: str) -> frozenset[int]:
    """The characters a font file has glyphs for."""
    from fontTools.ttLib import TTFont
    try:
        with TTFont(path, fontNumber=0, lazy=True) as font:
            return frozenset(font.getBestCmap() or {})
    except Exception:  # noqa: BLE001 - a font fontTools cannot read covers nothing we can vouch for
        return frozenset()


def missing_characters(config: Config) -> str:
    """The characters of the cover's text that its fonts cannot show (they would be empty boxes)."""
    missing: dict[str, None] = {}
    for text in (config.title, config.subtitle or "", ", ".join(config.authors), config.publisher or ""):
        path = _font_file(_family(text)) if text else None
        covered = _characters(path) if path else frozenset()
        missing.update((char, None) for char in text if not char.isspace() and ord(char) not in covered)
    return "".join(missing)


def _font(text: str, size: int, italic: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_file(_family(text, italic))
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` pixels (CJK text may break anywhere)."""
    anywhere = " " not in text.strip() and any(ord(char) > 0x2E7F for char in text)
    words = list(text) if anywhere else text.split()
    joiner = "" if anywhere else " "
    words = [piece for word in words for piece in _hyphen_pieces(draw, word, font, width)]
    lines: list[str] = []
    for word in words:
        candidate = f"{lines[-1]}{joiner}{word}" if lines else word
        if lines and joiner and lines[-1].endswith("-"):
            candidate = f"{lines[-1]}{word}"
        if lines and draw.textlength(candidate, font=font) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def _hyphen_pieces(draw: ImageDraw.ImageDraw, word: str, font, width: int) -> list[str]:
    """A word too wide for the measure, cut after its hyphens ("Functional-" "Light"); else the word."""
    if draw.textlength(word, font=font) <= width or "-" not in word.strip("-"):
        return [word]
    pieces = word.split("-")
    return [piece + "-" for piece in pieces[:-1]] + [pieces[-1]]


def _widest(draw: ImageDraw.ImageDraw, lines: list[str], font) -> float:
    return max((draw.textlength(line, font=font) for line in lines), default=0)


def _balanced(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Lines of even length: the narrowest wrap that needs no more lines than ``width`` does."""
    lines = _wrap(draw, text, font, width)
    low, high = width // 3, width
    while high - low > 8:
        middle = (low + high) // 2
        if len(_wrap(draw, text, font, middle)) > len(lines):
            low = middle
        else:
            high = middle
    return _wrap(draw, text, font, high)


def _block(draw, text: str, size: int, top: int, colour: str, italic: bool = False, width: int = 1192,
           min_size: int = 60) -> int:
    """Draw ``text`` centred from ``top``, shrinking it until it fits in five lines of ``width`` pixels, a
    long word included (the inner frame leaves 1332 pixels: 70 stay clear on each side); returns the bottom."""
    font = _font(text, size, italic)
    lines = _balanced(draw, text, font, width)
    while (len(lines) > 5 or _widest(draw, lines, font) > width) and size > min_size // 2:
        size = int(size * 0.85)
        font = _font(text, size, italic)
        lines = _balanced(draw, text, font, width)
    leading = int(size * 1.18)
    for index, line in enumerate(lines):
        draw.text((COVER_SIZE[0] // 2, top + index * leading), line, font=font, fill=colour, anchor="ma")
    return top + len(lines) * leading


def palette(config: Config) -> tuple[str, str, str]:
    """The generated cover's ground, ink and accent colours, chosen by the book's identifier."""
    return GROUNDS[int(hashlib.sha256(config.identifier.encode()).hexdigest(), 16) % len(GROUNDS)]


def generated_cover(config: Config) -> bytes:
    """A typographic PNG cover for the book's metadata."""
    ground, ink, accent = palette(config)
    image = Image.new("RGB", COVER_SIZE, ground)
    draw = ImageDraw.Draw(image)
    margin = 110
    draw.rectangle([margin, margin, COVER_SIZE[0] - margin, COVER_SIZE[1] - margin], outline=accent, width=6)
    draw.rectangle([margin + 24, margin + 24, COVER_SIZE[0] - margin - 24, COVER_SIZE[1] - margin - 24],
                   outline=accent, width=2)
    bottom = _block(draw, config.title, 190, 640, ink)
    draw.line([(COVER_SIZE[0] // 2 - 160, bottom + 70), (COVER_SIZE[0] // 2 + 160, bottom + 70)], fill=accent,
              width=5)
    if config.subtitle:
        _block(draw, config.subtitle, 80, bottom + 150, ink, italic=True, min_size=44)
    if config.authors:
        _block(draw, ", ".join(config.authors), 84, 2050, accent)
    if config.publisher:
        _block(draw, config.publisher, 54, 2250, ink)
    output = io.BytesIO()
    image.save(output, format="PNG", compress_level=6)  # "optimize" costs four times as long for 1 % less
    return output.getvalue()


def _generated_cover_key(config: Config) -> str:
    """What the generated cover depends on: the metadata it shows, its fonts' files and this code."""
    fonts = []
    texts = (config.title, config.subtitle or "", ", ".join(config.authors), config.publisher or "")
    for family in sorted({_family(text) for text in texts} | {_family(config.subtitle or "", italic=True)}):
        path = _font_file(family)
        if path and os.path.isfile(path):
            status = os.stat(path)
            fonts.append(f"{path}\0{status.st_size}\0{status.st_mtime_ns}")
    return DerivedCache.key(Path(__file__).read_bytes(), PIL.__version__, "\n".join(fonts), config.identifier,
                            config.title, config.subtitle or "", "\0".join(config.authors), config.publisher or "")


def cover_for(config: Config, cache: DerivedCache | None = None) -> Cover:
    """The book's cover: ``cover`` from book.toml when set, else a generated one (from ``cache`` if kept)."""
    if config.cover:
        return _authors_cover(config)
    data = cache.make(_generated_cover_key(config), lambda: generated_cover(config)) if cache else \
        generated_cover(config)
    return Cover(data, "images/cover.png", "image/png", *COVER_SIZE, ground=palette(config)[0],
                 missing=missing_characters(config))


def _authors_cover(config: Config) -> Cover:
    """The cover book.toml names, checked as chapter images are (its size capped), errors at its line."""
    line = setting_line(config, "cover")
    path = config.manuscript / config.cover
    suffix = path.suffix.lower()
    if suffix not in COVER_TYPES:
        raise ProjectError(f"cover '{config.cover}' must be a PNG or JPEG image", config.path, line)
    try:
        data = read_confined(config.project, path)
    except RefusedFetch as refusal:
        raise ProjectError(f"cover '{config.cover}': {refusal}", config.path, line) from None
    problem, _ = image_problem(path)
    if problem:
        raise ProjectError(f"cover '{config.cover}' {problem}", config.path, line) from None
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        red, green, blue = image.convert("RGB").getpixel((0, 0))
    return Cover(data, f"images/cover{suffix}", COVER_TYPES[suffix], width, height,
                 ground=f"#{red:02x}{green:02x}{blue:02x}")
