"""WeasyPrint's log and refused fetches → errors and warnings at the line they come from.

WeasyPrint logs problems instead of raising them and fetches through the
:class:`~.fetcher.ConfinedFetcher`. Every WeasyPrint call of a build (layout and
``write_pdf``, which reads attachments) runs inside :func:`watched`: a refused reference
or a resource that failed to load is an error at the chapter, layout or stylesheet line
where it was written; any other message is a warning.
"""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path

from ..errors import Diagnostics, ProjectError, line_of
from ..fetch import RefusedFetch, Source, locate_reference, read_confined
from ..layoutlog import place_message
from ..manuscript import read_text
from .context import LayoutContext
from .weasy import LOGGER as WEASYPRINT_LOGGER

FAILED_LOAD = re.compile(r"Failed to load (?:image|stylesheet|attachment)(?: at)? '?(?P<url>[a-z]+:[^'\s]+)'?"
                         r" ?: (?P<reason>.*)", re.S)


class _CollectWarnings(logging.Handler):
    """Keeps WeasyPrint's warnings and errors, each with the stylesheet being read when it came."""

    def __init__(self, reading: Path | None):
        super().__init__(logging.WARNING)
        self.reading = reading
        self.messages: list[tuple[str, Path | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append((record.getMessage(), self.reading))


@contextlib.contextmanager
def watched(context: LayoutContext, reading: Path | None = None):
    """Run WeasyPrint inside: afterwards its problems are raised or counted as warnings.

    ``reading`` is the stylesheet being parsed, if any, so that CSS messages get its path.
    """
    confined = context.fetcher
    already = len(confined.refused)
    collector = _CollectWarnings(reading)
    WEASYPRINT_LOGGER.addHandler(collector)
    try:
        yield collector
    except RecursionError:
        raise ProjectError("the book is nested too deeply for the page layout",
                           context.print_css.path) from None
    finally:
        WEASYPRINT_LOGGER.removeHandler(collector)
    report(context, confined.refused[already:], collector.messages)


def _sources(context: LayoutContext) -> list[Source]:
    """The files the print HTML was made of, to find where a reference was written."""
    rendered, css = context.rendered, context.print_css
    config = rendered.config
    manuscript = config.manuscript.as_uri() + "/"
    sources = [Source(chapter.source, read_text(chapter.source), manuscript) for chapter in rendered.book.chapters]
    sources.append(Source(css.path, css.text, css.path.as_uri()))
    layouts = config.project / "layouts"
    if layouts.is_dir():
        for path in sorted(layouts.glob("*.*")):
            try:
                sources.append(Source(path, read_confined(config.project, path).decode("utf-8"), manuscript))
            except (RefusedFetch, UnicodeDecodeError):
                continue
    return sources


def report(context: LayoutContext, refused: list[tuple[str, str]], messages: list[tuple[str, Path | None]]) -> None:
    """Refused references and failed loads become errors at their line; other messages, warnings."""
    if not refused and not messages:
        return
    diagnostics = context.diagnostics
    sources = _sources(context)
    problems = Diagnostics()
    for url, reason in refused:
        path, line, written = locate_reference(url, sources)
        problems.error(f"'{written}' is not read: {reason}", path, line)
    refused_urls = {url for url, _ in refused}
    seen = set()
    texts = {source.path: source.text for source in sources}
    for message, reading in messages:
        failed = FAILED_LOAD.search(message)
        if (failed and failed["url"] in refused_urls) or message in seen:
            continue
        seen.add(message)
        if failed:
            path, line, written = locate_reference(failed["url"], sources)
            problems.error(f"'{written}' could not be loaded: {failed['reason'].strip()}", path, line)
        elif reading is not None:
            at = re.search(r"\bat (\d+):\d+", message)
            diagnostics.warn(f"WeasyPrint: {message}", reading, int(at[1]) if at else None)
        elif (placed := place_message(message, context.rendered.book, texts)) is not None:
            if not placed.repeat:
                diagnostics.warn(f"WeasyPrint: {message}", placed.path, placed.line)
        else:
            snippet = re.search(r"`([^`\n]+)`|'([^'\n]+)'", message)
            needle = snippet and (snippet[1] or snippet[2])
            where = next((source for source in sources if needle and needle in source.text), sources[-1])
            diagnostics.warn(f"WeasyPrint: {message}", where.path, line_of(where.text, needle) if needle else None)
    problems.raise_errors()
