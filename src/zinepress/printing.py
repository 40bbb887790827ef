"""A zine's format and sheet count → how to print, cut, fold and staple it; read back from ``S-zine.pdf``.

The steps are written into the zine PDF's document information (``/ZinepressPrinting``),
so that the build summary and the downloads page show what the file itself holds, also
when the build cache put the file back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .zinesettings import SADDLE_STITCH_MM, ZineSettings

INFO_KEY = "/ZinepressPrinting"


@dataclass(frozen=True)
class Printing:
    """The facts the instructions need: sheets, pages, signatures, the largest creep and what file names."""

    settings: ZineSettings
    sheets: int
    pages: int
    max_creep: float = 0.0
    file_name: str = ""
    cover_file: str | None = None
    instructions_page: int | None = None  # the PDF page holding the instructions, when added

    @property
    def first_page(self) -> int:
        """The folio of the interior's first page: 3 inside a separate cover, else 1 (the cover)."""
        return 3 if self.settings.cover == "separate" else 1


def _paper(printing: Printing) -> str:
    settings = printing.settings
    weight = f"{settings.stock} gsm" if settings.stock else "80 gsm office"
    count = "one sheet" if printing.sheets == 1 else f"{printing.sheets} sheets"
    return f"Paper: {count} of {settings.sheet} ({weight} paper)."


def _actual_size(printing: Printing, how: str) -> str:
    """The step that prints the zine's sheets ``how`` (duplex or one-sided)."""
    last = printing.instructions_page
    if not last:
        return f"Print {printing.file_name} at actual size (100 %, not \"fit to page\"), {how}."
    which = "page 1" if last == 2 else f"pages 1–{last - 1}"
    return (f"Print {which} of {printing.file_name} at actual size (100 %, not \"fit to page\"), {how}; "
            f"page {last}, these instructions, is not part of the zine.")


def steps(printing: Printing) -> tuple[str, ...]:
    """The printing instructions, one step a line."""
    kind = printing.settings.format
    if kind == "mini":
        return _mini_steps(printing)
    lines = [_paper(printing)]
    if kind == "quarter":
        lines += [_actual_size(printing, "double-sided, flip on long edge"),
                  "Cut the printed stack in half along the dashed line across the middle.",
                  "Put the pile of top halves on the pile of bottom halves, both face up and the same way round.",
                  f"Fold the whole pile in half along the grey marks, page {printing.first_page} outside.",
                  "Staple twice on the fold, from the outside."]
        if -(-printing.pages // 4) % 2:
            lines.insert(3, "The bottom half of the last sheet is empty: set it aside.")
    else:
        lines.append(_actual_size(printing, "double-sided, flip on short edge"))
        lines += _booklet_folding(printing)
    if printing.max_creep:
        lines.append(f"The pages of the inner sheets are moved up to {printing.max_creep:.2f} mm towards the spine "
                     "for the paper's thickness (creep): the outer edges line up once folded.")
    if printing.cover_file:
        lines.insert(1, _cover_step(printing))
    return tuple(lines)


def _cover_step(printing: Printing) -> str:
    """How to print the separate cover: as the interior's sheets are printed, on cover stock."""
    if printing.settings.format == "quarter":
        return (f"Print {printing.cover_file} on one sheet of cover stock, double-sided, flip on long edge; "
                "cut off its top half along the dashed line: it wraps around the folded pages.")
    return (f"Print {printing.cover_file} on one sheet of cover stock, double-sided, flip on short edge; "
            "it wraps around the folded pages.")


def _booklet_folding(printing: Printing) -> list[str]:
    sheets_per = printing.settings.signature
    last = printing.pages
    if sheets_per and printing.sheets > sheets_per:
        return [f"Keep the sheets in the order printed. {_signatures_phrase(printing.sheets, sheets_per)}; "
                "in each, its first sheet goes outside.",
                "Fold each signature in half along the grey marks on its own.",
                "Stack the folded signatures in order and sew or glue them together at the spine."]
    first = printing.first_page
    staple = "Staple twice on the fold, from the outside (saddle stitch)."
    thickness = printing.sheets * printing.settings.caliper
    if thickness > SADDLE_STITCH_MM + 1e-9:
        staple = (f"Staple twice on the fold, from the outside (saddle stitch), if your stapler closes "
                  f"{thickness:.1f} mm of paper; signature = 4 in [zine] prints it in signatures instead.")
    return [f"Keep the sheets in the order printed: sheet 1 (pages {first + last - 1} and {first}) goes outside.",
            f"Fold the stack in half along the grey marks, page {first} outside.",
            staple]


def _signatures_phrase(sheets: int, per: int) -> str:
    """How the printed sheets divide into signatures, the last one maybe shorter."""
    full, rest = divmod(sheets, per)
    if per == 1:
        return f"They make {sheets} signatures of one sheet each"
    first = "sheets " + ", ".join(f"{k * per + 1}–{(k + 1) * per}" for k in range(min(full, 2))) + \
        (", …" if full > 2 else "")
    if not rest:
        return f"They make {full} signatures of {per} sheets ({first})"
    last = f"sheet {sheets}" if rest == 1 else f"sheets {sheets - rest + 1}–{sheets}"
    return (f"They make {full + 1} signatures: {full} of {per} sheets ({first}) and a last one of "
            f"{rest} ({last})")


def _mini_steps(printing: Printing) -> tuple[str, ...]:
    return (_paper(printing),
            _actual_size(printing, "on one side of the sheet"),
            "Crease every fold and unfold: in half along the long side, then in half and in half again across "
            "(the grey marks show where).",
            "Fold the sheet in half across (short edges together) and cut along the dashed line, from the fold "
            "to the next crease; unfold.",
            "Fold it in half along the long side, printed side out; push the ends together so the cut opens, "
            "and flatten the pages into a booklet, page 1 (the cover) on top.")


def read_steps(path: Path) -> tuple[str, ...]:
    """The printing instructions held by a zine PDF (none when it holds none)."""
    import pypdf
    try:
        info = pypdf.PdfReader(path).metadata or {}
    except (OSError, pypdf.errors.PdfReadError):
        return ()
    text = info.get(INFO_KEY)
    return tuple(str(text).split("\n")) if text else ()


def summary_lines(paths) -> list[str]:
    """For the build's summary: each zine's printing instructions, under its file name."""
    lines = []
    for path in paths:
        found = read_steps(path) if str(path).endswith("-zine.pdf") else ()
        if found:
            lines.append(f"to print {Path(path).name}:")
            lines += [f"  {number}. {step}" for number, step in enumerate(found, 1)]
    return lines
