"""``manuscript/book.toml`` → a frozen :class:`Config`.

Every problem (syntax, unknown keys, wrong types, bad values) is collected with its
line, then raised once as a :class:`ProjectError`.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Diagnostics, Problem, ProjectError
from .fetch import RefusedFetch, read_confined
from .zinesettings import ZINE_KEYS, ZineSettings, zine_settings

MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72, "px": 25.4 / 96}

TRIM_PRESETS: dict[str, tuple[float, float]] = {
    "A4": (210.0, 297.0),
    "A5": (148.0, 210.0),
    "A6": (105.0, 148.0),
    "half-letter": (5.5 * 25.4, 8.5 * 25.4),
    "digest": (5.5 * 25.4, 8.25 * 25.4),
}
PAPERS = ("white", "cream", "color")
MARKS = {"crop": "crop", "cross": "cross", "crop cross": "crop cross", "none": "none"}
LANGUAGE_TAG = re.compile(r"\A[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")  # \Z: no newline after the tag
SLUG = re.compile(r"\A[a-z0-9]+(-[a-z0-9]+)*\Z")
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class PrintSettings:
    """Trim, bleed and printer's marks of the paged editions, in millimetres."""

    trim_name: str = "A5"
    trim_width: float = 148.0
    trim_height: float = 210.0
    bleed: float = 3.0
    marks: str = "crop"
    toc_depth: int = 1  # the printed contents: 1 = chapters only
    target: str = "shop"  # a print target of targets.toml: shop, home, kdp, ingram, lulu
    paper: str = "white"  # white, cream or color: the caliper of the cover wrap's spine


@dataclass(frozen=True)
class EpubSettings:
    """Options of the EPUB."""

    toc_depth: int = 2  # the nav and NCX: 1 = chapters, 2 = chapters and their ## sections


@dataclass(frozen=True)
class ChapterEntry:
    """One entry of book.toml's ``chapters``: a file of ``manuscript/`` and what it does not say itself."""

    file: str
    line: int | None = None
    lang: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class FontSettings:
    """Font families that override the stylesheets' own choices (CSS font-family lists)."""

    body: str | None = None
    headings: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class SiteSettings:
    """Options of the downloads page."""

    bundle: bool = False
    url: str | None = None  # where the page will be published, ending in "/": makes link previews absolute


@dataclass(frozen=True)
class Config:
    """Metadata and build settings of one project."""

    project: Path
    title: str
    subtitle: str | None = None
    authors: tuple[str, ...] = ()
    language: str = "en"
    identifier: str = ""
    publisher: str | None = None
    date: str | None = None
    rights: str | None = None
    description: str | None = None
    subjects: tuple[str, ...] = ()
    cover: str | None = None
    slug: str = "book"
    print: PrintSettings = field(default_factory=PrintSettings)
    zine: ZineSettings = field(default_factory=ZineSettings)
    fonts: FontSettings = field(default_factory=FontSettings)
    site: SiteSettings = field(default_factory=SiteSettings)
    epub: EpubSettings = field(default_factory=EpubSettings)
    chapters: tuple[ChapterEntry, ...] | None = None  # the reading order; None: file-name order
    warnings: tuple[Problem, ...] = field(default=(), compare=False)  # values cleaned of control characters

    @property
    def manuscript(self) -> Path:
        return self.project / "manuscript"

    @property
    def path(self) -> Path:
        return self.manuscript / "book.toml"


def slugify(text: str) -> str:
    """A file-name stem made of lowercase ASCII letters, digits and hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "book"


def parse_length(value: str) -> float | None:
    """``"3mm"``, ``"0.125in"``, ``"12pt"`` → millimetres; None when not a length."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(mm|cm|in|pt|px)\s*", value)
    if not match:
        return None
    return float(match[1]) * MM_PER_UNIT[match[2]]


def key_lines(text: str) -> dict[tuple[str, str], int]:
    """Map ``(table, key)`` to the line where the key is set, for error messages."""
    lines: dict[tuple[str, str], int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), 1):
        if header := re.match(r"\s*\[\s*([^\]]+?)\s*\]", line):
            table = header[1].strip('"')
            lines.setdefault((table, ""), number)
        elif assignment := re.match(r"\s*(\"[^\"]+\"|'[^']+'|[A-Za-z0-9_-]+)\s*=", line):
            lines.setdefault((table, assignment[1].strip("\"'")), number)
    return lines


TOP_LEVEL_STRINGS = ("title", "subtitle", "language", "identifier", "publisher", "date",
                     "rights", "description", "cover", "slug")
TOP_LEVEL_LISTS = ("authors", "subjects")
TABLES = {
    "print": ("trim", "bleed", "marks", "toc_depth", "target", "paper"),
    "epub": ("toc_depth",),
    "zine": ZINE_KEYS,
    "fonts": ("body", "headings", "code"),
    "site": ("bundle", "url"),
}


def load_config(project: Path) -> Config:
    """Read and validate ``project/manuscript/book.toml``."""
    project = project.resolve()
    path = project / "manuscript" / "book.toml"
    text, data = _read_toml(project, path)
    lines = key_lines(text)
    problems = Diagnostics()

    def report(message: str, table: str, key: str = "") -> None:
        problems.error(message, path, lines.get((table, key)) or lines.get((table, "")))

    values = _top_level_values(data, path, lines, problems, report)
    _check_top_level(values, data, path, problems, report)
    tables = _tables(data, report)
    print_settings = _print_settings(tables["print"], report)
    zine = zine_settings(tables["zine"], report, lines, parse_length)
    _check_fonts(tables["fonts"], report)
    site = _site_settings(tables["site"], report)
    chapters = None
    if "chapters" in data:
        chapters = chapter_entries(data["chapters"], text, lines.get(("", "chapters"), 1),
                                   lambda message, line: problems.error(message, path, line))
    epub_settings = EpubSettings(toc_depth=toc_depth(tables["epub"], 2, "epub", report))
    problems.raise_errors()
    title = str(values["title"])
    return Config(
        project=project,
        title=title,
        subtitle=values.get("subtitle") or None,
        authors=tuple(a for a in values.get("authors", ()) if a),
        language=str(values.get("language", "en")),
        identifier=str(values.get("identifier") or f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'zinepress:' + title)}"),
        publisher=values.get("publisher") or None,
        date=values.get("date") or None,
        rights=values.get("rights") or None,
        description=values.get("description") or None,
        subjects=tuple(values.get("subjects", ())),
        cover=values.get("cover") or None,
        slug=str(values.get("slug") or slugify(title)),
        print=print_settings,
        zine=zine,
        fonts=FontSettings(**{k: v for k, v in tables["fonts"].items() if isinstance(v, str)}),
        site=site,
        epub=epub_settings,
        chapters=chapters,
        warnings=tuple(problems.warnings),
    )


def _read_toml(project: Path, path: Path) -> tuple[str, dict]:
    """book.toml → (its text, its parsed tables); a ProjectError when it is missing, refused or not TOML."""
    if not path.is_file():
        raise ProjectError("no book.toml: a project needs manuscript/book.toml", path)
    try:
        raw = read_confined(project, path)
    except RefusedFetch as refusal:
        raise ProjectError(f"book.toml is not read: {refusal}", path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ProjectError("not valid UTF-8 text", path, line) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        where = re.search(r"\(at line (\d+), column \d+\)", str(error))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        raise ProjectError(f"invalid TOML: {message}", path,
                           int(where[1]) if where else None) from None


def _top_level_values(data: dict, path: Path, lines: dict, problems: Diagnostics, report) -> dict[str, object]:
    """The top-level strings and lists of book.toml, type-checked and cleaned; unknown keys reported."""
    values: dict[str, object] = {}
    for key, value in data.items():
        if key == "chapters":
            continue
        if key in TABLES:
            if not isinstance(value, dict):
                report(f"'{key}' must be a table ([{key}])", "", key)
            continue
        if key in TOP_LEVEL_STRINGS:
            if not isinstance(value, str):
                report(f"'{key}' must be a string", "", key)
            else:
                values[key] = clean_text(value, key, path, lines.get(("", key)), problems).strip()
        elif key in TOP_LEVEL_LISTS:
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                report(f"'{key}' must be a list of strings", "", key)
            else:
                values[key] = tuple(clean_text(item, key, path, lines.get(("", key)), problems).strip()
                                    for item in value)
        else:
            report(f"unknown key '{key}'", "", key)
    return values


def _check_top_level(values: dict, data: dict, path: Path, problems: Diagnostics, report) -> None:
    """Report a missing or empty title, a language that is no BCP 47 tag, a bad slug, an empty identifier."""
    if not values.get("title") and "title" not in data:
        problems.error("'title' is required", path, 1)
    elif "title" in values and not values["title"]:
        report("'title' must not be empty", "", "title")
    language = values.get("language", "en")
    if not LANGUAGE_TAG.match(str(language)):
        report(f"'language' must be a BCP 47 tag such as 'en' or 'ko', not {language!r}", "", "language")
    if "slug" in values and not SLUG.match(str(values["slug"])):
        report("'slug' may hold only lowercase letters, digits and single hyphens", "", "slug")
    if "identifier" in values and not values["identifier"]:
        report("'identifier' must not be empty", "", "identifier")


def _tables(data: dict, report) -> dict[str, dict]:
    """Each known table of book.toml (empty when absent or not a table), with its unknown keys reported."""
    tables = {name: data.get(name, {}) for name in TABLES}
    for name, allowed in TABLES.items():
        if not isinstance(tables[name], dict):
            tables[name] = {}
            continue
        for key in tables[name]:
            if key not in allowed:
                report(f"unknown key '{key}' in [{name}]", name, key)
    return tables


def _check_fonts(fonts: dict, report) -> None:
    """Report a value of the [fonts] table that is not a CSS font-family list."""
    for key, value in fonts.items():
        if not isinstance(value, str):
            report(f"'{key}' in [fonts] must be a string (a CSS font-family list)", "fonts", key)


def _site_settings(site: dict, report) -> SiteSettings:
    """The [site] table → SiteSettings: ``bundle`` a boolean, ``url`` an http(s) address ending in "/"."""
    if not isinstance(site.get("bundle", False), bool):
        report("'bundle' in [site] must be true or false", "site", "bundle")
    site_url = site.get("url")
    if site_url is not None and not (isinstance(site_url, str) and re.fullmatch(r"https?://[^\s\"'<>]+", site_url)):
        report("'url' in [site] must be an http:// or https:// address", "site", "url")
        site_url = None
    return SiteSettings(bundle=bool(site.get("bundle", False)),
                        url=site_url.rstrip("/") + "/" if site_url else None)


def toc_depth(table: dict, default: int, name: str, report) -> int:
    """``toc_depth`` of a table: a whole number from 1 (chapters only) to 6."""
    value = table.get("toc_depth", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 6:
        report(f"'toc_depth' in [{name}] must be a whole number from 1 (chapters only) to 6", name, "toc_depth")
        return default
    return value


def chapter_entries(value: object, text: str, start: int, error) -> tuple[ChapterEntry, ...]:
    """``chapters = ["a.md", { file = "b.md", lang = "ko", title = "…" }]`` → entries with their lines.

    ``error(message, line)`` reports a bad entry at its line of book.toml.
    """
    if not isinstance(value, list) or not value:
        error("'chapters' must be a list of files of manuscript/, such as [\"ch1.md\", \"ch2.md\"]", start)
        return ()
    text_lines = text.splitlines()
    entries: list[ChapterEntry] = []
    cursor = start
    for item in value:
        file = item.get("file") if isinstance(item, dict) else item
        line = cursor = _entry_line(text_lines, cursor, file)
        problem = _entry_problem(item, file, {entry.file for entry in entries})
        if problem:
            error(problem, line)
            continue
        title = item.get("title") if isinstance(item, dict) else None
        lang = item.get("lang") if isinstance(item, dict) else None
        entries.append(ChapterEntry(file=file, lang=lang, title=title.strip() if title else None, line=line))
    return tuple(entries)


def _entry_problem(item: object, file: object, seen: set[str]) -> str | None:
    """What is wrong with one entry of ``chapters``, or None."""
    if not isinstance(file, str) or not file.strip():
        return "each entry of 'chapters' must be a file name or a table { file = \"…\" }"
    table = item if isinstance(item, dict) else {}
    extra = sorted(set(table) - {"file", "lang", "title"})
    if extra:
        return f"unknown key '{extra[0]}' in a 'chapters' entry (known: file, lang, title)"
    for key in ("lang", "title"):
        if key in table and not (isinstance(table[key], str) and table[key].strip()):
            return f"'{key}' of '{file}' must be a non-empty string"
    if "lang" in table and not LANGUAGE_TAG.match(table["lang"]):
        return f"'lang' of '{file}' must be a BCP 47 tag such as 'en' or 'ko', not {table['lang']!r}"
    if not file.endswith(".md") or file.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", file):
        return f"'{file}' is not a Markdown file (.md) inside manuscript/"
    if file in seen:
        return f"'{file}' is listed twice in 'chapters'"
    return None


def _entry_line(text_lines: list[str], start: int, file: object) -> int:
    """The line of book.toml where ``file`` is named (a number or true/false as TOML writes it), at or
    after the line ``start``."""
    if isinstance(file, str):
        pattern = rf"[\"']{re.escape(file)}[\"']"
    elif isinstance(file, (bool, int, float)):
        pattern = rf"(?<![\w.\"']){re.escape(str(file).lower())}(?![\w.\"'])"
    else:
        return start
    for number in range(start, len(text_lines) + 1):
        if re.search(pattern, text_lines[number - 1].split("#")[0] if number > start else text_lines[number - 1]):
            return number
    return start


def setting_line(config: Config, key: str, table: str = "") -> int | None:
    """The line of book.toml that sets ``key`` (in ``table``), for a problem found after loading."""
    try:
        return key_lines(config.path.read_text(encoding="utf-8")).get((table, key))
    except (OSError, UnicodeDecodeError):
        return None


def clean_text(value: str, key: str, path: Path, line: int | None, problems: Diagnostics) -> str:
    """``value`` without the control characters an EPUB's XML cannot hold, with a warning when it had some."""
    cleaned = NOT_XML.sub("", value)
    if cleaned != value:
        codes = ", ".join(sorted({f"U+{ord(char):04X}" for char in NOT_XML.findall(value)}))
        problems.warn(f"'{key}' held control characters ({codes}): they were removed", path, line)
    return cleaned


def _print_settings(table: object, report) -> PrintSettings:
    """The [print] table → PrintSettings: the target's defaults, then the keys set, checked against it."""
    from .targets import all_targets
    table = table if isinstance(table, dict) else {}
    targets = all_targets()
    target_name = table.get("target", "shop")
    if target_name not in targets:
        report(f"unknown print target {target_name!r}: use one of {', '.join(targets)}", "print", "target")
        target_name = "shop"
    target = targets[target_name]
    name, width, height = _trim(table.get("trim", target.default_trim[0]), report)
    if "trim" in table and not target.offers(width, height):
        report(f"{target.title} does not print the trim {width:g} × {height:g} mm: "
               f"it offers {target.trim_list()}", "print", "trim")
    bleed_value = table.get("bleed", f"{target.bleed}mm")
    bleed = parse_length(bleed_value) if isinstance(bleed_value, str) else None
    if bleed is None or bleed > 25:
        report("'bleed' must be a length such as \"3mm\", at most 25mm", "print", "bleed")
        bleed = target.bleed
    elif "bleed" in target.fixed and abs(bleed - target.bleed) > 0.1:
        report(f"{target.title} needs a bleed of {target.bleed:.1f} mm ({target.bleed / 25.4:g} in): "
               f"remove 'bleed' or set it to \"{target.bleed / 25.4:g}in\"", "print", "bleed")
        bleed = target.bleed
    marks = table.get("marks", target.marks)
    if marks not in MARKS:
        report(f"'marks' must be one of {', '.join(MARKS)}", "print", "marks")
        marks = target.marks
    elif "marks" in target.fixed and marks != target.marks:
        report(f"{target.title} rejects files with printer's marks: remove 'marks' or set it to "
               f"\"{target.marks}\"", "print", "marks")
        marks = target.marks
    paper = table.get("paper", "white")
    if paper not in PAPERS:
        report(f"'paper' must be one of {', '.join(PAPERS)}", "print", "paper")
        paper = "white"
    return PrintSettings(trim_name=name, trim_width=round(width, 3), trim_height=round(height, 3),
                         bleed=round(bleed, 3), marks=marks, toc_depth=toc_depth(table, 1, "print", report),
                         target=target_name, paper=paper)


def _trim(trim: object, report) -> tuple[str, float, float]:
    """A trim preset, ``"6x9in"`` or two lengths → (name, width, height) in mm; A5 when it is none of them."""
    from .targets import trim_size
    if isinstance(trim, str) and (size := trim_size(trim)) is not None:
        return trim, *size
    if isinstance(trim, list) and len(trim) == 2 and all(isinstance(v, str) for v in trim):
        sizes = [parse_length(v) for v in trim]
        if None not in sizes and all(10 <= s <= 1000 for s in sizes):
            return "custom", sizes[0], sizes[1]
        report("'trim' lengths must be like \"120mm\" or \"5in\", between 10mm and 1000mm", "print", "trim")
        return "A5", *TRIM_PRESETS["A5"]
    presets = ", ".join(TRIM_PRESETS)
    report(f"unknown trim {trim!r}: use one of {presets}, a size such as \"6x9in\", or two lengths such as "
           "[\"120mm\", \"180mm\"]", "print", "trim")
    return "A5", *TRIM_PRESETS["A5"]
