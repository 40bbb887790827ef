"""What every layout of one build shares → one frozen value handed to each part's layout."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from ..errors import Diagnostics
from ..render import RenderedBook
from ..stylesheets import Stylesheet
from .fetcher import ConfinedFetcher


@dataclass(frozen=True)
class LayoutContext:
    """The book, its print stylesheet and zinepress's page rules, the build's date, where warnings go,
    and the one confined fetcher WeasyPrint reads through."""

    rendered: RenderedBook
    print_css: Stylesheet
    page_css: str
    source_date: dt.datetime
    diagnostics: Diagnostics
    fetcher: ConfinedFetcher

    def quiet(self) -> LayoutContext:
        """The same context whose warnings stay apart (each part reports its own)."""
        return dataclasses.replace(self, diagnostics=Diagnostics())


def writer_context(rendered: RenderedBook, session) -> LayoutContext:
    """The context for a layout a writer makes of its own (the zine, the cover wrap): the build's print
    stylesheet, date and warnings, no page rules of the book's, and a fetcher confined to the project."""
    return LayoutContext(rendered, session.stylesheets["print.css"], "", session.source_date, session.diagnostics,
                         ConfinedFetcher(rendered.config.project))
