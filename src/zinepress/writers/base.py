"""The interface every writer follows: a ``RenderedBook`` and what the build shares in, files in a folder out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..errors import Diagnostics
from ..render import RenderedBook
from ..stylesheets import Stylesheet

if TYPE_CHECKING:
    from ..paged.book import LaidOutBook


class Writer:
    """One output format. Subclasses set ``name``, ``suffix`` and ``description`` and implement ``write``.

    A writer whose ``uses_layout`` is ``"pdf"`` (the laid-out pages) or ``"page-list"`` (only where
    they start) is given the laid-out print edition, ``session.laid_out``.
    A writer with ``needs_outputs`` runs after the others and is given their finished files
    (``write(..., outputs=…)``); it may return several paths. A book writer that makes a
    companion file (the press PDF's cover wrap) returns a list of :class:`Written` instead of a path.
    """

    name: ClassVar[str]
    suffix: ClassVar[str]
    description: ClassVar[str]
    needs_outputs: ClassVar[bool] = False
    uses_layout: ClassVar[str | None] = None
    works_early: ClassVar[bool] = False  # it has an early job (see :meth:`early`)
    works_ahead: ClassVar[bool] = False  # it has an ahead job (see :meth:`ahead`)

    def file_name(self, rendered: RenderedBook) -> str:
        return f"{rendered.config.slug}{self.suffix}"

    def write(self, rendered: RenderedBook, folder: Path, session: "BuildSession") -> Path:
        raise NotImplementedError

    def ahead(self, rendered: RenderedBook, session: "BuildSession") -> Callable[[], object] | None:
        """Work of this writer that needs neither the layout nor the other writers, as a job whose
        result pickles, to be run beside them (``session.ahead[name]`` holds it then); None if none."""
        return None

    @classmethod
    def early(cls, rendered: RenderedBook, store) -> Callable[[], object] | None:
        """Work that needs only the rendered book and the build cache ``store``, and not WeasyPrint, as a
        job whose result pickles: run by the process that rendered the book while the build loads
        WeasyPrint, else beside the layout (``session.ahead[name]`` holds it, as an ahead job); None if none."""
        return None


@dataclass(frozen=True)
class Written:
    """A finished file in the staging folder and the writer that made it."""

    path: Path
    writer: Writer


@dataclass(frozen=True)
class BuildSession:
    """What the writers of one build share: the source date, where warnings go, the stylesheets
    (read and checked before any writer runs) and the laid-out print edition."""

    rendered: RenderedBook
    source_date: dt.datetime
    diagnostics: Diagnostics
    formats: tuple[str, ...] = ()
    stylesheets: dict[str, Stylesheet] = field(default_factory=dict)
    laid_out: LaidOutBook | None = None
    store: object = None  # the project's BuildCache, when caching is on
    ahead: dict[str, object] = field(default_factory=dict)  # writer name → its ahead job running (a Beside)
