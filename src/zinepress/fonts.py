"""Font files named by a stylesheet → the same fonts cut down to the glyphs the book uses.

Fonts whose licence (the OS/2 ``fsType`` flags) forbids embedding are refused; fonts that
may be embedded but not subset are carried whole. Subsetting keeps every OpenType layout
feature (small capitals, ligatures, kerning) for the characters kept, and never stamps
the current time into the font, so the result is reproducible.
"""

from __future__ import annotations

import io
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont, TTLibError

from .errors import ProjectError

RESTRICTED = 0x0002  # OS/2 fsType: restricted licence embedding
NO_SUBSETTING = 0x0100
ALWAYS_KEPT = ("".join(chr(code) for code in range(0x20, 0x7F))
               + "\u00a0\u2010\u2013\u2014\u2018\u2019\u201c\u201d\u2026")


def _load(data: bytes, path: Path) -> TTFont:
    try:
        return TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=False)
    except (TTLibError, OSError, ValueError, AssertionError) as error:
        raise ProjectError(f"'{path.name}' is not a font file that can be read: {error}", path) from None


def embeddable_font(data: bytes, path: Path, text: str) -> bytes:
    """The font in ``data`` cut down to the characters of ``text``, if its licence allows."""
    font = _load(data, path)
    fs_type = font["OS/2"].fsType if "OS/2" in font else 0
    if fs_type & RESTRICTED and not fs_type & 0x000C:
        raise ProjectError(f"the licence of font '{path.name}' forbids embedding it (OS/2 fsType {fs_type})", path)
    if fs_type & NO_SUBSETTING:
        return data
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    options.flavor = font.flavor
    options.drop_tables += ["FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes={ord(char) for char in set(text + ALWAYS_KEPT)})
    subsetter.subset(font)
    output = io.BytesIO()
    font.save(output)
    return output.getvalue()
