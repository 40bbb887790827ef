"""WeasyPrint's URLs → project files: the URL fetcher of the paged editions, confined like :mod:`.fetch`.

Kept apart from :mod:`.fetch` because it needs WeasyPrint, which builds that lay out no
pages (the EPUB alone, or a build the cache answers) need not load.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

from .fetch import RefusedFetch, confined_path


class ConfinedFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that only reads files of the project (and ``data:`` URLs)."""

    def __init__(self, project: Path):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
        self.project = project.resolve()
        self.refused: list[tuple[str, str]] = []

    def fetch(self, url: str, headers=None):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        try:
            if scheme != "file" or parts.netloc not in ("", "localhost"):
                raise RefusedFetch("network access is not allowed: only files of the project are read")
            path = Path(url2pathname(unquote(parts.path)))
            resolved = confined_path(self.project, path)
        except RefusedFetch as refusal:
            self.refused.append((url, str(refusal)))
            raise
        media_type = mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
        return URLFetcherResponse(resolved.as_uri(), resolved.read_bytes(), {"Content-Type": media_type})
