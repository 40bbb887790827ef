"""What the format readers share: the source as read, the record each comment becomes, and helpers.

A reader turns a :class:`Source` into :class:`Imported` records. Each record keeps only
what a book shows (author, date, body, id, parent) and, for moderation, why it is skipped;
e-mail addresses, IP numbers, user agents and profile URLs are never read into one.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ProjectError

MAX_SOURCE_BYTES = 100 * 1024 * 1024
OFFSET = re.compile(r"([+-])(\d\d):?(\d\d)")


@dataclass(frozen=True)
class Source:
    """An export as read from disk: one file's bytes (gzip undone), or a folder's files."""

    path: Path
    files: tuple[tuple[Path, bytes], ...]
    folder: bool = False

    @property
    def data(self) -> bytes:
        return self.files[0][1] if self.files and not self.folder else b""

    @property
    def text(self) -> str:
        return decode(self.data, self.path)


@dataclass(frozen=True)
class Imported:
    """One comment from an export: ``id`` and ``parent`` carry the system's name as prefix."""

    id: str
    author: str
    date: dt.datetime  # with its offset when the source gives one, else the local time
    body: str  # Markdown, in the subset comments allow
    parent: str | None = None
    thread: tuple[str, ...] = ()  # names of the post it belongs to: its title, link, id …
    skip: str | None = None  # why it is not imported: spam, unapproved, deleted, pingback …
    source: Path | None = None
    line: int | None = None


def decode(data: bytes, path: Path) -> str:
    """Export bytes → text (UTF-8, a BOM dropped, line ends made ``\\n``), or a located error."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProjectError("not valid UTF-8 text", path, data.count(b"\n", 0, error.start) + 1) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_source(path: Path) -> Source:
    """A file (gzip-compressed or not) or a folder of files, size-capped."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()
                       and p.suffix.lower() in (".yml", ".yaml", ".json"))
        total, read = 0, []
        for file in files:
            total += file.stat().st_size
            if total > MAX_SOURCE_BYTES:
                raise ProjectError(f"the folder holds more than {MAX_SOURCE_BYTES // 2**20} MB of comments", path)
            read.append((file, file.read_bytes()))
        return Source(path=path, files=tuple(read), folder=True)
    if not path.is_file():
        raise ProjectError("no such file or folder to import comments from", path)
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise ProjectError(f"the file is larger than {MAX_SOURCE_BYTES // 2**20} MB", path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                data = stream.read(MAX_SOURCE_BYTES + 1)
        except (OSError, EOFError) as error:
            raise ProjectError(f"a broken gzip file: {error}", path) from None
        if len(data) > MAX_SOURCE_BYTES:
            raise ProjectError(f"the file unpacks to more than {MAX_SOURCE_BYTES // 2**20} MB", path)
    return Source(path=path, files=((path, data),))


def parse_timezone(value: str) -> dt.tzinfo:
    """``Asia/Seoul``, ``UTC``, ``+09:00`` or ``-0500`` → a time zone; ValueError otherwise."""
    match = OFFSET.fullmatch(value.strip())
    if match:
        sign, hours, minutes = match.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes))
        if offset >= dt.timedelta(hours=24):
            raise ValueError(f"'{value}' is not an offset such as +09:00")
        return dt.timezone(-offset if sign == "-" else offset)
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{value}' is neither an IANA time zone such as Asia/Seoul nor an offset "
                         "such as +09:00") from None


def iso_datetime(value: str) -> dt.datetime | None:
    """An ISO 8601 / RFC 3339 date-time (``Z`` and fractions allowed) → datetime, else None."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # Go writes nanoseconds
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def initials(name: str) -> str:
    """``Emily Kang`` → ``E. K.``: the first letter of each word of a name."""
    words = re.findall(r"[^\W_][\w'’.-]*", name)
    return " ".join(word[0].upper() + "." for word in words) or name


def pasted_id(author: str, date: dt.datetime, body: str) -> str:
    """The id of a comment that came without one: a short hash of its author, local date and body."""
    key = f"{author}\n{date.replace(tzinfo=None).isoformat(timespec='minutes')}\n{body.strip()}"
    return "pasted-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


def clean_author(value: object) -> str:
    """An author's name on one line, whitespace collapsed."""
    return " ".join(str(value or "").split())


def parse_xml(source: Source):
    """An XML export → its root element: no DTD, no entities, no network; errors located."""
    import lxml.etree as etree
    if b"<!ENTITY" in source.data.upper():
        raise ProjectError("the export declares XML entities, which are not read", source.path,
                           source.data[:source.data.upper().find(b"<!ENTITY")].count(b"\n") + 1)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(source.data, parser)
    except etree.XMLSyntaxError as error:
        message = re.sub(r",? line \d+, column \d+", "", str(error))
        raise ProjectError(f"not well-formed XML: {message}", source.path, error.lineno) from None
