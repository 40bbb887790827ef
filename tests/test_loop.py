"""The author's loop: ``new`` makes a book that builds and passes ``check``; ``serve`` shows
every save in the browser and every error in the page; ``check`` reports each kind of problem."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import ROOT, run

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
    code, out, err = run(["new", str(folder)], capsys)
    assert code == 0, err
    return folder


def test_new_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    code, out, err = run(["new", str(tmp_path)], capsys)
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
