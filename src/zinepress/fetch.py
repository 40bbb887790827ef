"""URLs and paths → file contents, confined to the project folder.

The one way the writers read a file. It resolves paths (symlinks included), refuses
anything outside the project, every network URL and device files, and remembers each
refusal so that the build can report it as an error instead of dropping it silently.
"""

from __future__ import annotations

import mimetypes
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

from .cache import note_read

MAX_FETCH_BYTES = 64 * 1024 * 1024


class RefusedFetch(ValueError):
    """A reference that the confined fetcher will not follow."""


def confined_path(project: Path, path: Path) -> Path:
    """``path`` resolved, if it is a regular file inside ``project``; else RefusedFetch."""
    resolved = path.resolve()
    if not resolved.is_relative_to(project.resolve()):
        raise RefusedFetch(f"'{path}' is outside the project folder")
    try:
        mode = resolved.stat().st_mode
    except OSError:
        raise RefusedFetch(f"'{path}' does not exist") from None
    if not stat.S_ISREG(mode):
        raise RefusedFetch(f"'{path}' is not a regular file")
    if resolved.stat().st_size > MAX_FETCH_BYTES:
        raise RefusedFetch(f"'{path}' is larger than {MAX_FETCH_BYTES // 2**20} MB")
    note_read(resolved)
    return resolved


def read_confined(project: Path, path: Path) -> bytes:
    """The bytes of a file inside ``project``."""
    return confined_path(project, path).read_bytes()


class ConfinedFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that only reads files of the project (and ``data:`` URLs)."""

    def __init__(self, project: Path):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
        self.project = project.resolve()
        self.refused: list[tuple[str, str]] = []

    def fetch(self, url: str, headers=None):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        try:
            if scheme != "file" or parts.netloc not in ("", "localhost"):
                raise RefusedFetch("network access is not allowed: only files of the project are read")
            path = Path(url2pathname(unquote(parts.path)))
            resolved = confined_path(self.project, path)
        except RefusedFetch as refusal:
            self.refused.append((url, str(refusal)))
            raise
        media_type = mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
        return URLFetcherResponse(resolved.as_uri(), resolved.read_bytes(), {"Content-Type": media_type})
