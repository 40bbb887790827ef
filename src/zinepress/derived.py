"""Inputs → bytes made from them in an earlier build: the cache of derived files.

Font subsets, the generated cover and its thumbnail are pure functions of their inputs.
Each is kept under the build cache's folder, named by a hash of those inputs and by the
SHA-256 of its own bytes. An entry whose bytes do not match its name (edited, truncated,
swapped), or that is not a regular file, is passed over and made anew; so the cache can
cost time but never change an output.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from .atomic import write_atomically


class DerivedCache:
    """One kind of derived file (``fonts``, ``covers``) in its own folder, the ``keep`` most recently used kept."""

    def __init__(self, folder: Path, keep: int = 24):
        self.folder = folder
        self.keep = keep

    @staticmethod
    def key(*inputs: str | bytes) -> str:
        """A name for the inputs: the hash of each, in order."""
        digest = hashlib.sha256()
        for value in inputs:
            digest.update(hashlib.sha256(value.encode() if isinstance(value, str) else value).digest())
        return digest.hexdigest()[:40]

    def get(self, key: str) -> bytes | None:
        """The stored bytes for ``key``, or None when there are none that match their hash."""
        try:
            for entry in self.folder.glob(f"{key}-*.bin"):
                if entry.is_symlink() or not entry.is_file():
                    continue
                stored = entry.read_bytes()
                if hashlib.sha256(stored).hexdigest()[:32] == entry.stem.rpartition("-")[2]:
                    os.utime(entry)
                    return stored
        except OSError:
            return None
        return None

    def put(self, key: str, data: bytes) -> None:
        """Keep ``data`` for ``key``, dropping the least recently used entries beyond ``keep``."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for stale in self.folder.glob(f"{key}-*.bin"):
                stale.unlink()
            write_atomically(self.folder / f"{key}-{hashlib.sha256(data).hexdigest()[:32]}.bin", data)
            entries = sorted(self.folder.glob("*.bin"), key=lambda entry: entry.stat().st_mtime_ns, reverse=True)
            for old in entries[self.keep:]:
                old.unlink(missing_ok=True)
        except OSError:
            pass  # a cache that cannot be written only costs time

    def make(self, key: str, compute: Callable[[], bytes]) -> bytes:
        """The stored bytes for ``key``, else ``compute()``'s, stored for next time."""
        stored = self.get(key)
        if stored is None:
            stored = compute()
            self.put(key, stored)
        return stored


def derived_cache(store, kind: str) -> DerivedCache | None:
    """The derived cache of ``kind`` inside a build cache, or None when caching is off (or the folder
    is reached through a symbolic link)."""
    if store is None or not store.safe_folder(store.folder / kind, create=True):
        return None
    return DerivedCache(store.folder / kind)
