"""One sheet of HTML → its PDF, laid out by WeasyPrint's public API (the cover wrap is such a sheet).

The sheet's only resources are ``data:`` URLs; any other is refused by the confined fetcher,
and WeasyPrint's messages become the build's warnings and errors, as in the book's layout.
"""

from __future__ import annotations

import datetime as dt


from ..render import RenderedBook
from ..writers.base import BuildSession
from .context import writer_context
from .pagecss import pdf_identifier
from .watch import watched
from .weasy import HTML


def sheet_pdf(html: str, rendered: RenderedBook, session: BuildSession) -> bytes:
    """The PDF of ``html``, dated with the build's source date and identified by the book (reproducible)."""
    context = writer_context(rendered, session)
    with watched(context):
        document = HTML(string=html, url_fetcher=context.fetcher).render()
        stamp = session.source_date.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        document.metadata.created = document.metadata.modified = stamp
        return document.write_pdf(pdf_identifier=pdf_identifier(rendered))
