"""URLs and paths → file contents, confined to the project folder.

The one way the writers read a file. It resolves paths (symlinks included), refuses
anything outside the project, every network URL and device files, and remembers each
refusal so that the build can report it as an error instead of dropping it silently.
"""

from __future__ import annotations

import stat
from pathlib import Path

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


def __getattr__(name: str):
    """``ConfinedFetcher`` is loaded on first use from :mod:`.urlfetcher`: reading a file never imports WeasyPrint."""
    if name == "ConfinedFetcher":
        from .urlfetcher import ConfinedFetcher
        return ConfinedFetcher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
