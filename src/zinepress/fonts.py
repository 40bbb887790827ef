"""Font files named by a stylesheet → the same fonts cut down to the glyphs the book uses.

Fonts whose licence (the OS/2 ``fsType`` flags) forbids embedding are refused; fonts that
may be embedded but not subset are carried whole. Subsetting keeps every OpenType layout
feature (small capitals, ligatures, kerning) and every name record for the characters kept,
and never stamps the current time into the font, so the result is reproducible.

OpenType and TrueType files are cut by HarfBuzz's subsetter (milliseconds, where
fontTools takes about a second for a large CFF font); WOFF and WOFF2 files, which HarfBuzz
does not read, by fontTools, keeping their flavour. A subset is a pure function of the
font's bytes and the set of characters, so a :class:`~zinepress.derived.DerivedCache` keeps
each one by those, and a second build with the same characters subsets nothing.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import uharfbuzz

from .derived import DerivedCache
from .errors import ProjectError

RESTRICTED = 0x0002  # OS/2 fsType: restricted licence embedding
EDITABLE_OR_PREVIEW = 0x000C
NO_SUBSETTING = 0x0100
ALWAYS_KEPT = ("".join(chr(code) for code in range(0x20, 0x7F))
               + "\u00a0\u2010\u2013\u2014\u2018\u2019\u201c\u201d\u2026")
WEB_FONT_SIGNATURES = (b"wOFF", b"wOF2")
SFNT_SIGNATURES = (b"\x00\x01\x00\x00", b"OTTO", b"true")


def subset_characters(text: str) -> frozenset[int]:
    """The code points a subset keeps for ``text``: its own and a few always useful ones."""
    return frozenset(ord(char) for char in set(text + ALWAYS_KEPT))


def embeddable_font(data: bytes, path: Path, text: str, cache: DerivedCache | None = None) -> bytes:
    """The font in ``data`` cut down to the characters of ``text``, if its licence allows."""
    keep = subset_characters(text)
    web_font = data[:4] in WEB_FONT_SIGNATURES
    if not web_font and data[:4] not in SFNT_SIGNATURES:
        raise ProjectError(f"'{path.name}' is not a font file that can be read (OpenType, TrueType, WOFF or "
                           "WOFF2)", path)
    fs_type = _web_font_fs_type(data, path) if web_font else _fs_type(data, path)
    if fs_type & RESTRICTED and not fs_type & EDITABLE_OR_PREVIEW:
        raise ProjectError(f"the licence of font '{path.name}' forbids embedding it (OS/2 fsType {fs_type})", path)
    if fs_type & NO_SUBSETTING:
        return data
    subsetter = _fonttools_subset if web_font else _harfbuzz_subset
    if cache is None:
        return subsetter(data, path, keep)
    key = cache.key(f"harfbuzz {uharfbuzz.__version__}", data, ",".join(map(str, sorted(keep))))
    return cache.make(key, lambda: subsetter(data, path, keep))


def _fs_type(data: bytes, path: Path) -> int:
    """The OS/2 table's ``fsType`` of an OpenType or TrueType file (0 when it has no OS/2 table)."""
    try:
        face = uharfbuzz.Face(uharfbuzz.Blob(data))
        table = face.reference_table("OS/2").data
    except (ValueError, RuntimeError) as error:
        raise ProjectError(f"'{path.name}' is not a font file that can be read: {error}", path) from None
    if face.glyph_count == 0:
        raise ProjectError(f"'{path.name}' is not a font file that can be read: it holds no glyphs", path)
    return struct.unpack(">H", table[8:10])[0] if len(table) >= 10 else 0


def _harfbuzz_subset(data: bytes, path: Path, keep: frozenset[int]) -> bytes:
    face = uharfbuzz.Face(uharfbuzz.Blob(data))
    request = uharfbuzz.SubsetInput()
    for code in sorted(keep):
        request.unicode_set.add(code)
    for every in (request.layout_feature_tag_set, request.name_id_set, request.name_lang_id_set):
        every.clear()  # each starts as HarfBuzz's default list: emptied, then inverted, it holds all
        every.invert()
    request.flags = uharfbuzz.SubsetFlags.NOTDEF_OUTLINE | uharfbuzz.SubsetFlags.NAME_LEGACY
    request.drop_table_tag_set.add(int.from_bytes(b"FFTM", "big"))  # FontForge's time stamps
    result = uharfbuzz.subset(face, request)
    if result is None:
        raise ProjectError(f"font '{path.name}' could not be cut down to the book's characters", path)
    return result.blob.data


def _web_font_fs_type(data: bytes, path: Path) -> int:
    font = _fonttools_font(data, path)
    return font["OS/2"].fsType if "OS/2" in font else 0


def _fonttools_font(data: bytes, path: Path):
    from fontTools.ttLib import TTFont, TTLibError
    try:
        return TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=False)
    except (TTLibError, OSError, ValueError, AssertionError, struct.error) as error:
        raise ProjectError(f"'{path.name}' is not a font file that can be read: {error}", path) from None


def _fonttools_subset(data: bytes, path: Path, keep: frozenset[int]) -> bytes:
    from fontTools import subset
    font = _fonttools_font(data, path)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    options.flavor = font.flavor
    options.drop_tables += ["FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=keep)
    subsetter.subset(font)
    output = io.BytesIO()
    font.save(output)
    return output.getvalue()
