"""A project folder → its outputs: the recipe that runs every stage in order
(read → render → lay out → write → publish).

Everything is read, validated and rendered before any writer runs. Writers write
into a staging folder inside the output folder; only when all of them succeed are the
finished files moved into place, so a failed or interrupted build leaves the previous
outputs as they were. A build whose inputs are all unchanged is answered by the build
cache (:mod:`.cache`), which puts back the very bytes a full build writes.

Every path written is confined: the output folder is never a source folder nor a
symbolic link the project's ``build/`` points through, files earlier builds left are
listed only when they are regular files, and a full disk or a read-only folder is a
located error that leaves the previous outputs as they were. SIGTERM stops a build as
Ctrl-C does, cleaning its staging folder.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib
import os
import re
import shutil
import signal
import stat
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import forking, hyphenation, markdown
from .atomic import STAGING_PREFIX, new_staging, publish
from .cache import CACHE_FOLDER, INPUT_FOLDERS, BuildCache
from .config import Config, load_config, setting_line
from .derived import derived_cache
from .early import early_results, pending_early
from .errors import Diagnostics, Problem, ProjectError
from .fetch import recording_reads
from .manuscript import Book, load_manuscript
from .progress import Progress
from .render import RenderedBook, render
from .stylesheets import load_stylesheets
from .writers import WRITERS, BuildSession, Writer, Written

ALL_FORMATS = tuple(WRITERS)
ZIP_LAST_YEAR = 2107


class Terminated(BaseException):
    """The build was stopped by SIGTERM: raised through the build as Ctrl-C's KeyboardInterrupt is, so that
    clean-ups run, but not a KeyboardInterrupt (click answers those with the blank line that closes a
    terminal's ``^C``)."""


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
    project = options.project.resolve()
    with written_or_located(project / "build"):
        out = output_folder(project, options.out)
    store = BuildCache(project) if options.cache else None
    with terminated_as_interrupt(), recording_reads() as reads, written_or_located(out), forking.thawed():
        try:
            return _build(options, project, out, store, reads, stages)
        finally:
            if store and store.damaged and stages.verbose and stages.console is not None:
                stages.console.print(f"cache: {len(store.damaged)} damaged entr{'y' if len(store.damaged) == 1 else 'ies'} "
                                     f"ignored and made again ({', '.join(store.damaged[:3])})", highlight=False)


def _build(options: BuildOptions, project: Path, out: Path, store: BuildCache | None, reads: set[Path],
           stages: Progress) -> BuildResult:
    stages.begin(1)
    with stages.stage("read"):
        key = _cache_key(store, options.formats, out)
        entry = store.lookup(key) if store and key else None
        read = None if entry else _read(project, store, options.formats)
    if entry is not None:
        stages.begin(1)
        with stages.stage("restore"):
            _fail_on_warnings(options, entry.warnings)
            restored = store.restore(key, entry, out)
        if restored is not None:
            return BuildResult(outputs=restored, warnings=entry.warnings)
        stages.begin(1)
        with stages.stage("read"):
            read = _read(project, store, options.formats)
    return _build_fresh(options, read, out, store, key, reads, stages)


def output_folder(project: Path, out: Path | None) -> Path:
    """The folder the outputs go to: ``project/build`` (a real folder, not a link) or ``--out``,
    never a source folder of the project nor its cache."""
    if out is None:
        default = project / "build"
        if default.is_symlink():
            raise ProjectError("build/ is a symbolic link: zinepress writes only into a real folder of the "
                               "project (remove the link, or name the folder with --out)", default)
        if default.exists() and not default.is_dir():
            raise ProjectError("build is a file, not a folder: move it away, or name a folder with --out", default)
        return default
    resolved = out.resolve()
    for name in (*INPUT_FOLDERS, CACHE_FOLDER):
        source = (project / name).resolve()
        if resolved.is_relative_to(source):
            raise ProjectError(f"--out is inside {name}/: the outputs would overwrite the sources there; "
                               "choose a folder outside it, such as build/", out)
    return resolved


@contextmanager
def terminated_as_interrupt():
    """While the block runs, SIGTERM raises :class:`Terminated` and SIGINT KeyboardInterrupt in this
    process (the main thread only).

    Processes forked meanwhile (the layout's workers) keep the default: they just stop. A signal
    that arrives while a finalizer (``__del__``) runs is sent again a moment later, since Python
    prints and drops any exception raised there, and the build would go on.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()

    def terminate(signum, frame):
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if _in_finalizer(frame):
            threading.Timer(FINALIZER_RETRY_SECONDS, os.kill, (owner, signum)).start()
            return
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    stopping = [signal.SIGTERM] + [signal.SIGINT] * (signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    previous = {signum: signal.signal(signum, terminate) for signum in stopping}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


FINALIZER_RETRY_SECONDS = 0.02


def _in_finalizer(frame) -> bool:
    """Whether ``frame`` runs inside a ``__del__`` method, where a raised exception is dropped."""
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


@contextmanager
def written_or_located(out: Path):
    """An ``OSError`` (a full disk, a read-only folder) → a ProjectError naming the file, old outputs kept."""
    try:
        yield
    except OSError as error:
        path = _failed_path(error, out)
        verb = "write" if path is None or path.is_relative_to(out) else "read or write"
        what = "the outputs" if path is None else "into this folder" if path.is_dir() else "this file"
        raise ProjectError(f"could not {verb} {what}: {error.strerror or error} "
                           "(the previous outputs are kept)", path or out) from None


def _failed_path(error: OSError, out: Path) -> Path | None:
    """The file an OSError is about, as the user knows it: the output, not its place in the staging folder."""
    if not error.filename:
        return None
    path = Path(os.fsdecode(error.filename))
    if path.parent.name.startswith(STAGING_PREFIX):
        return path.parent.parent / path.name
    return path.parent if path.name.startswith(STAGING_PREFIX) else path


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
    return tuple(sorted(path for path in out.iterdir() if path.suffix in (".epub", ".pdf") and _regular(path)))


def _regular(path: Path) -> bool:
    """A regular file, not a symbolic link (an output folder's links are never followed)."""
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _read(project: Path, store: BuildCache | None, formats: tuple[str, ...]) -> tuple[Config, Book]:
    """The project's settings and manuscript, read and checked (chapter Markdown from the cache if on).

    A long manuscript's Markdown is converted side by side in two processes; meanwhile this one
    loads WeasyPrint, when the formats lay pages out.
    """
    config = load_config(project)
    loading = _load_layout if _lays_out_pages(formats) else None
    if store:
        return config, load_manuscript(config, store.chapter_html, functools.partial(store.convert_ahead,
                                                                                     while_converting=loading))
    return config, load_manuscript(config, markdown.chapter_html,
                                   functools.partial(markdown.converted_side_by_side, while_converting=loading))


def _lays_out_pages(formats: tuple[str, ...]) -> bool:
    """Whether the formats lay pages out with WeasyPrint and print.css: the print layout's, or the zine's own."""
    return any(WRITERS.lays_out(name) or name == "zine" for name in formats)


def _load_layout() -> None:
    """Import the layout and WeasyPrint (about a second), so that it is done while other work runs."""
    importlib.import_module("zinepress.paged.book")


def _fail_on_warnings(options: BuildOptions, warnings) -> None:
    """With ``--strict``, warnings are errors: raise them before anything is written."""
    if options.strict and warnings:
        raise ProjectError("", problems=[Problem(p.message, p.path, p.line, "error") for p in warnings])


def _build_fresh(options: BuildOptions, read: tuple[Config, Book], out: Path, store: BuildCache | None,
                 key: str | None, reads: set[Path], stages: Progress) -> BuildResult:
    """Render, lay out, write and publish; store the outputs in the cache when the inputs did not change meanwhile."""
    config, book = read
    if book.ignored and stages.verbose and stages.console is not None:
        stages.console.print("left out, not in book.toml's chapters: " + ", ".join(
            path.relative_to(config.manuscript).as_posix() for path in book.ignored), markup=False, highlight=False)
    laying_out = any(WRITERS.lays_out(name) for name in options.formats)
    stages.begin(1 + laying_out + len(options.formats))
    diagnostics = Diagnostics(warnings=[*config.warnings, *book.warnings])
    with stages.stage("render"):
        forking_writers, rendered, stylesheets, early = _render_while_loading(book, store, options.formats, reads)
    sources = [config.path, *(chapter.source for chapter in book.chapters),
               *(asset.path for asset in book.assets)]
    date = source_date(sources, config.date)
    _warn_about_date(date, config, diagnostics)
    if rendered.cover.missing:
        diagnostics.warn(f"the generated cover cannot show {rendered.cover.missing[:12]!r}: its fonts have no "
                         "glyphs for them (install a font for that script, such as a Noto font, or name your own "
                         "cover in book.toml)", config.path, setting_line(config, "title"))
    session = BuildSession(rendered, date, diagnostics, options.formats, stylesheets, None, store)
    ahead = dict(early)
    try:
        if laying_out:
            ahead |= _start_ahead(forking_writers, options.formats, rendered, session, early)
        writers = [next((writer for writer in forking_writers if writer.name == name), None) or WRITERS[name]()
                   for name in options.formats]
        laid_out = None
        if laying_out:
            with stages.stage("layout"):
                laid_out = _lay_out(rendered, stylesheets["print.css"], date, diagnostics, writers, store, stages)
        session = dataclasses.replace(session, laid_out=laid_out, ahead=ahead)
        return _write_and_publish(options, writers, rendered, out, session, (store, key, reads), stages)
    finally:
        for pending in ahead.values():
            pending.close(abort=True)


def _render_while_loading(book: Book, store: BuildCache | None, formats: tuple[str, ...],
                          reads: set[Path]) -> tuple[list[Writer], RenderedBook, dict, dict]:
    """The writers with ahead jobs, the rendered book, its stylesheets and the writers' early jobs under way.

    When the writers load WeasyPrint (about 0.3 s) and a CPU is free, the book is rendered
    and its stylesheets checked in a forked process meanwhile, which also loads the book's
    hyphenation patterns for the layout and then goes on to the writers' early jobs (their
    results follow the book; the jobs, by name, hold it until then). The files it read are
    added to ``reads``. Only the writers whose ahead jobs fork beside the layout are loaded
    here (the zine's loads WeasyPrint), so that their jobs start as soon as the book is
    rendered; the others load while those jobs run.
    """
    lays_out = _lays_out_pages(formats)
    job = functools.partial(_rendered_and_styled, book, store, _stylesheets_used(formats), lays_out)
    early = tuple(name for name in formats if WRITERS.works_early(name))
    loads_weasyprint = "weasyprint" not in sys.modules and lays_out
    beside = None
    if loads_weasyprint and forking.workers_wanted() >= 2:
        beside = forking.Beside(job, then=functools.partial(early_results, early, store) if early else None)
    try:
        writers = [WRITERS[name]() for name in formats if WRITERS.works_ahead(name)]
        if lays_out and not writers:
            _load_layout()
        rendered, stylesheets, read_there, patterns = beside.result() if beside else job()
    except BaseException:
        if beside is not None:
            beside.close(abort=True)
        raise
    if beside is not None and not early:
        beside.close()
    hyphenation.adopt(patterns)
    reads.update(read_there)
    if beside is None or not early:
        return writers, rendered, stylesheets, {}
    return writers, rendered, stylesheets, pending_early(beside, early, rendered, store)


def _rendered_and_styled(book: Book, store: BuildCache | None, names: tuple[str, ...], lays_out: bool) -> tuple:
    """The rendered book, its stylesheets read and checked, the project files read for them and, for a
    layout, pyphen's patterns for the book's language (see :mod:`.hyphenation`)."""
    with recording_reads() as read_here:
        rendered = render(book, derived_cache(store, "covers"))
        stylesheets = load_stylesheets(book.config.project, names)
    patterns = hyphenation.loaded(book.config.language) if lays_out else {}
    return rendered, stylesheets, read_here, patterns


def _start_ahead(writers: list[Writer], formats: tuple[str, ...], rendered: RenderedBook, session: BuildSession,
                 started: dict) -> dict:
    """The ``writers``' ahead jobs and the early jobs of ``formats`` not ``started`` yet, each started in a
    process of its own beside the layout, when there is a CPU to spare and this process may fork
    (else the writers do that work when they run)."""
    if forking.workers_wanted() < 2:
        return {}
    jobs = {writer.name: writer.ahead(rendered, session) for writer in writers}
    jobs |= {name: WRITERS[name].early(rendered, session.store) for name in formats
             if WRITERS.works_early(name) and name not in started}
    return {name: forking.Beside(job) for name, job in jobs.items() if job is not None}


def _write_and_publish(options: BuildOptions, writers: list[Writer], rendered: RenderedBook, out: Path,
                       session: BuildSession, caching: tuple, stages: Progress) -> BuildResult:
    """Run the writers into a staging folder, store their files in the cache (if the inputs did not change
    meanwhile) and publish them into ``out``."""
    store, key, reads = caching
    diagnostics = session.diagnostics
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    staging = new_staging(out)
    try:
        written = _write_all(writers, rendered, staging, out, session, stages)
        if key and _cache_key(store, options.formats, out) == key:
            store.store(key, written, diagnostics.warnings, reads)
        _fail_on_warnings(options, diagnostics.warnings)
        outputs = publish(written, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not any(out.iterdir()):
            out.rmdir()
    return BuildResult(outputs=tuple(outputs), warnings=tuple(diagnostics.warnings))


def _stylesheets_used(formats: tuple[str, ...]) -> tuple[str, ...]:
    """The stylesheets the formats use: epub.css for the EPUB, print.css for the layout, print.css and
    zine.css for the zine."""
    names = {"epub.css": "epub" in formats,
             "print.css": _lays_out_pages(formats),
             "zine.css": "zine" in formats}
    return tuple(name for name, used in names.items() if used)


def _lay_out(rendered: RenderedBook, print_css, date: dt.datetime, diagnostics: Diagnostics, writers: list[Writer],
             store: BuildCache | None, stages: Progress):
    """The layout stage: the print edition laid out once, for every writer that uses it."""
    from .paged.book import lay_out
    pdf = any(writer.uses_layout == "pdf" for writer in writers)
    return lay_out(rendered, print_css, date, diagnostics, pdf, store, stages.count)


def _write_all(writers: list[Writer], rendered, staging: Path, out: Path, session: BuildSession,
               stages: Progress) -> list[Path]:
    """Run the writers into ``staging``: the books first, then those that list the books (the site),
    which also list the books an earlier build left in ``out``.

    Returns the written files in the order they should be published: the books first, the
    pages that link to them last.
    """
    books = [writer for writer in writers if not writer.needs_outputs]
    written: list[Written] = []
    for writer in books:
        with stages.stage(writer.name):
            made = writer.write(rendered, staging, session)
            written += [item if isinstance(item, Written) else Written(item, writer)
                        for item in (made if isinstance(made, list) else [made])]
    paths = [output.path for output in written]
    listers = [writer for writer in writers if writer.needs_outputs]
    if listers:
        listed = tuple(written) + _earlier_books(session.formats, rendered, out)
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
        if _regular(path):
            earlier.append(Written(path, writer))
    return tuple(earlier)


def _warn_about_date(date: dt.datetime, config: Config, diagnostics: Diagnostics) -> None:
    """A build date after 2107 cannot be a ZIP entry's date: the EPUB's and bundle's entries say 2107."""
    if date.year > ZIP_LAST_YEAR:
        where = config.path if config.date and "SOURCE_DATE_EPOCH" not in os.environ else None
        origin = "book.toml's 'date'" if where else (
            "SOURCE_DATE_EPOCH" if "SOURCE_DATE_EPOCH" in os.environ else "the newest source file's time")
        diagnostics.warn(f"the build's date ({date:%Y-%m-%d}, from {origin}) is after {ZIP_LAST_YEAR}, the last "
                         f"year a ZIP archive can hold: the EPUB's entries are dated {ZIP_LAST_YEAR}-12-31",
                         where, setting_line(config, "date") if where else None)
