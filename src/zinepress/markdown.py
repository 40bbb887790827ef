"""Markdown text → HTML fragment, with a fresh converter for every call.

A long manuscript's chapters are converted side by side, in this process and a forked
one (:func:`converted_side_by_side`). Chapters are the author's own and may hold raw HTML. Reader comments are untrusted:
their raw HTML is shown as text, and the result is cleaned by nh3 so that only plain
formatting and http, https and mailto links survive.
"""

from __future__ import annotations

from collections.abc import Callable

import markdown as python_markdown
import nh3

from .figures import FigureExtension
from .forking import Beside, fork_context, workers_wanted
from .xhtml import parse_fragment, serialize_children

CHAPTER_EXTENSIONS = ["footnotes", "tables", "fenced_code", "attr_list", "smarty",
                      "def_list", "abbr", "md_in_html", "sane_lists"]
EXTENSION_CONFIGS = {
    "footnotes": {"SEPARATOR": "-", "BACKLINK_TITLE": "Back to the text of note %d"},
    "smarty": {"smart_angled_quotes": False},
}

SIDE_BY_SIDE_FROM = 20_000
"""Characters of chapter Markdown from which converting them in two processes pays: about a tenth
of a second of conversion (python-markdown reads about 200,000 characters a second here), against
a few milliseconds to fork and to send the HTML back."""

COMMENT_TAGS = {"p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "del"}
COMMENT_URL_SCHEMES = {"http", "https", "mailto"}


def chapter_html(text: str) -> str:
    """An author's chapter body → HTML fragment (footnotes, tables, code, ``{#id}`` attributes …).

    Headings get their ids later, as GitHub makes them (:func:`zinepress.anchors.assign_heading_ids`).
    """
    converter = python_markdown.Markdown(extensions=[*CHAPTER_EXTENSIONS, FigureExtension()],
                                         extension_configs=EXTENSION_CONFIGS,
                                         output_format="xhtml")
    return converter.convert(text)


def converted_side_by_side(texts: list[str], while_converting: Callable[[], object] | None = None) -> dict[str, str]:
    """Chapter bodies → their HTML (:func:`chapter_html`), converted from both ends of the list at once.

    A forked process takes the texts from the last one back, this process from the first one
    on, once ``while_converting()`` is done (work the build needs next, such as loading
    WeasyPrint), until they meet. Without a CPU to spare, or for less than
    ``SIDE_BY_SIDE_FROM`` characters, nothing is converted (the caller converts as it reads)
    and nothing runs. A text whose conversion fails is left out, so that the caller meets
    the error in its place, with its line.
    """
    if workers_wanted() < 2 or sum(map(len, texts)) < SIDE_BY_SIDE_FROM:
        return {}
    fork = fork_context()
    ends = fork.RawArray("l", [0, len(texts)])  # the next text from the front; one past the next from the back
    lock = fork.Lock()

    def claim(from_back: bool) -> int | None:
        with lock:
            if ends[0] >= ends[1]:
                return None
            if from_back:
                ends[1] -= 1
                return ends[1]
            ends[0] += 1
            return ends[0] - 1

    def convert(from_back: bool) -> dict[int, str]:
        done = {}
        while (index := claim(from_back)) is not None:
            try:
                done[index] = chapter_html(texts[index])
            except Exception:  # noqa: BLE001 - converted again by the caller, which reports it
                continue
        return done

    beside = Beside(lambda: convert(from_back=True))
    try:
        if while_converting is not None:
            while_converting()
        done = convert(from_back=False)
        done.update(beside.result())
    finally:
        beside.close(abort=True)
    return {texts[index]: html for index, html in done.items()}


def comment_html(text: str) -> str:
    """An untrusted reader comment → safe HTML fragment.

    Raw HTML is escaped rather than stripped, so the reader's words are kept, shown as
    typed (``<b>`` in a comment about HTML stays readable) and nothing they wrote can
    become markup. nh3 then cleans what Markdown itself made: only a small set of
    formatting tags survive, and links only when absolute http, https or mailto URLs
    (a relative link would point into the reader's machine or the build folder); a link
    that loses its address becomes its text.
    """
    converter = python_markdown.Markdown(extensions=["smarty", "sane_lists"], output_format="xhtml")
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    html = nh3.clean(converter.convert(text), tags=COMMENT_TAGS, attributes={"a": {"href"}},
                     url_schemes=COMMENT_URL_SCHEMES, attribute_filter=_absolute_links_only,
                     link_rel="nofollow ugc noopener")
    fragment = parse_fragment(html)
    for link in fragment.xpath("//a[not(@href)]"):
        link.drop_tag()  # a link that was stripped is its text: an <a> without href is not valid EPUB
    return serialize_children(fragment)


def _absolute_links_only(element: str, attribute: str, value: str) -> str | None:
    """nh3 keeps relative URLs whatever the schemes: a comment's link must name its scheme."""
    if attribute == "href" and not value.lower().startswith(("http://", "https://", "mailto:")):
        return None
    return value
