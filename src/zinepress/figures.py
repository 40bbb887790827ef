"""Python-Markdown's paragraphs → figures: an image alone in its paragraph is set as a block.

``![alt](src "caption")`` alone in its paragraph becomes ``<figure>`` with the title as its
``<figcaption>``; an untitled image alone in its paragraph stays a paragraph, marked
``class="figure"``, so the stylesheets set it as a block (not indented, never wider than the
text block). An image within a sentence is left as it is. Attributes from ``{: … }`` stay
on the image.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor


def lone_image(paragraph: etree.Element) -> etree.Element | None:
    """The image that is the only content of ``paragraph`` (a link around it allowed), else None."""
    if (paragraph.text or "").strip() or len(paragraph) != 1 or (paragraph[0].tail or "").strip():
        return None
    child = paragraph[0]
    if child.tag == "img":
        return child
    if child.tag == "a" and len(child) == 1 and not (child.text or "").strip() \
            and not (child[0].tail or "").strip() and child[0].tag == "img":
        return child[0]
    return None


class FigureProcessor(Treeprocessor):
    """Marks or converts every paragraph that holds an image alone."""

    def run(self, root: etree.Element) -> None:
        for parent in root.iter():
            for index, paragraph in enumerate(list(parent)):
                if paragraph.tag != "p" or paragraph.get("class"):
                    continue
                image = lone_image(paragraph)
                if image is None:
                    continue
                caption = (image.get("title") or "").strip()
                if not caption:
                    paragraph.set("class", "figure")
                    continue
                del image.attrib["title"]
                figure = etree.Element("figure", {"class": "figure"})
                figure.extend(list(paragraph))
                figcaption = etree.SubElement(figure, "figcaption")
                figcaption.text = caption
                figure.tail = paragraph.tail
                parent.remove(paragraph)
                parent.insert(index, figure)


class FigureExtension(Extension):
    """Registers :class:`FigureProcessor` after attribute lists are applied."""

    def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
        md.treeprocessors.register(FigureProcessor(md), "zinepress-figures", 5)
