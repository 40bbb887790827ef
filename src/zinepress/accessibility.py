"""XHTML documents and stylesheets → accessibility problems: zinepress's one set of rules.

Alt text on every image that is not marked decorative (``role="presentation"`` or
``"none"``), headings that do not skip a level, a language on every document (and where
an element sets both ``lang`` and ``xml:lang``, the same one), and enough contrast between
the text colours of the stylesheets and their backgrounds (WCAG 2 AA: 4.5:1). The build's
warnings, the EPUB's accessibility metadata and ``zinepress check`` all ask these rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import tinycss2
import tinycss2.color3
from lxml import etree

from .config import LANGUAGE_TAG
from .errors import SEVERITY, Problem

XHTML = "http://www.w3.org/1999/xhtml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DECORATIVE_ROLES = ("presentation", "none")
MINIMUM_CONTRAST = 4.5
LARGE_TEXT_CONTRAST = 3.0  # WCAG: text of 18pt (24px) and more
WHITE = (1.0, 1.0, 1.0)
BLACK = (0.0, 0.0, 0.0)

# Where a problem in an EPUB document comes from: (document name, text to look for) → (path, line).
Locate = Callable[[str, str | None], tuple[Path | None, int | None]]


def nowhere(name: str, text: str | None) -> tuple[None, None]:
    """A :data:`Locate` for problems that are only counted."""
    return None, None


def lacks_alt(image: etree._Element) -> bool:
    """Whether an ``<img>`` has no text alternative although it is not marked decorative."""
    return not (image.get("alt") or "").strip() and image.get("role") not in DECORATIVE_ROLES


def skipped_levels(levels: Iterable[int], previous: int = 0) -> Iterator[tuple[int, int, int]]:
    """``(index, level before, level)`` of each heading that goes down more than one level at once.

    ``previous`` is the level of the heading before the first (0: none, so the first must be a level 1).
    """
    for index, level in enumerate(levels):
        if level > previous + 1:
            yield index, previous, level
        previous = level


def images(root: etree._Element) -> list[etree._Element]:
    """The ``<img>`` elements of an XHTML document."""
    return list(root.iter(f"{{{XHTML}}}img"))


def headings(root: etree._Element) -> list[etree._Element]:
    """The ``<h1>`` … ``<h6>`` elements of an XHTML document, in order."""
    return list(root.iter(*(f"{{{XHTML}}}h{level}" for level in range(1, 7))))


def document_problems(name: str, root: etree._Element, locate: Locate = nowhere) -> list[Problem]:
    """Alt text, heading order and language of one XHTML document of the EPUB."""
    problems = []
    for image in images(root):
        if lacks_alt(image):
            src = image.get("src", "")
            problems.append(Problem(f"image '{src}' has no alt text", *locate(name, src), SEVERITY["alt-text"]))
    found = headings(root)
    for index, previous, level in skipped_levels(int(heading.tag[-1]) for heading in found):
        text = " ".join("".join(found[index].itertext()).split())
        problems.append(Problem(f"heading '{text}' is level {level} after level {previous}: "
                                "headings must not skip a level", *locate(name, text),
                                SEVERITY["heading-order"]))
    problems += language_problems(name, root, locate)
    return problems


def language_problems(name: str, root: etree._Element, locate: Locate = nowhere) -> list[Problem]:
    """The document declares its language; every language tag is valid BCP 47, and an element
    that sets both ``lang`` and ``xml:lang`` sets the same one (as HTML asks)."""
    problems = []
    if not root.get("lang") and not root.get(XML_LANG):
        problems.append(Problem(f"{name} declares no language (lang and xml:lang on <html>)",
                                *locate(name, None), SEVERITY["language"]))
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        lang, xml_lang = element.get("lang"), element.get(XML_LANG)
        if lang is None and xml_lang is None:
            continue
        tag = lang if lang is not None else xml_lang
        where = locate(name, f'"{lang or xml_lang}"')
        if lang is not None and xml_lang is not None and lang.lower() != xml_lang.lower():
            problems.append(Problem(f"lang={lang!r} and xml:lang={xml_lang!r} disagree on "
                                    f"<{etree.QName(element).localname}> in {name}", *where, SEVERITY["language"]))
        elif not LANGUAGE_TAG.match(tag):
            problems.append(Problem(f"{tag!r} in {name} is not a BCP 47 language tag such as 'en'", *where,
                                    SEVERITY["language"]))
    return problems


def contrast_problems(css: str, shown_as: Path) -> list[Problem]:
    """Text colours of a stylesheet's text against their backgrounds (white unless the rule sets one)."""
    rules = tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True)
    problems = []
    for declarations in _blocks(rules):
        colours = {d.lower_name: (_colour(d.value), d.source_line) for d in declarations
                   if d.type == "declaration" and d.lower_name in ("color", "background", "background-color")}
        text, line = colours.get("color", (None, None))
        background = colours.get("background-color", colours.get("background", (None, None)))[0]
        if text is None and background is None:
            continue
        if text is None:
            text, line = (BLACK + (1.0,)), colours.get("background-color", colours.get("background"))[1]
        back = background[:3] if background else WHITE
        ratio = contrast(_over(text, back), back)
        needed = LARGE_TEXT_CONTRAST if _large(declarations) else MINIMUM_CONTRAST
        if ratio < needed:
            problems.append(Problem(f"text colour {_hex(_over(text, back))} on {_hex(back)} has a contrast of "
                                    f"{ratio:.2f}:1; readers need at least {needed}:1", shown_as, line,
                                    SEVERITY["contrast"]))
    return problems


def _blocks(rules) -> Iterator[list]:
    """The declaration lists of every rule, nested ones (@media, @page, margin boxes) included."""
    for rule in rules:
        if rule.type not in ("qualified-rule", "at-rule") or rule.content is None:
            continue
        contents = tinycss2.parse_blocks_contents(rule.content, skip_whitespace=True, skip_comments=True)
        yield [item for item in contents if item.type == "declaration"]
        yield from _blocks(item for item in contents if item.type in ("qualified-rule", "at-rule"))


def _large(declarations) -> bool:
    """Whether a rule sets a font size of at least 18pt (24px), where WCAG asks for less contrast."""
    for declaration in declarations:
        if declaration.type == "declaration" and declaration.lower_name == "font-size":
            for token in declaration.value:
                if token.type == "dimension":
                    points = {"pt": 1.0, "px": 0.75, "mm": 72 / 25.4, "pc": 12.0}.get(token.lower_unit)
                    return points is not None and token.value * points >= 18
    return False


def _colour(tokens) -> tuple[float, float, float, float] | None:
    """The first colour among a declaration's tokens, as RGBA in 0…1; None when there is none."""
    for token in tokens:
        if token.type in ("whitespace", "comment"):
            continue
        parsed = tinycss2.color3.parse_color(token)
        if parsed is not None and parsed != "currentColor":
            return tuple(parsed)
    return None


def _over(colour: tuple[float, ...], background: tuple[float, float, float]) -> tuple[float, float, float]:
    alpha = colour[3] if len(colour) > 3 else 1.0
    return tuple(c * alpha + b * (1 - alpha) for c, b in zip(colour[:3], background))


def _hex(colour: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in colour)


def luminance(colour: tuple[float, float, float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in colour]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: tuple[float, float, float], second: tuple[float, float, float]) -> float:
    """WCAG 2 contrast ratio, from 1 to 21."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
