"""Chapters' HTML → the same HTML with heading ids as GitHub makes them and every internal link resolved.

Links are taken as authors write them for GitHub: ``ch4.md``, ``./ch4.md``, ``ch4.md#x``,
``ch4.md/#x`` and ``#x``. Anchor targets are heading ids (GitHub's slugs: lowercase, punctuation
dropped, letters of every script kept, spaces made hyphens, repeats numbered ``-1``, ``-2``),
explicit ``{#id}``s, ``id=`` attributes and ``<a name=…>``; a fragment matches an id ignoring case
and GitHub's ``user-content-`` prefix, as on GitHub. A resolved link is rewritten as
``path/of/chapter.md#id`` (``#id`` within its own chapter; the id as the target spells it), for
the renderer to point at the chapter's document. A link to a missing chapter, file or anchor is a warning at its own line and
becomes plain text, so the book stays valid.
"""

from __future__ import annotations

import posixpath
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import Diagnostics, Locator

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
GITHUB_PREFIX = "user-content-"


UNSMART = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "--",
                         "\u2014": "---", "\u2026": "..."})


def github_slug(text: str) -> str:
    """A heading's text → its id as GitHub makes it (github-slugger's rules).

    The text is taken as the author typed it: the smart punctuation of the Markdown converter
    (``’``, ``–`` for ``--``) is put back first, so ``A -- B`` gives ``a----b`` as on GitHub.
    """
    kept = []
    for character in text.strip().translate(UNSMART).lower():
        category = unicodedata.category(character)
        if character in " -" or category[0] in "LMN" or category == "Pc":
            kept.append("-" if character == " " else character)
    return "".join(kept)


def assign_heading_ids(fragment) -> None:
    """Give every heading without an id GitHub's slug of its text, numbered when repeated."""
    taken = {element.get("id") for element in fragment.xpath("//*[@id]")}
    counts: dict[str, int] = {}
    for heading in fragment.iter(*HEADINGS):
        if heading.get("id"):
            continue
        base = github_slug(heading.text_content()) or "section"
        number = counts.get(base, 0)
        candidate = base if number == 0 else f"{base}-{number}"
        while candidate in taken:
            number += 1
            candidate = f"{base}-{number}"
        counts[base] = number + 1
        taken.add(candidate)
        heading.set("id", candidate)


@dataclass(frozen=True)
class Target:
    """What links can reach in one chapter: its ids, and the ids that stand for the chapter itself."""

    path: str  # relative to manuscript/, with "/"
    ids: frozenset[str]
    top: frozenset[str]

    def find(self, fragment: str) -> str | None:
        """The id a fragment names ("" for the chapter's top), matched as GitHub does; None if none."""
        wanted = unquote(fragment)
        for candidate in (wanted, wanted.removeprefix(GITHUB_PREFIX)):
            if candidate in self.ids:
                return candidate
            if candidate in self.top:
                return ""
        folded = {value.casefold(): value for value in sorted(self.ids)}
        for candidate in (wanted, wanted.removeprefix(GITHUB_PREFIX)):
            if candidate.casefold() in folded:
                return folded[candidate.casefold()]
            if candidate.casefold() in {value.casefold() for value in self.top}:
                return ""
        return None


def resolve_links(fragment, here: Target, targets: dict[str, Target], source: Path, locator: Locator,
                  problems: Diagnostics) -> None:
    """Rewrite the internal links of one chapter's ``fragment`` in place (see the module docstring).

    ``locator`` finds each link's line in ``source``, every occurrence at its own line.
    """
    for link in fragment.xpath("//a[@href]"):
        href = link.get("href")
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith("//"):
            continue
        line = locator.line(href)
        path = _link_path(parts.path, here.path)
        target = targets.get(path) if path else here
        if target is None:
            what = "chapter" if path.endswith(".md") else "file that is not part of the book"
            problems.warn(f"link to a missing {what} '{parts.path}': shown as plain text", source, line)
            link.drop_tag()
            continue
        anchor = target.find(parts.fragment) if parts.fragment else ""
        if anchor is None:
            in_file = "" if target is here else f" in {posixpath.basename(target.path)}"
            problems.warn(f"link to a missing anchor '#{unquote(parts.fragment)}'{in_file}: shown as plain text",
                          source, line)
            link.drop_tag()
            continue
        if target is here and anchor:
            link.set("href", f"#{anchor}")
        else:
            link.set("href", f"{target.path}#{anchor}" if anchor else target.path)


def _link_path(path: str, here: str) -> str:
    """A link's path as written → the manuscript-relative path it names ("" for the chapter itself)."""
    path = unquote(path).rstrip("/")
    if not path or path == ".":
        return ""
    if path.startswith("/"):  # on GitHub, the repository's root: here, manuscript/
        joined = posixpath.normpath(path.lstrip("/"))
    else:
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(here), path))
    return "" if joined == here else joined
