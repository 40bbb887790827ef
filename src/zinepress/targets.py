"""``targets.toml`` → the print targets: what each printer asks of the interior and the cover wrap.

A target is data, one table per printer (``shop``, ``home``, ``kdp``, ``ingram``, ``lulu``),
with the guides it comes from cited in the file's comments. Lengths are held in millimetres.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .config import TRIM_PRESETS, parse_length

PAPERS = ("white", "cream", "color")
TRIM_TOLERANCE_MM = 0.5
RTL_LANGUAGES = {"ar", "arc", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"}


@dataclass(frozen=True)
class Barcode:
    """The keep-clear box on the back cover, in mm, measured from the spine fold and the bottom trim."""

    width: float
    height: float
    from_spine: float
    from_bottom: float


@dataclass(frozen=True)
class Target:
    """One printer's requirements (lengths in mm)."""

    name: str
    title: str
    bleed: float
    bleed_at_spine: bool
    marks: str
    fixed: tuple[str, ...]
    bookmarks: bool
    annotations: bool
    pages: tuple[int, int] | None
    outside_margin: float
    gutter: tuple[tuple[int, float], ...]
    standards: tuple[str, ...]
    min_ppi: int
    default_trim: tuple[str, float, float]
    trims: tuple[tuple[str, float, float], ...]
    custom_trim: tuple[float, float, float, float] | None
    cover_wrap: bool
    spine_text_pages: int = 0
    spine_margin: float = 0.0
    spine_allowance: float = 0.0
    paper: tuple[tuple[str, float], ...] = ()
    barcode: Barcode | None = None

    def gutter_for(self, pages: int) -> float:
        """The inside margin for an interior of ``pages`` pages (0 when the target sets none)."""
        for last, margin in self.gutter:
            if pages <= last:
                return margin
        return self.gutter[-1][1] if self.gutter else 0.0

    def caliper(self, paper: str) -> float:
        return dict(self.paper)[paper]

    def spine_width(self, pages: int, paper: str) -> float:
        """The spine of a book of ``pages`` interior pages on ``paper``, in mm."""
        return pages * self.caliper(paper) + self.spine_allowance

    def offers(self, width: float, height: float) -> bool:
        """Whether the printer prints this trim (a listed size, or a custom size in its range)."""
        if not self.trims and self.custom_trim is None:
            return True
        if any(_same(width, w) and _same(height, h) for _, w, h in self.trims):
            return True
        if self.custom_trim is None:
            return False
        low_w, high_w, low_h, high_h = self.custom_trim
        return low_w - TRIM_TOLERANCE_MM <= width <= high_w + TRIM_TOLERANCE_MM and \
            low_h - TRIM_TOLERANCE_MM <= height <= high_h + TRIM_TOLERANCE_MM

    def trim_list(self) -> str:
        """The trims offered, for a message."""
        listed = ", ".join(name for name, _, _ in self.trims)
        if self.custom_trim:
            low_w, high_w, low_h, high_h = (value / 25.4 for value in self.custom_trim)
            listed += f", or a custom size {low_w:g}-{high_w:g} in wide and {low_h:g}-{high_h:g} in high"
        return listed

    def page_range(self) -> str:
        low, high = self.pages
        return f"{low} to {high} pages"


def _same(first: float, second: float) -> bool:
    return abs(first - second) <= TRIM_TOLERANCE_MM


def trim_size(name: str) -> tuple[float, float] | None:
    """``"A5"``, ``"6x9in"``, ``"148x210mm"`` → (width, height) in mm; None when not a trim."""
    if name in TRIM_PRESETS:
        return TRIM_PRESETS[name]
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(mm|cm|in)\s*", name)
    if not match:
        return None
    return parse_length(match[1] + match[3]), parse_length(match[2] + match[3])


def _length(value: str) -> float:
    length = parse_length(value)
    if length is None:
        raise ValueError(f"targets.toml: {value!r} is not a length")
    return length


def _trim(name: str) -> tuple[str, float, float]:
    size = trim_size(name)
    if size is None:
        raise ValueError(f"targets.toml: {name!r} is not a trim size")
    return (name.replace("x", " × ", 1) if name not in TRIM_PRESETS else name, *size)


def _target(name: str, table: dict) -> Target:
    barcode = table.get("barcode")
    custom = table.get("custom_trim") or None
    return Target(
        name=name, title=table["title"], bleed=_length(table["bleed"]), bleed_at_spine=table["bleed_at_spine"],
        marks=table["marks"], fixed=tuple(table["fixed"]), bookmarks=table["bookmarks"],
        annotations=table["annotations"], pages=tuple(table["pages"]) or None,
        outside_margin=_length(table["outside_margin"]),
        gutter=tuple((last, _length(margin)) for last, margin in table["gutter"]),
        standards=tuple(table["standards"]), min_ppi=table["min_ppi"], default_trim=_trim(table["default_trim"]),
        trims=tuple(_trim(trim) for trim in table["trims"]),
        custom_trim=tuple(_length(value) for value in custom) if custom else None,
        cover_wrap=table["cover_wrap"], spine_text_pages=table.get("spine_text_pages", 0),
        spine_margin=_length(table.get("spine_margin", "0mm")),
        spine_allowance=_length(table.get("spine_allowance", "0mm")),
        paper=tuple((paper, _length(table["paper"][paper])) for paper in PAPERS if paper in table.get("paper", {})),
        barcode=Barcode(*(_length(barcode[key]) for key in ("width", "height", "from_spine", "from_bottom")))
        if barcode else None,
    )


@lru_cache(maxsize=1)
def all_targets() -> dict[str, Target]:
    """Every target of ``targets.toml``, by name."""
    data = tomllib.loads(resources.files("zinepress").joinpath("targets.toml").read_text(encoding="utf-8"))
    return {name: _target(name, table) for name, table in data.items()}


def target_named(name: str) -> Target:
    return all_targets()[name]


def is_rtl(language: str) -> bool:
    """Whether a BCP 47 language tag names a language written right to left."""
    return language.split("-")[0].lower() in RTL_LANGUAGES


def spine_on_left(index: int, rtl: bool) -> bool:
    """Whether page ``index`` (0-based) of the interior is bound on its left edge (a recto of an LTR book)."""
    return (index % 2 == 0) != rtl
