"""A ``CheckReport`` → the table and the located problems that ``zinepress check`` prints.

Every piece of text goes out as written (rich ``Text``, on a console without markup, emoji
codes or highlighting): a file name, a line of the manuscript or a checker's message is
never rewritten.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .check import FAIL, NOT_VERIFIED, PASS, SKIPPED, CheckReport
from .progress import plain_console

STYLES = {PASS: "green", FAIL: "bold red", NOT_VERIFIED: "bold yellow", SKIPPED: "yellow"}


def print_report(report: CheckReport, console: Console | None = None) -> None:
    """One table of the checks, then every problem as ``path:line: severity: message``, then the verdict."""
    console = console or plain_console()
    table = Table(title=Text(f"zinepress check: {report.project.name}"), title_justify="left")
    table.add_column("Check")
    table.add_column("Result")
    table.add_column("Details", overflow="fold")
    for result in report.results:
        table.add_row(Text(result.title), Text(result.status, style=STYLES.get(result.status, "")),
                      Text(result.summary))
    console.print(table)
    for result in report.results:
        for problem in result.problems:
            console.print(Text(f"{result.name}: {problem}"), soft_wrap=True)
    for result in report.results:
        if result.status == NOT_VERIFIED:
            console.print(Text(f"not verified: {result.name}: {result.summary}"), soft_wrap=True)
    console.print(Text(verdict(report), style="bold green" if report.ok else "bold red"), soft_wrap=True)


def verdict(report: CheckReport) -> str:
    """The last line: "ready to ship" only when every check that was not skipped ran and passed."""
    skipped = [result.name for result in report.results if result.status == SKIPPED]
    if report.ok:
        return "ready to ship" + (f" (left out with --skip: {', '.join(skipped)})" if skipped else "")
    if any(result.status == FAIL for result in report.results):
        return "not ready: fix the problems above"
    return "not ready: a check could not run, so the book is not verified"
