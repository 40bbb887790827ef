"""The laid-out book → ``S.pdf``: the digital edition, at its trim size, for screens.

The layout stage (:mod:`..paged`) lays the book out once, with the configured bleed so
that page backgrounds reach into it, and joins its parts into the digital edition: cut
back to the trim, with page labels (roman front matter, arabic from the first chapter).
This writer writes those bytes.
"""

from __future__ import annotations

from pathlib import Path

from ..atomic import write_atomically
from ..render import RenderedBook
from .base import BuildSession, Writer


class PdfWriter(Writer):
    name = "pdf"
    suffix = ".pdf"
    description = "PDF for screens"
    uses_layout = "pdf"

    def write(self, rendered: RenderedBook, folder: Path, session: BuildSession) -> Path:
        return write_atomically(folder / self.file_name(rendered), session.laid_out.pdf)
