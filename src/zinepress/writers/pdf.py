"""``RenderedBook`` → ``S.pdf``: the book laid out by WeasyPrint at its trim size, for screens.

The layout (WeasyPrint's costly step) is made once per build, part by part
(``paged.py``), and shared through the build session: the part PDFs are joined once
(``joining.py``) and the press PDF and the zine reuse the joined pages. They are laid out
with the configured bleed, so page backgrounds reach into it; the digital edition is cut
back to the trim and given page labels (roman front matter, arabic from the first
chapter). Images below 300 dpi at their printed size are warned about.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf

from ..atomic import write_atomically
from ..pdflang import tag_languages
from ..render import RenderedBook
from .base import BuildSession, Writer
from .joining import join_tagged, save_reproducibly
from .paged import paged_book, pdf_identifier


class PdfWriter(Writer):
    name = "pdf"
    suffix = ".pdf"
    description = "PDF for screens"

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path:
        return write_atomically(folder / self.file_name(rendered), digital_pdf(rendered, session))


def joined_book(rendered: RenderedBook, session: BuildSession) -> pikepdf.Pdf:
    """The laid-out parts joined into one tagged PDF with page labels, the bleed still on (once per build)."""
    def join() -> pikepdf.Pdf:
        paged = paged_book(rendered, session)
        pdf = join_tagged(paged.parts, paged.borrowed)
        tag_languages(pdf, rendered)
        set_page_labels(pdf, paged.first_body)
        return pdf
    return session.once("pdf-joined", join)


def digital_pdf(rendered: RenderedBook, session: BuildSession) -> bytes:
    """The bytes of ``S.pdf``: the joined book cut back to its trim (once per build; the zine imposes it)."""
    def make() -> bytes:
        pdf = joined_book(rendered, session)
        for page in pdf.pages:
            page.obj.MediaBox = page.obj.BleedBox = page.obj.TrimBox
        return save_reproducibly(pdf, pdf_identifier(rendered))
    return session.once("pdf-digital", make)


def set_page_labels(pdf: pikepdf.Pdf, first_body: int) -> None:
    """Roman page labels for the front matter, arabic from the first chapter on."""
    ranges = [0, pikepdf.Dictionary(S=pikepdf.Name.r)] if first_body > 0 else []
    ranges += [first_body, pikepdf.Dictionary(S=pikepdf.Name.D)]
    pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(ranges))
