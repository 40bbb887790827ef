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
writes, staged and published as a fresh build publishes them. Chapter Markdown is cached
too, by the hash of its text, so editing one chapter re-renders only that chapter's Markdown.

Nothing in the cache is trusted as it is: every entry carries the SHA-256 of its name and
bytes (output files are named by theirs) and is checked when read; a damaged, truncated,
swapped or symlinked entry counts as missing, so the build makes it again. Output names
in a stored record must be plain file names, and nothing is read or written through a
symbolic link inside the cache folder.

This module imports nothing heavy, so a build the cache answers never loads WeasyPrint.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .atomic import new_staging, publish, write_atomically
from .errors import Problem

CACHE_FOLDER = ".zinepress-cache"
FORMAT = "zinepress-cache 2"
ENTRY_HEAD = b"zinepress-entry sha256="
SHA256 = re.compile(r"[0-9a-f]{64}")
OUTPUT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*")
INPUT_FOLDERS = ("manuscript", "styles", "layouts")
PACKAGE = Path(__file__).resolve().parent
LIBRARIES = ("weasyprint", "pydyf", "tinycss2", "cssselect2", "tinyhtml5", "pyphen", "fonttools", "uharfbuzz", "ebooklib",
             "markdown", "jinja2", "lxml", "nh3", "pypdf", "pillow", "pyyaml")
FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
KEEP_ENTRIES = 4
CHUNK = 1 << 20

def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def walk_files(root: Path, skip: tuple[Path, ...]) -> list[Path]:
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
    for path in walk_files(PACKAGE, ()):
        digest.update(f"{path.relative_to(PACKAGE).as_posix()}\0{file_digest(path)}\n".encode())
    for name in LIBRARIES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}=={version}\n".encode())
    return digest.hexdigest()


def font_folders() -> str:
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
        self.damaged: list[str] = []  # entries found damaged and ignored, for one --verbose note

    def key(self, formats: tuple[str, ...], out: Path, listed: tuple[Path, ...] = ()) -> str:
        """The hash of every input of a build of ``formats`` into ``out``, and of the earlier
        outputs in ``listed`` that the build's downloads page lists."""
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        digest = hashlib.sha256(f"{tool_fingerprint()}\n{','.join(formats)}\nSOURCE_DATE_EPOCH={epoch}\n".encode())
        digest.update(font_folders().encode())
        skip = (out.resolve(), self.folder)
        for name in INPUT_FOLDERS:
            for path in walk_files(self.project / name, skip):
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
        record = self.read_entry(self._entry_path(key))
        if record is None:
            return None
        try:
            data = json.loads(record.decode("utf-8"))
            entry = Entry(outputs=tuple((name, sha) for name, sha in data["outputs"]),
                          warnings=tuple(self.problem_from(item) for item in data["warnings"]),
                          extras=tuple((name, sha) for name, sha in data["extras"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            self._note_damaged(self._entry_path(key))
            return None
        if not all(isinstance(name, str) and OUTPUT_NAME.fullmatch(name) and isinstance(sha, str)
                   and SHA256.fullmatch(sha) for name, sha in entry.outputs):
            self._note_damaged(self._entry_path(key))  # output names are file names in the output folder
            return None
        for name, sha in entry.extras:
            if self._content(self.project / name) != sha:
                return None
        if not all(self._plain_file(self._object(sha)) for _, sha in entry.outputs):
            return None
        return entry

    def restore(self, key: str, entry: Entry, out: Path) -> tuple[Path, ...] | None:
        """Put a stored build's outputs into ``out``, leaving alone the files already right.

        The missing ones are written into a staging folder, then published in the stored
        order, as a fresh build publishes them. None, with nothing written, when a stored
        file has gone or does not match its hash.
        """
        missing: dict[str, bytes] = {}
        for name, sha in entry.outputs:
            target = out / name
            if self._plain_file(target) and file_digest(target) == sha:
                continue
            data = self._read_plain(self._object(sha))
            if data is None or hashlib.sha256(data).hexdigest() != sha:
                self._note_damaged(self._object(sha))
                return None
            missing[name] = data
        out.mkdir(parents=True, exist_ok=True)
        staging = new_staging(out)
        try:
            publish([write_atomically(staging / name, data) for name, data in missing.items()], out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        os.utime(self._entry_path(key))
        return tuple(out / name for name, _ in entry.outputs)

    def read_entry(self, path: Path) -> bytes | None:
        """A cache entry's bytes when its stored SHA-256 (of its name and bytes) matches; else None.

        A damaged entry is noted (see ``damaged``) and counts as missing."""
        data = self._read_plain(path)
        if data is None:
            return None
        head, newline, body = data.partition(b"\n")
        if not newline or head != ENTRY_HEAD + self._entry_sha(path, body):
            self._note_damaged(path)
            return None
        return body

    def write_entry(self, path: Path, data: bytes) -> bool:
        """Store ``data`` at ``path`` in the cache with its SHA-256; False when it could not be kept."""
        if not self.safe_folder(path.parent, create=True):
            return False
        try:
            write_atomically(path, ENTRY_HEAD + self._entry_sha(path, data) + b"\n" + data)
        except OSError:
            return False  # a read-only project, a full disk: only its reuse is lost
        return True

    def _entry_sha(self, path: Path, data: bytes) -> bytes:
        name = path.relative_to(self.folder).as_posix().encode("utf-8")
        return hashlib.sha256(name + b"\0" + data).hexdigest().encode("ascii")

    def safe_folder(self, folder: Path, create: bool = False) -> bool:
        """Whether ``folder`` inside the cache is reached without a symbolic link (created if asked)."""
        current = self.project
        for part in folder.relative_to(self.project).parts:
            current = current / part
            if current.is_symlink() or (current.exists() and not current.is_dir()):
                return False
        if create:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError:
                return False
        return folder.is_dir()

    def _plain_file(self, path: Path) -> bool:
        """A regular file, not a symbolic link."""
        try:
            return stat.S_ISREG(path.lstat().st_mode)
        except OSError:
            return False

    def _read_plain(self, path: Path) -> bytes | None:
        """The bytes of a regular file in the cache reached without a symbolic link; None otherwise."""
        if not self.safe_folder(path.parent):
            return None
        try:
            handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except OSError:
            self._note_damaged(path)
            return None
        with os.fdopen(handle, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                self._note_damaged(path)
                return None
            return stream.read()

    def _note_damaged(self, path: Path) -> None:
        name = path.relative_to(self.folder).as_posix() if path.is_relative_to(self.folder) else str(path)
        if name not in self.damaged:
            self.damaged.append(name)

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
            target = self._object(sha)
            if not self._plain_file(target):
                if not self.safe_folder(target.parent, create=True):
                    return
                write_atomically(target, path.read_bytes())
            entries.append((path.name, sha))
        extras = sorted((path.relative_to(self.project).as_posix(), file_digest(path)) for path in reads
                        if path.is_relative_to(self.project) and path.is_file()
                        and path.relative_to(self.project).parts[0] not in INPUT_FOLDERS)
        data = {"outputs": entries, "warnings": [self.problem_record(problem) for problem in warnings], "extras": extras}
        if self.write_entry(self._entry_path(key), json.dumps(data, indent=1).encode("utf-8")):
            self.prune()

    def prune(self) -> None:
        """Keep the newest few stored builds, their output files and this build's chapter Markdown; drop the rest."""
        if not all(self.safe_folder(self.folder / name) for name in ("builds", "objects")):
            return
        builds = sorted((self.folder / "builds").glob("*.json"), key=lambda path: path.stat().st_mtime_ns,
                        reverse=True)
        for path in builds[KEEP_ENTRIES:]:
            path.unlink(missing_ok=True)
        used = set()
        for path in builds[:KEEP_ENTRIES]:
            try:
                used |= {sha for _, sha in json.loads(self.read_entry(path) or b"")["outputs"]}
            except (ValueError, KeyError, TypeError):
                continue
        for path in (self.folder / "objects").glob("*/*"):
            if path.name not in used and self.safe_folder(path.parent):
                path.unlink(missing_ok=True)
        if self.markdown_used and self.safe_folder(self.folder / "markdown"):
            for path in (self.folder / "markdown").glob("*/*.html"):
                if path not in self.markdown_used and self.safe_folder(path.parent):
                    path.unlink(missing_ok=True)

    def problem_record(self, problem: Problem) -> dict:
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

    def problem_from(self, record: dict) -> Problem:
        path, bases = record["path"], {"project": self.project, "package": PACKAGE}
        if path is not None:
            place, _, rest = path.partition(":")
            path = bases[place] / rest if place in bases else Path(path)
        return Problem(record["message"], path, record["line"], record["severity"])

    def _markdown_entry(self, text: str) -> Path:
        sha = hashlib.sha256(f"{tool_fingerprint()}\n{text}".encode("utf-8")).hexdigest()
        return self.folder / "markdown" / sha[:2] / f"{sha}.html"

    def chapter_html(self, text: str) -> str:
        """A chapter's Markdown → HTML, from the cache when the same text was rendered before."""
        from .markdown import chapter_html
        path = self._markdown_entry(text)
        self.markdown_used.add(path)
        stored = self.read_entry(path)
        if stored is not None:
            try:
                return stored.decode("utf-8")
            except UnicodeDecodeError:
                self._note_damaged(path)
        html = chapter_html(text)
        self.write_entry(path, html.encode("utf-8"))  # not kept (a read-only project): rendered again next time
        return html

    def convert_ahead(self, texts: list[str], while_converting=None) -> dict[str, str]:
        """The chapter bodies the cache does not hold → their HTML, converted side by side
        (:func:`.markdown.converted_side_by_side`) and kept in the cache."""
        from .markdown import converted_side_by_side
        missing = [text for text in texts if not self._markdown_entry(text).is_file()]
        converted = converted_side_by_side(missing, while_converting)
        for text, html in converted.items():
            path = self._markdown_entry(text)
            self.markdown_used.add(path)
            self.write_entry(path, html.encode("utf-8"))
        return converted
