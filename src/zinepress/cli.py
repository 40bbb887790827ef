"""The command line: parse arguments, call the API, print, choose the exit code.

Exit codes: 0 success; 1 a problem in the project, printed as ``path:line: error: …``
without a traceback; 2 wrong usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .build import ALL_FORMATS, BuildOptions, build
from .errors import ProjectError, display_path


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zinepress")
def cli() -> None:
    """Turn a Markdown manuscript into an EPUB, a press-ready PDF, a zine and a downloads page."""


@cli.command("build")
@click.argument("project", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default PROJECT/build).")
@click.option("--format", "formats", type=click.Choice(ALL_FORMATS), multiple=True,
              help="A format to build; repeat for several. Default: all.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--no-cache", is_flag=True, help="Build everything anew, without PROJECT/.zinepress-cache.")
def build_command(project: Path, out: Path | None, formats: tuple[str, ...], strict: bool, no_cache: bool) -> None:
    """Build PROJECT (default: the current folder).

    \b
    Examples:
      zinepress build
      zinepress build my-book --format epub --format pdf
      zinepress build my-book --out dist --strict
    """
    options = BuildOptions(project=project, out=out, formats=formats or ALL_FORMATS, strict=strict,
                           cache=not no_cache)
    result = build(options)
    for warning in result.warnings:
        click.echo(str(warning), err=True)
    for path in result.outputs:
        click.echo(f"wrote {display_path(path)}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    try:
        cli.main(args=argv, prog_name="zinepress", standalone_mode=False)
    except ProjectError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        return 1
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        click.echo("interrupted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
