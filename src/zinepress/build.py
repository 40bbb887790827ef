"""A project folder → its outputs: the recipe that runs every stage in order.

Everything is read, validated and rendered before any writer runs. Writers write
into a staging folder inside the output folder; only when all of them succeed are the
finished files moved into place, so a failed or interrupted build leaves the previous
outputs as they were. A build whose inputs are all unchanged is answered by the build
cache (:mod:`.cache`), which puts back the very bytes a full build writes.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import markdown
from .cache import BuildCache, recording_reads
from .config import Config, load_config
from .derived import derived_cache
from .errors import Diagnostics, Problem, ProjectError
from .manuscript import Book, load_manuscript
from .progress import Progress
from .render import render
from .writers import WRITERS, BuildSession, Written

ALL_FORMATS = tuple(WRITERS)


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how: shared by the command line and the API."""

    project: Path = Path(".")
    out: Path | None = None
    formats: tuple[str, ...] = ALL_FORMATS
    strict: bool = False
    cache: bool = True  # reuse and keep builds in PROJECT/.zinepress-cache
    progress: Progress | None = field(default=None, compare=False)  # where each stage is reported


@dataclass(frozen=True)
class BuildResult:
    """The files a build wrote and the warnings it found."""

    outputs: tuple[Path, ...]
    warnings: tuple[Problem, ...] = field(default=())


def source_date(sources: list[Path], metadata_date: str | None = None) -> dt.datetime:
    """The build's date: ``SOURCE_DATE_EPOCH`` when set, else book.toml's ``date``, else the newest source file."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        try:
            if not re.fullmatch(r"[0-9]+", epoch.strip()):
                raise ValueError(epoch)
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise ProjectError(f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not {epoch!r}") \
                from None
    if metadata_date and (stamp := metadata_datetime(metadata_date)):
        return stamp
    newest = max((path.stat().st_mtime for path in sources if path.exists()), default=0)
    return dt.datetime.fromtimestamp(int(newest), tz=dt.timezone.utc)


def metadata_datetime(value: str) -> dt.datetime | None:
    """book.toml's ``date`` (``2024``, ``2024-03``, ``2024-03-01`` or an ISO date-time) in UTC, else None."""
    padded = {4: "-01-01", 7: "-01"}.get(len(value), "") if re.fullmatch(r"\d{4}(-\d\d)?", value) else ""
    try:
        stamp = dt.datetime.fromisoformat(value + padded)
    except ValueError:
        return None
    return stamp.replace(tzinfo=stamp.tzinfo or dt.timezone.utc).astimezone(dt.timezone.utc)


def build(options: BuildOptions) -> BuildResult:
    """Build the project's outputs, reporting each stage to ``options.progress``.

    A build whose inputs are all unchanged is taken from the cache: its "read" stage only
    hashes the inputs, and a "restore" stage puts back the stored outputs.
    """
    unknown = [name for name in options.formats if name not in WRITERS]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}: choose from {', '.join(WRITERS)}")
    stages = options.progress or Progress()
    stages.begin(1)
    project = options.project.resolve()
    out = (options.out or project / "build").resolve()
    store = BuildCache(project) if options.cache else None
    with recording_reads() as reads:
        with stages.stage("read"):
            key = _cache_key(store, options.formats, out)
            entry = store.lookup(key) if store and key else None
            read = None if entry else _read(project, store)
        if entry is not None:
            stages.begin(1)
            with stages.stage("restore"):
                _fail_on_warnings(options, entry.warnings)
                restored = store.restore(key, entry, out)
            if restored is not None:
                return BuildResult(outputs=restored, warnings=entry.warnings)
            stages.begin(1)
            with stages.stage("read"):
                read = _read(project, store)
        return _build_fresh(options, read, out, store, key, reads, stages)


def _cache_key(store: BuildCache | None, formats: tuple[str, ...], out: Path) -> str | None:
    """The cache key of this build, or None when caching is off or an input cannot be read."""
    try:
        return store.key(formats, out, _listable(formats, out)) if store else None
    except OSError:
        return None


def _listable(formats: tuple[str, ...], out: Path) -> tuple[Path, ...]:
    """Books in ``out`` that a downloads page built without their format would list (see ``_earlier_books``)."""
    if not out.is_dir() or not any(WRITERS.lists_books(name) for name in formats):
        return ()
    if all(name in formats for name in WRITERS if not WRITERS.lists_books(name)):
        return ()  # every book is made this time: none is taken from an earlier build
    return tuple(sorted(path for path in out.iterdir() if path.suffix in (".epub", ".pdf") and path.is_file()))


def _read(project: Path, store: BuildCache | None) -> tuple[Config, Book]:
    """The project's settings and manuscript, read and checked (chapter Markdown from the cache if on)."""
    config = load_config(project)
    return config, load_manuscript(config, store.chapter_html if store else markdown.chapter_html)


def _fail_on_warnings(options: BuildOptions, warnings) -> None:
    """With ``--strict``, warnings are errors: raise them before anything is written."""
    if options.strict and warnings:
        raise ProjectError("", problems=[Problem(p.message, p.path, p.line, "error") for p in warnings])


def _build_fresh(options: BuildOptions, read: tuple[Config, Book], out: Path, store: BuildCache | None,
                 key: str | None, reads: set[Path], stages: Progress) -> BuildResult:
    """Render, write and publish; store the outputs in the cache when the inputs did not change meanwhile."""
    config, book = read
    stages.begin(1 + len(options.formats))
    diagnostics = Diagnostics(warnings=list(book.warnings))
    with stages.stage("render"):
        rendered = render(book, derived_cache(store, "covers"))
    sources = [config.path, *(chapter.source for chapter in book.chapters),
               *(asset.path for asset in book.assets)]
    session = BuildSession(rendered, source_date(sources, config.date), diagnostics, options.formats, store)

    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".zinepress-staging-", dir=out))
    try:
        written = _write_all(options.formats, rendered, staging, out, session, stages)
        if key and _cache_key(store, options.formats, out) == key:
            store.store(key, written, diagnostics.warnings, reads)
        _fail_on_warnings(options, diagnostics.warnings)
        outputs = [_publish(path, out) for path in written]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not any(out.iterdir()):
            out.rmdir()
    return BuildResult(outputs=tuple(outputs), warnings=tuple(diagnostics.warnings))


def _write_all(formats: tuple[str, ...], rendered, staging: Path, out: Path, session: BuildSession,
               stages: Progress) -> list[Path]:
    """Run the writers into ``staging``: the books first, then those that list the books (the site),
    which also list the books an earlier build left in ``out``.

    Returns the written files in the order they should be published: the books first, the
    pages that link to them last.
    """
    writers = [WRITERS[name]() for name in formats]
    books = [writer for writer in writers if not writer.needs_outputs]
    written: list[Written] = []
    for writer in books:
        with stages.stage(writer.name):
            made = writer.write(rendered, staging, session)
            written.extend(made if isinstance(made, list) else [Written(made, writer)])
    paths = [output.path for output in written]
    listers = [writer for writer in writers if writer.needs_outputs]
    if listers:
        listed = tuple(written) + _earlier_books(formats, rendered, out)
    for writer in listers:
        with stages.stage(writer.name):
            paths += writer.write(rendered, staging, session, outputs=listed)
    return paths


def _earlier_books(formats: tuple[str, ...], rendered, out: Path) -> tuple[Written, ...]:
    """Books of formats not built this time that an earlier build left in ``out``: the page lists them too."""
    earlier = []
    for name in WRITERS:
        if name in formats or WRITERS[name].needs_outputs:
            continue
        writer = WRITERS[name]()
        path = out / writer.file_name(rendered)
        if path.is_file():
            earlier.append(Written(path, writer))
    return tuple(earlier)


def _publish(path: Path, out: Path) -> Path:
    """Move a finished file from the staging folder into the output folder, replacing the old one."""
    final = out / path.name
    os.replace(path, final)
    return final
