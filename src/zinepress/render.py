"""``Book`` → ``RenderedBook``: chapters and comments poured into the Jinja2 layouts.

Layouts come from the project's ``layouts/`` first, then the defaults shipped with
zinepress (also reachable as ``default/NAME`` for ``{% extends %}``). Every layout is
autoescaped, strict about undefined variables and sandboxed: it cannot reach Python's
internals, change the values it is given, or call a method of a path (so it reads no file). The result holds one XHTML document
per EPUB spine item and one HTML document for the paged (PDF) editions.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import traceback
from dataclasses import dataclass
from pathlib import Path, PurePath
from urllib.parse import unquote, urlsplit

import jinja2
import jinja2.sandbox
import lxml.etree as etree
from markupsafe import Markup

from .comments.book import threads
from .config import Config
from .cover import Cover, cover_for
from .derived import DerivedCache
from .errors import ProjectError, line_of
from .fetch import ConfinedLoader
from .manuscript import Book, Chapter
from .codelines import split_code_lines
from .xhtml import parse_fragment, serialize_children

DEFAULT_LAYOUTS = Path(__file__).parent / "layouts"
TARGETS = ("epub", "print")
KEEP_WORDS_LANGUAGES = {"ko"}
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


@dataclass(frozen=True)
class Section:
    """One part of the book as rendered for one target (``epub`` or ``print``)."""

    id: str
    kind: str  # titlepage, toc, chapter, comments, colophon
    title: str
    lang: str
    file_name: str  # the EPUB document that holds it
    html: str
    epub_type: str
    landmark: str | None = None


@dataclass(frozen=True)
class TocEntry:
    """One entry of the contents: a chapter, or a section of one, with the sections under it."""

    title: str
    href: str
    lang: str
    children: tuple[TocEntry, ...] = ()


@dataclass(frozen=True)
class EpubDocument:
    """A finished XHTML document of the EPUB spine."""

    id: str
    file_name: str
    title: str
    lang: str
    kind: str
    xhtml: str
    landmark: str | None


@dataclass(frozen=True)
class RenderedBook:
    """The book in its final markup, ready for the writers."""

    book: Book
    epub_documents: tuple[EpubDocument, ...]
    nav_xhtml: str
    print_html: str
    cover: Cover
    toc: tuple[TocEntry, ...] = ()  # the EPUB's contents, nested to [epub] toc_depth (for the NCX)

    @property
    def config(self) -> Config:
        return self.book.config

    @property
    def spine(self) -> tuple[str, ...]:
        """The EPUB's reading order, by file name: its documents, the contents (``nav.xhtml``) after the title page."""
        return tuple(name for document in self.epub_documents
                     for name in ((document.file_name, "nav.xhtml") if document.kind == "titlepage"
                                  else (document.file_name,)))


PATH_ATTRIBUTES = {"name", "stem", "suffix"}


class LayoutSandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, where a path shows only its name: a layout opens no file."""

    def is_safe_attribute(self, obj, attr: str, value) -> bool:
        if isinstance(obj, PurePath) and attr not in PATH_ATTRIBUTES:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def is_safe_callable(self, obj) -> bool:
        return not isinstance(getattr(obj, "__self__", None), PurePath) and super().is_safe_callable(obj)


def layout_environment(project: Path) -> jinja2.Environment:
    """The Jinja2 environment: project layouts over the defaults, autoescaped, strict, sandboxed."""
    loaders: list[jinja2.BaseLoader] = []
    if (project / "layouts").is_dir():
        loaders.append(ConfinedLoader(project / "layouts", project))
    defaults = jinja2.FileSystemLoader(DEFAULT_LAYOUTS)
    loaders += [jinja2.PrefixLoader({"default": defaults}), defaults]
    environment = LayoutSandbox(loader=jinja2.ChoiceLoader(loaders), autoescape=True,
                                undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    environment.filters["human_date"] = human_date
    return environment


def human_date(value, language: str = "en") -> str:
    """A comment's date and time, as given, in the book's language.

    ``Feb 29, 2024 at 3:07 pm`` in English (as comment pages print it), Babel's CLDR form
    elsewhere (``2024년 2월 29일 오후 3:07``), ISO when the language is unknown to Babel.
    """
    if language.split("-")[0].lower() != "en":
        from babel import UnknownLocaleError
        from babel.dates import format_skeleton, format_time, get_datetime_format
        locale = language.replace("-", "_")
        try:
            day, time = format_skeleton("yMMMd", value, locale=locale), format_time(value, "short", locale=locale)
            return get_datetime_format("medium", locale=locale).replace("{1}", day).replace("{0}", time)
        except (UnknownLocaleError, ValueError):
            return value.strftime("%Y-%m-%d %H:%M")
    hour = value.hour % 12 or 12
    return f"{value:%b} {value.day}, {value.year} at {hour}:{value:%M} {'am' if value.hour < 12 else 'pm'}"


class Renderer:
    """Renders layouts, turning Jinja2 failures into located project errors."""

    def __init__(self, book: Book):
        self.book = book
        self.config = book.config
        self.environment = layout_environment(book.config.project)
        self.project_layouts = (book.config.project / "layouts").resolve()

    def render(self, name: str, **context) -> str:
        try:
            template = self.environment.get_template(name)
            return template.render(book=self.config, **context)
        except jinja2.TemplateSyntaxError as error:
            path = Path(error.filename) if error.filename else self.project_layouts / name
            raise ProjectError(f"layout syntax error: {error.message}", path, error.lineno) from None
        except jinja2.TemplateNotFound as error:
            raise ProjectError(f"no layout named '{error.name}'", self.project_layouts / str(error.name)) from None
        except jinja2.UndefinedError as error:
            path, line = self._template_location(error, name)
            raise ProjectError(f"layout uses an undefined value: {error.message}", path, line) from None
        except jinja2.sandbox.SecurityError as error:
            path, line = self._template_location(error, name)
            raise ProjectError(f"layout reaches outside what it is given: {error}", path, line) from None

    def _template_location(self, error: Exception, name: str) -> tuple[Path, int | None]:
        """The layout file and line where a render error happened (Jinja2 rewrites tracebacks)."""
        for frame in reversed(traceback.extract_tb(error.__traceback__)):
            if frame.filename and (frame.filename.endswith((".html", ".xhtml", ".xml"))):
                return Path(frame.filename), frame.lineno
        return self.project_layouts / name, None


def render(book: Book, covers: DerivedCache | None = None) -> RenderedBook:
    """Render every section for the EPUB and for print."""
    renderer = Renderer(book)
    cover = own_name(cover_for(book.config, covers), book)
    tocs: dict[str, tuple[TocEntry, ...]] = {}
    sections = {target: _sections(book, renderer, target, cover, tocs) for target in TARGETS}
    epub_documents = tuple(_epub_document(renderer, section) for section in sections["epub"]
                           if section.kind != "toc")
    toc_section = next(section for section in sections["epub"] if section.kind == "toc")
    nav_xhtml = renderer.render("nav.xhtml", toc=Markup(toc_section.html),
                                documents=epub_documents, lang=book.config.language)
    _check_xml(nav_xhtml, renderer, "nav.xhtml")
    print_html = renderer.render("print.html", sections=[Markup(s.html) for s in sections["print"]],
                                 lang=book.config.language)
    return RenderedBook(book=book, epub_documents=epub_documents, nav_xhtml=nav_xhtml, print_html=print_html,
                        cover=cover, toc=tocs["epub"])


def own_name(cover: Cover, book: Book) -> Cover:
    """The cover under a name no file of the author's has in the EPUB (``images/cover-2.png``…),
    unless that file is the cover itself."""
    taken = {asset.href: asset.path for asset in book.assets}
    stem, dot, suffix = cover.file_name.rpartition(".")
    name, number = cover.file_name, 1
    while name in taken and not _same_bytes(taken[name], cover.data):
        number += 1
        name = f"{stem}-{number}{dot}{suffix}"
    return dataclasses.replace(cover, file_name=name)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def cover_alt(config: Config) -> str:
    """The cover image's alt text: what the cover says."""
    words = [config.title] + ([config.subtitle] if config.subtitle else [])
    alt = "Cover: " + ". ".join(words)
    if config.authors:
        alt += ". By " + ", ".join(config.authors)
    return alt + "."


def _cover_src(cover: Cover, target: str) -> str:
    """Where a document finds the cover: its file in the EPUB, a ``data:`` URL in print."""
    if target == "epub":
        return cover.file_name
    return f"data:{cover.media_type};base64," + base64.b64encode(cover.data).decode("ascii")


def _sections(book: Book, renderer: Renderer, target: str, cover: Cover,
              tocs: dict[str, tuple[TocEntry, ...]]) -> list[Section]:
    """The book's parts in reading order, rendered for ``target`` (its contents put in ``tocs``)."""
    config = book.config
    chapter_file = {chapter.file: chapter for chapter in book.chapters}

    def href(slug: str, fragment: str = "") -> str:
        if target == "epub":
            return f"{slug}.xhtml" + (f"#{fragment}" if fragment else "")
        return f"#{slug}--{fragment}" if fragment else f"#{slug}"

    def section(kind: str, id: str, title: str, html: str, epub_type: str, lang: str | None = None,
                landmark: str | None = None) -> Section:
        return Section(id=id, kind=kind, title=title, lang=lang or config.language, file_name=f"{id}.xhtml",
                       html=html, epub_type=epub_type, landmark=landmark)

    chapters = [(chapter, Markup(_chapter_content(chapter, chapter_file, href, target)))
                for chapter in book.chapters]
    depth = config.epub.toc_depth if target == "epub" else config.print.toc_depth
    entries = [TocEntry(chapter.title, href(chapter.slug), chapter.lang, section_entries(chapter, href, depth))
               for chapter in book.chapters]
    if book.comments:
        entries.append(TocEntry("Reader comments", href("reader-comments"), config.language))
    tocs[target] = tuple(entries)
    common = {"target": target, "toc_entries": entries}
    cover_html = renderer.render("cover.html", cover_src=_cover_src(cover, target),
                                 cover_alt=cover_alt(config), **common)
    parts = [section("cover", "cover", "Cover", cover_html, "cover", landmark="cover"),
             section("titlepage", "titlepage", config.title,
                     renderer.render("titlepage.html", **common), "titlepage"),
             section("toc", "toc", "Contents", renderer.render("toc.html", **common), "toc", landmark="toc")]
    for index, (chapter, content) in enumerate(chapters):
        html = _chapter_layout(renderer, chapter, content=content, **common)
        parts.append(section("chapter", chapter.slug, chapter.title, html, "chapter", chapter.lang,
                             landmark="bodymatter" if index == 0 else None))
    if book.comments:
        every, top = threads(book.comments, lambda comment: Markup(_xhtml(comment.html)))
        parts.append(section("comments", "reader-comments", "Reader comments",
                             renderer.render("comments.html", comments=every, threads=top, **common),
                             "backmatter"))
    parts.append(section("colophon", "colophon", "Colophon",
                         renderer.render("colophon.html", **common), "colophon"))
    return parts


def _chapter_layout(renderer: Renderer, chapter: Chapter, **context) -> str:
    """A chapter in its layout; a layout that does not exist is an error at the chapter's ``layout:`` line."""
    name = f"{chapter.layout}.html"
    try:
        renderer.environment.get_template(name)
        missing = False
    except jinja2.TemplateNotFound as error:
        missing = error.name == name
    except jinja2.TemplateError:
        missing = False  # reported by Renderer.render, at its line
    except (ValueError, OSError):
        missing = True
    if missing:
        try:
            line = line_of(chapter.source.read_text(encoding="utf-8"), "layout:")
        except (OSError, UnicodeDecodeError):
            line = None
        raise ProjectError(f"no layout named '{chapter.layout}': add layouts/{name} or use 'chapter'",
                           chapter.source, line)
    return renderer.render(name, chapter=chapter, **context)


def section_entries(chapter: Chapter, href, depth: int) -> tuple[TocEntry, ...]:
    """The contents entries of a chapter's headings down to ``depth`` (the chapter is depth 1,
    its ``##`` headings depth 2), nested as the headings are."""
    root: list = []
    stack: list[tuple[int, list]] = [(1, root)]
    for heading in chapter.headings:
        level = max(heading.level, 2)
        if level > depth or not heading.id or not heading.text:
            continue
        while stack[-1][0] >= level:
            stack.pop()
        children: list = []
        stack[-1][1].append((heading, children))
        stack.append((level, children))

    def entries(nodes: list) -> tuple[TocEntry, ...]:
        return tuple(TocEntry(heading.text, href(chapter.slug, heading.id), chapter.lang, entries(children))
                     for heading, children in nodes)
    return entries(root)


def _xhtml(html: str) -> str:
    return serialize_children(parse_fragment(html))


def _chapter_content(chapter: Chapter, chapter_file: dict[str, Chapter], href, target: str) -> str:
    """A chapter's body with its ids and links made right for ``target``.

    In print every chapter shares one document, so ids get the chapter's slug as prefix;
    links to ``other.md#anchor`` (resolved by :mod:`.anchors`) become links to the other
    chapter's section or document.
    """
    fragment = parse_fragment(chapter.html)
    if target == "print":
        _footnotes_at_call_sites(fragment)
    for element in fragment.xpath("//*[@id]"):
        if target == "print":
            element.set("id", f"{chapter.slug}--{element.get('id')}")
    if target == "epub":
        _mark_footnotes(fragment)
        _attachments_as_text(fragment)
    elif chapter.lang.split("-")[0].lower() in KEEP_WORDS_LANGUAGES:
        _keep_words(fragment)
    if target == "print":
        split_code_lines(fragment)
    for link in fragment.xpath("//a[@href]"):
        parts = urlsplit(link.get("href"))
        if parts.scheme or parts.netloc:
            continue
        if parts.path:
            other = chapter_file.get(unquote(parts.path))
            if other is not None:
                link.set("href", href(other.slug, unquote(parts.fragment)))
        elif parts.fragment and target == "print":
            link.set("href", href(chapter.slug, parts.fragment))
    return serialize_children(fragment)


def _attachments_as_text(fragment) -> None:
    """``<a rel="attachment">`` → its text: the PDF embeds the file, an EPUB cannot link to one."""
    for link in fragment.xpath("//a[contains(concat(' ', normalize-space(@rel), ' '), ' attachment ')]"):
        link.tag = "span"
        for name in ("href", "rel", "type", "download", "hreflang"):
            link.attrib.pop(name, None)


def _footnotes_at_call_sites(fragment) -> None:
    """Move each of Python-Markdown's footnotes to its call, for ``float: footnote`` in print.

    The note becomes ``<span class="footnote-note">`` in place of the ``<sup>`` reference;
    its paragraphs become ``span.footnote-paragraph`` separated by line breaks (a block
    inside the note would put WeasyPrint's marker on a line of its own); the back links and
    the list at the chapter's end goes once it is empty.
    """
    for notes in fragment.xpath("//div[@class='footnote']"):
        for item in notes.xpath("./ol/li[@id]"):
            calls = fragment.xpath("//sup[a[@class='footnote-ref' and @href=$href]]", href=f"#{item.get('id')}")
            if not calls:
                continue
            for backref in item.xpath(".//a[@class='footnote-backref']"):
                backref.drop_tree()
            note = fragment.makeelement("span", {"class": "footnote-note", "id": item.get("id")})
            note.text = (item.text or "").strip() or None
            for index, child in enumerate(list(item)):
                if child.tag == "p":
                    child.tag = "span"
                    child.set("class", "footnote-paragraph")
                    child.tail = None
                    if index:
                        note.append(fragment.makeelement("br", {}))
                note.append(child)
            note.tail = calls[0].tail
            calls[0].getparent().replace(calls[0], note)
            item.getparent().remove(item)
        if not notes.xpath("./ol/li"):
            notes.drop_tree()


def _word_spans(parent, text: str):
    """``text`` → the text before its first Korean word, and one no-wrap span per Korean word."""
    head, spans = "", []
    for token in re.split(r"(\s+)", text):
        if HANGUL.search(token):
            span = parent.makeelement("span", {"style": "white-space: nowrap"})
            span.text, span.tail = token, ""
            spans.append(span)
        elif spans:
            spans[-1].tail += token
        else:
            head += token
    return head, spans


def _keep_words(fragment) -> None:
    """Korean lines break between words, as ``word-break: keep-all`` would (WeasyPrint lacks it)."""
    for element in list(fragment.iter()):
        if not isinstance(element.tag, str) or element.tag in ("pre", "code", "script", "style"):
            continue
        children = list(element)
        head, spans = _word_spans(element, element.text or "")
        element.text = head
        for index, span in enumerate(spans):
            element.insert(index, span)
        for child in children:
            head, spans = _word_spans(element, child.tail or "")
            child.tail = head
            for offset, span in enumerate(spans, start=1):
                element.insert(element.index(child) + offset, span)


def _mark_footnotes(fragment) -> None:
    """Python-Markdown's footnotes with the EPUB semantics and ARIA roles reading systems use.

    Each note's text moves into an ``<aside epub:type="footnote" role="doc-footnote">`` that
    takes the list item's id, so pop-up footnotes work and the numbered list stays.
    """
    for link in fragment.xpath("//a[contains(concat(' ', @class, ' '), ' footnote-ref ')]"):
        link.set("epub:type", "noteref")
        link.set("role", "doc-noteref")
    for link in fragment.xpath("//a[contains(concat(' ', @class, ' '), ' footnote-backref ')]"):
        link.set("role", "doc-backlink")
    for item in fragment.xpath("//div[contains(concat(' ', @class, ' '), ' footnote ')]/ol/li[@id]"):
        aside = item.makeelement("aside", {"id": item.get("id"), "epub:type": "footnote",
                                           "role": "doc-footnote"})
        del item.attrib["id"]
        aside.text, item.text = item.text, None
        aside.extend(list(item))
        item.append(aside)


def _epub_document(renderer: Renderer, section: Section) -> EpubDocument:
    xhtml = renderer.render("document.xhtml", title=section.title, lang=section.lang,
                            body=Markup(section.html), kind=section.kind)
    _check_xml(xhtml, renderer, "document.xhtml")
    return EpubDocument(id=section.id, file_name=section.file_name, title=section.title, lang=section.lang,
                        kind=section.kind, xhtml=xhtml, landmark=section.landmark)


def _check_xml(xhtml: str, renderer: Renderer, name: str) -> None:
    """EPUB documents must be well-formed XML; a broken layout is reported by name."""
    try:
        etree.fromstring(xhtml.encode("utf-8"))
    except etree.XMLSyntaxError as error:
        message = re.sub(r",? line \d+, column \d+", "", str(error))
        raise ProjectError(f"the EPUB document made from this layout is not well-formed XHTML: {message}",
                           renderer.project_layouts / name, error.lineno) from None
