"""The output writers, by format name.

A writer's module is imported when the writer is first asked for, so that a build the
cache answers (or ``--help``) never loads WeasyPrint.
"""

from collections.abc import Iterator, MutableMapping
from importlib import import_module

from .base import BuildSession, Writer, Written


class _Registry(MutableMapping):
    """Format name → writer class; a writer registered as ``".module:Class"`` is imported on first use."""

    def __init__(self, places: dict[str, str | type[Writer]], listers: frozenset[str] = frozenset(),
                 layouts: frozenset[str] = frozenset(), early: frozenset[str] = frozenset(),
                 ahead: frozenset[str] = frozenset()):
        self._places = dict(places)
        self._listers, self._layouts, self._early, self._ahead = listers, layouts, early, ahead

    def lists_books(self, name: str) -> bool:
        """Whether the writer lists the books (its class's ``needs_outputs``), known without importing it."""
        place = self._places[name]
        return place.needs_outputs if not isinstance(place, str) else name in self._listers

    def lays_out(self, name: str) -> bool:
        """Whether the writer uses the print layout (its class's ``uses_layout``), known without importing it."""
        place = self._places[name]
        return bool(place.uses_layout) if not isinstance(place, str) else name in self._layouts

    def works_early(self, name: str) -> bool:
        """Whether the writer has work that needs only the rendered book (its class's ``works_early``),
        known without importing it."""
        place = self._places[name]
        return place.works_early if not isinstance(place, str) else name in self._early

    def works_ahead(self, name: str) -> bool:
        """Whether the writer has work to fork beside the layout (its class's ``works_ahead``), known
        without importing it."""
        place = self._places[name]
        return place.works_ahead if not isinstance(place, str) else name in self._ahead

    def __getitem__(self, name: str) -> type[Writer]:
        place = self._places[name]
        if not isinstance(place, str):
            return place
        module, _, attribute = place.partition(":")
        return getattr(import_module(module, __name__), attribute)

    def __setitem__(self, name: str, writer: str | type[Writer]) -> None:
        self._places[name] = writer

    def __delitem__(self, name: str) -> None:
        del self._places[name]

    def __contains__(self, name: object) -> bool:
        return name in self._places

    def __iter__(self) -> Iterator[str]:
        return iter(self._places)

    def __len__(self) -> int:
        return len(self._places)


WRITERS: MutableMapping[str, type[Writer]] = _Registry({"epub": ".epub:EpubWriter", "pdf": ".pdf:PdfWriter",
                                                        "print": ".press:PressWriter", "zine": ".zine:ZineWriter",
                                                        "site": ".site:SiteWriter"}, listers=frozenset({"site"}),
                                                       layouts=frozenset({"epub", "pdf", "print"}),
                                                       early=frozenset({"site"}), ahead=frozenset({"zine"}))

__all__ = ["WRITERS", "BuildSession", "Writer", "Written"]
