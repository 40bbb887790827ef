"""A ``CheckReport`` → the table and the located problems that ``zinepress check`` prints."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .check import FAIL, PASS, CheckReport

STYLES = {PASS: "green", FAIL: "bold red", "skipped": "yellow"}


def print_report(report: CheckReport, console: Console | None = None) -> None:
    """One table of the checks, then every problem as ``path:line: severity: message``."""
    console = console or Console(highlight=False)
    table = Table(title=f"zinepress check: {report.project.name}", title_justify="left")
    table.add_column("Check")
    table.add_column("Result")
    table.add_column("Details", overflow="fold")
    for result in report.results:
        table.add_row(result.title, Text(result.status, style=STYLES.get(result.status, "")), result.summary)
    console.print(table)
    for result in report.results:
        for problem in result.problems:
            console.print(f"{result.name}: {problem}", soft_wrap=True, markup=False)
    verdict = "ready to ship" if report.ok else "not ready: fix the problems above"
    console.print(Text(verdict, style="bold green" if report.ok else "bold red"))
