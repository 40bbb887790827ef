"""The book's settings and its interior page count → the geometry of the cover wrap, in millimetres.

The wrap is one sheet: bleed, back cover, spine, front cover, bleed (front and back change
places for a right-to-left book), with the bleed on every edge. The spine is the interior
page count times the paper's caliper (plus the target's allowance). The barcode's
keep-clear box sits in the back cover's bottom corner at the spine. Positions are measured
from the sheet's top-left corner.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import Config
from .targets import Target, is_rtl, target_named


@dataclass(frozen=True)
class Box:
    """A rectangle on the sheet: left, top, width and height in mm."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True)
class Wrap:
    """Where everything goes on the cover wrap of one book."""

    pages: int
    trim_width: float
    trim_height: float
    bleed: float
    spine: float
    rtl: bool
    spine_text: bool  # whether the spine is wide enough (page count) and the script takes text top to bottom
    spine_margin: float
    barcode: Box | None

    @property
    def width(self) -> float:
        return 2 * self.trim_width + self.spine + 2 * self.bleed

    @property
    def height(self) -> float:
        return self.trim_height + 2 * self.bleed

    def _panel(self, first: bool) -> Box:
        x = self.bleed if first else self.bleed + self.trim_width + self.spine
        return Box(x, self.bleed, self.trim_width, self.trim_height)

    @property
    def back(self) -> Box:
        """The back cover's trim (left of the spine, or right of it for a right-to-left book)."""
        return self._panel(first=not self.rtl)

    @property
    def front(self) -> Box:
        return self._panel(first=self.rtl)

    @property
    def spine_box(self) -> Box:
        return Box(self.bleed + self.trim_width, self.bleed, self.spine, self.trim_height)

    @property
    def trim(self) -> Box:
        """The whole wrap's trim: the sheet without its bleed."""
        return Box(self.bleed, self.bleed, self.width - 2 * self.bleed, self.trim_height)


def wrap_for(config: Config, pages: int) -> Wrap:
    """The cover wrap of a book whose interior has ``pages`` pages, for its print target."""
    settings = config.print
    target = target_named(settings.target)
    spine = target.spine_width(pages, settings.paper)
    rtl = is_rtl(config.language)
    wrap = Wrap(pages=pages, trim_width=settings.trim_width, trim_height=settings.trim_height,
                bleed=settings.bleed, spine=spine, rtl=rtl,
                spine_text=pages >= target.spine_text_pages and not rtl, spine_margin=target.spine_margin,
                barcode=None)
    return Wrap(**{**wrap.__dict__, "barcode": _barcode(wrap, target)})


def _barcode(wrap: Wrap, target: Target) -> Box | None:
    """The keep-clear box: in the back's bottom corner by the spine, at the target's distances."""
    code = target.barcode
    if code is None:
        return None
    spine = wrap.spine_box
    x = spine.right + code.from_spine if wrap.rtl else spine.x - code.from_spine - code.width
    y = wrap.bleed + wrap.trim_height - code.from_bottom - code.height
    return Box(x, y, code.width, code.height)
