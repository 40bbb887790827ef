"""The output writers, by format name."""

from .base import BuildSession, Writer
from .epub import EpubWriter
from .pdf import PdfWriter

WRITERS: dict[str, type[Writer]] = {writer.name: writer for writer in (EpubWriter, PdfWriter)}

__all__ = ["WRITERS", "BuildSession", "Writer"]
