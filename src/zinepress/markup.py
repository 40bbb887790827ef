"""A chapter's HTML → the same HTML, safe to carry: references confined, scripts and embeds dropped.

Chapters are the author's own, so their raw HTML is allowed, but a book carries no
scripts (no ``<script>``, no ``on…`` handlers, no ``javascript:`` links: the EPUB never
needs the ``scripted`` property and nothing active reaches the PDF) and embeds no foreign
documents (``<iframe>``, ``<object>``, ``<embed>``…). Each drop is a warning. Every
reference that a reader or WeasyPrint would load (``src``, ``srcset``, ``poster``,
``data``, SVG ``href``, ``url()`` in styles, ``<a rel=attachment>``) must be a file of the
project: anything else is an error at its line. Images are opened with Pillow (or parsed,
for SVG) so that an empty, broken, mislabelled or oversized image is an error too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import lxml.etree as etree

from .accessibility import lacks_alt
from .config import Config
from .errors import Diagnostics, Locator, ProjectError
from .fetch import RefusedFetch, resolve_reference
from .images import XLINK_HREF, image_problem
from .rawhtml import clean_raw_html
from .stylesheets import css_references

MAX_DEPTH = 40
MAX_BRACKETS_PER_BLOCK = 2000
FETCHED_ATTRIBUTES = {"src", "srcset", "poster", "data", "background", "xlink:href", XLINK_HREF}
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:")
DROPPED = {
    "script": "books carry no scripts",
    "noscript": "books carry no scripts",
    "iframe": "books embed no other documents: use an image or a link",
    "frame": "books embed no other documents: use an image or a link",
    "frameset": "books embed no other documents: use an image or a link",
    "object": "books embed no other documents: use an image or a link",
    "embed": "books embed no other documents: use an image or a link",
    "applet": "books embed no other documents: use an image or a link",
    "portal": "books embed no other documents: use an image or a link",
    "video": "audio and video are not carried: use an image or a link",
    "audio": "audio and video are not carried: use an image or a link",
    "link": "stylesheets belong in styles/",
    "style": "stylesheets belong in styles/",
    "base": "a chapter cannot change where its links point",
    "meta": "a chapter cannot carry metadata: use the front matter",
}
RAW_TEXT = ("script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript")


@dataclass(frozen=True)
class Asset:
    """A file the chapters reference, by its path relative to ``manuscript/``."""

    href: str
    path: Path
    media_type: str


@dataclass
class _Chapter:
    """What the checks need to know about the chapter being read."""

    source: Path
    body: str
    body_line: int
    config: Config
    problems: Diagnostics
    assets: dict[str, Asset]
    locator: Locator | None = None

    def line(self, needle: str) -> int:
        """The line of ``needle``'s next occurrence: each problem met again is reported at its own line."""
        if self.locator is None:
            self.locator = Locator(self.body, self.body_line)
        return self.locator.line(needle)

    def warn(self, message: str, needle: str | int) -> None:
        """A warning at the line of ``needle``'s next occurrence (or at line ``needle``)."""
        self.problems.warn(message, self.source, needle if isinstance(needle, int) else self.line(needle))

    def error(self, message: str, needle: str | int) -> None:
        self.problems.error(message, self.source, needle if isinstance(needle, int) else self.line(needle))


def check_nesting(body: str, source: Path, body_line: int) -> None:
    """Refuse Markdown that would take the converter or the layout engine too long."""
    line = body_line
    for block in re.split(r"(\n[ \t]*\n)", body):
        if block.count("[") > MAX_BRACKETS_PER_BLOCK:
            raise ProjectError(f"this paragraph holds {block.count('[')} '[' characters (at most "
                               f"{MAX_BRACKETS_PER_BLOCK}): write \\[ for a literal bracket or split it",
                               source, line)
        line += block.count("\n")


def check_markup(html: str, fragment, source: Path, body: str, body_line: int, config: Config,
                 problems: Diagnostics, assets: dict[str, Asset]) -> None:
    """Check and clean a chapter's parsed HTML in place (see the module docstring)."""
    chapter = _Chapter(source, body, body_line, config, problems, assets)
    for tag in RAW_TEXT:
        if len(re.findall(rf"<{tag}\b", html, re.IGNORECASE)) > len(re.findall(rf"</{tag}\s*>", html, re.IGNORECASE)):
            chapter.error(f"<{tag}> is not closed: it would swallow the rest of the chapter", f"<{tag}")
    _check_depth(fragment, chapter)
    for element in list(fragment.iter()):
        if not isinstance(element.tag, str):
            continue
        _check_attributes(element, chapter)
        tag = etree.QName(element).localname.lower()
        if tag == "style" and element.text:
            _check_css(element.text, chapter)
        if tag in DROPPED and element.getparent() is not None:
            chapter.warn(f"a <{tag}> was dropped: {DROPPED[tag]}", f"<{tag}")
            element.drop_tree()
    clean_raw_html(fragment, chapter)


def _check_depth(fragment, chapter: _Chapter) -> None:
    deepest, depth = None, 0
    for element in fragment.iter():
        level = sum(1 for _ in element.iterancestors())
        if level > depth:
            deepest, depth = element, level
    if depth > MAX_DEPTH:
        words = " ".join((deepest.text_content() or "").split())[:40]
        chapter.error(f"the text is nested {depth} levels deep (at most {MAX_DEPTH}): "
                      "flatten the quotes or lists", words)


def _check_attributes(element, chapter: _Chapter) -> None:
    tag = etree.QName(element).localname.lower()
    for name, value in list(element.attrib.items()):
        local = name.lower()
        if local.startswith("on"):
            chapter.warn(f"the event handler {local}=\"…\" was dropped: books carry no scripts", local)
            del element.attrib[name]
        elif local == "style":
            _check_css(f"x{{{value}}}", chapter)
        elif local == "srcset":
            _check_srcset(element, name, value, chapter)
        elif local in FETCHED_ATTRIBUTES or (local == "href" and tag not in ("a", "area")) \
                or (local == "href" and "attachment" in (element.get("rel") or "").lower().split()):
            _check_fetched(element, name, value.strip().split(" ")[0], chapter)
        elif local in ("href", "action", "formaction") and _is_script_url(value):
            chapter.warn(f"a {value.strip()[:11]}… link was dropped: books carry no scripts", value[:20])
            del element.attrib[name]


def _is_script_url(value: str) -> bool:
    squashed = re.sub(r"[\x00-\x20]", "", value).lower()
    return squashed.startswith(SCRIPT_SCHEMES)


def _check_css(css: str, chapter: _Chapter) -> None:
    for reference, _ in css_references(css):
        if reference and not reference.startswith("#") and not reference.lower().startswith("data:"):
            _resolve(reference, chapter)


def _resolve(reference: str, chapter: _Chapter, image: bool = False, line: int | None = None) -> Path | None:
    """The file a chapter's reference names, inside manuscript/; else None, the error reported
    (at ``line``, else at the reference's next occurrence)."""
    where = line if line is not None else reference
    what = f"image '{reference}'" if image else f"'{reference}'"
    try:
        path = resolve_reference(reference, chapter.source.parent, chapter.config.project)
    except RefusedFetch as refusal:
        missing = image and str(refusal) == "no such file"
        chapter.error(f"{what} not found" if missing else f"{what} is not read: {refusal}", where)
        return None
    if not path.is_relative_to(chapter.config.manuscript):
        outside = "must be inside manuscript/" if image else "is not read: it must be inside manuscript/"
        chapter.error(f"{what} {outside}", where)
        return None
    return path


def _check_fetched(element, attribute: str, reference: str, chapter: _Chapter) -> None:
    tag = etree.QName(element).localname.lower()
    if not reference or reference.startswith("#"):
        return
    line = chapter.line(reference)  # every reference in turn, so each problem is told at its own line
    if reference.lower().startswith("data:"):
        if tag != "img":
            chapter.error(f"a data: URL in <{tag}> is not read: only images may be data: URLs", line)
        return
    is_image = (tag == "img" and attribute == "src") or (tag == "image" and "href" in attribute)
    if tag == "img" and attribute == "src" and _is_remote(reference):
        _replace_remote_image(element, reference, chapter, line)
        return
    if is_image and tag == "img" and lacks_alt(element):
        chapter.warn(f"image '{reference}' has no alt text: describe it for readers who cannot see it", line)
    path = _resolve(reference, chapter, image=is_image, line=line)
    if path is not None and tag == "a":
        chapter.warn(f"'{reference}' is attached to the PDF only: an EPUB cannot carry attachments, "
                     "so there the link is plain text", line)
    if path is None or not is_image or element.getparent() is None:
        return
    problem, media_type = image_problem(path)
    if problem:
        chapter.error(f"image '{reference}' {problem}", line)
        return
    href = path.relative_to(chapter.config.manuscript).as_posix()
    element.set(attribute, href)
    chapter.assets.setdefault(href, Asset(href=href, path=path, media_type=media_type))


def _is_remote(reference: str) -> bool:
    return reference.startswith("//") or urlsplit(reference).scheme.lower() in ("http", "https", "ftp")


def _replace_remote_image(element, reference: str, chapter: _Chapter, line: int) -> None:
    """A remote image (a badge, a hot-linked figure) is not fetched: its alt text stands in its place.

    A link left with nothing to show (the image was all it held) goes too.
    """
    alt = " ".join((element.get("alt") or "").split())
    shown = f"its alt text '{alt}' stands in its place" if alt else "it has no alt text, so nothing stands in its place"
    chapter.warn(f"image '{reference}' not fetched: on the network; {shown}", line)
    parent = element.getparent()
    if parent is None:
        return
    text = alt + (element.tail or "")
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    parent.remove(element)
    if parent.tag == "a" and not parent.text_content().strip() and len(parent) == 0 \
            and parent.getparent() is not None:
        parent.drop_tag()


def _check_srcset(element, attribute: str, value: str, chapter: _Chapter) -> None:
    """Every candidate of a ``srcset`` is an image of the manuscript, carried in the EPUB like ``src``."""
    candidates = []
    for candidate in value.split(","):
        reference, _, descriptor = candidate.strip().partition(" ")
        if not reference:
            continue
        if reference.lower().startswith("data:"):
            chapter.error("a data: URL in srcset is not read: write the image as a file of the manuscript",
                          reference[:30])
            return
        path = _resolve(reference, chapter, image=True)
        if path is None:
            return
        problem, media_type = image_problem(path)
        if problem:
            chapter.error(f"image '{reference}' {problem}", reference)
            return
        href = path.relative_to(chapter.config.manuscript).as_posix()
        chapter.assets.setdefault(href, Asset(href=href, path=path, media_type=media_type))
        candidates.append(f"{href} {descriptor.strip()}".strip())
    element.set(attribute, ", ".join(candidates))


