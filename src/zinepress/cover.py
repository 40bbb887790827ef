"""``Config`` → the cover image: the author's own file, or a typographic cover generated at store size.

The generated cover (1600 × 2560 px, PNG) sets the title, subtitle and authors in the
book's serif face on a quiet coloured ground. It is deterministic: the same metadata
gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from .config import Config
from .errors import ProjectError
from .fetch import RefusedFetch, read_confined

COVER_SIZE = (1600, 2560)
GROUNDS = [("#1f2a44", "#f4efe6", "#c9a96e"), ("#3b1f2b", "#f6ede8", "#d8a48f"),
           ("#17332f", "#eef3ee", "#a9c5a0"), ("#2d2a26", "#f3eee4", "#d6b25e")]
COVER_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


@dataclass(frozen=True)
class Cover:
    """The cover's bytes, file name (inside the EPUB and beside the downloads) and media type."""

    data: bytes
    file_name: str
    media_type: str
    width: int
    height: int


@lru_cache(maxsize=8)
def _font_file(family: str) -> str | None:
    """The file fontconfig picks for a family, or None without fontconfig."""
    try:
        result = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True,
                                timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None


CJK_FACES = {"ja": "JP", "zh": "SC", "zh-hant": "TC", "zh-tw": "TC", "zh-hk": "TC", "zh-mo": "TC", "ko": "KR"}
SIDE_ROOM = 70  # the least room between the title and the inner frame, in pixels


def cjk_face(language: str) -> str:
    """The Noto Serif CJK face for a BCP 47 tag: KR, JP, SC or TC (KR when the tag names none)."""
    tag = language.lower()
    for prefix in sorted(CJK_FACES, key=len, reverse=True):
        if tag == prefix or tag.startswith(prefix + "-"):
            return f"Noto Serif CJK {CJK_FACES[prefix]}"
    return "Noto Serif CJK KR"


def _font(text: str, size: int, italic: bool = False, language: str = "en"):
    """The cover's face for ``text``: EB Garamond's 12-point cut, or the CJK face of the book's language."""
    wide = any(ord(char) > 0x2E7F for char in text)
    family = (f"{cjk_face(language)}:style=Regular" if wide
              else f"EB Garamond 12:style={'Italic' if italic else 'Regular'}")
    path = _font_file(family)
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
        glued = lines and lines[-1].endswith("-") and joiner
        if glued:
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
           min_size: int = 60, language: str = "en") -> int:
    """Draw ``text`` centred from ``top``, shrinking it until it fits in five lines of ``width`` pixels
    (a long word included); returns the bottom."""
    font = _font(text, size, italic, language)
    lines = _balanced(draw, text, font, width)
    while (len(lines) > 5 or _widest(draw, lines, font) > width) and size > min_size // 2:
        size = int(size * 0.9)
        font = _font(text, size, italic, language)
        lines = _balanced(draw, text, font, width)
    leading = int(size * 1.18)
    for index, line in enumerate(lines):
        draw.text((COVER_SIZE[0] // 2, top + index * leading), line, font=font, fill=colour, anchor="ma")
    return top + len(lines) * leading


def _widest(draw: ImageDraw.ImageDraw, lines: list[str], font) -> float:
    return max((draw.textlength(line, font=font) for line in lines), default=0)


def generated_cover(config: Config) -> bytes:
    """A typographic PNG cover for the book's metadata."""
    choice = int(hashlib.sha256(config.identifier.encode()).hexdigest(), 16) % len(GROUNDS)
    ground, ink, accent = GROUNDS[choice]
    image = Image.new("RGB", COVER_SIZE, ground)
    draw = ImageDraw.Draw(image)
    margin = 110
    draw.rectangle([margin, margin, COVER_SIZE[0] - margin, COVER_SIZE[1] - margin], outline=accent, width=6)
    draw.rectangle([margin + 24, margin + 24, COVER_SIZE[0] - margin - 24, COVER_SIZE[1] - margin - 24],
                   outline=accent, width=2)
    width = COVER_SIZE[0] - 2 * (margin + 24 + SIDE_ROOM)
    language = config.language
    bottom = _block(draw, config.title, 190, 640, ink, width=width, language=language)
    draw.line([(COVER_SIZE[0] // 2 - 160, bottom + 70), (COVER_SIZE[0] // 2 + 160, bottom + 70)], fill=accent,
              width=5)
    if config.subtitle:
        _block(draw, config.subtitle, 80, bottom + 150, ink, italic=True, min_size=44, width=width,
               language=language)
    if config.authors:
        _block(draw, ", ".join(config.authors), 84, 2050, accent, width=width, language=language)
    if config.publisher:
        _block(draw, config.publisher, 54, 2250, ink, width=width, language=language)
    output = io.BytesIO()
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()


def cover_for(config: Config) -> Cover:
    """The book's cover: ``cover`` from book.toml when set, else a generated one."""
    if config.cover:
        path = config.manuscript / config.cover
        suffix = path.suffix.lower()
        if suffix not in COVER_TYPES:
            raise ProjectError(f"cover '{config.cover}' must be a PNG or JPEG image", config.path)
        try:
            data = read_confined(config.project, path)
        except RefusedFetch as refusal:
            raise ProjectError(f"cover '{config.cover}': {refusal}", config.path) from None
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
        except (OSError, Image.DecompressionBombError) as error:
            raise ProjectError(f"cover '{config.cover}' is not a readable image: {error}", config.path) from None
        return Cover(data, f"images/cover{suffix}", COVER_TYPES[suffix], width, height)
    return Cover(generated_cover(config), "images/cover.png", "image/png", *COVER_SIZE)
