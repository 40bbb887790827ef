"""The author's loop: ``new`` makes a book that builds and passes ``check``; ``serve`` shows
every save in the browser and every error in the page; ``check`` reports each kind of problem."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import NODE_OK, ROOT, copy_project, run

from zinepress.cli import main
from zinepress.config import TABLES, TOP_LEVEL_LISTS, TOP_LEVEL_STRINGS
from zinepress.errors import SEVERITY
from zinepress.writers import WRITERS

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def zinepress(*args: str) -> subprocess.Popen:
    """The command line in a subprocess, running this worktree's code."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "zinepress", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


class Console:
    """Collects a subprocess's output in a thread, so that a test can wait for a line."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def wait_for(self, text: str, timeout: float = 60) -> str:
        with self.changed:
            found = self.changed.wait_for(lambda: any(text in line for line in self.lines), timeout)
        assert found, f"{text!r} never appeared in:\n" + "\n".join(self.lines)
        return next(line for line in self.lines if text in line)


@pytest.fixture
def new_book(tmp_path, capsys) -> Path:
    folder = tmp_path / "my-book"
    code, _out, err = run(["new", str(folder)], capsys)
    assert code == 0, err
    return folder


def test_new_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    code, _out, err = run(["new", str(tmp_path)], capsys)
    assert code == 1
    assert "not empty" in err and "Traceback" not in err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def test_serve_shows_each_save_and_each_error(new_book, tmp_path):
    from playwright.sync_api import sync_playwright

    chapter = new_book / "manuscript" / "01-welcome.md"
    port = free_port()
    server = zinepress("serve", str(new_book), "--port", str(port))
    console = Console(server)
    try:
        console.wait_for(f"http://127.0.0.1:{port}/")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/book/welcome.xhtml")
            assert "This is the first chapter" in page.inner_text("body")
            toolbar = page.inner_text("#zinepress-preview")
            assert "next" in toolbar and "PDF" in toolbar and "warning" not in toolbar

            original = chapter.read_text(encoding="utf-8")
            chapter.write_text(original.replace("This is the first chapter", "Here begins the tale"),
                               encoding="utf-8")
            page.wait_for_function("document.body.innerText.includes('Here begins the tale')", timeout=3000)

            chapter.write_text(original.replace("title: Welcome", "title: [Welcome"), encoding="utf-8")
            page.wait_for_function("document.body.innerText.includes('01-welcome.md:2')", timeout=10000)
            assert "invalid front matter" in page.inner_text("body")

            chapter.write_text(original, encoding="utf-8")
            page.wait_for_function("document.body.innerText.includes('This is the first chapter')",
                                   timeout=10000)
            assert page.title() == "Welcome"
            browser.close()
    finally:
        server.send_signal(signal.SIGINT)
        code = server.wait(timeout=60)
    assert code == 0
    console.wait_for("stopped", timeout=5)


def test_new_project_builds_without_warnings_and_passes_check(new_book, capsys):
    code, out, err = run(["build", str(new_book)], capsys)
    assert code == 0, err
    assert err == "", "a new project builds without a warning"
    assert (new_book / "build" / "my-book.epub").is_file() and (new_book / "build" / "my-book.pdf").is_file()
    settings = (new_book / "manuscript" / "book.toml").read_text(encoding="utf-8")
    keys = [*TOP_LEVEL_STRINGS, *TOP_LEVEL_LISTS, *(key for keys in TABLES.values() for key in keys)]
    for key in keys:
        assert f"\n# {key} = " in settings or f"\n{key} = " in settings, f"book.toml does not explain {key}"
    code, out, err = run(["check", str(new_book), "--quiet", *([] if NODE_OK else ["--skip", "ace"])], capsys)
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in out.splitlines()
            if line.startswith("│") and line.split("│")[2].strip()}  # wrapped lines have no result
    assert {"Build", "EPUBCheck", "Ace by DAISY", "Links and anchors", "PDF preflight"} <= set(rows)
    assert all(result == "pass" for name, result in rows.items() if NODE_OK or name != "Ace by DAISY"), out
    assert "ready to ship" in out and code == 0, out


@pytest.fixture(scope="module")
def problems_report(tmp_path_factory):
    """``zinepress check --json`` of (a copy of) the project with one problem of each kind: exit code and report."""
    project = copy_project(ROOT / "tests" / "projects" / "problems", tmp_path_factory.mktemp("check") / "problems")
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = main(["check", str(project), "--json"])
    return code, json.loads(output.getvalue())


def test_check_reports_each_kind_of_problem(problems_report):
    code, report = problems_report
    assert code == 1 and report["ok"] is False
    checks = {check["name"]: check for check in report["checks"]}

    def problems(name: str) -> list[str]:
        assert checks[name]["status"] == "fail", checks[name]
        return [f"{p['path']}:{p['line']}: {p['message']}" for p in checks[name]["problems"]]

    assert any("mark.svg" in p and "alt text" in p for p in problems("build"))
    assert sorted(problems("epubcheck")) == [  # at the manuscript's lines, each on one line
        'manuscript/01-problems.md:15: RSC-007 Referenced resource "EPUB/nowhere.xhtml" could not be found in the EPUB.',
        'manuscript/01-problems.md:5: RSC-005 element "center" not allowed here']
    accessibility = problems("accessibility")
    assert any(p.startswith("manuscript/01-problems.md:9: image 'images/mark.svg' has no alt text")
               for p in accessibility)
    assert any(p.startswith("manuscript/01-problems.md:7: heading") and "skip" in p for p in accessibility)
    assert any(p.startswith("manuscript/01-problems.md:13: 'english'") for p in accessibility)
    assert any(p.startswith("styles/epub.css:2: text colour #aaaaaa") for p in accessibility)
    assert problems("links") == [("manuscript/01-problems.md:15: link 'nowhere.xhtml' in problems.xhtml "
                                 "points to a file that is not in the book")]
    assert any("8 × 8 pixels" in p and "96 pixels per inch" in p for p in problems("preflight"))
    if NODE_OK:
        ace = problems("ace")
        assert "manuscript/01-problems.md:7: heading-order (moderate): Heading order invalid" in ace
        assert ("manuscript/01-problems.md:13: valid-lang (serious): Value of lang attribute not included in the "
                "list of valid languages") in ace
        assert "manuscript/01-problems.md:15: color-contrast (serious): Element has insufficient color contrast of " \
               "2.32. Expected contrast ratio of 4.5:1" in ace
        assert any(re.match(r"problems\.epub!/EPUB/colophon\.xhtml:\d+: color-contrast", p) for p in ace), ace
    else:
        assert checks["ace"]["status"] == "not verified" and "Node.js 20" in checks["ace"]["summary"]
    assert all(len(p["message"]) <= 200 and "\n" not in p["message"] for check in report["checks"]
               for p in check["problems"])
    if "site" in WRITERS:
        assert checks["downloads"]["status"] in ("pass", "fail")


KINDS = {"alt-text": r"alt text|alt description|image-alt", "heading-order": r"heading", "language": r"lang|BCP 47",
         "image-resolution": r"dpi|pixels per inch", "contrast": r"contrast"}


def test_each_kind_of_problem_has_one_severity_in_build_and_check(problems_report):
    _code, report = problems_report
    found: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for check in report["checks"]:
        for problem in check["problems"] if check["name"] != "epubcheck" else ():
            kinds = [kind for kind, pattern in KINDS.items() if re.search(pattern, problem["message"])]
            assert len(kinds) <= 1, problem
            for kind in kinds:
                found[kind].add(problem["severity"])
    for kind, severities in found.items():
        assert severities == {SEVERITY[kind]}, f"{kind} is reported as {' and as '.join(sorted(severities))}"


def test_check_of_a_project_that_does_not_build(tmp_path, capsys):
    (tmp_path / "manuscript").mkdir(parents=True)
    (tmp_path / "manuscript" / "book.toml").write_text('title = "Broken"\n', encoding="utf-8")
    (tmp_path / "manuscript" / "01-a.md").write_text("---\ntitle: [A\n---\nText.\n", encoding="utf-8")
    code, out, _err = run(["check", str(tmp_path), "--json"], capsys)
    assert code == 1
    build_row = json.loads(out)["checks"][0]
    assert build_row["status"] == "fail"
    assert build_row["problems"][0]["path"] == "manuscript/01-a.md" and build_row["problems"][0]["line"] == 2


def test_downloads_page_problems_are_found(tmp_path):
    from zinepress.links import downloads_problems
    (tmp_path / "book.epub").write_bytes(b"an epub")
    (tmp_path / "book.pdf").write_bytes(b"a pdf")
    digest = hashlib.sha256(b"an epub").hexdigest()
    (tmp_path / "index.html").write_text(
        f'<!DOCTYPE html><html><body><a href="book.epub">EPUB</a> {digest}'
        '<a href="book-zine.pdf">zine</a></body></html>', encoding="utf-8")
    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  book.pdf\n", encoding="utf-8")
    found = [problem.message for problem in downloads_problems(tmp_path, ["book.epub", "book.pdf"])]
    assert found == ["the downloads page declares no language",
                     "the downloads page links to 'book-zine.pdf', which was not built",
                     "the downloads page does not offer book.pdf",
                     "the SHA-256 of 'book.pdf' does not match SHA256SUMS"]


def test_completion_script_and_help_examples():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "_ZINEPRESS_COMPLETE": "bash_source"}
    script = subprocess.run([sys.executable, "-m", "zinepress"], env=env, capture_output=True, text=True,
                            check=True).stdout
    assert "_zinepress_completion" in script and "complete " in script
    words = {**env, "_ZINEPRESS_COMPLETE": "bash_complete", "COMP_WORDS": "zinepress ch", "COMP_CWORD": "1"}
    completed = subprocess.run([sys.executable, "-m", "zinepress"], env=words, capture_output=True, text=True,
                               check=True).stdout
    assert completed.split() == ["plain,check"]
    for command in ("build", "check", "new", "serve"):
        text = subprocess.run([sys.executable, "-m", "zinepress", command, "--help"], capture_output=True,
                              text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")}).stdout
        assert "Examples:" in text and f"zinepress {command}" in text


def test_build_verbose_times_each_stage_and_stays_plain_when_piped(tmp_path, capsys):
    project = tmp_path / "book"
    shutil.copytree(ROOT / "tests" / "projects" / "minimal", project)
    code, out, err = run(["build", str(project), "--verbose", "--format", "epub", "--format", "pdf"], capsys)
    assert code == 0
    stages = [line.split(":")[0] for line in err.splitlines()]
    assert stages == ["read", "render", "epub", "pdf"], err
    assert all(re.fullmatch(r"\w+: \d+\.\d\d s", line) for line in err.splitlines())
    code, out, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 0 and err == "" and "\x1b[" not in out


def test_preflight_finds_each_press_problem(tmp_path):
    """A PDF such as a careless tool makes: no trim or bleed, a font left out, no PDF/X, 3 pages."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject

    from zinepress.config import load_config
    from zinepress.preflight import POINTS_PER_MM, preflight

    writer = PdfWriter()
    for _ in range(3):
        page = writer.add_blank_page(width=148 * POINTS_PER_MM, height=210 * POINTS_PER_MM)
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                                 NameObject("/BaseFont"): NameObject("/Helvetica")})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): font})})
    path = tmp_path / "careless.pdf"
    with path.open("wb") as stream:
        writer.write(stream)
    config = load_config(ROOT / "tests" / "projects" / "minimal")
    press = [problem.message for problem in preflight(path, "print", config)]
    assert press == ["font Helvetica is not embedded: the printer would substitute another",
                     "page 1 has no TrimBox and BleedBox: the printer cannot find the trim",
                     "no PDF/X output intent (GTS_PDFX) with an ICC profile",
                     "no PDF/X version (GTS_PDFXVersion) in the document's metadata"]
    zine = [problem.message for problem in preflight(path, "zine", config)]
    assert zine[-1] == "the zine has 3 pages (3 sheet sides): a folded booklet needs a multiple of 4"
    screen = [problem.message for problem in preflight(path, "pdf", config)]
    assert screen == ["font Helvetica is not embedded: the printer would substitute another"], "A5 is the trim"
