"""Comments copied from a web page as text → records.

Each comment is a line ``author • Feb 29, 2024 at 3:07 pm`` followed by its lines, up to
the next such line; what comes before the first one (the article itself) is not a
comment. The page gives no time zone, so the times are local; the ids are a short hash
of author, date and body, as nothing else names a pasted comment.
"""

from __future__ import annotations

import datetime as dt
import re

from ..errors import Diagnostics, ProjectError
from .html import plain_text_markdown
from .record import Imported, Source, clean_author, pasted_id

NAME = "pasted"
MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for name in names}
HEADER = re.compile(r"(?P<author>\S.*?)\s+[•·]\s+(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2}),\s+(?P<year>\d{4})"
                    r"\s+at\s+(?P<hour>\d{1,2}):(?P<minute>\d\d)\s*(?P<half>[AaPp])\.?\s*[Mm]\.?\s*")


def detect(source: Source) -> bool:
    if source.folder:
        return False
    try:
        text = source.text
    except ProjectError:  # not UTF-8 text: not pasted comments
        return False
    return any(_header(line) for line in text.split("\n"))


def _header(line: str):
    match = HEADER.fullmatch(line.strip())
    if not match or match["month"].lower() not in MONTHS:
        return None
    hour = int(match["hour"]) % 12 + (12 if match["half"].lower() == "p" else 0)
    try:
        date = dt.datetime(int(match["year"]), MONTHS[match["month"].lower()], int(match["day"]), hour,
                           int(match["minute"]))
    except ValueError:
        return None
    return clean_author(match["author"]), date


def read(source: Source, problems: Diagnostics) -> list[Imported]:
    lines = source.text.split("\n")
    starts = [(index, header) for index, line in enumerate(lines) if (header := _header(line))]
    records = []
    for position, (index, (author, date)) in enumerate(starts):
        end = starts[position + 1][0] if position + 1 < len(starts) else len(lines)
        text = "\n".join(line.strip() for line in lines[index + 1:end] if line.strip())
        body = "\n\n".join(plain_text_markdown(line) for line in text.split("\n") if line)
        records.append(Imported(id=pasted_id(author, date, text), author=author, date=date, body=body,
                                skip=None if text else "empty", source=source.path, line=index + 1))
    return records


def ignored_lines(source: Source) -> int:
    """How many lines of text come before the first comment (the article, for a whole page)."""
    lines = source.text.split("\n")
    first = next((index for index, line in enumerate(lines) if _header(line)), len(lines))
    return sum(1 for line in lines[:first] if line.strip())
