"""An author's raw HTML → valid EPUB 3 XHTML: presentational markup made CSS, the rest dropped or refused.

GitHub-flavoured Markdown books carry HTML written for browsers: ``<p align="center">``,
``<img width="40%" hspace="20">``, ``<center>``, ``<font color>``, ``<a name>``. Presentational
attributes become inline ``style`` declarations (``align`` → ``text-align``, or a float or
centring for images and tables; ``width``/``height`` in px or % → ``width``/``height``;
``hspace``/``vspace`` → margins; ``border``, ``bgcolor``, ``cellpadding`` …), so the EPUB and
print show what the browser showed; ``<a name="x">`` gets ``id="x"``. Obsolete elements become
their modern equals (``<center>`` → a centred ``<div>``, ``<font>`` → a styled ``<span>``,
``<tt>`` → ``<code>`` …). Any other attribute an EPUB does not allow is dropped with a warning.
What cannot be made valid (an element unknown to HTML, inline SVG or MathML, a block inside a
phrase) is an error at the HTML's line: the EPUB is never written invalid.
"""

from __future__ import annotations

import re

GLOBAL_ATTRIBUTES = {"id", "class", "style", "title", "lang", "dir", "hidden", "tabindex", "accesskey",
                     "translate", "role", "spellcheck", "draggable", "xml:lang", "epub:type"}
ELEMENTS: dict[str, set[str]] = {
    **{tag: set() for tag in (
        "abbr", "address", "article", "aside", "b", "bdi", "br", "caption", "cite", "code", "dd", "dfn",
        "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hgroup", "hr", "i", "kbd", "main", "mark", "nav", "p", "picture", "pre", "rp", "rt",
        "ruby", "s", "samp", "section", "small", "span", "strong", "sub", "summary", "sup", "tbody", "tfoot",
        "thead", "tr", "u", "ul", "var", "wbr", "aside", "legend", "fieldset")},
    "a": {"href", "hreflang", "type", "rel", "target"},
    "area": {"alt", "coords", "shape", "href", "hreflang", "rel", "target", "type"},
    "bdo": set(), "blockquote": {"cite"}, "q": {"cite"}, "del": {"cite", "datetime"}, "ins": {"cite", "datetime"},
    "col": {"span"}, "colgroup": {"span"}, "data": {"value"}, "details": {"open"},
    "img": {"src", "alt", "srcset", "sizes", "usemap", "ismap", "width", "height"},
    "li": {"value"}, "map": {"name"}, "meter": {"value", "min", "max", "low", "high", "optimum"},
    "ol": {"start", "reversed", "type"}, "progress": {"value", "max"},
    "source": {"srcset", "sizes", "media", "type"}, "table": set(),
    "td": {"colspan", "rowspan", "headers"}, "th": {"colspan", "rowspan", "headers", "scope", "abbr"},
    "time": {"datetime"}, "label": {"for"},
    "input": {"type", "checked", "disabled", "value", "name", "readonly"},
}
PHRASING = {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "i", "ins", "kbd",
            "label", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var"}
FLOW_ONLY = {"address", "article", "aside", "blockquote", "details", "div", "dl", "fieldset", "figure",
             "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "nav", "ol", "p",
             "pre", "section", "table", "ul"}
TRANSPARENT = {"a", "del", "ins"}
RENAMED = {"center": ("div", "text-align: center"), "strike": ("s", ""), "tt": ("code", ""),
           "acronym": ("abbr", ""), "big": ("span", "font-size: larger"), "nobr": ("span", "white-space: nowrap"),
           "listing": ("pre", ""), "xmp": ("pre", ""), "plaintext": ("pre", ""), "dir": ("ul", ""),
           "blink": ("span", ""), "marquee": ("span", ""), "menu": ("ul", ""), "font": ("span", "")}
REFUSED = {"svg": "inline SVG is not carried: save it as an .svg file and show it with <img>",
           "math": "inline MathML is not carried: show the formula as an image or as text",
           "form": "forms do not work in books: show the form as text or an image",
           "select": "forms do not work in books: show the form as text or an image",
           "textarea": "forms do not work in books: show the form as text or an image",
           "button": "forms do not work in books: show the form as text or an image",
           "template": "templates are for scripts, which books do not carry",
           "canvas": "a canvas needs a script, which books do not carry: use an image",
           "slot": "web components need scripts, which books do not carry"}
FONT_SIZES = {"1": "x-small", "2": "small", "3": "medium", "4": "large", "5": "x-large", "6": "xx-large",
              "7": "xxx-large", "+1": "larger", "+2": "x-large", "-1": "smaller", "-2": "x-small"}
LENGTH = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(px|%)?\s*")
COLOR = re.compile(r"\s*(#[0-9a-fA-F]{3,8}|[a-zA-Z]+)\s*")
BLOCK_ALIGN = {"left", "right", "center", "justify"}


def clean_raw_html(fragment, chapter) -> None:
    """Make every element of ``fragment`` valid EPUB XHTML in place; ``chapter`` reports at lines."""
    for element in list(fragment.iter()):
        if not isinstance(element.tag, str) or element is fragment:
            continue
        tag = element.tag.lower()
        if any(isinstance(up.tag, str) and up.tag.lower() in REFUSED for up in element.iterancestors()):
            continue  # inside a refused element, which is told once
        if tag in REFUSED or ":" in tag:
            chapter.error(f"<{tag}> cannot go into the book: {REFUSED.get(tag, 'an element of another language')}",
                          needle(chapter, element))
            continue
        if tag in RENAMED:
            _rename(element, tag, chapter)
            tag = element.tag
        if tag not in ELEMENTS and tag not in DROPPED_ELSEWHERE:
            chapter.error(f"<{tag}> is not an HTML element that EPUB readers know: "
                          "use <span> or <div> with a class", needle(chapter, element))
            continue
        _clean_attributes(element, tag, chapter)
    _check_content(fragment, chapter)


DROPPED_ELSEWHERE = {"script", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet", "portal",
                     "video", "audio", "link", "style", "base", "meta", "param", "track"}


def needle(chapter, element, attribute: str | None = None) -> str:
    """The text of the source that best shows where ``element`` (or its ``attribute``) was written."""
    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    if attribute:
        value = element.get(attribute) or ""
        for text in (f'{attribute}="{value}"', f"{attribute}='{value}'", f"{attribute}={value}", attribute):
            if text in chapter.body:
                return text
    return f"<{tag}"


def _rename(element, tag: str, chapter) -> None:
    new_tag, css = RENAMED[tag]
    declarations = [css] if css else []
    if tag == "font":
        declarations += _font_css(element, chapter)
        if any(isinstance(child.tag, str) and child.tag.lower() in FLOW_ONLY for child in element.iter()):
            new_tag = "div"
    if tag in ("blink", "marquee"):
        chapter.warn(f"<{tag}> was made plain text: books do not move or blink", needle(chapter, element))
    element.tag = new_tag
    add_style(element, declarations)


def _font_css(element, chapter) -> list[str]:
    """``<font color face size>`` → CSS declarations; the attributes are removed."""
    css = []
    if (color := element.attrib.pop("color", None)) and COLOR.fullmatch(color):
        css.append(f"color: {color.strip()}")
    if face := element.attrib.pop("face", None):
        families = [name.strip().strip("'\"") for name in face.split(",") if name.strip()]
        css.append("font-family: " + ", ".join(f'"{name}"' if " " in name else name for name in families))
    if (size := element.get("size")) is not None:
        line = chapter.line(needle(chapter, element, "size"))
        del element.attrib["size"]
        if size.strip() in FONT_SIZES:
            css.append(f"font-size: {FONT_SIZES[size.strip()]}")
        else:
            chapter.warn(f"size=\"{size}\" on <font> was dropped: use 1 to 7, +1 or -1", line)
    return css


def add_style(element, declarations: list[str]) -> None:
    """Put CSS declarations on an element, before its own ``style`` (which wins)."""
    declarations = [d for d in declarations if d]
    if not declarations:
        return
    own = (element.get("style") or "").strip()
    element.set("style", "; ".join(declarations) + (f"; {own}" if own else ""))


def _clean_attributes(element, tag: str, chapter) -> None:
    """Presentational attributes → CSS; attributes an EPUB does not allow here → dropped, with a warning.

    Event handlers and references are left to :mod:`.markup`, which drops or checks them.
    """
    allowed = (ELEMENTS.get(tag, set()) | GLOBAL_ATTRIBUTES) - ({"width", "height"} if tag == "img" else set())
    css: list[str] = []
    for name, value in list(element.attrib.items()):
        local = name.lower()
        if local == "id" and (not value.strip() or re.search(r"\s", value)):
            chapter.error(f"id=\"{value}\" is not a valid id: an id has no spaces", needle(chapter, element, local))
        if local in allowed or local.startswith(("data-", "aria-", "on")) or local in ("href", "src"):
            continue
        line = chapter.line(needle(chapter, element, name))  # each written attribute in turn
        declarations = _presentational(element, tag, local, value, chapter)
        del element.attrib[name]
        if declarations is None:
            chapter.warn(f"the attribute {local}=\"{value}\" on <{tag}> was dropped: "
                         "EPUB readers do not allow it here", line)
        css += declarations or []
    add_style(element, css)


def _presentational(element, tag: str, name: str, value: str, chapter) -> list[str] | None:
    """The CSS an old presentational attribute stands for; None when it has none (it is dropped)."""
    value = value.strip()
    lowered = value.lower()
    if name == "name":
        if tag in ("a", "img") and value and not re.search(r"\s", value) and element.get("id") in (None, value):
            element.set("id", value)
            return []
        return None
    if name == "align":
        return _align(tag, lowered)
    if name == "valign" and lowered in ("top", "middle", "bottom", "baseline"):
        return [f"vertical-align: {lowered}"]
    if name in ("width", "height") and (length := _length(value)):
        return [f"{name}: {length}"]
    if name in ("hspace", "vspace") and (length := _length(value)):
        sides = ("left", "right") if name == "hspace" else ("top", "bottom")
        return [f"margin-{side}: {length}" for side in sides]
    if name == "border" and (length := _length(value or "1")):
        return ["border: 0"] if length == "0px" else [f"border: {length} solid"]
    if name == "bgcolor" and COLOR.fullmatch(value):
        return [f"background-color: {value}"]
    if name == "color" and COLOR.fullmatch(value):
        return [f"color: {value}"]
    if name == "nowrap":
        return ["white-space: nowrap"]
    if name == "cellspacing" and (length := _length(value)):
        return [f"border-spacing: {length}"]
    if name == "cellpadding" and (length := _length(value)):
        for cell in element.xpath("./tr/td|./tr/th|./*/tr/td|./*/tr/th"):
            add_style(cell, [f"padding: {length}"])
        return []
    if name == "clear" and tag == "br":
        return [f"clear: {'both' if lowered == 'all' else lowered}"]
    if name == "type" and tag in ("ul", "li") and lowered in ("disc", "circle", "square"):
        return [f"list-style-type: {lowered}"]
    if name == "size" and tag == "hr" and (length := _length(value)):
        return [f"height: {length}"]
    return None


def _align(tag: str, value: str) -> list[str] | None:
    if tag == "img":
        if value in ("left", "right"):
            return [f"float: {value}"]
        if value in ("center", "middle"):
            return ["display: block", "margin-left: auto", "margin-right: auto"] if value == "center" \
                else ["vertical-align: middle"]
        return [f"vertical-align: {value}"] if value in ("top", "bottom", "baseline") else None
    if tag == "table":
        if value in ("left", "right"):
            return [f"float: {value}"]
        return ["margin-left: auto", "margin-right: auto"] if value == "center" else None
    return [f"text-align: {value}"] if value in BLOCK_ALIGN else None


def _length(value: str) -> str | None:
    match = LENGTH.fullmatch(value)
    if not match:
        return None
    number = match[1].rstrip("0").rstrip(".") if "." in match[1] else match[1]
    return f"{number}{match[2] or 'px'}"


def _check_content(fragment, chapter) -> None:
    """Blocks inside phrases and list items outside lists cannot be read by EPUB readers: errors.

    A paragraph holding blocks (Markdown wraps a line that starts with inline HTML such as
    ``<font>`` in ``<p>``) becomes a ``<div>``.
    """
    phrase_only = (PHRASING - TRANSPARENT) | {"p", "h1", "h2", "h3", "h4", "h5", "h6"}
    for element in fragment.iter():
        if not isinstance(element.tag, str) or element is fragment:
            continue
        tag = element.tag.lower()
        parent = element.getparent()
        if tag in FLOW_ONLY:
            holder = next((up for up in element.iterancestors() if up.tag not in TRANSPARENT), None)
            if holder is not None and holder.tag == "p" and holder is not fragment:
                holder.tag = "div"  # Markdown wrapped a line of raw HTML that holds blocks in a paragraph
            elif holder is not None and holder is not fragment and holder.tag in phrase_only:
                chapter.error(f"a <{tag}> inside a <{holder.tag}> is not valid HTML: close the <{holder.tag}> "
                              "first", needle(chapter, element))
        elif tag == "li" and parent is not None and parent.tag not in ("ul", "ol", "menu"):
            chapter.error("an <li> outside a list (<ul> or <ol>) is not valid HTML", needle(chapter, element))
