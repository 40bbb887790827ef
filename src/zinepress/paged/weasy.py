"""WeasyPrint behind one door: every call into it, and every internal the layout relies on.

The rest of zinepress lays out pages through these small functions and never imports
WeasyPrint itself. The internals used (a page's box tree, the page maker's counter
state, ``make_margin_boxes``, ``layout_backgrounds``, ``RasterImage.__init__`` and ``_get_png_data``) are
checked once, against the version they were written for: :func:`check_internals` names the
version that broke them. The margin-box hook is installed only while a layout runs
(:func:`margin_box_records`), and each layout records into its own list; the image hooks, which
change no pixel, stay (:func:`_png_stream_data`, :func:`_raster_image_init`). WeasyPrint is loaded by :func:`_loaded_weasyprint`,
which spares it the slow library search it would run on Linux.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import ctypes.util
import hashlib
import importlib
import inspect
import io
import re
import sys
import threading
from importlib import resources


def _loaded_weasyprint():
    """``import weasyprint``, with ctypes' ``find_library`` answering "not found" at once on Linux meanwhile.

    For each C library WeasyPrint tries several names (Windows', macOS' and Linux's) with cffi,
    which hands each name that is not a file to ``find_library``; on Linux that runs ldconfig,
    gcc and ld in turn, about 0.2 s in all for names that cannot match. Every list also holds
    the Linux soname (``libpango-1.0.so.0``), which the dynamic loader opens by itself. If the
    libraries cannot be opened that way, WeasyPrint is loaded again as it loads itself.
    """
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        return importlib.import_module("weasyprint")
    searching = ctypes.util.find_library
    ctypes.util.find_library = _not_searched
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # its advice on a failed load, given below if still failing
            return importlib.import_module("weasyprint")
    except OSError:
        return importlib.import_module("weasyprint")
    finally:
        ctypes.util.find_library = searching


def _not_searched(name: str) -> None:
    """``find_library`` while WeasyPrint loads: no library is looked for by a bare name."""
    return None


weasyprint = _loaded_weasyprint()
from weasyprint import CSS, HTML  # noqa: E402 - loaded by _loaded_weasyprint above
from weasyprint import images as weasy_images  # noqa: E402
from weasyprint import layout as weasy_layout  # noqa: E402
from weasyprint.formatting_structure import boxes  # noqa: E402
from weasyprint.layout.background import layout_backgrounds  # noqa: E402
from weasyprint.logger import LOGGER  # noqa: E402
from weasyprint.text.ffi import ffi  # noqa: E402
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402

from .pngdata import flate_image_data  # noqa: E402

TESTED_VERSIONS = ("70.",)
GENERATED = ("::before", "::after", "::marker", "::footnote-call", "::footnote-marker")
VERSION = weasyprint.__version__

__all__ = ["CSS", "HTML", "LOGGER", "URLFetcher", "URLFetcherResponse", "VERSION", "check_internals",
           "content_boxes", "flow_fill", "folio_style", "is_image", "is_missing_target", "margin_box_records",
           "page_counter_changes", "page_side",
           "remake_margin_boxes", "replaced_boxes", "root_element", "srgb_profile"]

_records: contextvars.ContextVar[list | None] = contextvars.ContextVar("zinepress_margin_records", default=None)
_hook_lock = threading.Lock()
_hook_users = 0
_own_make_margin_boxes = weasy_layout.make_margin_boxes
_own_png_data = getattr(weasy_images.RasterImage, "_get_png_data", None)
_own_raster_init = weasy_images.RasterImage.__init__


class WeasyPrintChanged(RuntimeError):
    """An internal of WeasyPrint that the layout relies on is missing or no longer called."""


def check_internals() -> None:
    """Raise :class:`WeasyPrintChanged`, naming the installed version, if an internal is missing."""
    wanted = {"weasyprint.layout.make_margin_boxes": getattr(weasy_layout, "make_margin_boxes", None),
              "weasyprint.layout.background.layout_backgrounds": layout_backgrounds,
              "weasyprint.images.RasterImage._get_png_data": _own_png_data,
              "weasyprint.images.RasterImage.__init__(image_id)": _takes_image_id(_own_raster_init),
              "weasyprint.formatting_structure.boxes.MarginBox": getattr(boxes, "MarginBox", None),
              "weasyprint.formatting_structure.boxes.TextBox": getattr(boxes, "TextBox", None),
              "weasyprint.formatting_structure.boxes.ReplacedBox": getattr(boxes, "ReplacedBox", None),
              "weasyprint.formatting_structure.boxes.BlockBox": getattr(boxes, "BlockBox", None),
              "weasyprint.formatting_structure.boxes.LineBox": getattr(boxes, "LineBox", None)}
    missing = [name for name, value in wanted.items() if value is None]
    if missing:
        raise WeasyPrintChanged(f"WeasyPrint {VERSION} lacks {', '.join(missing)}, which zinepress's layout "
                                f"relies on (tested with {', '.join(v + 'x' for v in TESTED_VERSIONS)})")


def _png_stream_data(pillow_image) -> bytes:
    """WeasyPrint's ``RasterImage._get_png_data``, which encodes an image again as PNG to take its IDAT
    data for the PDF: an image opened from PNG bytes that PDF takes as they are gives their IDAT
    data at once (see :mod:`.pngdata`); any other image is encoded by WeasyPrint as before."""
    source = getattr(pillow_image, "fp", None)
    if isinstance(source, io.BytesIO):
        data = flate_image_data(source.getvalue(), pillow_image.mode, pillow_image.size)
        if data is not None:
            return data
    return _own_png_data(pillow_image)


if _own_png_data is not None:
    weasy_images.RasterImage._get_png_data = staticmethod(_png_stream_data)


RASTER_IMAGE_PARAMETERS = ["self", "pillow_image", "image_id", "image_data", "filename", "cache", "orientation"]


def _takes_image_id(init) -> object | None:
    """``init`` if its parameters still start as :data:`RASTER_IMAGE_PARAMETERS` (the image's id names its
    PDF XObject; :func:`_raster_image_init` finds the orientation by its place), else None."""
    parameters = list(inspect.signature(init).parameters)
    return init if parameters[:len(RASTER_IMAGE_PARAMETERS)] == RASTER_IMAGE_PARAMETERS else None


def _raster_image_init(self, pillow_image, image_id, image_data, *args, **kwargs) -> None:
    """WeasyPrint's ``RasterImage.__init__`` with the image's id taken from its bytes and orientation
    rather than from the hash of its absolute URL: the id names the image's XObject in the PDF, so a
    project built in another folder made other bytes. The same bytes at two URLs are one image."""
    if image_data is not None:
        orientation = kwargs.get("orientation", args[2] if len(args) > 2 else "none")
        digest = hashlib.md5(image_data, usedforsecurity=False)
        digest.update(repr(orientation).encode())
        image_id = digest.hexdigest()
    _own_raster_init(self, pillow_image, image_id, image_data, *args, **kwargs)


if _takes_image_id(_own_raster_init) is not None:
    weasy_images.RasterImage.__init__ = _raster_image_init


C_TYPES_USED = ("PangoRectangle *", "PangoLogAttr[]", "PangoFcFontMap *", "FcChar8 **", "FcResult *",
                "unsigned int *", "char[]", "char[4]", "hb_tag_t[100]", "hb_codepoint_t[]")
SIZED_ARRAY = re.compile(r"(\w[\w ]*)\[(\d+)\]")
_own_new = ffi.new


def _new_cdata(cdecl, init=None):
    """cffi's ``new`` on WeasyPrint's FFI, with ``T[n]`` and a list of n items made as ``T[]`` and that list:
    the same memory and values, without cffi parsing a C declaration for every length (about 5 ms each:
    its parser is handed all of Pango's and HarfBuzz's type names every time)."""
    if isinstance(cdecl, str) and isinstance(init, (list, tuple)):
        sized = SIZED_ARRAY.fullmatch(cdecl)
        if sized and int(sized[2]) == len(init):
            return _own_new(f"{sized[1]}[]", init)
    return _own_new(cdecl, init)


def _parse_c_types() -> None:
    """Parse the C types WeasyPrint's layout and PDF writing ask cffi for, once, while it loads: in the
    process that forks the layouts, so that none of them parses them again."""
    for cdecl in C_TYPES_USED:
        ffi.typeof(cdecl)


ffi.new = _new_cdata
_parse_c_types()


def _recording_margin_boxes(context, page, state):
    """WeasyPrint's own ``make_margin_boxes``, remembering in the current layout's list what it needs
    to make them again."""
    records = _records.get()
    if records is not None:
        records.append((context, page, copy.deepcopy(state)))
    return _own_make_margin_boxes(context, page, state)


@contextlib.contextmanager
def margin_box_records():
    """While the block runs, every page this thread lays out records (context, page box, state) into
    the list it yields; WeasyPrint's own function is put back when no layout needs the hook."""
    global _hook_users
    with _hook_lock:
        if _hook_users == 0:
            weasy_layout.make_margin_boxes = _recording_margin_boxes
        _hook_users += 1
    records: list = []
    token = _records.set(records)
    try:
        yield records
    finally:
        _records.reset(token)
        with _hook_lock:
            _hook_users -= 1
            if _hook_users == 0:
                weasy_layout.make_margin_boxes = _own_make_margin_boxes


def remake_margin_boxes(context, page_box, state, number: int) -> None:
    """Replace a page's margin boxes by ones made with ``state`` (moved counters)."""
    context.current_page = number + 1
    kept = [child for child in page_box.children if not isinstance(child, boxes.MarginBox)]
    page_box.children = tuple(kept) + tuple(_own_make_margin_boxes(context, page_box, state))
    layout_backgrounds(page_box, context.get_image_from_uri)


def is_missing_target(message: str) -> bool:
    """Whether a log message of WeasyPrint's says that ``target-counter()`` or ``target-text()`` named an
    anchor the document does not hold."""
    return "target points to undefined anchor" in message


def page_side(page) -> str:
    """``"left"`` or ``"right"``: the side a laid-out page falls on."""
    return page._page_box.page_type.side


def page_counter_changes(page) -> list[str]:
    """The counters a page's own style resets or sets."""
    style = page._page_box.style
    return [name for name, _ in (*style["counter_reset"], *style["counter_set"])]


def folio_style(page) -> str | None:
    """The counter style of the page number the page prints in a margin box, if it prints one."""
    for child in page._page_box.children:
        if isinstance(child, boxes.MarginBox) and isinstance(child.style["content"], tuple):
            for kind, value in child.style["content"]:
                if kind == "counter()" and value[0] == "page":
                    return value[1]
    return None


def is_image(box) -> bool:
    """Whether a box of :func:`content_boxes` is a replaced element (an image), not text."""
    return isinstance(box, boxes.ReplacedBox)


def content_boxes(page):
    """The page's main-flow boxes that hold the book's own text or images, in order (not the text the
    stylesheet makes: ``::before``, list numbers …; ``::first-line`` is the book's). Each has an
    ``element``; a text box also its ``text``."""
    def walk(box, made=False):
        made = made or (box.element_tag or "").endswith(GENERATED)
        if isinstance(box, boxes.TextBox):
            if not made and box.element is not None and box.text.strip():
                yield box
        elif isinstance(box, boxes.ReplacedBox):
            if not made and box.element is not None:
                yield box
        else:
            for child in getattr(box, "children", ()):
                yield from walk(child, made)
    for child in page._page_box.children:
        if isinstance(child, boxes.BlockBox) and child.element_tag == "html":
            yield from walk(child)


def flow_fill(page) -> float:
    """How far down its text area the page's main flow reaches: 0 (nothing on it) to 1 (to the foot)."""
    page_box = page._page_box
    top, height = page_box.content_box_y(), page_box.height
    bottom = top
    for child in page_box.children:
        if isinstance(child, boxes.BlockBox) and child.element_tag == "html":
            for box in child.descendants():
                if isinstance(box, (boxes.LineBox, boxes.ReplacedBox)):
                    bottom = max(bottom, box.position_y + box.margin_height())
    return min(1.0, max(0.0, (bottom - top) / height)) if height > 0 else 1.0


def root_element(page):
    """The root element (``<html>``) of the document a laid-out page belongs to."""
    return next(child for child in page._page_box.children if isinstance(child, boxes.BlockBox)).element


def replaced_boxes(page):
    """The page's replaced boxes (images) with an element and a width: (element, width, height) in CSS px."""
    for box in page._page_box.descendants():
        if isinstance(box, boxes.ReplacedBox) and box.element is not None and box.width > 0:
            yield box.element, box.width, box.height


def srgb_profile() -> bytes:
    """The sRGB ICC profile WeasyPrint ships (the press edition's default output intent)."""
    return resources.files("weasyprint").joinpath("pdf", "sRGB2014.icc").read_bytes()
