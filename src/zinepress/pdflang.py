"""A finished tagged PDF and its book → the same PDF, with ``/Lang`` where the language changes.

WeasyPrint 70 writes the book's language on the catalog only, so a screen reader reads every
chapter in it. This pass adds ``/Lang``:

- on every top-level structure element of a chapter whose language differs from the book's:
  a chapter runs from its named destination (its section id) to the next section's page;
- on the structure elements of a passage in another language (``<p lang="ar">``, a
  ``<span lang>``…): elements of the same kind on the chapter's pages whose text is the
  passage's text or a part of it (the text is read through each font's ``ToUnicode`` map;
  right-to-left text is stored in visual order, so it is compared as a set of characters).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import lxml.html
import pikepdf
from pikepdf import Dictionary, Name, NameTree, String

PDF_TAGS = {"p": "/P", "blockquote": "/BlockQuote", "li": "/LI", "dt": "/LI", "dd": "/LI", "span": "/Span",
            "div": "/Div", "section": "/Sect", "article": "/Art", "td": "/TD", "th": "/TH",
            "figcaption": "/Caption", "caption": "/Caption", "ul": "/L", "ol": "/L", "dl": "/L",
            **{f"h{level}": f"/H{level}" for level in range(1, 7)}}
IGNORED = re.compile(r"[\s\u00ad\u2010\u200b-]+")


def tag_languages(pdf: pikepdf.Pdf, rendered) -> None:
    """Add ``/Lang`` to the structure elements of chapters and passages not in the book's language."""
    root = pdf.Root.get("/StructTreeRoot")
    if root is None or not len(root.K):
        return
    book_lang = rendered.config.language
    starts = _section_starts(pdf, rendered)
    document = root.K[0]
    pages = {page.objgen: index for index, page in enumerate(pdf.pages)}
    texts = _MarkedText(pdf)
    for chapter in rendered.book.chapters:
        span = starts.get(chapter.slug)
        if span is None:
            continue
        elements = [kid for kid in _kids(document) if _page_of(kid, pages) in range(*span)]
        if chapter.lang != book_lang:
            for element in elements:
                element.Lang = String(chapter.lang)
        passages = _passages(chapter.html, chapter.lang)
        if passages:
            _tag_passages(elements, passages, texts, pages)


def _section_starts(pdf: pikepdf.Pdf, rendered) -> dict[str, tuple[int, int]]:
    """Each top-level section id → the range of pages it holds (from its destination to the next one's)."""
    names = pdf.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return {}
    tree = NameTree(names.Dests)
    pages = {page.objgen: index for index, page in enumerate(pdf.pages)}
    body = lxml.html.document_fromstring(rendered.print_html).find("body")
    found = []
    for section in body if body is not None else ():
        section_id = section.get("id") if isinstance(section.tag, str) else None
        if section_id and section_id in tree:
            target = tree[section_id]
            array = target.D if isinstance(target, Dictionary) else target
            found.append((pages.get(array[0].objgen, 0), section_id))
    found.sort()
    ends = [start for start, _ in found[1:]] + [len(pdf.pages)]
    return {section_id: (start, max(end, start + 1)) for (start, section_id), end in zip(found, ends)}


def _passages(html: str, chapter_lang: str) -> list[tuple[str, str, str]]:
    """``(pdf tag, language, text)`` of each element of a chapter in a language other than its own."""
    fragment = lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div")
    found = []
    for element in fragment.iter():
        if not isinstance(element.tag, str):
            continue
        lang = element.get("lang") or element.get("{http://www.w3.org/XML/1998/namespace}lang")
        if lang and lang != chapter_lang and element.tag in PDF_TAGS:
            text = IGNORED.sub("", element.text_content())
            if text:
                found.append((PDF_TAGS[element.tag], lang, text))
    return found


def _tag_passages(elements, passages, texts: _MarkedText, pages: dict) -> None:
    for element in _walk(elements):
        kind = str(element.get("/S"))
        candidates = [(lang, text) for tag, lang, text in passages if tag == kind]
        if not candidates:
            continue
        own = IGNORED.sub("", texts.of(element, pages))
        if not own:
            continue
        for lang, text in candidates:
            if own in text or (Counter(own) <= Counter(text) and len(own) * 3 >= len(text)):
                element.Lang = String(lang)
                break


def _kids(element) -> list:
    kids = element.get("/K")
    if kids is None:
        return []
    kids = list(kids) if isinstance(kids, pikepdf.Array) else [kids]
    return [kid for kid in kids if isinstance(kid, Dictionary) and kid.get("/Type") != Name.MCR
            and kid.get("/Type") != Name.OBJR]


def _walk(elements) -> Iterator:
    for element in elements:
        yield element
        yield from _walk(_kids(element))


def _page_of(element, pages: dict) -> int | None:
    page = element.get("/Pg")
    return pages.get(page.objgen) if page is not None else None


class _MarkedText:
    """The text of each marked-content sequence (page, MCID), decoded through the fonts' ToUnicode maps."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf = pdf
        self.pages: dict[int, dict[int, str]] = {}
        self.cmaps: dict[tuple[int, int], tuple[dict[bytes, str], int]] = {}

    def of(self, element, pages: dict) -> str:
        """The text of a structure element: its marked content and that of its descendants, in order."""
        page = _page_of(element, pages)
        kids = element.get("/K")
        kids = list(kids) if isinstance(kids, pikepdf.Array) else ([] if kids is None else [kids])
        text = []
        for kid in kids:
            if isinstance(kid, int) and page is not None:
                text.append(self._page(page).get(int(kid), ""))
            elif isinstance(kid, Dictionary) and kid.get("/Type") == Name.MCR:
                kid_page = _page_of(kid, pages)
                kid_page = page if kid_page is None else kid_page
                text.append(self._page(kid_page).get(int(kid.MCID), "") if kid_page is not None else "")
            elif isinstance(kid, Dictionary) and kid.get("/Type") != Name.OBJR:
                text.append(self.of(kid, pages))
        return "".join(text)

    def _page(self, index: int) -> dict[int, str]:
        if index not in self.pages:
            self.pages[index] = self._read_page(self.pdf.pages[index])
        return self.pages[index]

    def _read_page(self, page) -> dict[int, str]:
        fonts = page.obj.get("/Resources", Dictionary()).get("/Font", Dictionary())
        found: dict[int, list[str]] = {}
        stack: list[int | None] = []
        font = None
        for operands, operator in pikepdf.parse_content_stream(page):
            name = str(operator)
            if name in ("BDC", "BMC"):
                properties = operands[1] if name == "BDC" and len(operands) > 1 else None
                mcid = properties.get("/MCID") if isinstance(properties, Dictionary) else None
                stack.append(int(mcid) if mcid is not None else (stack[-1] if stack else None))
            elif name == "EMC" and stack:
                stack.pop()
            elif name == "Tf":
                font = fonts.get(str(operands[0]))
            elif name in ("Tj", "TJ", "'", '"') and stack and stack[-1] is not None and font is not None:
                strings = operands[-1] if name == "TJ" else [operands[-1]]
                found.setdefault(stack[-1], []).extend(
                    self._decode(font, bytes(item)) for item in strings if isinstance(item, String))
        return {mcid: "".join(parts) for mcid, parts in found.items()}

    def _decode(self, font, data: bytes) -> str:
        cmap, width = self._cmap(font)
        return "".join(cmap.get(data[index:index + width], "") for index in range(0, len(data), width))

    def _cmap(self, font) -> tuple[dict[bytes, str], int]:
        key = font.objgen
        if key not in self.cmaps:
            width = 2 if font.get("/Subtype") == Name.Type0 else 1
            stream = font.get("/ToUnicode")
            self.cmaps[key] = (parse_to_unicode(stream.read_bytes()) if stream is not None else {}, width)
        return self.cmaps[key]


HEX = re.compile(rb"<([0-9A-Fa-f]+)>")


def parse_to_unicode(data: bytes) -> dict[bytes, str]:
    """A ToUnicode CMap's ``bfchar`` and ``bfrange`` entries as code bytes → text."""
    mapping: dict[bytes, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        values = HEX.findall(block)
        for code, text in zip(values[::2], values[1::2]):
            mapping[bytes.fromhex(code.decode())] = _utf16(text)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for line in block.splitlines():
            values = HEX.findall(line)
            if len(values) < 3:
                continue
            low, high = int(values[0], 16), int(values[1], 16)
            size = len(values[0]) // 2
            if b"[" in line:
                targets = [_utf16(value) for value in values[2:]]
            else:
                start = int(values[2], 16)
                targets = [chr(start + offset) for offset in range(high - low + 1)]
            for offset, text in enumerate(targets[:high - low + 1]):
                mapping[(low + offset).to_bytes(size, "big")] = text
    return mapping


def _utf16(value: bytes) -> str:
    return bytes.fromhex(value.decode()).decode("utf-16-be", errors="replace")
