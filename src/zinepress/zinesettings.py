"""book.toml's ``[zine]`` table → frozen :class:`ZineSettings`: the format, sheet, page count and paper.

Bad values are reported with their line through the ``report`` callback of
:func:`~zinepress.config.load_config`, which raises them all together. The creep per sheet
comes from ``creep`` (a length) or from the paper's weight (``stock``) by :data:`CALIPER_MM`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SHEET_SIZES: dict[str, tuple[float, float]] = {  # portrait width, height in mm
    "A3": (297.0, 420.0),
    "A4": (210.0, 297.0),
    "A5": (148.0, 210.0),
    "letter": (8.5 * 25.4, 11 * 25.4),
}
FORMATS = ("booklet", "mini", "quarter")
COVERS = ("self", "separate")
ZINE_KEYS = ("sheet", "format", "pages", "fit", "creep", "stock", "signature", "cover", "instructions")
# Thickness (caliper) of uncoated paper by weight, in mm per sheet: the creep one folded sheet
# adds around the sheets inside it. Weights between two rows are interpolated.
CALIPER_MM: dict[int, float] = {60: 0.075, 70: 0.09, 80: 0.10, 90: 0.11, 100: 0.12, 120: 0.145,
                                160: 0.19, 200: 0.24, 250: 0.30, 300: 0.36}
SADDLE_STITCH_MM = 1.2  # the thickest stack a stapler closes well folded: 12 sheets of 80 gsm
DEFAULT_FIT = (9.0, 11.5)


@dataclass(frozen=True)
class ZineSettings:
    """How the zine is laid out, imposed and printed; ``lines`` holds each key's line in book.toml."""

    sheet: str = "A4"
    format: str = "booklet"
    pages: int | None = None  # None: "auto"
    fit: tuple[float, float] = DEFAULT_FIT  # body size range in pt
    creep: float = 0.0  # mm per sheet
    stock: int | None = None  # gsm, when given
    signature: int | None = None  # sheets per signature (booklet only)
    cover: str = "self"
    instructions: bool = False
    lines: tuple[tuple[str, int], ...] = ()

    @property
    def sheet_size(self) -> tuple[float, float]:
        return SHEET_SIZES[self.sheet]

    @property
    def caliper(self) -> float:
        """The paper's thickness per sheet in mm (80 gsm when no ``stock`` is given)."""
        return caliper_of(self.stock or 80)

    def line(self, key: str) -> int | None:
        """The line of ``key`` in book.toml, else of the ``[zine]`` table, else None."""
        found = dict(self.lines)
        return found.get(key) or found.get("")


def caliper_of(gsm: int) -> float:
    """The thickness in mm of one sheet of ``gsm`` paper, interpolated in :data:`CALIPER_MM`."""
    weights = sorted(CALIPER_MM)
    if gsm <= weights[0]:
        return CALIPER_MM[weights[0]] * gsm / weights[0]
    for lighter, heavier in zip(weights, weights[1:]):
        if gsm <= heavier:
            share = (gsm - lighter) / (heavier - lighter)
            return round(CALIPER_MM[lighter] + share * (CALIPER_MM[heavier] - CALIPER_MM[lighter]), 4)
    return CALIPER_MM[weights[-1]] * gsm / weights[-1]


def _points(text: str) -> float | None:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*pt\s*", text)
    return float(match[1]) if match else None


def zine_settings(table: dict, report, lines: dict[tuple[str, str], int], parse_length) -> ZineSettings:
    """The ``[zine]`` table → ZineSettings; each bad value is reported at its key's line."""
    values: dict[str, object] = {}

    def bad(key: str, message: str) -> None:
        report(message, "zine", key)

    sheet = table.get("sheet", "A4")
    if sheet in SHEET_SIZES:
        values["sheet"] = sheet
    else:
        bad("sheet", f"unknown zine sheet {sheet!r}: use 'A4', 'letter', 'A5' or 'A3'")
    kind = table.get("format", "booklet")
    if kind in FORMATS:
        values["format"] = kind
    else:
        bad("format", f"unknown zine format {kind!r}: use 'booklet', 'mini' or 'quarter'")
    values.update(_pages(table, values.get("format", "booklet"), bad))
    values.update(_fit(table, bad))
    values.update(_paper(table, bad, parse_length))
    cover = table.get("cover", "self")
    if cover in COVERS:
        values["cover"] = cover
    else:
        bad("cover", "'cover' in [zine] must be 'self' (the cover is page 1) or 'separate'")
    if values.get("cover") == "separate" and values.get("format", "booklet") == "mini":
        bad("cover", "a mini zine is one sheet: it has no separate cover")
    if not isinstance(table.get("instructions", False), bool):
        bad("instructions", "'instructions' in [zine] must be true or false")
    else:
        values["instructions"] = table.get("instructions", False)
    values["lines"] = tuple(sorted((key, line) for (name, key), line in lines.items() if name == "zine"))
    return ZineSettings(**values)


def _pages(table: dict, kind: str, bad) -> dict:
    pages = table.get("pages", "auto")
    if pages == "auto":
        return {}
    if isinstance(pages, bool) or not isinstance(pages, int) or pages < 4 or pages % 4 or pages > 4000:
        bad("pages", "'pages' in [zine] must be \"auto\" or a multiple of 4 (8, 12, 16…)")
        return {}
    if kind == "mini" and pages != 8:
        bad("pages", "a mini zine has 8 pages: set pages = 8 or \"auto\"")
        return {}
    return {"pages": pages}


def _fit(table: dict, bad) -> dict:
    fit = table.get("fit", "9pt..11.5pt")
    parts = fit.split("..") if isinstance(fit, str) else []
    sizes = [_points(part) for part in parts]
    if len(sizes) == 1 and sizes[0] is not None:
        sizes = sizes * 2
    if len(sizes) != 2 or None in sizes or not 5 <= sizes[0] <= sizes[1] <= 30:
        bad("fit", "'fit' in [zine] must be a range of body sizes such as \"9pt..11.5pt\" (5pt to 30pt), "
                   "or one size such as \"10pt\"")
        return {}
    return {"fit": (sizes[0], sizes[1])}


def _paper(table: dict, bad, parse_length) -> dict:
    values: dict[str, object] = {}
    if "creep" in table and "stock" in table:
        bad("creep", "set 'creep' or 'stock' in [zine], not both: the stock gives the creep")
    creep = table.get("creep")
    if creep is not None:
        length = parse_length(creep) if isinstance(creep, str) else None
        if length is None or length > 1:
            bad("creep", "'creep' in [zine] must be a length per sheet such as \"0.1mm\", at most 1mm")
        else:
            values["creep"] = round(length, 4)
    stock = table.get("stock")
    if stock is not None:
        match = re.fullmatch(r"\s*(\d+)\s*gsm\s*", stock) if isinstance(stock, str) else None
        if not match or not 40 <= int(match[1]) <= 400:
            bad("stock", "'stock' in [zine] must be a paper weight such as \"80gsm\" (40 to 400)")
        else:
            values["stock"] = int(match[1])
            values["creep"] = caliper_of(int(match[1]))
    signature = table.get("signature")
    if signature is not None:
        if isinstance(signature, bool) or not isinstance(signature, int) or not 1 <= signature <= 32:
            bad("signature", "'signature' in [zine] must be a number of sheets per signature, 1 to 32")
        elif table.get("format", "booklet") != "booklet":
            bad("signature", "signatures are for format = \"booklet\"")
        else:
            values["signature"] = signature
    return values
