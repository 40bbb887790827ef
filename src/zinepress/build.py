"""A project folder → its outputs: the recipe that runs every stage in order.

Everything is read, validated and rendered before any writer runs. Writers write
into a staging folder inside the output folder; only when all of them succeed are the
finished files moved into place, so a failed or interrupted build leaves the previous
outputs as they were.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .config import load_config
from .errors import Diagnostics, Problem, ProjectError
from .manuscript import load_manuscript
from .render import render
from .writers import WRITERS, BuildSession

ALL_FORMATS = tuple(WRITERS)


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how: shared by the command line and the API."""

    project: Path = Path(".")
    out: Path | None = None
    formats: tuple[str, ...] = ALL_FORMATS
    strict: bool = False


@dataclass(frozen=True)
class BuildResult:
    """The files a build wrote and the warnings it found."""

    outputs: tuple[Path, ...]
    warnings: tuple[Problem, ...] = field(default=())


def source_date(project: Path, sources: list[Path]) -> dt.datetime:
    """The build's date: ``SOURCE_DATE_EPOCH`` when set, else the newest source file's time."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        if not epoch.strip().isdigit():
            raise ProjectError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {epoch!r}")
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc)
    newest = max((path.stat().st_mtime for path in sources if path.exists()), default=0)
    return dt.datetime.fromtimestamp(int(newest), tz=dt.timezone.utc)


def build(options: BuildOptions) -> BuildResult:
    """Build the project's outputs."""
    unknown = [name for name in options.formats if name not in WRITERS]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}: choose from {', '.join(WRITERS)}")
    project = options.project.resolve()
    config = load_config(project)
    book = load_manuscript(config)
    diagnostics = Diagnostics(warnings=list(book.warnings))
    rendered = render(book)
    sources = [config.path, *(chapter.source for chapter in book.chapters),
               *(asset.path for asset in book.assets)]
    session = BuildSession(rendered, source_date(project, sources), diagnostics)

    out = (options.out or project / "build").resolve()
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".zinepress-staging-", dir=out))
    try:
        written = [WRITERS[name]().write(rendered, staging, session) for name in options.formats]
        if options.strict and diagnostics.warnings:
            raise ProjectError("", problems=[Problem(p.message, p.path, p.line, "error")
                                             for p in diagnostics.warnings])
        outputs = []
        for path in written:
            final = out / path.name
            os.replace(path, final)
            outputs.append(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(outputs=tuple(outputs), warnings=tuple(diagnostics.warnings))
