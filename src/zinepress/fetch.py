"""URLs and paths → file contents, confined to the project folder.

The one way zinepress reads a project's files. It resolves paths (symlinks included)
and refuses anything outside the project, every network URL (``http:``, ``ftp:``,
protocol-relative ``//host``…), ``file:`` URLs outside the project and device files.
WeasyPrint gets a :class:`~.paged.fetcher.ConfinedFetcher` built on these checks, which remembers each refusal so that the
build reports it at the line where the reference was written instead of dropping it.
Every file read is noted in the read logs open at the time (:func:`recording_reads`): the build
cache checks them again before it reuses a stored build.
"""

from __future__ import annotations

import re
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import jinja2

from .errors import ProjectError

MAX_FETCH_BYTES = 64 * 1024 * 1024
LOCAL_HOSTS = ("", "localhost")


_recorders: list[set[Path]] = []


def note_read(path: Path) -> None:
    """Note ``path``, a project file just read, in every open read log: a dependency of the build."""
    for reads in _recorders:
        reads.add(path)


@contextmanager
def recording_reads():
    """The set of files read through :func:`note_read` while the ``with`` block runs."""
    reads: set[Path] = set()
    _recorders.append(reads)
    try:
        yield reads
    finally:
        _recorders.remove(reads)


class RefusedFetch(ValueError):
    """A reference that the confined fetcher will not follow; the message says why."""


def confined_path(project: Path, path: Path) -> Path:
    """``path`` resolved, if it is a regular file inside ``project``; else RefusedFetch."""
    if "\0" in str(path):
        raise RefusedFetch("its name holds a NUL character (%00), which no file name can")
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(project.resolve()):
        raise RefusedFetch("it is outside the project folder")
    try:
        status = resolved.stat()
    except OSError:
        raise RefusedFetch("no such file") from None
    if not stat.S_ISREG(status.st_mode):
        raise RefusedFetch("it is not a regular file")
    if status.st_size > MAX_FETCH_BYTES:
        raise RefusedFetch(f"it is larger than {MAX_FETCH_BYTES // 2**20} MB")
    note_read(resolved)
    return resolved


def read_confined(project: Path, path: Path) -> bytes:
    """The bytes of a regular file inside ``project``."""
    return confined_path(project, path).read_bytes()


def resolve_reference(reference: str, base: Path, project: Path) -> Path:
    """A reference as written in a chapter or stylesheet (relative to folder ``base``) → the file.

    Only relative paths to regular files inside the project are followed: network URLs,
    ``file:`` URLs, other schemes and absolute paths raise :class:`RefusedFetch`.
    """
    text = reference.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if text.startswith(("//", "\\\\")) or parts.netloc or scheme in ("http", "https", "ftp", "ftps"):
        raise RefusedFetch("it is on the network, and zinepress fetches nothing: copy the file into the project")
    if scheme == "file":
        raise RefusedFetch("file: URLs are not followed: write a path relative to the file")
    if scheme:
        raise RefusedFetch(f"{scheme}: references are not followed")
    if text.startswith(("/", "\\")):
        raise RefusedFetch("absolute paths are not followed: write a path relative to the file")
    if not parts.path:
        raise RefusedFetch("it names no file")
    return confined_path(project, base / unquote(parts.path))


@dataclass(frozen=True)
class Source:
    """A file whose text may hold references: a chapter, a stylesheet, a layout."""

    path: Path
    text: str
    base_url: str
    first_line: int = 1


REFERENCE = re.compile(
    r"""(?:\b(?:src|href|data|poster|srcset|background)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))"""
    r"""|url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s"']*))"""
    r"""|@import\s*(?:"([^"]*)"|'([^']*)')"""
    r"""|\]\(\s*<?([^)\s>]+))""", re.IGNORECASE)


def _same_target(a: str, b: str) -> bool:
    return unquote(urldefrag(a)[0]) == unquote(urldefrag(b)[0])


def locate_reference(url: str, sources: list[Source]) -> tuple[Path | None, int | None, str]:
    """Where ``url`` (as WeasyPrint asked for it) was written: (path, line, reference as written)."""
    for source in sources:
        for match in REFERENCE.finditer(source.text):
            written = next(group for group in match.groups() if group is not None)
            if written and _same_target(urljoin(source.base_url, written.strip()), url):
                return source.path, source.first_line + source.text.count("\n", 0, match.start()), written
    tail = unquote(urlsplit(url).path).rstrip("/").rsplit("/", 1)[-1]
    for source in sources:
        if tail and tail in source.text:
            return source.path, source.first_line + source.text.count("\n", 0, source.text.find(tail)), url
    return (sources[0].path if sources else None), None, url


class ConfinedLoader(jinja2.FileSystemLoader):
    """A Jinja2 loader for the project's ``layouts/``: a layout that resolves outside the project
    (through a symlink) is refused before it is read."""

    def __init__(self, folder: Path, project: Path):
        super().__init__(str(folder))
        self.folder = folder
        self.project = project

    def get_source(self, environment, template):
        path = self.folder.joinpath(*jinja2.loaders.split_template_path(template))
        if path.exists() or path.is_symlink():
            try:
                confined_path(self.project, path)
            except RefusedFetch as refusal:
                raise ProjectError(f"layout '{template}' is not read: {refusal}", path) from None
        return super().get_source(environment, template)

