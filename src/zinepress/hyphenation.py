"""A language → pyphen's hyphenation dictionary for it, loaded once and handed between processes.

WeasyPrint hyphenates with pyphen, which loads a language's patterns (about 0.05 s for
English) the first time a process asks for them and keeps them in its module-level
``hdcache``. The build loads them in the process that renders the book, while the layout's
process is still importing WeasyPrint, and sends them over (:func:`loaded` there,
:func:`adopt` here), so that neither the layout nor the zine's process, forked from it,
loads them again. ``hdcache`` is pyphen's internal; this module is the only one that
touches it, pyphen is bounded in ``pyproject.toml``, and ``tests/test_hyphenation.py``
fails when the cache stops being used.
"""

from __future__ import annotations

import pyphen


def loaded(language: str) -> dict:
    """pyphen's loaded dictionaries for ``language`` (none when pyphen has no patterns for it), to pickle."""
    fallback = pyphen.language_fallback(language) if language else None  # as WeasyPrint asks for it
    if fallback is None:
        return {}
    dictionary = pyphen.Pyphen(lang=fallback).hd
    return {path: cached for path, cached in pyphen.hdcache.items() if cached is dictionary}


def adopt(dictionaries: dict) -> None:
    """Make dictionaries from :func:`loaded` (in another process) this process's own, where it has none yet."""
    for path, dictionary in dictionaries.items():
        pyphen.hdcache.setdefault(path, dictionary)
