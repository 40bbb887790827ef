"""``manuscript/`` → a frozen :class:`Book`: chapters, reader comments and assets.

Everything is read and validated here, before any writer runs: front matter, slugs,
images, links between chapters and their anchors. Problems are collected with their
``path:line`` and raised together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from . import markdown
from .accessibility import skipped_levels
from .anchors import HEADINGS, Target, assign_heading_ids, resolve_links
from .comments.book import Comment, load_comments
from .config import LANGUAGE_TAG, SLUG, ChapterEntry, Config, clean_text
from .errors import Diagnostics, Locator, ProjectError
from .fetch import RefusedFetch, confined_path
from .markup import Asset, check_markup, check_nesting
from .xhtml import parse_fragment, serialize_children

CHAPTER_KEYS = {"title", "slug", "layout", "lang"}
MAX_SOURCE_BYTES = 20 * 1024 * 1024
RESERVED_SLUGS = {"titlepage", "toc", "nav", "colophon", "reader-comments"}


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class Chapter:
    """One chapter: its metadata and its body as an HTML fragment (ids local to the chapter)."""

    source: Path
    slug: str
    title: str
    lang: str
    layout: str
    html: str
    body_line: int
    ids: frozenset[str]
    headings: tuple[Heading, ...]
    file: str = ""  # the source's path relative to manuscript/, with "/": what links name
    top_ids: frozenset[str] = frozenset()  # ids that stand for the chapter itself (its title heading's)


@dataclass(frozen=True)
class Book:
    """Everything the renderers need, read and checked."""

    config: Config
    chapters: tuple[Chapter, ...]
    comments: tuple[Comment, ...]
    assets: tuple[Asset, ...]
    warnings: tuple = ()
    ignored: tuple[Path, ...] = ()  # Markdown files of manuscript/ that book.toml's chapters leaves out


class UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate keys."""


def _mapping_without_duplicates(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


def _timestamp_or_text(loader: UniqueKeyLoader, node: yaml.ScalarNode):
    """A YAML date or date-time; one that does not exist (``2024-13-01``) stays the text as written."""
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)
UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def read_text(path: Path, project: Path | None = None) -> str:
    """A source file as text: UTF-8 (a BOM is dropped), line ends made ``\\n``.

    The file is read through the confined fetcher (of ``project``, by default the project
    that holds ``manuscript/``), so a symlink out of the project or a device file is refused.
    """
    project = project or path.parent.parent
    try:
        resolved = confined_path(project, path)
    except RefusedFetch as refusal:
        raise ProjectError(f"'{path.name}' is not read: {refusal}", path) from None
    if resolved.stat().st_size > MAX_SOURCE_BYTES:
        raise ProjectError(f"file is larger than {MAX_SOURCE_BYTES // 2**20} MB", path, 1)
    raw = resolved.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProjectError("not valid UTF-8 text", path, raw.count(b"\n", 0, error.start) + 1) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_yaml(text: str, path: Path, first_line: int) -> object:
    """YAML text (starting at ``first_line`` of ``path``) → data, errors located."""
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = first_line + mark.line if mark else first_line
        problem = error.problem or str(error)
        raise ProjectError(f"invalid front matter: {problem}", path, line) from None
    except yaml.YAMLError as error:
        raise ProjectError(f"invalid front matter: {error}", path, first_line) from None


def split_front_matter(text: str, path: Path) -> tuple[str, str, int]:
    """``---`` YAML ``---`` body → (yaml, body, line where the body starts); front matter is optional."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return "", text, 1
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:]), index + 2
    raise ProjectError("front matter is not closed: add a '---' line after it", path, 1)


def key_line(yaml_text: str, key: str, first_line: int) -> int:
    match = re.search(rf"^{re.escape(key)}\s*:", yaml_text, re.MULTILINE)
    return first_line + yaml_text.count("\n", 0, match.start()) if match else first_line


def default_slug(path: Path) -> str:
    stem = re.sub(r"^\d+[-_ .]*", "", path.stem) or path.stem
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "chapter"


def chapter_sources(config: Config, problems: Diagnostics) -> tuple[list[tuple[Path, ChapterEntry]], list[Path]]:
    """The chapters' files in reading order, each with its book.toml entry, and the Markdown files left out.

    With ``chapters`` in book.toml exactly those files, in that order; else every ``*.md`` of
    ``manuscript/`` but ``comments.md``, in file-name order.
    """
    folder = config.manuscript
    found = sorted(p for p in folder.glob("*.md") if p.name != "comments.md")
    if config.chapters is None:
        return [(path, ChapterEntry(file=path.name)) for path in found], []
    listed = []
    for entry in config.chapters:
        path = folder / entry.file
        if not path.is_file():
            problems.error(f"'{entry.file}' is listed in 'chapters' but there is no manuscript/{entry.file}",
                           config.path, entry.line)
        else:
            listed.append((path, entry))
    names = {path.resolve() for path, _ in listed}
    return listed, [path for path in found if path.resolve() not in names]


def load_manuscript(config: Config, chapter_html=markdown.chapter_html, convert_ahead=None) -> Book:
    """Read every chapter and the comments of ``config.manuscript``, validated.

    ``chapter_html`` turns a chapter's Markdown into HTML (the build cache passes a cached one);
    ``convert_ahead(bodies)``, if given, converts many chapter bodies at once beforehand (side by
    side, see :func:`.markdown.converted_side_by_side`) into a mapping of body to HTML, used first.
    """
    problems = Diagnostics()
    folder = config.manuscript
    sources, ignored = chapter_sources(config, problems)
    if not sources and not problems.errors:
        raise ProjectError("the manuscript has no chapters: add a Markdown file such as 01-start.md",
                           folder)
    if convert_ahead is not None:
        chapter_html = _preferring(convert_ahead(_bodies(sources, config)), chapter_html)
    drafts: list[tuple[Chapter, object]] = []
    assets: dict[str, Asset] = {}
    for source, entry in sources:
        try:
            drafts.append(_load_chapter(source, entry, config, problems, assets, chapter_html))
        except ProjectError as error:
            problems.errors.extend(error.problems)
    seen: dict[str, Path] = {}
    for chapter, _ in drafts:
        if chapter.slug in seen:
            problems.error(f"chapter slug '{chapter.slug}' is already used by {seen[chapter.slug].name}",
                           chapter.source, 1)
        seen[chapter.slug] = chapter.source
    comments: tuple[Comment, ...] = ()
    comments_path = folder / "comments.md"
    if comments_path.exists():
        try:
            comments = load_comments(comments_path, problems)
        except ProjectError as error:
            problems.errors.extend(error.problems)
    problems.raise_errors()
    chapters = _linked(drafts, problems)
    return Book(config=config, chapters=chapters, comments=comments,
                assets=tuple(sorted(assets.values(), key=lambda asset: asset.href)),
                warnings=tuple(problems.warnings), ignored=tuple(ignored))


def _bodies(sources: list[tuple[Path, ChapterEntry]], config: Config) -> list[str]:
    """The chapters' Markdown after their front matter, for those that read, split and pass
    :func:`check_nesting` (the others fail again, with their message, when they are loaded)."""
    bodies = []
    for source, _ in sources:
        try:
            _, body, body_line = split_front_matter(read_text(source, config.project), source)
            check_nesting(body, source, body_line)
        except ProjectError:
            continue
        bodies.append(body)
    return bodies


def _preferring(converted: dict[str, str], chapter_html):
    """``chapter_html`` that answers from ``converted`` first."""
    def convert(body: str) -> str:
        found = converted.get(body)
        return chapter_html(body) if found is None else found
    return convert


def _linked(drafts: list[tuple[Chapter, object]], problems: Diagnostics) -> tuple[Chapter, ...]:
    """The chapters with their links resolved (see :mod:`.anchors`)."""
    targets = {chapter.file: Target(chapter.file, chapter.ids, chapter.top_ids | {chapter.slug, f"{chapter.slug}-title"})
               for chapter, _ in drafts}
    chapters = []
    for chapter, fragment in drafts:
        locator = Locator(read_text(chapter.source), 1)
        resolve_links(fragment, targets[chapter.file], targets, chapter.source, locator, problems)
        chapters.append(replace(chapter, html=serialize_children(fragment)))
    return tuple(chapters)


def _front_matter(source: Path, text: str, entry: ChapterEntry, config: Config,
                 problems: Diagnostics) -> tuple[dict, str, int, str]:
    """A chapter's front matter checked: (metadata, body, body's first line, its YAML text)."""
    yaml_text, body, body_line = split_front_matter(text, source)
    meta = parse_yaml(yaml_text, source, 2) if yaml_text.strip() else None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ProjectError("front matter must be a mapping of keys to values, such as 'title: Start'",
                           source, 2)
    local = Diagnostics()
    for key in meta:
        if key not in CHAPTER_KEYS:
            local.error(f"unknown front matter key '{key}' (known: {', '.join(sorted(CHAPTER_KEYS))})",
                        source, key_line(yaml_text, str(key), 2))
    for key in CHAPTER_KEYS & set(meta):
        if not isinstance(meta[key], str):
            local.error(f"'{key}' must be a string, not {_yaml_kind(meta[key])}"
                        + (" (quote it)" if isinstance(meta[key], (bool, int, float)) else ""),
                        source, key_line(yaml_text, key, 2))
    title = meta.get("title")
    if isinstance(title, str):
        meta["title"] = title = clean_text(title, "title", source, key_line(yaml_text, "title", 2), problems)
        if not title.strip():
            local.error("'title' must not be empty", source, key_line(yaml_text, "title", 2))
    slug = meta.get("slug", default_slug(source))
    if isinstance(slug, str) and slug in RESERVED_SLUGS:
        local.error(f"the slug '{slug}' is taken by the book's own {slug} page: set another 'slug'",
                    source, key_line(yaml_text, "slug", 2))
    elif isinstance(slug, str) and not SLUG.match(slug):
        local.error("'slug' may hold only lowercase letters, digits and single hyphens",
                    source, key_line(yaml_text, "slug", 2))
    lang = meta.get("lang", entry.lang or config.language)
    if isinstance(lang, str) and not LANGUAGE_TAG.match(lang):
        local.error(f"'lang' must be a BCP 47 tag such as 'en' or 'ko', not {lang!r}",
                    source, key_line(yaml_text, "lang", 2))
    if not body.strip():
        local.error("the chapter has no text" + (" after its front matter" if yaml_text else ""),
                    source, max(body_line - 1, 1))
    local.raise_errors()
    meta = {**meta, "slug": slug, "lang": lang}
    if entry.title:
        meta["title"] = entry.title
    if entry.lang:
        meta["lang"] = entry.lang
    return meta, body, body_line, yaml_text


def _load_chapter(source: Path, entry: ChapterEntry, config: Config, problems: Diagnostics,
                  assets: dict[str, Asset], chapter_html=markdown.chapter_html) -> tuple[Chapter, object]:
    """One chapter, read and checked, with its parsed body (its links resolved later, book-wide)."""
    text = read_text(source, config.project)
    meta, body, body_line, _ = _front_matter(source, text, entry, config, problems)
    check_nesting(body, source, body_line)
    try:
        html = chapter_html(body)
    except RecursionError:
        raise ProjectError("the Markdown is nested too deeply to be read", source, body_line) from None
    fragment = parse_fragment(html)
    check_markup(html, fragment, source, body, body_line, config, problems, assets)
    assign_heading_ids(fragment)
    title, top_ids = _title(fragment, meta.get("title"), config.title, source)
    slug = meta["slug"]
    ids = _check_ids(fragment, slug, source, body, body_line, problems)
    headings = tuple(Heading(int(h.tag[1]), h.get("id", ""), " ".join(h.text_content().split()))
                     for h in fragment.xpath("//h1|//h2|//h3|//h4|//h5|//h6"))
    _check_heading_order(headings, source, body, body_line, problems)
    chapter = Chapter(source=source, slug=slug, title=title, lang=meta["lang"],
                      layout=meta.get("layout", "chapter"), html="", body_line=body_line, ids=frozenset(ids),
                      headings=headings, file=source.relative_to(config.manuscript).as_posix(),
                      top_ids=frozenset(top_ids))
    return chapter, fragment


def _title(fragment, given: str | None, book_title: str, source: Path) -> tuple[str, list[str]]:
    """The chapter's title and the ids of the headings it takes out of the body.

    Without a title of its own a chapter takes its first heading's text (a leading heading that
    only repeats the book's title, followed by one of the same level, is passed over), else its
    file name's stem; that heading, or a first heading that says the given title again, leaves
    the body, so the title is not shown twice.
    """
    headings = list(fragment.iter(*HEADINGS))
    taken = []
    if len(headings) > 1 and headings[0].tag == headings[1].tag and _text(headings[0]) == book_title.strip() \
            and _text(headings[1]) != book_title.strip():
        taken.append(headings.pop(0))
    first = headings[0] if headings else None
    if given is None and first is not None and _text(first):
        given = _text(first)
        taken.append(first)
    elif first is not None and given is not None and _text(first) == " ".join(given.split()):
        taken.append(first)
    else:
        taken = []
    for heading in taken:
        heading.drop_tree()
    return (given or source.stem).strip(), [heading.get("id") for heading in taken if heading.get("id")]


def _text(element) -> str:
    return " ".join(element.text_content().split())


def _check_ids(fragment, slug: str, source: Path, body: str, body_line: int, problems: Diagnostics) -> list[str]:
    """The chapter's ids, each once. A heading whose id is the chapter's own (``slug`` or
    ``slug-title``, set by the layout) is renumbered as Markdown renumbers duplicates."""
    reserved = {slug, f"{slug}-title"}
    ids: list[str] = []
    locator = Locator(body, body_line)
    for element in fragment.xpath("//*[@id]"):
        value = element.get("id")
        written = next((form for form in (f'id="{value}"', f"id='{value}'", f"{{#{value}", f'name="{value}"',
                                          f"name='{value}'") if form in body), value)
        line = locator.line(written)
        if value in reserved and element.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            number = 1
            while f"{value}_{number}" in reserved or f"{value}_{number}" in ids:
                number += 1
            element.set("id", f"{value}_{number}")
            value = element.get("id")
        elif value in reserved or value in ids:
            problems.error(f"the id '{value}' is used twice in this chapter"
                           + (" (the chapter itself has it)" if value in reserved else ""), source, line)
        ids.append(value)
    return ids


def _check_heading_order(headings: tuple[Heading, ...], source: Path, body: str, body_line: int,
                         problems: Diagnostics) -> None:
    """Headings go down one level at a time below the chapter title (a level 1 heading)."""
    locator = Locator(body, body_line)
    lines = [locator.line(heading.text) for heading in headings]  # in turn: each at its own line
    for index, previous, level in skipped_levels((heading.level for heading in headings), previous=1):
        problems.warn(f"heading '{headings[index].text}' is level {level} right after level {previous}: "
                      f"use {'#' * (previous + 1)} so that headings go down one level at a time",
                      source, lines[index])


def _yaml_kind(value: object) -> str:
    return {bool: "true/false", int: "a number", float: "a number", list: "a list",
            dict: "a mapping", type(None): "empty"}.get(type(value), type(value).__name__)


