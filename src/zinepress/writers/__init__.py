"""The output writers, by format name."""

from .base import BuildSession, Writer
from .epub import EpubWriter
from .pdf import PdfWriter
from .press import PressWriter
from .zine import ZineWriter

WRITERS: dict[str, type[Writer]] = {writer.name: writer for writer in (EpubWriter, PdfWriter, PressWriter,
                                                                          ZineWriter)}

__all__ = ["WRITERS", "BuildSession", "Writer"]
