"""Problems found in a project, each tied to the file and line it comes from."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def display_path(path: Path | str | None) -> str:
    """A path as the user should see it: relative to the working folder when inside it."""
    if path is None:
        return "<project>"
    path = Path(path)
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


# One severity per kind of problem, whichever command finds it (build, check, or a checker
# that check runs): the gate fails on both, --strict makes build fail on both.
SEVERITY = {
    "alt-text": "warning",          # an image without alt text
    "heading-order": "warning",     # a heading that skips a level
    "image-resolution": "warning",  # an image printed at too low a resolution
    "language": "error",            # a missing or invalid language tag
    "link": "error",                # a link to a file or an anchor that does not exist
    "contrast": "error",            # text colours below WCAG AA contrast
}


@dataclass(frozen=True)
class Problem:
    """One located problem: an error or a warning."""

    message: str
    path: Path | None = None
    line: int | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = display_path(self.path)
        if self.line:
            where = f"{where}:{self.line}"
        return f"{where}: {self.severity}: {self.message}"


class ProjectError(Exception):
    """A problem in the project (manuscript, styles, layouts, configuration).

    The command line prints it as ``path:line: error: message`` without a traceback.
    It may carry several problems, found together before anything was written.
    """

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None,
                 *, problems: list[Problem] | None = None):
        self.problems = problems or [Problem(message, Path(path) if path else None, line)]
        super().__init__(str(self.problems[0]))

    @property
    def path(self) -> Path | None:
        return self.problems[0].path

    @property
    def line(self) -> int | None:
        return self.problems[0].line

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


@dataclass
class Diagnostics:
    """Collects problems while a stage reads its input, then raises them all at once."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        self.errors.append(Problem(message, path, line, "error"))

    def warn(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        self.warnings.append(Problem(message, path, line, "warning"))

    def raise_errors(self) -> None:
        if self.errors:
            raise ProjectError("", problems=list(self.errors))


def line_of(text: str, needle: str, start_line: int = 1) -> int | None:
    """The 1-based line of ``text`` (which starts at ``start_line``) where ``needle`` first appears."""
    index = text.find(needle)
    if index < 0:
        return None
    return start_line + text.count("\n", 0, index)


class Locator:
    """Finds the line of each occurrence of a piece of text in turn, so that a problem met three
    times is reported at three lines; past the last occurrence it answers the last one's line."""

    def __init__(self, text: str, start_line: int = 1):
        self.text = text
        self.start_line = start_line
        self.after: dict[str, int] = {}

    def line(self, needle: str) -> int:
        """The line of the next occurrence of ``needle`` (the start line when it is not found)."""
        if not needle:
            return self.start_line
        index = self.text.find(needle, self.after.get(needle, 0))
        if index < 0:
            index = self.text.rfind(needle)
            if index < 0:
                return self.start_line
        self.after[needle] = index + len(needle)
        return self.start_line + self.text.count("\n", 0, index)
