"""A raw preview request (its Host, path and query) → what it may reach, or the status that refuses it.

The preview answers only requests addressed to itself (``127.0.0.1``, ``localhost`` or
``[::1]`` with its port; anything else is 421, so a web page cannot reach it through DNS
rebinding). A path is percent-decoded once, as UTF-8; a control character (``%00``), a
backslash or a bad query value is 400. A name under a served folder may not climb out of
it (``..``, empty or absolute segments are 404), and the file it names must resolve inside
that folder.
"""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class Refused(Exception):
    """A request the preview does not answer with content: the status says why."""

    def __init__(self, status: HTTPStatus):
        super().__init__(status.phrase)
        self.status = status


def check_host(host: str | None, port: int) -> None:
    """The ``Host`` header must name this preview on a loopback address, with its port."""
    if not host:
        raise Refused(HTTPStatus.BAD_REQUEST)
    allowed = {f"{name}:{port}" for name in LOOPBACK_NAMES}
    if port == 80:
        allowed |= set(LOOPBACK_NAMES)
    if host.strip().lower() not in allowed:
        raise Refused(HTTPStatus.MISDIRECTED_REQUEST)


def parse_target(target: str) -> tuple[str, dict[str, list[str]]]:
    """A request target (``/book/x.xhtml?since=3``) → its path, decoded once, and its query."""
    if not target.startswith("/") or target.startswith("//"):
        raise Refused(HTTPStatus.BAD_REQUEST)
    url = urlsplit(target)
    try:
        path = unquote(url.path, errors="strict")
        query = parse_qs(url.query, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise Refused(HTTPStatus.BAD_REQUEST) from None
    if "\\" in path or any(ord(char) < 0x20 or ord(char) == 0x7F for char in path):
        raise Refused(HTTPStatus.BAD_REQUEST)
    return path, query


def query_number(query: dict[str, list[str]], key: str, default: int = 0) -> int:
    """A whole number from the query (``since=3``); 400 for anything else."""
    values = query.get(key)
    if not values or values[0] == "":
        return default
    if not values[0].isascii() or not values[0].isdigit() or len(values[0]) > 18:
        raise Refused(HTTPStatus.BAD_REQUEST)
    return int(values[0])


def served_name(name: str) -> str:
    """A file's name under a served folder (``styles/epub.css``); 404 when it would climb out of it."""
    if not name or any(part in ("", ".", "..") for part in name.split("/")):
        raise Refused(HTTPStatus.NOT_FOUND)
    return name


def confined_file(folder: Path, name: str) -> Path:
    """The regular file ``name`` inside ``folder`` (links followed, but not out of it); else 404."""
    root = folder.resolve()
    path = (root / served_name(name)).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise Refused(HTTPStatus.NOT_FOUND)
    return path
