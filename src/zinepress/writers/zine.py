"""``RenderedBook`` → ``S-zine.pdf`` (and ``S-zine-cover.pdf``): the zine's own pages imposed for home printing.

The pages come from the zine's own layout (:mod:`zinepress.zinelayout`), fitted to the page
count; :mod:`zinepress.imposition` says where each goes on each sheet side, for the
``booklet``, ``mini`` or ``quarter`` format, with creep and signatures, and
:mod:`.zinesheets` draws the sheets with pypdf. A booklet thicker than a stapler closes
gives a warning.
"""

from __future__ import annotations

import functools
from pathlib import Path

from .. import imposition
from ..atomic import write_atomically
from ..printing import Printing
from ..render import RenderedBook
from ..zinelayout import ZinePages, add_warnings, sheet_side, zine_pages, zine_pages_apart
from ..zinesettings import SADDLE_STITCH_MM, ZineSettings
from .base import BuildSession, Writer

COVER_SUFFIX = "-zine-cover.pdf"


def plan(settings: ZineSettings, pages: ZinePages) -> tuple[list[imposition.Side], list[imposition.Side]]:
    """The interior's sides and the separate cover's (none with a self-cover)."""
    total, count = pages.total, pages.fit.pages
    side = sheet_side(settings)
    if settings.cover == "separate":
        interior = list(range(2, total - 1))
        sequence = interior + [None] * (count - len(interior))
        cover_sequence: list[int | None] = [0, None, total - 1, None]  # outside front and back, inside covers
    else:
        sequence, cover_sequence = imposition.reading_sequence(list(range(total)), count), None
    if settings.format == "mini":
        return imposition.mini(sequence, side), []
    if settings.format == "quarter":
        cover = imposition.quarter(cover_sequence, side) if cover_sequence else []
        return imposition.quarter(sequence, side, settings.creep), cover
    cover = imposition.booklet(cover_sequence, side) if cover_sequence else []
    return imposition.booklet(sequence, side, settings.creep, settings.signature), cover


def folded_sheets(settings: ZineSettings, sides: list[imposition.Side]) -> int:
    """How many sheets are folded together: a signature's, a quarter's half-sheets, or the whole stack."""
    sheets = max((side.sheet for side in sides), default=0)
    if settings.format == "quarter":
        return sum(1 for side in sides for placement in side.placements) // 4
    if settings.signature:
        return min(settings.signature, sheets)
    return sheets


class ZineWriter(Writer):
    name = "zine"
    suffix = "-zine.pdf"
    description = "Zine to print and fold at home"
    works_ahead = True

    def describe(self, path: Path) -> str:
        """What a file of this writer is, for the downloads page."""
        return "Zine cover, to print on cover stock" if path.name.endswith(COVER_SUFFIX) else self.description

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path | list[Path]:
        """The imposed zine (and its cover). pypdf (0.05 s to load) is loaded only here, after the zine's
        layout has been forked (:meth:`ahead`), which does not need it."""
        from .zinesheets import imposed, reader
        settings = rendered.config.zine
        pending = session.ahead.get(self.name)
        if pending is not None:
            pages, warnings = pending.result()
            add_warnings(session, warnings)
        else:
            pages = zine_pages(rendered, session)
        sides, cover_sides = plan(settings, pages)
        _warn_thickness(rendered, session, folded_sheets(settings, sides))
        source = reader(pages.pdf)
        shifts = [placement.shift for side in sides for placement in side.placements]
        printing = Printing(settings, max(side.sheet for side in sides), pages.fit.pages, max(shifts, default=0),
                            self.file_name(rendered),
                            f"{rendered.config.slug}{COVER_SUFFIX}" if cover_sides else None,
                            len(sides) + 1 if settings.instructions else None)
        written = [write_atomically(folder / self.file_name(rendered),
                                    imposed(rendered, session, source, sides, printing))]
        if cover_sides:
            written.append(write_atomically(folder / f"{rendered.config.slug}{COVER_SUFFIX}",
                                            imposed(rendered, session, source, cover_sides, None)))
        return written if len(written) > 1 else written[0]

    def ahead(self, rendered: RenderedBook, session: BuildSession):
        """The zine's own layouts and their fit, which need nothing from the print layout."""
        return functools.partial(zine_pages_apart, rendered, session)


def _warn_thickness(rendered: RenderedBook, session: BuildSession, sheets: int) -> None:
    """A warning when more sheets are folded together than a stapler closes well."""
    settings = rendered.config.zine
    caliper = settings.caliper
    if sheets * caliper <= SADDLE_STITCH_MM + 1e-9:
        return
    weight = settings.stock or 80
    session.diagnostics.warn(
        f"the zine folds {sheets} sheets together, about {sheets * caliper:.1f} mm of {weight} gsm paper: too thick "
        f"to saddle-stitch (at most {int(SADDLE_STITCH_MM / caliper + 1e-9)} sheets); print it in signatures with "
        "format = \"booklet\" and signature = 4 in [zine]",
        rendered.config.path, _thickness_line(settings))


def _thickness_line(settings: ZineSettings) -> int | None:
    """The line the thickness warning points at: the key that sets it, else the ``[zine]`` table."""
    given = dict(settings.lines)
    return next((given[key] for key in ("signature", "stock", "format") if key in given), settings.line(""))
