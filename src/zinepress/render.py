"""``Book`` → ``RenderedBook``: chapters and comments poured into the Jinja2 layouts.

Layouts come from the project's ``layouts/`` first, then the defaults shipped with
zinepress (also reachable as ``default/NAME`` for ``{% extends %}``). Every layout is
autoescaped and strict about undefined variables. The result holds one XHTML document
per EPUB spine item and one HTML document for the paged (PDF) editions.
"""

from __future__ import annotations

import base64
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
import lxml.etree as etree
from markupsafe import Markup

from .config import Config
from .cover import Cover, cover_for
from .errors import ProjectError
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

    @property
    def config(self) -> Config:
        return self.book.config


def layout_environment(project: Path) -> jinja2.Environment:
    """The Jinja2 environment: project layouts over the defaults, autoescaped, strict."""
    loaders: list[jinja2.BaseLoader] = []
    if (project / "layouts").is_dir():
        loaders.append(ConfinedLoader(project / "layouts", project))
    defaults = jinja2.FileSystemLoader(DEFAULT_LAYOUTS)
    loaders += [jinja2.PrefixLoader({"default": defaults}), defaults]
    environment = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True,
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    environment.filters["human_date"] = human_date
    return environment


def human_date(value, language: str = "en") -> str:
    """A comment's date as readers expect it: ``Feb 29, 2024 at 3:07 pm`` (English) or ISO."""
    if language.split("-")[0] != "en":
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

    def _template_location(self, error: Exception, name: str) -> tuple[Path, int | None]:
        """The layout file and line where a render error happened (Jinja2 rewrites tracebacks)."""
        for frame in reversed(traceback.extract_tb(error.__traceback__)):
            if frame.filename and (frame.filename.endswith((".html", ".xhtml", ".xml"))):
                return Path(frame.filename), frame.lineno
        return self.project_layouts / name, None


def render(book: Book) -> RenderedBook:
    """Render every section for the EPUB and for print."""
    renderer = Renderer(book)
    cover = cover_for(book.config)
    sections = {target: _sections(book, renderer, target, cover) for target in TARGETS}
    epub_documents = tuple(_epub_document(renderer, section) for section in sections["epub"]
                           if section.kind != "toc")
    toc_section = next(section for section in sections["epub"] if section.kind == "toc")
    nav_xhtml = renderer.render("nav.xhtml", toc=Markup(toc_section.html),
                                documents=epub_documents, lang=book.config.language)
    _check_xml(nav_xhtml, renderer, "nav.xhtml")
    print_html = renderer.render("print.html", sections=[Markup(s.html) for s in sections["print"]],
                                 lang=book.config.language)
    return RenderedBook(book=book, epub_documents=epub_documents, nav_xhtml=nav_xhtml, print_html=print_html,
                        cover=cover)


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


def _sections(book: Book, renderer: Renderer, target: str, cover: Cover) -> list[Section]:
    """The book's parts in reading order, rendered for ``target``."""
    config = book.config
    chapter_file = {chapter.source.name: chapter for chapter in book.chapters}

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
    entries = [{"title": chapter.title, "href": href(chapter.slug), "lang": chapter.lang}
               for chapter in book.chapters]
    if book.comments:
        entries.append({"title": "Reader comments", "href": href("reader-comments"), "lang": config.language})
    common = {"target": target, "toc_entries": entries}
    cover_html = renderer.render("cover.html", cover_src=_cover_src(cover, target),
                                 cover_alt=cover_alt(config), **common)
    parts = [section("cover", "cover", "Cover", cover_html, "cover", landmark="cover"),
             section("titlepage", "titlepage", config.title,
                     renderer.render("titlepage.html", **common), "titlepage"),
             section("toc", "toc", "Contents", renderer.render("toc.html", **common), "toc", landmark="toc")]
    for index, (chapter, content) in enumerate(chapters):
        html = renderer.render(f"{chapter.layout}.html", chapter=chapter, content=content, **common)
        parts.append(section("chapter", chapter.slug, chapter.title, html, "chapter", chapter.lang,
                             landmark="bodymatter" if index == 0 else None))
    if book.comments:
        comments = [{"author": c.author, "date": c.date, "datetime": c.datetime_attribute,
                     "content": Markup(_xhtml(c.html))} for c in book.comments]
        parts.append(section("comments", "reader-comments", "Reader comments",
                             renderer.render("comments.html", comments=comments, **common), "backmatter"))
    parts.append(section("colophon", "colophon", "Colophon",
                         renderer.render("colophon.html", **common), "colophon"))
    return parts


def _xhtml(html: str) -> str:
    return serialize_children(parse_fragment(html))


def _chapter_content(chapter: Chapter, chapter_file: dict[str, Chapter], href, target: str) -> str:
    """A chapter's body with its ids and links made right for ``target``.

    In print every chapter shares one document, so ids get the chapter's slug as prefix;
    links to ``other.md#anchor`` become links to the other chapter's section or document.
    """
    fragment = parse_fragment(chapter.html)
    if target == "print":
        _footnotes_at_call_sites(fragment)
    for element in fragment.xpath("//*[@id]"):
        if target == "print":
            element.set("id", f"{chapter.slug}--{element.get('id')}")
    if target == "epub":
        _mark_footnotes(fragment)
    elif chapter.lang.split("-")[0].lower() in KEEP_WORDS_LANGUAGES:
        _keep_words(fragment)
    if target == "print":
        split_code_lines(fragment)
    for link in fragment.xpath("//a[@href]"):
        parts = urlsplit(link.get("href"))
        if parts.scheme or parts.netloc:
            continue
        if parts.path:
            other = chapter_file.get(Path(unquote(parts.path)).name)
            if other is not None:
                link.set("href", href(other.slug, parts.fragment))
        elif parts.fragment and target == "print":
            link.set("href", href(chapter.slug, parts.fragment))
    return serialize_children(fragment)


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
