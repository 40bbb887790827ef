"""book.toml's print settings and the cover → the page rules zinepress adds to print.css.

The print target's gutter rules (:mod:`..gutter`) are added to them for each layout.
"""

from __future__ import annotations

import hashlib

from ..render import RenderedBook

def pdf_identifier(rendered: RenderedBook) -> bytes:
    """A stable PDF /ID from the book's identifier, so builds are reproducible."""
    return hashlib.md5(rendered.config.identifier.encode("utf-8")).hexdigest().encode("ascii")  # noqa: S324


MARGIN_BOXES = ("top-left-corner", "top-left", "top-center", "top-right", "top-right-corner", "right-top",
                "right-middle", "right-bottom", "bottom-right-corner", "bottom-right", "bottom-center",
                "bottom-left", "bottom-left-corner", "left-bottom", "left-middle", "left-top")


def cover_css(height_mm: float, ground: str) -> str:
    """The cover alone on the first page, without running heads or folio.

    The image is fitted whole within the trim; the page around it, bleed included, takes
    the colour of the cover's edge, so the cover runs to the edge without being cropped.
    """
    blank = " ".join(f"@{name} {{ content: none; }}" for name in MARGIN_BOXES)
    return (f"@page zinepress-cover {{ margin: 0; background: {ground}; {blank} }}\n"
            "section.cover { page: zinepress-cover; break-after: page; margin: 0; padding: 0; }\n"
            f"section.cover img {{ display: block; width: 100%; height: {height_mm}mm; max-width: none; "
            "object-fit: contain; margin: 0; }")


def page_css(rendered: RenderedBook) -> str:
    """The trim size, the cover page and font choices from book.toml, as CSS."""
    settings = rendered.config.print
    rules = [f"@page {{ size: {settings.trim_width}mm {settings.trim_height}mm; "
             f"bleed: {settings.bleed}mm; marks: none; }}"]
    width, height = settings.trim_width + 2 * settings.bleed, settings.trim_height + 2 * settings.bleed
    rules.append(f".full-bleed {{ margin: -{settings.bleed}mm; width: {width}mm; height: {height}mm; }}")
    rules.append(cover_css(settings.trim_height, rendered.cover.ground))
    fonts = rendered.config.fonts
    if fonts.body:
        rules.append(f"body {{ font-family: {fonts.body}; }}")
    if fonts.headings:
        rules.append(f"h1, h2, h3, h4, h5, h6 {{ font-family: {fonts.headings}; }}")
    if fonts.code:
        rules.append(f"code, pre, kbd, samp {{ font-family: {fonts.code}; }}")
    return "\n".join(rules)
