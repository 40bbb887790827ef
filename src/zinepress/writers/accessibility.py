"""The finished EPUB documents → accessibility metadata per EPUB Accessibility 1.1.

Every statement is derived from the content itself: the access modes from whether there
are images, the features from what the documents hold (headings, a page list, text
alternatives), and the conformance claim only when zinepress's own checks
(:mod:`zinepress.accessibility`, the rules ``zinepress check`` applies) pass: every image
not marked decorative has a text alternative, every document has a language, headings do
not skip levels.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .. import accessibility as rules

CONFORMANCE = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"


@dataclass(frozen=True)
class Findings:
    """What the documents hold, as far as accessibility metadata is concerned."""

    images: int
    images_without_alt: int
    headings: bool
    headings_in_order: bool
    languages: bool
    tables: bool

    @property
    def conformant(self) -> bool:
        return self.images_without_alt == 0 and self.headings_in_order and self.languages


def examine(documents: dict[str, bytes]) -> Findings:
    """Look through the XHTML documents for images, alt text, headings and languages."""
    images = without_alt = 0
    headings = tables = False
    in_order = languages = True
    for name, data in documents.items():
        root = etree.fromstring(data)
        languages = languages and not rules.language_problems(name, root)
        found = rules.images(root)
        images += len(found)
        without_alt += sum(1 for image in found if rules.lacks_alt(image))
        levels = [int(heading.tag[-1]) for heading in rules.headings(root)]
        headings = headings or bool(levels)
        in_order = in_order and not any(rules.skipped_levels(levels))
        tables = tables or next(root.iter(f"{{{rules.XHTML}}}table"), None) is not None
    return Findings(images, without_alt, headings, in_order, languages, tables)


def features(findings: Findings, page_breaks: int) -> list[str]:
    """schema:accessibilityFeature values for what the book really has."""
    found = ["tableOfContents", "readingOrder", "displayTransformability"]
    if findings.headings:
        found.append("structuralNavigation")
    if findings.images and not findings.images_without_alt:
        found.append("alternativeText")
    if page_breaks:
        found += ["pageBreakMarkers", "pageNavigation"]
    return found


def summary(findings: Findings, page_breaks: int) -> str:
    """A sentence or two for people choosing the book."""
    parts = ["This publication has a table of contents and a logical reading order"]
    if findings.headings:
        parts[0] += ", with headings for navigation"
    if page_breaks:
        parts.append(f"Page breaks and a page list match the {page_breaks} pages of the print edition's body")
    if findings.images:
        parts.append("Every image has a text alternative" if not findings.images_without_alt
                     else f"{findings.images_without_alt} of {findings.images} images lack a text alternative")
    if findings.conformant:
        parts.append(f"It meets {CONFORMANCE}")
    return ". ".join(parts) + "."


def add_metadata(book, config, documents: dict[str, bytes], assets, page_breaks: list) -> Findings:
    """Add the schema.org accessibility properties, the page source and the conformance claim."""
    findings = examine(documents)

    def meta(name: str, value: str) -> None:
        book.add_metadata(None, "meta", value, {"property": name})

    meta("schema:accessMode", "textual")
    if findings.images:
        meta("schema:accessMode", "visual")
        if not findings.images_without_alt:
            meta("schema:accessModeSufficient", "textual")
        meta("schema:accessModeSufficient", "textual,visual")
    else:
        meta("schema:accessModeSufficient", "textual")
    for feature in features(findings, len(page_breaks)):
        meta("schema:accessibilityFeature", feature)
    animated = any(asset.media_type == "image/gif" for asset in assets)
    meta("schema:accessibilityHazard", "unknown" if animated else "none")
    meta("schema:accessibilitySummary", summary(findings, len(page_breaks)))
    if page_breaks:
        meta("pageBreakSource", f"{config.title}, PDF edition ({config.slug}.pdf)")
    if findings.conformant:
        meta("dcterms:conformsTo", CONFORMANCE)
    return findings
