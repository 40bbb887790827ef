"""WeasyPrint's URLs → project files: the URL fetcher of the paged editions, confined like :mod:`..fetch`.

Kept apart from :mod:`..fetch` because it needs WeasyPrint, which a build the cache answers
(and every command that lays out no pages) need not load.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from ..fetch import LOCAL_HOSTS, RefusedFetch, confined_path
from .weasy import URLFetcher, URLFetcherResponse


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
            if scheme != "file" or parts.netloc.lower() not in LOCAL_HOSTS:
                raise RefusedFetch("it is on the network, and zinepress fetches nothing")
            resolved = confined_path(self.project, Path(url2pathname(unquote(parts.path))))
        except RefusedFetch as refusal:
            self.refused.append((url, str(refusal)))
            raise
        media_type = mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
        return URLFetcherResponse(resolved.as_uri(), resolved.read_bytes(), {"Content-Type": media_type})
