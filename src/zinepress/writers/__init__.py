"""The output writers, by format name.

A writer's module is imported when the writer is first asked for, so that a build the
cache answers (or ``--help``) never loads WeasyPrint.
"""

from collections.abc import Iterator, Mapping
from importlib import import_module

from .base import BuildSession, Writer


class _Registry(Mapping):
    """Format name → writer class, from ``".module:Class"`` places imported on first use."""

    def __init__(self, places: dict[str, str]):
        self._places = places

    def __getitem__(self, name: str) -> type[Writer]:
        module, _, attribute = self._places[name].partition(":")
        return getattr(import_module(module, __name__), attribute)

    def __contains__(self, name: object) -> bool:
        return name in self._places

    def __iter__(self) -> Iterator[str]:
        return iter(self._places)

    def __len__(self) -> int:
        return len(self._places)


WRITERS: Mapping[str, type[Writer]] = _Registry({"epub": ".epub:EpubWriter", "pdf": ".pdf:PdfWriter"})

__all__ = ["WRITERS", "BuildSession", "Writer"]
