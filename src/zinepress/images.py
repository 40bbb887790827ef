"""An image file → what is wrong with it for a book (None when it carries safely) and its media type.

Chapters, covers and stylesheets all carry images into the EPUB and the PDFs, so each is
opened with Pillow (or parsed, for SVG) before any writer runs: an empty, broken,
mislabelled or oversized image, or an SVG that holds a script or reaches for other files,
is an error at the line that names it.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import lxml.etree as etree
from PIL import Image, UnidentifiedImageError

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"}
PILLOW_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
MAX_IMAGE_PIXELS = 50_000_000
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def image_problem(path: Path) -> tuple[str | None, str]:
    """What is wrong with an image file (None when it is fine) and its media type."""
    media_type = IMAGE_TYPES.get(path.suffix.lower())
    if media_type is None:
        return "is not a PNG, JPEG, GIF, SVG or WebP file", ""
    if path.stat().st_size == 0:
        return "is an empty file (0 bytes)", media_type
    if media_type == "image/svg+xml":
        return _svg_problem(path), media_type
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                actual = PILLOW_FORMATS.get(image.format or "")
                if width * height > MAX_IMAGE_PIXELS:
                    return f"is too large ({width}×{height} pixels; at most {MAX_IMAGE_PIXELS:,})", media_type
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return f"has too many pixels to be opened safely (at most {MAX_IMAGE_PIXELS:,})", media_type
    except UnidentifiedImageError:
        return "is not an image that can be read (broken, or not an image at all)", media_type
    except (OSError, SyntaxError, ValueError) as error:
        return f"is broken: {error}", media_type
    if actual != media_type:
        return f"is a {image.format or 'different'} file, but its name says {path.suffix}", media_type
    return None, media_type


def _svg_problem(path: Path) -> str | None:
    data = path.read_bytes()
    if b"<!ENTITY" in data or b"<!entity" in data:
        return "declares XML entities, which are not read"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        return f"is not well-formed SVG: {error}"
    if etree.QName(root).localname != "svg":
        return "is not an SVG image"
    doctype = root.getroottree().docinfo
    if doctype.system_url or doctype.public_id:
        return "declares an external DOCTYPE, which EPUB forbids: delete its <!DOCTYPE …> line"
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if etree.QName(element).localname.lower() == "script" or \
                any(etree.QName(name).localname.lower().startswith("on") for name in element.attrib):
            return "holds a script (a <script> or an on… attribute): books carry no scripts"
    if re.search(rb"url\(\s*['\"]?(?!#|data:)", data, re.IGNORECASE):
        return "uses url() references: SVG images must hold everything they show"
    for element in root.iter():
        for name in ("href", XLINK_HREF, "src"):
            reference = element.get(name) if isinstance(element.tag, str) else None
            if reference and not reference.startswith("#") and not reference.lower().startswith("data:"):
                return f"refers to '{reference}': SVG images must hold everything they show"
    return None
