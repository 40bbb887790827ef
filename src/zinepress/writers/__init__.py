"""The output writers, by format name."""

from .base import BuildSession, Writer, Written
from .epub import EpubWriter
from .pdf import PdfWriter
from .press import PressWriter
from .site import SiteWriter
from .zine import ZineWriter

WRITERS: dict[str, type[Writer]] = {writer.name: writer for writer in (EpubWriter, PdfWriter, PressWriter,
                                                                      ZineWriter, SiteWriter)}

__all__ = ["WRITERS", "BuildSession", "Writer", "Written"]
