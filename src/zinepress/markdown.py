"""Markdown text → HTML fragment, with a fresh converter for every call.

Chapters are the author's own and may hold raw HTML. Reader comments are untrusted:
their raw HTML is shown as text, and the result is cleaned by nh3 so that only plain
formatting and http, https and mailto links survive.
"""

from __future__ import annotations

import markdown as python_markdown
import nh3

from .figures import FigureExtension
from .xhtml import parse_fragment, serialize_children

CHAPTER_EXTENSIONS = ["footnotes", "tables", "fenced_code", "attr_list", "smarty",
                      "def_list", "abbr", "md_in_html", "sane_lists"]
EXTENSION_CONFIGS = {
    "footnotes": {"SEPARATOR": "-", "BACKLINK_TITLE": "Back to the text of note %d"},
    "smarty": {"smart_angled_quotes": False},
}

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
