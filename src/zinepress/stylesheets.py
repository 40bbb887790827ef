"""A stylesheet name → the stylesheet a build uses, its text and every file it references.

The project's ``styles/NAME`` wins over zinepress's default. A project stylesheet is read
through the confined fetcher, and each ``url(…)``, ``src(…)``, ``image-set(…)`` and
``@import`` in it (imports followed) is checked before any writer runs: a reference to
the network, outside the project or to a missing file is an error at its line, and so is
an image that is broken or holds a script (:mod:`.images`), since the EPUB carries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tinycss2

from .errors import Diagnostics, ProjectError
from .fetch import RefusedFetch, read_confined, resolve_reference
from .images import IMAGE_TYPES, image_problem

DEFAULT_STYLES = Path(__file__).parent / "styles"
URL_FUNCTIONS = {"url", "src"}
IMAGE_SET_FUNCTIONS = {"image-set", "-webkit-image-set"}


@dataclass(frozen=True)
class CssReference:
    """A file named by a stylesheet: as written, where, and the project file it resolves to."""

    written: str
    stylesheet: Path
    line: int
    path: Path


def stylesheet_path(project: Path, name: str) -> Path:
    """The project's ``styles/NAME`` when it exists, else the default shipped with zinepress."""
    own = project / "styles" / name
    return own if own.exists() or own.is_symlink() else DEFAULT_STYLES / name


def is_default(path: Path) -> bool:
    return path.parent == DEFAULT_STYLES


def stylesheet_text(project: Path, path: Path) -> str:
    """A stylesheet's text; a project stylesheet is read through the confined fetcher."""
    if is_default(path):
        return path.read_text(encoding="utf-8")
    try:
        raw = read_confined(project, path)
    except RefusedFetch as refusal:
        raise ProjectError(f"stylesheet '{path.name}' is not read: {refusal}", path) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProjectError("not valid UTF-8 text", path, raw.count(b"\n", 0, error.start) + 1) from None


def css_references(css: str) -> list[tuple[str, int]]:
    """Every ``(reference, line)`` in a stylesheet's text, as tinycss2 (and so WeasyPrint) reads it."""
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    return [(value.strip(), line) for value, line in _walk(rules)]


def _walk(nodes):
    for node in nodes or ():
        kind = getattr(node, "type", None)
        if kind == "url":
            yield node.value, node.source_line
        elif kind == "function":
            if node.lower_name in URL_FUNCTIONS | IMAGE_SET_FUNCTIONS:
                for argument in node.arguments:
                    if argument.type == "string":
                        yield argument.value, argument.source_line
            yield from _walk(node.arguments)
        elif kind == "at-rule":
            if node.lower_at_keyword == "import":
                for token in node.prelude:
                    if token.type == "string":
                        yield token.value, token.source_line
            yield from _walk(node.prelude)
            yield from _walk(node.content)
        elif kind == "qualified-rule":
            yield from _walk(node.prelude)
            yield from _walk(node.content)
        elif kind in ("() block", "[] block", "{} block"):
            yield from _walk(node.content)


def check_stylesheet(project: Path, path: Path, text: str | None = None) -> list[CssReference]:
    """The files a stylesheet (whose ``text`` may be given) and its imports reference, all checked
    (errors raised together)."""
    problems = Diagnostics()
    found: list[CssReference] = []
    pending, seen = [path], set()
    while pending:
        sheet = pending.pop(0)
        if sheet in seen:
            continue
        seen.add(sheet)
        if is_default(sheet):
            continue
        sheet_text = text if sheet == path and text is not None else stylesheet_text(project, sheet)
        for written, line in css_references(sheet_text):
            if not written or written.startswith("#") or written.lower().startswith("data:"):
                continue
            try:
                target = resolve_reference(written, sheet.parent, project)
            except RefusedFetch as refusal:
                problems.error(f"url({written}) is not read: {refusal}", sheet, line)
                continue
            problem = image_problem(target)[0] if target.suffix.lower() in IMAGE_TYPES else None
            if problem:
                problems.error(f"image '{written}' {problem}", sheet, line)
                continue
            found.append(CssReference(written, sheet, line, target))
            if target.suffix.lower() == ".css":
                pending.append(target)
    problems.raise_errors()
    return found


@dataclass(frozen=True)
class Stylesheet:
    """A stylesheet a build uses: where it is, its text and the files it references, all checked."""

    name: str
    path: Path
    text: str
    references: tuple[CssReference, ...]


def load_stylesheets(project: Path, names: tuple[str, ...] = ("epub.css", "print.css")) -> dict[str, Stylesheet]:
    """The build's stylesheets, each located, read and checked once (before any writer runs)."""
    sheets = {}
    for name in names:
        path = stylesheet_path(project, name)
        text = stylesheet_text(project, path)
        sheets[name] = Stylesheet(name, path, text, tuple(check_stylesheet(project, path, text)))
    return sheets
