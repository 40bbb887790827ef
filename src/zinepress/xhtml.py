"""HTML fragments ↔ lxml trees: parsing author HTML and writing well-formed XHTML."""

from __future__ import annotations

import lxml.etree as etree
import lxml.html


def parse_fragment(html: str) -> lxml.html.HtmlElement:
    """A fragment of HTML → a ``<div>`` element holding it."""
    return lxml.html.fragment_fromstring(html or "", create_parent="div")


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def serialize_children(container: lxml.html.HtmlElement) -> str:
    """The content of ``container`` as well-formed XHTML markup (no wrapping element).

    An empty element that is not void is written with its end tag (``<a id="x"></a>``, not
    ``<a id="x"/>``): the print edition is read by an HTML parser, for which ``<a/>`` opens a
    link that never closes.
    """
    for element in container.iter():
        if isinstance(element.tag, str) and element.text is None and not len(element) \
                and element.tag.lower() not in VOID and element is not container:
            element.text = ""
    parts = [escape_text(container.text or "")]
    for child in container:
        parts.append(etree.tostring(child, method="xml", encoding=str))
    return "".join(parts)


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
