"""How fast ``zinepress serve`` shows a save: edits to a copy of the bundled manuscript → seconds.

Starts the preview on a free port, opens the last chapter in headless Chromium (Debian's,
through Playwright), then saves real edits and times each until the browser shows it:
a sentence added to the chapter (several times), a typo fixed, a change to epub.css, a
broken front matter (the error in the page) and its fix, and a print.css change until the
PDF page shows the new PDF. Prints the figures and the server's own rebuild times.

    python3 bench/serve_latency.py [--edits 7]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]


def timed(action, wait) -> float:
    """Seconds from ``action()`` (a save) until ``wait()`` returns (the browser shows it)."""
    started = time.perf_counter()
    action()
    wait()
    return time.perf_counter() - started


def start_preview(folder: Path) -> tuple[subprocess.Popen, Path, int]:
    """A copy of the bundled manuscript and ``zinepress serve`` on it: the process, the project, the port."""
    project = folder / "book"
    for part in ("manuscript", "styles"):
        shutil.copytree(ROOT / part, project / part)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (folder / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "zinepress", "serve", str(project), "--port", str(port)],
                              env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1"},
                              stdout=log, stderr=subprocess.STDOUT)
    while "Serving" not in (folder / "serve.log").read_text():
        time.sleep(0.1)
    return server, project, port


def measure(folder: Path, edits: int) -> None:
    server, project, port = start_preview(folder)
    chapter = project / "manuscript" / "06-the-verdict.md"
    original = chapter.read_text(encoding="utf-8")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch_persistent_context(
                str(folder / "profile"), executable_path="/usr/bin/chromium", headless=True, args=BROWSER_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/book/the-verdict.xhtml")

            def shows(text: str):
                return lambda: page.wait_for_function(f"document.body.innerText.includes({text!r})", timeout=10000)

            def save(text: str):
                return lambda: chapter.write_text(text, encoding="utf-8")

            times = []
            for number in range(1, edits + 1):
                sentence = f"An afterthought, number {number}."
                times.append(timed(save(original.replace("\n\nThough", f"\n\n{sentence} Though", 1)),
                                   shows(sentence)))
                time.sleep(2.5)  # let the PDF of this edit finish, so that edits do not queue
            print("sentence added, save → shown (s):", " ".join(f"{t:.2f}" for t in times),
                  f"| median {statistics.median(times):.2f}, max {max(times):.2f}")
            fixed = original.replace("complimented", "complemented")
            print(f"typo fixed: {timed(save(fixed), shows('complemented')):.2f} s")
            css = project / "styles" / "epub.css"
            seconds = timed(lambda: css.write_text(css.read_text() + "\nh1 { letter-spacing: 0.08em; }\n"),
                            lambda: page.wait_for_function(
                                "getComputedStyle(document.querySelector('h1')).letterSpacing !== 'normal'"))
            print(f"epub.css changed: {seconds:.2f} s")
            print(f"front matter broken, error in the page: "
                  f"{timed(save(fixed.replace('title:', 'title: [', 1)), shows('06-the-verdict.md:2')):.2f} s")
            print(f"front matter fixed, book again: {timed(save(fixed), shows('complemented')):.2f} s")
            time.sleep(2.5)
            pdf = browser.new_page()
            pdf.goto(f"http://127.0.0.1:{port}/pdf")
            before = pdf.get_attribute("embed", "src")
            print_css = project / "styles" / "print.css"
            seconds = timed(lambda: print_css.write_text(print_css.read_text() + "\nh1 { letter-spacing: 0.08em; }\n"),
                            lambda: pdf.wait_for_function(
                                f"document.querySelector('embed')?.getAttribute('src') !== {before!r}",
                                timeout=30000))
            print(f"print.css changed, new PDF in the page: {seconds:.2f} s")
            browser.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)
    print_server_times((folder / "serve.log").read_text())


def print_server_times(report: str) -> None:
    """The rebuild times that the server itself logged."""
    view = [float(s) for s in re.findall(r"book view rebuilt in ([\d.]+) s", report)]
    files = [float(s) for s in re.findall(r"files rebuilt in ([\d.]+) s", report)]
    print(f"server: chapters rebuilt in {statistics.median(view):.2f} s (median of {len(view)}), "
          f"all files (EPUB, PDF, downloads page) in {statistics.median(files):.2f} s (median of {len(files)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=7, help="how many sentence edits to time")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zinepress-latency-") as folder:
        measure(Path(folder), arguments.edits)


if __name__ == "__main__":
    main()
