"""The interface every writer follows: a ``RenderedBook`` in, files in a folder out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..render import RenderedBook


class Writer:
    """One output format. Subclasses set ``name``, ``suffix`` and ``description`` and implement ``write``.

    A writer with ``needs_outputs`` runs after the others and is given their finished files
    (``write(..., outputs=…)``); it may return several paths. A book writer that makes a
    companion file (the press PDF's cover wrap) returns a list of :class:`Written` instead of a path.
    """

    name: ClassVar[str]
    suffix: ClassVar[str]
    description: ClassVar[str]
    needs_outputs: ClassVar[bool] = False

    def file_name(self, rendered: RenderedBook) -> str:
        return f"{rendered.config.slug}{self.suffix}"

    def write(self, rendered: RenderedBook, folder: Path, session: "BuildSession") -> Path:
        raise NotImplementedError


@dataclass(frozen=True)
class Written:
    """A finished file in the staging folder and the writer that made it."""

    path: Path
    writer: Writer


class BuildSession:
    """What the writers of one build share: warnings, the source date, and costly results computed once."""

    def __init__(self, rendered: RenderedBook, source_date, diagnostics, formats: tuple[str, ...] = (),
                 store=None):
        self.rendered = rendered
        self.store = store  # the project's BuildCache, when caching is on
        self.source_date = source_date
        self.diagnostics = diagnostics
        self.formats = formats
        self.cache: dict[str, object] = {}

    def once(self, key: str, compute):
        """The value of ``compute()``, computed on first use only."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]
