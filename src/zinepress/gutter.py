"""The interior's page count → the inside margin (gutter) the print edition is laid out with.

A target's gutter grows with the page count, which is known only once the book is laid
out. The book is laid out with the gutter of a first guess (the narrowest band); when its
interior falls in another band, it is laid out once more with that band's gutter, and
again only while a wider gutter pushes it into a still wider band. The gutter is part of
the page rules, so each layout's parts are kept by the layout cache under their own key
and a rebuild finds both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .config import Config
from .targets import target_named

class LaidOut(Protocol):
    pages: int
    parts: list


TOP_BOXES = ("top-left", "top-center", "top-right")
BOTTOM_BOXES = ("bottom-left", "bottom-center", "bottom-right")


def gutter_css(config: Config, gutter: float | None) -> str:
    """The target's page rules for the layout being made: the inside margins of its gutter and, for a
    target with a minimum outside margin, running heads and folios set against the text block (not in
    the middle of the page margin, where they would come nearer the trim than the printer allows)."""
    rules = []
    if target_named(config.print.target).outside_margin:
        rules.append("@page { " + " ".join(f"@{name} {{ vertical-align: bottom; }}" for name in TOP_BOXES)
                     + " " + " ".join(f"@{name} {{ vertical-align: top; }}" for name in BOTTOM_BOXES) + " }")
    if gutter:
        rules.append(f"@page :left {{ margin-right: {gutter:.3f}mm; }}\n@page :right {{ margin-left: {gutter:.3f}mm; }}")
    return "\n".join(rules)


def interior_pages(paged: LaidOut, config: Config) -> int:
    """The pages of the interior a printer gets: the laid-out book without the cover the wrap replaces."""
    from .writers.interior import cover_pages_of
    if not target_named(config.print.target).cover_wrap:
        return paged.pages
    return paged.pages - cover_pages_of(paged.parts[0] if paged.parts else None)


def settle_gutter(config: Config, diagnostics, lay_out: Callable[[float | None], LaidOut]) -> LaidOut:
    """The book laid out, by ``lay_out(gutter)``, with the gutter its own page count asks for."""
    target = target_named(config.print.target)
    if not target.gutter:
        return lay_out(None)
    warnings = list(diagnostics.warnings)
    gutter = target.gutter[0][1]
    paged = lay_out(gutter)
    needed = target.gutter_for(interior_pages(paged, config))
    relaid = False
    while needed > gutter or (needed != gutter and not relaid):
        gutter, relaid = needed, True
        diagnostics.warnings[:] = warnings
        paged = lay_out(gutter)
        needed = target.gutter_for(interior_pages(paged, config))
    return paged
