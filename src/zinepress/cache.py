"""A project's inputs → a content key; a key → the outputs and warnings of an earlier build.

The build cache lives in ``PROJECT/.zinepress-cache/`` (git-ignored). Its key is a SHA-256
of everything a build's outputs depend on: every file under ``manuscript/``, ``styles/``
and ``layouts/``, the formats asked for, ``SOURCE_DATE_EPOCH`` (or, when it is unset, the
times of the manuscript files, from which the build takes its date), zinepress's own files
(code, default layouts and styles, hence its version), the versions of the libraries that
shape the outputs, and the folders of the system's fonts. Files read elsewhere in the
project (a stylesheet may reach any of them) are noted while the build runs and checked
again before a stored build is reused.

A build whose key is stored only hashes its inputs, then keeps the outputs that are
already right and copies back the others: the result is the same bytes a full build
writes. Chapter Markdown is cached too, by the hash of its text, so editing one chapter
re-renders only that chapter's Markdown.

This module imports nothing heavy, so a build the cache answers never loads WeasyPrint.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import Problem
from .atomic import write_atomically

CACHE_FOLDER = ".zinepress-cache"
FORMAT = "zinepress-cache 1"
INPUT_FOLDERS = ("manuscript", "styles", "layouts")
PACKAGE = Path(__file__).resolve().parent
LIBRARIES = ("weasyprint", "pydyf", "tinycss2", "cssselect2", "tinyhtml5", "pyphen", "fonttools", "uharfbuzz", "ebooklib",
             "markdown", "jinja2", "lxml", "nh3", "pypdf", "pillow", "pyyaml")
FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
KEEP_ENTRIES = 4
CHUNK = 1 << 20

_recorders: list[set[Path]] = []


def note_read(path: Path) -> None:
    """Called for every project file a writer reads (through fetch.py): a dependency of the build."""
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


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _walk(root: Path, skip: tuple[Path, ...]) -> list[Path]:
    """Every file under ``root`` in a stable order, leaving out the folders in ``skip``."""
    found = []
    for folder, folders, files in os.walk(root):
        here = Path(folder)
        folders[:] = sorted(name for name in folders if name != "__pycache__" and here / name not in skip)
        found += [here / name for name in sorted(files)]
    return found


@cache
def tool_fingerprint() -> str:
    """zinepress's own files and the versions of the libraries it writes with: one hash per process."""
    digest = hashlib.sha256(FORMAT.encode())
    for path in _walk(PACKAGE, ()):
        digest.update(f"{path.relative_to(PACKAGE).as_posix()}\0{file_digest(path)}\n".encode())
    for name in LIBRARIES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}=={version}\n".encode())
    return digest.hexdigest()


def _font_folders() -> str:
    """The system's font folders and their times: installing or removing a font changes it."""
    lines = []
    for root in FONT_FOLDERS:
        for folder, folders, _ in os.walk(os.path.expanduser(root)):
            folders.sort()
            lines.append(f"{folder}\0{os.stat(folder).st_mtime_ns}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Entry:
    """A stored build: its outputs by file name and SHA-256, its warnings, and the other files it read."""

    outputs: tuple[tuple[str, str], ...]
    warnings: tuple[Problem, ...]
    extras: tuple[tuple[str, str], ...]


class BuildCache:
    """The cache of one project: stored builds by key, output files by content, chapter Markdown."""

    def __init__(self, project: Path):
        self.project = project.resolve()
        self.folder = self.project / CACHE_FOLDER
        self.markdown_used: set[Path] = set()

    def key(self, formats: tuple[str, ...], out: Path, listed: tuple[Path, ...] = ()) -> str:
        """The hash of every input of a build of ``formats`` into ``out``, and of the earlier
        outputs in ``listed`` that the build's downloads page lists."""
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        digest = hashlib.sha256(f"{tool_fingerprint()}\n{','.join(formats)}\nSOURCE_DATE_EPOCH={epoch}\n".encode())
        digest.update(_font_folders().encode())
        skip = (out.resolve(), self.folder)
        for name in INPUT_FOLDERS:
            for path in _walk(self.project / name, skip):
                content = self._content(path)
                stamp = int(path.stat().st_mtime) if epoch is None and name == "manuscript" and content else ""
                digest.update(f"\n{path.relative_to(self.project).as_posix()}\0{content}\0{stamp}".encode())
        for path in listed:
            digest.update(f"\nlisted:{path.name}\0{self._content(path)}".encode())
        return digest.hexdigest()

    def _content(self, path: Path) -> str:
        """The SHA-256 of an input file, or "" for one the build will not read (a FIFO, a device,
        a dangling link, a link out of the project): the key never opens those."""
        resolved = path.resolve()
        try:
            regular = stat.S_ISREG(resolved.stat().st_mode)
        except OSError:
            return ""
        return file_digest(resolved) if regular and resolved.is_relative_to(self.project) else ""

    def _object(self, sha: str) -> Path:
        return self.folder / "objects" / sha[:2] / sha

    def _entry_path(self, key: str) -> Path:
        return self.folder / "builds" / f"{key}.json"

    def lookup(self, key: str) -> Entry | None:
        """The stored build for ``key``, if every file it needs is still there and unchanged."""
        try:
            data = json.loads(self._entry_path(key).read_text(encoding="utf-8"))
            entry = Entry(outputs=tuple((name, sha) for name, sha in data["outputs"]),
                          warnings=tuple(self._problem(item) for item in data["warnings"]),
                          extras=tuple((name, sha) for name, sha in data["extras"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # not stored, or damaged: build afresh
        for name, sha in entry.extras:
            if self._content(self.project / name) != sha:
                return None
        if not all(self._object(sha).is_file() for _, sha in entry.outputs):
            return None
        return entry

    def restore(self, key: str, entry: Entry, out: Path) -> tuple[Path, ...] | None:
        """Put a stored build's outputs into ``out``, leaving alone the files already right.

        None, with nothing written, when a stored file has gone or does not match its hash.
        """
        missing: dict[Path, bytes] = {}
        for name, sha in entry.outputs:
            target = out / name
            if target.is_file() and file_digest(target) == sha:
                continue
            try:
                data = self._object(sha).read_bytes()
            except OSError:
                return None
            if hashlib.sha256(data).hexdigest() != sha:
                return None
            missing[target] = data
        out.mkdir(parents=True, exist_ok=True)
        for target, data in missing.items():
            write_atomically(target, data)
        os.utime(self._entry_path(key))
        return tuple(out / name for name, _ in entry.outputs)

    def store(self, key: str, outputs: list[Path], warnings: list[Problem], reads: set[Path]) -> None:
        """Keep a finished build's outputs (by content) and warnings under ``key``, if the project is writable."""
        try:
            self._store(key, outputs, warnings, reads)
        except OSError:
            return  # a read-only project, a full disk: the build stands, only its reuse is lost

    def _store(self, key: str, outputs: list[Path], warnings: list[Problem], reads: set[Path]) -> None:
        entries = []
        for path in outputs:
            sha = file_digest(path)
            if not self._object(sha).is_file():
                self._object(sha).parent.mkdir(parents=True, exist_ok=True)
                write_atomically(self._object(sha), path.read_bytes())
            entries.append((path.name, sha))
        extras = sorted((path.relative_to(self.project).as_posix(), file_digest(path)) for path in reads
                        if path.is_relative_to(self.project) and path.is_file()
                        and path.relative_to(self.project).parts[0] not in INPUT_FOLDERS)
        data = {"outputs": entries, "warnings": [self._record(problem) for problem in warnings], "extras": extras}
        self._entry_path(key).parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self._entry_path(key), json.dumps(data, indent=1).encode("utf-8"))
        self.prune()

    def prune(self) -> None:
        """Keep the newest few stored builds, their output files and this build's chapter Markdown; drop the rest."""
        builds = sorted((self.folder / "builds").glob("*.json"), key=lambda path: path.stat().st_mtime_ns,
                        reverse=True)
        for path in builds[KEEP_ENTRIES:]:
            path.unlink(missing_ok=True)
        used = set()
        for path in builds[:KEEP_ENTRIES]:
            try:
                used |= {sha for _, sha in json.loads(path.read_text(encoding="utf-8"))["outputs"]}
            except (OSError, ValueError):
                continue
        for path in (self.folder / "objects").glob("*/*"):
            if path.name not in used:
                path.unlink(missing_ok=True)
        if self.markdown_used:
            for path in (self.folder / "markdown").glob("*/*.html"):
                if path not in self.markdown_used:
                    path.unlink(missing_ok=True)

    def _record(self, problem: Problem) -> dict:
        path = problem.path
        if path is not None:
            path = Path(path).resolve()
            if path.is_relative_to(self.project):
                path = "project:" + path.relative_to(self.project).as_posix()
            elif path.is_relative_to(PACKAGE):
                path = "package:" + path.relative_to(PACKAGE).as_posix()
            else:
                path = str(path)
        return {"message": problem.message, "path": path, "line": problem.line, "severity": problem.severity}

    def _problem(self, record: dict) -> Problem:
        path, bases = record["path"], {"project": self.project, "package": PACKAGE}
        if path is not None:
            place, _, rest = path.partition(":")
            path = bases[place] / rest if place in bases else Path(path)
        return Problem(record["message"], path, record["line"], record["severity"])

    def chapter_html(self, text: str) -> str:
        """A chapter's Markdown → HTML, from the cache when the same text was rendered before."""
        from .markdown import chapter_html
        sha = hashlib.sha256(f"{tool_fingerprint()}\n{text}".encode("utf-8")).hexdigest()
        path = self.folder / "markdown" / sha[:2] / f"{sha}.html"
        self.markdown_used.add(path)
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            pass
        html = chapter_html(text)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, html.encode("utf-8"))
        except OSError:
            pass  # not kept (a read-only project): rendered again next time
        return html


