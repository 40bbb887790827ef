"""The command line: parse arguments, call the API, print, choose the exit code.

Exit codes: 0 success; 1 a problem in the project, printed as ``path:line: error: …``
without a traceback; 2 wrong usage; 3 a bug in zinepress (its traceback is written to a
file); 130 interrupted (Ctrl-C), 143 stopped by SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import NoReturn

import click

from .build import ALL_FORMATS, BuildOptions, Terminated, build
from .errors import ProjectError, display_path
from .progress import progress_for


def output_options(command):
    """``--quiet`` and ``--verbose``, shared by the commands that do long work."""
    command = click.option("--verbose", "-v", is_flag=True, help="Show the time each stage took.")(command)
    return click.option("--quiet", "-q", is_flag=True,
                        help="No progress display, even on a terminal.")(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zinepress")
def cli() -> None:
    """Turn a Markdown manuscript into an EPUB, a press-ready PDF, a zine and a downloads page.

    \b
    Examples:
      zinepress new my-book && cd my-book
      zinepress serve            # preview; every save shows in the browser
      zinepress check            # the release gate
      zinepress build            # the outputs, into build/

    Shell completion: eval "$(_ZINEPRESS_COMPLETE=bash_source zinepress)" (or zsh_source, fish_source).
    """


@cli.command("build")
@click.argument("project", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default PROJECT/build).")
@click.option("--format", "formats", type=click.Choice(ALL_FORMATS), multiple=True,
              help="A format to build; repeat for several. Default: all.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--no-cache", is_flag=True, help="Build everything anew, without PROJECT/.zinepress-cache.")
@output_options
def build_command(project: Path, out: Path | None, formats: tuple[str, ...], strict: bool, no_cache: bool,
                  quiet: bool, verbose: bool) -> None:
    """Build PROJECT (default: the current folder).

    \b
    Examples:
      zinepress build
      zinepress build my-book --format epub --format pdf
      zinepress build my-book --out dist --strict
      zinepress build --verbose      # with the time of each stage
      zinepress build --no-cache     # everything anew, ignoring .zinepress-cache
    """
    progress = progress_for(quiet, verbose)
    options = BuildOptions(project=project, out=out, formats=formats or ALL_FORMATS, strict=strict,
                           cache=not no_cache, progress=progress)
    try:
        result = build(options)
    finally:
        progress.close()
    for warning in result.warnings:
        click.echo(str(warning), err=True)
    for path in result.outputs:
        click.echo(f"wrote {display_path(path)}")
    from .printing import summary_lines
    for line in summary_lines(result.outputs):
        click.echo(line)


@cli.command("new")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--title", help="The book's title (default: made from the folder's name).")
def new_command(folder: Path, title: str | None) -> None:
    """Start a new book in FOLDER (which must not exist yet, or be empty).

    The sample has two chapters with a footnote and an image, a reader comment, the
    default stylesheets to change, and a book.toml that explains every setting.

    \b
    Examples:
      zinepress new my-book
      zinepress new my-book --title "Notes from the Lake"
      cd my-book && zinepress serve
    """
    from .scaffold import new_project
    written = new_project(folder, title)
    for path in written:
        click.echo(f"wrote {display_path(path)}")
    click.echo(f"Next: zinepress serve {display_path(folder)}")


@cli.command("serve")
@click.argument("project", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 to listen on; 0 picks a free one.")
def serve_command(project: Path, port: int) -> None:
    """Preview PROJECT in the browser, rebuilding and reloading on every save.

    Serves on 127.0.0.1 only: the chapters as the EPUB shows them, the PDF, and the
    downloads page. manuscript/, styles/ and layouts/ are watched; a build error is shown
    in the page, with its file and line, until it is fixed. Ctrl-C stops it.

    \b
    Examples:
      zinepress serve
      zinepress serve my-book --port 8080
    """
    from .serve import PortUnavailable, serve
    try:
        serve(project, port=port, echo=click.echo)
    except PortUnavailable as error:
        raise click.BadParameter(str(error), param_hint="--port") from None


CHECK_NAMES = ("epubcheck", "ace", "accessibility", "links", "preflight", "downloads")


@cli.command("check")
@click.argument("project", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON, for machines.")
@click.option("--skip", "skip", type=click.Choice(CHECK_NAMES), multiple=True, metavar="NAME",
              help=f"Leave a check out on purpose; repeat for several ({', '.join(CHECK_NAMES)}).")
@output_options
def check_command(project: Path, as_json: bool, skip: tuple[str, ...], quiet: bool, verbose: bool) -> None:
    """Check PROJECT before release: exit 0 only when every check ran and passed.

    Builds into a temporary folder, then reports in one table: the build's warnings,
    EPUBCheck, Ace by DAISY, alt text, heading order, languages and contrast, links and
    anchors, the preflight of every PDF (page boxes, fonts, image resolution, PDF/X, zine
    page count) and the downloads page. A check that cannot run here is "not verified" and
    fails the gate, unless left out with --skip.

    Ace is the `ace` command on PATH; otherwise the first check installs it with npm into
    $XDG_CACHE_HOME/zinepress/ace (ZINEPRESS_ACE_HOME moves it), announcing this one use of
    the network. It needs Node.js 20 or newer and chromium.

    \b
    Examples:
      zinepress check
      zinepress check my-book --json > report.json
      zinepress check --skip ace        # on a machine without Node.js
      zinepress check --quiet || echo "not ready"
    """
    from .check import check
    from .report import print_report
    progress = progress_for(quiet or as_json, verbose)
    try:
        report = check(project, progress, frozenset(skip))
    finally:
        progress.close()
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        print_report(report)
    if not report.ok:
        raise click.exceptions.Exit(1)


@cli.group("comments")
def comments_group() -> None:
    """Reader comments: bring them into manuscript/comments.md from where they live."""


def _timezone(context, parameter, value: str | None):
    if value is None:
        return None
    from .comments.record import parse_timezone
    try:
        return parse_timezone(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@comments_group.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.argument("project", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--timezone", callback=_timezone, metavar="ZONE",
              help="The zone of times given without one (pasted text), and the zone every time is "
                   "written in: an IANA name such as Asia/Seoul, or an offset such as +09:00.")
@click.option("--pseudonyms", is_flag=True, help="Write authors as initials (Emily Kang → E. K.).")
@click.option("--post", metavar="TITLE", help="For an export of a whole site: the post whose comments to "
                                              "import (its title, link, slug or id).")
def comments_import_command(source: Path, project: Path, timezone, pseudonyms: bool, post: str | None) -> None:
    """Import the comments of SOURCE into PROJECT's manuscript/comments.md.

    SOURCE is a WordPress WXR export, a Disqus XML export, a folder of Staticman entries,
    a Remark42 backup (JSON lines, gzipped or not), a Mastodon statuses/:id/context JSON,
    or text copied from a page ('author • Feb 29, 2024 at 3:07 pm' lines, then the
    comment). The format is found from the content. Only approved, public comments are
    imported; e-mail addresses, IP numbers and profile links are never written. Comments
    are merged by id: importing again changes nothing.

    \b
    Examples:
      zinepress comments import export.xml
      zinepress comments import _data/comments/love-wins-all my-book --pseudonyms
      zinepress comments import page.txt --timezone Asia/Seoul
    """
    from .comments.importer import ImportOptions, import_comments
    report = import_comments(source, project, ImportOptions(timezone=timezone, pseudonyms=pseudonyms, post=post))
    for line in report.lines(display_path(report.target)):
        click.echo(line)


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    try:
        code = cli.main(args=argv, prog_name="zinepress", standalone_mode=False)
    except ProjectError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        return 1
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except Terminated:
        click.echo("terminated", err=True)
        return 143
    except (click.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        return 130
    except Exception as error:  # noqa: BLE001 - a bug in zinepress: report it briefly, then stop
        return internal_error(error)
    return code if isinstance(code, int) else 0


def run() -> NoReturn:
    """The ``zinepress`` command: :func:`main`, then an exit without tearing the heap down.

    Everything the command wrote is closed by then (outputs are written atomically, forked
    processes reaped), so the only work left for the interpreter's own exit is freeing the
    laid-out pages object by object: half a second for the bundled review. Standard output
    and error are flushed first. Under a profiler or a tracer (pyinstrument, cProfile,
    coverage), which report when the interpreter exits, the exit is the usual one.
    """
    code = main()
    if sys.getprofile() is not None or sys.gettrace() is not None:
        raise SystemExit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def internal_error(error: Exception) -> int:
    """A bug, not a problem in the project: one line on screen, the traceback in a file; exit 3."""
    handle, log = tempfile.mkstemp(prefix="zinepress-crash-", suffix=".txt")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write("".join(traceback.format_exception(error)))
    click.echo(f"internal error: {type(error).__name__}: {error}", err=True)
    click.echo(f"this is a bug in zinepress; the full traceback is in {log}", err=True)
    return 3


if __name__ == "__main__":
    sys.exit(main())
