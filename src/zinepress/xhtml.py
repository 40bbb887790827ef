"""HTML fragments ↔ lxml trees: parsing author HTML and writing well-formed XHTML."""

from __future__ import annotations

import lxml.etree as etree
import lxml.html


def parse_fragment(html: str) -> lxml.html.HtmlElement:
    """A fragment of HTML → a ``<div>`` element holding it."""
    return lxml.html.fragment_fromstring(html or "", create_parent="div")


VOID_ELEMENTS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                           "param", "source", "track", "wbr"})


def serialize_children(container: lxml.html.HtmlElement) -> str:
    """The content of ``container`` as well-formed XHTML markup (no wrapping element).

    Empty elements other than HTML's void ones keep an end tag (``<a id="x"></a>``): the print
    edition is read as HTML, where ``<a id="x"/>`` opens an element that never closes, and the
    rest of the chapter would sit inside it (empty copies of it between blocks break
    ``break-after: avoid``, leaving headings at the foot of a page).
    """
    for element in container.iter():
        if isinstance(element.tag, str) and element.text is None and not len(element) \
                and element.tag not in VOID_ELEMENTS:
            element.text = ""
    parts = [escape_text(container.text or "")]
    for child in container:
        parts.append(etree.tostring(child, method="xml", encoding=str))
    return "".join(parts)


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_content(html: str) -> str:
    """The plain text of an HTML fragment, whitespace collapsed."""
    return " ".join(parse_fragment(html).text_content().split())
