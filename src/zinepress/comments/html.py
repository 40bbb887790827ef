"""Comment HTML (WordPress, Disqus, Remark42, Mastodon) or plain text → the Markdown comments allow.

The HTML is cleaned by nh3 first (scripts and styles go with their content, every other
tag keeps its text), then read with lxml and written as Markdown: paragraphs, line breaks,
emphasis, code, quotes, lists and http, https or mailto links. Everything else becomes
its text, escaped so that it reads back as the same words. Nothing is evaluated.
"""

from __future__ import annotations

import re

import lxml.html
import nh3

KEPT_TAGS = {"p", "br", "div", "em", "i", "strong", "b", "code", "pre", "blockquote", "ul", "ol", "li",
             "a", "span", "img", "h1", "h2", "h3", "h4", "h5", "h6"}
BLOCK_TAGS = {"p", "div", "blockquote", "ul", "ol", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
LINK_SCHEMES = ("http://", "https://", "mailto:")
WORDPRESS_BLOCKS = re.compile(r"<(?:p|div|blockquote|ul|ol|pre|h[1-6])\b", re.IGNORECASE)
INLINE_SPECIALS = re.compile(r"([\\`*_\[\]])")
ENTITY_LIKE = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
AUTOLINK_LIKE = re.compile(r"<(?=[A-Za-z][A-Za-z0-9+.-]*:|[^\s<>]+@)")
RULE_LINE = re.compile(r"[-=*_ \t]+")
LINE_START = re.compile(r"(\s*)([#>+-]|\d+[.)](?=\s|$))")


def escape_inline(text: str) -> str:
    """Text → Markdown that shows it as typed inside a line (no emphasis, links or code)."""
    text = INLINE_SPECIALS.sub(r"\\\1", text)
    return AUTOLINK_LIKE.sub("&lt;", ENTITY_LIKE.sub("&amp;", text))


def escape_text(text: str) -> str:
    """Plain text → Markdown that shows it as typed (no emphasis, links, lists or headings)."""
    return "\n".join(_escape_line_start(line) for line in escape_inline(text).split("\n"))


def _escape_line_start(line: str) -> str:
    """A line that would start a heading, quote, list or rule, escaped (it is inline-escaped already)."""
    stripped = line.strip()
    if stripped and RULE_LINE.fullmatch(stripped.replace("\\", "")) and len(stripped.replace(" ", "")) >= 2:
        return re.sub(r"(?<!\\)([-=*_])", r"\\\1", stripped)
    match = LINE_START.match(line.lstrip())
    if not match:
        return line.lstrip()
    marker = match.group(2)
    escaped = marker[:-1] + "\\" + marker[-1] if marker[0].isdigit() else "\\" + marker
    return escaped + line.lstrip()[len(marker):]


def plain_text_markdown(text: str) -> str:
    """A comment typed as plain text (pasted from a page) → Markdown of the same words."""
    return escape_text(text.strip())


def html_markdown(html: str, autop: bool = False) -> str:
    """Comment HTML → Markdown. ``autop``: blank lines are paragraphs and newlines line
    breaks, as WordPress shows comments that hold no block tags."""
    if autop and not WORDPRESS_BLOCKS.search(html):
        paragraphs = re.split(r"\n\s*\n", html.strip())
        html = "".join("<p>" + paragraph.strip().replace("\n", "<br>") + "</p>" for paragraph in paragraphs)
    cleaned = nh3.clean(html, tags=KEPT_TAGS, attributes={"a": {"href", "class"}, "span": {"class"}, "img": {"alt"}},
                        url_schemes={"http", "https", "mailto"}, link_rel=None)
    root = lxml.html.fragment_fromstring(cleaned or "", create_parent="div")
    return "\n\n".join(block for block in _blocks(root) if block.strip()).strip()


def _blocks(element) -> list[str]:
    """The Markdown blocks of an element's content: runs of inline content become paragraphs."""
    blocks: list[str] = []
    run = [_text(element.text)]
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in BLOCK_TAGS:
            blocks.append(_paragraph("".join(run)))
            blocks.extend(_block(child, tag))
            run = [_text(child.tail)]
        else:
            run.append(_inline(child) + _text(child.tail))
    blocks.append(_paragraph("".join(run)))
    return [block for block in blocks if block.strip()]


def _block(element, tag: str) -> list[str]:
    if tag == "blockquote":
        inner = "\n\n".join(_blocks(element))
        return ["\n".join(("> " + line).rstrip() for line in inner.split("\n"))] if inner else []
    if tag in ("ul", "ol"):
        items = []
        for number, item in enumerate(element.xpath("./li"), start=1):
            marker = f"{number}. " if tag == "ol" else "- "
            inner = "\n\n".join(_blocks(item)) or ""
            items.append(marker + inner.replace("\n", "\n" + " " * len(marker)))
        return ["\n".join(items)] if items else []
    if tag == "pre":
        code = element.text_content().strip("\n")
        return ["\n".join("    " + line for line in code.split("\n"))] if code.strip() else []
    if tag.startswith("h"):
        text = _paragraph(_inline_content(element))
        return [f"**{text}**"] if text else []
    return _blocks(element)


def _paragraph(markdown: str) -> str:
    lines = [line.strip() for line in markdown.split("\n")]
    return "  \n".join(_escape_line_start(line) for line in lines if line).strip()


def _text(text: str | None) -> str:
    return escape_inline(re.sub(r"\s+", " ", text)) if text else ""


def _inline_content(element) -> str:
    return _text(element.text) + "".join(_inline(child) + _text(child.tail) for child in element)


def _inline(element) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag == "br":
        return "\n"
    if tag == "img":
        return _text(element.get("alt") or "")
    if tag == "code":
        return _code(element.text_content())
    inner = _inline_content(element)
    if tag in ("em", "i", "strong", "b") and inner.strip():
        mark = "*" if tag in ("em", "i") else "**"
        lead, core, trail = re.match(r"(\s*)(.*?)(\s*)$", inner, re.DOTALL).groups()
        return f"{lead}{mark}{core}{mark}{trail}"
    if tag == "a":
        return _link(element, inner)
    return inner


def _code(code: str) -> str:
    code = re.sub(r"\s+", " ", code)
    if not code.strip():
        return code
    fence = "`" * (max((len(run) for run in re.findall(r"`+", code)), default=0) + 1)
    padding = " " if code.startswith("`") or code.endswith("`") else ""
    return f"{fence}{padding}{code}{padding}{fence}"


def _link(element, inner: str) -> str:
    href = (element.get("href") or "").strip()
    classes = (element.get("class") or "").split()
    if not href.lower().startswith(LINK_SCHEMES) or "mention" in classes or "hashtag" in classes:
        return inner
    shown = re.sub(r"\s+", "", element.text_content())
    visible = shown.rstrip("…")
    address = re.sub(r"[\s()<>]", lambda match: f"%{ord(match.group()):02X}", href)
    if href.lower().startswith(("http://", "https://")) and visible and (
            visible in (href, href.split("://", 1)[1]) or (shown.endswith("…") and href.startswith(visible))):
        return f"<{address}>"
    return f"[{inner.strip()}]({address})" if inner.strip() else f"<{address}>"
