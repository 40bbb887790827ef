"""Bytes → a file written whole or not at all; finished files → the output folder, all or none.

A file is written to a temporary file beside it, then moved into place with ``os.replace``.
A build writes its outputs into a staging folder inside the output folder (named with the
builder's process id), then moves them into place one ``os.replace`` at a time; a staging
folder whose process has gone (a build killed with ``kill -9``) is removed by the next build.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

STAGING_PREFIX = ".zinepress-staging-"
STAGING_NAME = re.compile(re.escape(STAGING_PREFIX) + r"(\d+)-")
LEGACY_AGE = 3600  # seconds after which a staging folder without a process id is a leftover


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then move it into place.

    A failure (a full disk, a read-only folder) is an ``OSError`` naming ``path``, nothing left behind.
    """
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OSError(error.errno, error.strerror, str(path)) from None
        raise
    return path


def new_staging(out: Path) -> Path:
    """A fresh staging folder inside ``out``, after removing the ones earlier builds left behind."""
    remove_leftovers(out)
    return Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out))


def remove_leftovers(out: Path) -> None:
    """Remove the staging folders in ``out`` whose build is no longer running."""
    try:
        found = [path for path in out.iterdir() if path.name.startswith(STAGING_PREFIX)]
    except OSError:
        return
    for path in found:
        if path.is_symlink() or not path.is_dir():
            path.unlink(missing_ok=True)
        elif not _in_use(path):
            shutil.rmtree(path, ignore_errors=True)


def _in_use(path: Path) -> bool:
    """Whether the build that made staging folder ``path`` may still be running."""
    match = STAGING_NAME.match(path.name)
    if match is None:
        try:
            return time.time() - path.stat().st_mtime < LEGACY_AGE
        except OSError:
            return False
    try:
        os.kill(int(match[1]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def publish(paths: list[Path], out: Path) -> list[Path]:
    """Move finished files (in a staging folder inside ``out``) into ``out``, in the order given."""
    finals = []
    for path in paths:
        final = out / path.name
        os.replace(path, final)
        finals.append(final)
    return finals
