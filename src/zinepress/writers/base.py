"""The interface every writer follows: a ``RenderedBook`` in, files in a folder out."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..render import RenderedBook


class Writer:
    """One output format. Subclasses set ``name``, ``suffix`` and ``description`` and implement ``write``.

    A writer with ``needs_outputs`` runs after the others and is given their finished files
    (``write(..., outputs=…)``); it may return several paths.
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


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then move it into place."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


class BuildSession:
    """What the writers of one build share: warnings, the source date, and costly results computed once."""

    def __init__(self, rendered: RenderedBook, source_date, diagnostics):
        self.rendered = rendered
        self.source_date = source_date
        self.diagnostics = diagnostics
        self.cache: dict[str, object] = {}

    def once(self, key: str, compute):
        """The value of ``compute()``, computed on first use only."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]
