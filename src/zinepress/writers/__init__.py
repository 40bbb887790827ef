"""The output writers, by format name."""

from .base import BuildSession, Writer, Written
from .epub import EpubWriter
from .pdf import PdfWriter
from .site import SiteWriter

WRITERS: dict[str, type[Writer]] = {writer.name: writer for writer in (EpubWriter, PdfWriter, SiteWriter)}

__all__ = ["WRITERS", "BuildSession", "Writer", "Written"]
