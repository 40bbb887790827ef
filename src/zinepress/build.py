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

from .cache import BuildCache, recording_reads
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
    cache: bool = True


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
    """Build the project's outputs; a build whose inputs are all unchanged is taken from the cache."""
    unknown = [name for name in options.formats if name not in WRITERS]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}: choose from {', '.join(WRITERS)}")
    project = options.project.resolve()
    out = (options.out or project / "build").resolve()
    store = BuildCache(project) if options.cache else None
    key = _cache_key(store, options.formats, out)
    entry = store.lookup(key) if store and key else None
    if entry is not None:
        _fail_on_warnings(options, entry.warnings)
        restored = store.restore(key, entry, out)
        if restored is not None:
            return BuildResult(outputs=restored, warnings=entry.warnings)
    with recording_reads() as reads:
        return _build_fresh(options, project, out, store, key, reads)


def _cache_key(store: BuildCache | None, formats: tuple[str, ...], out: Path) -> str | None:
    """The cache key of this build, or None when caching is off or an input cannot be read."""
    try:
        return store.key(formats, out) if store else None
    except OSError:
        return None


def _fail_on_warnings(options: BuildOptions, warnings) -> None:
    """With ``--strict``, warnings are errors: raise them before anything is written."""
    if options.strict and warnings:
        raise ProjectError("", problems=[Problem(p.message, p.path, p.line, "error") for p in warnings])


def _build_fresh(options: BuildOptions, project: Path, out: Path, store: BuildCache | None, key: str | None,
                 reads: set[Path]) -> BuildResult:
    """Run every stage, then store the outputs in the cache when the inputs did not change meanwhile."""
    config = load_config(project)
    book = load_manuscript(config, store.chapter_html) if store else load_manuscript(config)
    diagnostics = Diagnostics(warnings=list(book.warnings))
    rendered = render(book)
    sources = [config.path, *(chapter.source for chapter in book.chapters),
               *(asset.path for asset in book.assets)]
    session = BuildSession(rendered, source_date(project, sources), diagnostics)

    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".zinepress-staging-", dir=out))
    try:
        written = [WRITERS[name]().write(rendered, staging, session) for name in options.formats]
        if key and _cache_key(store, options.formats, out) == key:
            store.store(key, written, diagnostics.warnings, reads)
        _fail_on_warnings(options, diagnostics.warnings)
        outputs = []
        for path in written:
            final = out / path.name
            os.replace(path, final)
            outputs.append(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(outputs=tuple(outputs), warnings=tuple(diagnostics.warnings))
