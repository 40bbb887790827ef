"""Stages of long work → what the user sees: a rich display on a terminal, nothing when piped
or quiet, and with ``verbose`` one line per stage with its time.

Colours follow rich, which honours ``NO_COLOR``. Text is printed as written: rich's markup,
emoji codes (``:100:``) and highlighting are off, so a file name or a message is never rewritten.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text


class Progress:
    """Reports stages; this base class stays silent and only keeps the timings."""

    def __init__(self, verbose: bool = False, console: Console | None = None):
        self.verbose = verbose
        self.console = console
        self.timings: list[tuple[str, float]] = []
        self.current: str | None = None
        self.detail = ""

    def begin(self, total: int) -> None:
        """Announce that ``total`` more stages are coming."""

    def announce(self, message: str) -> None:
        """A line the user must see even when quiet (such as the one use of the network), on stderr."""
        if self.console is not None:
            self.console.print(Text(f"zinepress: {message}"), soft_wrap=True)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time one stage of the work."""
        started = time.perf_counter()
        self.current, self.detail = name, ""
        self._started(name)
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            self.timings.append((name, seconds))
            self._finished(name, seconds)

    def count(self, done: int, total: int, noun: str = "parts") -> None:
        """Report how far the current stage has come: ``done`` of ``total`` (parts laid out, say)."""
        self.detail = f"{done}/{total} {noun}"
        self._counted()

    def _started(self, name: str) -> None:
        pass

    def _counted(self) -> None:
        pass

    def _finished(self, name: str, seconds: float) -> None:
        if self.verbose and self.console is not None:
            detail = f" ({self.detail})" if self.detail else ""
            self.console.print(Text(f"{name}: {seconds:.2f} s{detail}"))

    def close(self) -> None:
        """End the display."""


class TerminalProgress(Progress):
    """A live display of the current stage and how many are done."""

    def __init__(self, verbose: bool, console: Console):
        super().__init__(verbose, console)
        self.display = RichProgress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
                                    MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
        self.task = self.display.add_task("starting", total=None)
        self.display.start()

    def begin(self, total: int) -> None:
        self.display.update(self.task, total=(self.display.tasks[0].total or 0) + total)

    def _started(self, name: str) -> None:
        self.display.update(self.task, description=name)

    def _counted(self) -> None:
        self.display.update(self.task, description=f"{self.current} {self.detail}")

    def _finished(self, name: str, seconds: float) -> None:
        self.display.advance(self.task)
        super()._finished(name, seconds)

    def close(self) -> None:
        self.display.stop()


def plain_console(stderr: bool = False) -> Console:
    """A console that prints text as written: no markup, no emoji codes, no highlighting."""
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False)


def progress_for(quiet: bool = False, verbose: bool = False) -> Progress:
    """A rich display on an interactive terminal (unless ``quiet``), else plain lines or silence."""
    console = plain_console(stderr=True)
    if console.is_terminal and not quiet:
        return TerminalProgress(verbose, console)
    return Progress(verbose, console)
