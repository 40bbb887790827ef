"""``RenderedBook`` → ``S-cover.pdf``: the cover wrap (back, spine, front) for a print-on-demand target.

Made with the ``print`` format, after the interior, whose page count gives the spine
(:mod:`..coverwrap` holds the geometry). The sheet is laid out by WeasyPrint as one page
of HTML: the front is the book's cover fitted whole to the trim (a supplied image on the
colour of its edge; a generated cover set in type, as the EPUB's is drawn); the spine
carries the title and authors reading top to bottom when it is wide enough; the back
carries the description and a white keep-clear box where the printer puts the barcode.
The back and spine take the front's colours and faces. pikepdf then sets the TrimBox and
BleedBox and declares PDF/X-4 like the press PDF. WeasyPrint is reached through
``paged/sheet.py``, as every other layout goes through ``paged/``.
"""

from __future__ import annotations

import base64
import dataclasses
from html import escape
from io import BytesIO
from pathlib import Path

import pikepdf
from PIL import Image

from ..atomic import write_atomically
from ..config import Config
from ..cover import Cover, palette
from ..coverwrap import Box, Wrap, wrap_for
from ..gutter import interior_pages

from ..paged.sheet import sheet_pdf
from ..render import RenderedBook
from .base import BuildSession, Writer
from .press import PRESS_SAVE_OPTIONS, declare_pdfx4

POINTS_PER_MM = 72 / 25.4
SAFETY_MM = 12.7  # text on the back stays this far inside the trim
FACES = '"EB Garamond 12", "Noto Serif CJK KR", serif'


@dataclasses.dataclass(frozen=True)
class Look:
    """The colours and faces the front sets, which the back and spine take."""

    ground: str
    ink: str
    accent: str
    face: str


class CoverWrapWriter(Writer):
    name = "print"
    suffix = "-cover.pdf"
    description = "Cover for the print shop"

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path:
        return write_atomically(folder / self.file_name(rendered), cover_wrap_pdf(rendered, session))


def cover_wrap_pdf(rendered: RenderedBook, session: BuildSession) -> bytes:
    """The bytes of ``S-cover.pdf`` for the book as laid out in this build."""
    config = rendered.config
    wrap = wrap_for(config, interior_pages(session.laid_out, config))
    data = sheet_pdf(wrap_html(config, rendered.cover, wrap, look_of(config, rendered.cover)), rendered, session)
    return _press_boxes(data, wrap, config.identifier)


def _press_boxes(data: bytes, wrap: Wrap, identifier: str) -> bytes:
    """The sheet with its TrimBox (the wrap's trim) and BleedBox (the sheet), declared PDF/X-4."""
    with pikepdf.open(BytesIO(data)) as pdf:
        page = pdf.pages[0]
        height = wrap.height * POINTS_PER_MM
        trim = wrap.trim
        page.obj.MediaBox = page.obj.CropBox = page.obj.BleedBox = pikepdf.Array(
            [0, 0, wrap.width * POINTS_PER_MM, height])
        page.obj.TrimBox = page.obj.ArtBox = pikepdf.Array(
            [trim.x * POINTS_PER_MM, height - trim.bottom * POINTS_PER_MM,
             trim.right * POINTS_PER_MM, height - trim.y * POINTS_PER_MM])
        declare_pdfx4(pdf, identifier + "#cover-wrap")
        output = BytesIO()
        pdf.save(output, **PRESS_SAVE_OPTIONS)
    return output.getvalue()


def look_of(config: Config, cover: Cover) -> Look:
    """The generated cover's palette, or a supplied cover's edge colour with ink that reads on it."""
    if not config.cover:
        ground, ink, accent = palette(config)
        return Look(ground, ink, accent, FACES)
    with Image.open(BytesIO(cover.data)) as image:
        red, green, blue = image.convert("RGB").getpixel((0, 0))
    light = 0.2126 * red + 0.7152 * green + 0.0722 * blue > 140
    ink = "#1a1a1a" if light else "#f4f1ea"
    face = f"{config.fonts.headings}, {FACES}" if config.fonts.headings else FACES
    return Look(f"#{red:02x}{green:02x}{blue:02x}", ink, ink, face)


def _place(box: Box) -> str:
    return f"left: {box.x:.3f}mm; top: {box.y:.3f}mm; width: {box.width:.3f}mm; height: {box.height:.3f}mm;"


def wrap_html(config: Config, cover: Cover, wrap: Wrap, look: Look) -> str:
    """The sheet as one HTML page."""
    css = (f"@page {{ size: {wrap.width:.3f}mm {wrap.height:.3f}mm; margin: 0; }}\n"
           f"html, body {{ margin: 0; }}\n"
           f"body {{ width: {wrap.width:.3f}mm; height: {wrap.height:.3f}mm; position: relative; overflow: hidden;"
           f" background: {look.ground}; color: {look.ink}; font-family: {look.face}; }}\n"
           "div { position: absolute; box-sizing: border-box; margin: 0; }\n"
           "p { margin: 0; }\n")
    parts = [_front(config, cover, wrap, look), _back(config, wrap, look)]
    if wrap.spine_text:
        parts.append(_spine(config, wrap))
    if wrap.barcode:
        parts.append(f'<div class="barcode" style="{_place(wrap.barcode)} background: #ffffff;"></div>')
    return (f'<!DOCTYPE html><html lang="{escape(config.language)}"><head><meta charset="utf-8">'
            f"<title>{escape(config.title)}</title><style>{css}</style></head>"
            f"<body>{''.join(parts)}</body></html>")


def _front(config: Config, cover: Cover, wrap: Wrap, look: Look) -> str:
    """The front: a supplied image fitted whole to the trim, or the generated cover set in type."""
    front = wrap.front
    if config.cover:
        source = f"data:{cover.media_type};base64," + base64.b64encode(cover.data).decode("ascii")
        return (f'<div class="front" style="{_place(front)}"><img src="{source}" alt="" '
                f'style="display: block; width: 100%; height: 100%; object-fit: contain;"></div>')
    unit = front.height / 2560  # the generated cover's pixel, in mm
    frame = 110 * unit
    lines = [f'<div class="front" style="{_place(front)}">',
             f'<div style="left: {frame:.3f}mm; top: {frame:.3f}mm; right: {frame:.3f}mm; bottom: {frame:.3f}mm;'
             f' border: {6 * unit:.3f}mm solid {look.accent};"></div>',
             f'<div style="left: {frame + 24 * unit:.3f}mm; top: {frame + 24 * unit:.3f}mm;'
             f' right: {frame + 24 * unit:.3f}mm; bottom: {frame + 24 * unit:.3f}mm;'
             f' border: {2 * unit:.3f}mm solid {look.accent};"></div>',
             f'<div style="left: {frame + 70 * unit:.3f}mm; right: {frame + 70 * unit:.3f}mm; top: {640 * unit:.3f}mm;'
             ' text-align: center;">',
             f'<p style="font-size: {190 * unit:.3f}mm; line-height: 1.18;">{escape(config.title)}</p>',
             f'<p style="margin: {70 * unit:.3f}mm auto; width: {320 * unit:.3f}mm;'
             f' border-top: {5 * unit:.3f}mm solid {look.accent};"></p>']
    if config.subtitle:
        lines.append(f'<p style="font-size: {80 * unit:.3f}mm; font-style: italic; line-height: 1.18;">'
                     f"{escape(config.subtitle)}</p>")
    lines.append("</div>")
    if config.authors:
        lines.append(f'<div style="left: 0; right: 0; top: {2050 * unit:.3f}mm; text-align: center;'
                     f' color: {look.accent}; font-size: {84 * unit:.3f}mm;">{escape(", ".join(config.authors))}</div>')
    if config.publisher:
        lines.append(f'<div style="left: 0; right: 0; top: {2250 * unit:.3f}mm; text-align: center;'
                     f' font-size: {54 * unit:.3f}mm;">{escape(config.publisher)}</div>')
    return "".join(lines) + "</div>"


def _back(config: Config, wrap: Wrap, look: Look) -> str:
    """The back: the title and the description inside the safety margin, above the barcode box."""
    back = wrap.back
    bottom = (wrap.barcode.y - 4) if wrap.barcode else back.bottom - SAFETY_MM
    text = Box(back.x + SAFETY_MM, back.y + SAFETY_MM, back.width - 2 * SAFETY_MM, bottom - back.y - SAFETY_MM)
    description = (f'<p style="font-size: 11pt; line-height: 1.45; text-align: left; hyphens: auto;">'
                   f"{escape(config.description)}</p>") if config.description else ""
    return (f'<div class="back" style="{_place(text)} overflow: hidden;">'
            f'<p style="font-size: 15pt; letter-spacing: 0.04em; margin-bottom: 6mm; color: {look.accent};">'
            f"{escape(config.title)}</p>{description}</div>")


def _spine(config: Config, wrap: Wrap) -> str:
    """Title and authors on one line along the spine, turned to read top to bottom."""
    spine = wrap.spine_box
    length = spine.height - 2 * SAFETY_MM
    thickness = spine.width - 2 * wrap.spine_margin
    text = config.title + (f"  ·  {', '.join(config.authors)}" if config.authors else "")
    size = min(thickness * 0.55, 4.2, length / max(len(text) * 0.5, 1))  # mm; 4.2 mm is 12 pt
    box = Box(spine.x + spine.width / 2 - length / 2, spine.y + spine.height / 2 - thickness / 2, length, thickness)
    return (f'<div class="spine" style="{_place(box)} transform: rotate(90deg); text-align: center;'
            f' white-space: nowrap; overflow: hidden; font-size: {size:.3f}mm; line-height: {thickness:.3f}mm;">'
            f"{escape(text)}</div>")
