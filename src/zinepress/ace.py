"""An EPUB → Ace by DAISY's findings.

Ace is the ``ace`` (or ``ace-cli``) command on ``PATH``; otherwise zinepress installs the npm
package ``@daisy/ace-cli`` once into ``$XDG_CACHE_HOME/zinepress/ace`` (``ZINEPRESS_ACE_HOME``
overrides it) — the only time zinepress uses the network, announced as it starts. The package
is installed with ``--ignore-scripts`` (its optional Electron runner would download a browser)
and run with Debian's ``chromium``. ``python -m zinepress.ace`` installs it ahead of time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "@daisy/ace-cli"
VERSION = "1.4.6"
MINIMUM_NODE = 20
INSTALL_SECONDS = 900
RUN_SECONDS = 600
HINT = "install Node.js 20 or newer with npm, and chromium; on Debian 13: apt-get install nodejs npm chromium"


class AceUnavailable(Exception):
    """Ace could not run here; the message says why."""


@dataclass(frozen=True)
class Finding:
    """One violation Ace found, where it found it."""

    document: str        # the document's path relative to the package folder, as Ace names it
    rule: str            # the axe or Ace rule, such as ``color-contrast``
    impact: str          # critical, serious, moderate or minor
    description: str     # one line about this element
    cfi: str | None      # the element's path in the document (an EPUB CFI step list)


def ace_home() -> Path:
    """Where zinepress keeps its own copy of Ace."""
    if os.environ.get("ZINEPRESS_ACE_HOME"):
        return Path(os.environ["ZINEPRESS_ACE_HOME"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "zinepress" / "ace"


def installed(home: Path) -> Path | None:
    """The ace-cli command of an installation in ``home``, if it is complete."""
    command = home / "node_modules" / ".bin" / "ace-cli"
    return command if os.access(command, os.X_OK) else None


def find_ace() -> list[str] | None:
    """The command that runs Ace without installing anything, or None."""
    on_path = shutil.which("ace") or shutil.which("ace-cli")
    if on_path:
        return [on_path]
    command = installed(ace_home())
    return [str(command)] if command else None


def chromium() -> str:
    """Debian's chromium, which Ace drives through Puppeteer."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise AceUnavailable(f"Ace needs Chromium, which is not installed ({HINT})")
    return found


def require_node() -> None:
    """Node.js 20 or newer and npm, which Ace's installation needs."""
    node = shutil.which("node")
    if node is None:
        raise AceUnavailable(f"Ace needs Node.js {MINIMUM_NODE} or newer, which is not installed ({HINT})")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    major = version.lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < MINIMUM_NODE:
        raise AceUnavailable(f"Ace needs Node.js {MINIMUM_NODE} or newer; this machine has {version or 'an unknown'}"
                             f" ({HINT})")
    if shutil.which("npm") is None:
        raise AceUnavailable(f"installing Ace needs npm, which is not installed ({HINT})")


def install(announce: Callable[[str], None]) -> list[str]:
    """Install Ace into :func:`ace_home` with npm, whole or not at all, and return its command."""
    require_node()
    chromium()
    home = ace_home()
    if home.exists() and any(home.iterdir()):
        raise AceUnavailable(f"{home} holds no complete Ace installation: remove it to install Ace again")
    announce(f"installing Ace by DAISY ({PACKAGE}@{VERSION}) with npm from the network into {home}; "
             "this happens once and takes a minute or two")
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".ace-installing-", dir=home.parent))
    try:
        (staging / "package.json").write_text('{"private": true}\n', encoding="utf-8")
        environment = {**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1", "PUPPETEER_SKIP_CHROMIUM_DOWNLOAD": "1"}
        try:
            run = subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error",
                                  f"{PACKAGE}@{VERSION}"], cwd=staging, env=environment, capture_output=True,
                                 text=True, timeout=INSTALL_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise AceUnavailable(f"installing {PACKAGE} took more than {INSTALL_SECONDS // 60} minutes") from None
        if run.returncode != 0 or installed(staging) is None:
            raise AceUnavailable(f"npm could not install {PACKAGE}@{VERSION}: {_last_line(run.stderr or run.stdout)}")
        if home.exists():
            home.rmdir()
        os.replace(staging, home)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [str(installed(home))]


def run_ace(epub: Path, announce: Callable[[str], None]) -> list[Finding]:
    """Ace's findings on ``epub``, installing Ace first when it is nowhere to be found."""
    command = find_ace() or install(announce)
    environment = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": chromium()}
    with tempfile.TemporaryDirectory(prefix="zinepress-ace-") as folder:
        try:
            run = subprocess.run([*command, "--silent", "--force", "--outdir", folder, str(epub)], env=environment,
                                 capture_output=True, text=True, timeout=RUN_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise AceUnavailable(f"Ace did not finish within {RUN_SECONDS // 60} minutes") from None
        except OSError as error:
            raise AceUnavailable(f"Ace could not start: {error.strerror}") from None
        report = Path(folder) / "report.json"
        if not report.is_file():
            raise AceUnavailable(f"Ace wrote no report (exit {run.returncode}): "
                                 f"{_last_line(run.stderr or run.stdout)}")
        return findings(json.loads(report.read_text(encoding="utf-8")))


def findings(report: dict) -> list[Finding]:
    """The failed assertions of an Ace ``report.json``, one per element."""
    found = []
    for document in report.get("assertions", []):
        url = document.get("earl:testSubject", {}).get("url", "").lstrip("/")
        for assertion in document.get("assertions", []):
            result, test = assertion.get("earl:result", {}), assertion.get("earl:test", {})
            if result.get("earl:outcome", "fail") != "fail":
                continue
            cfis = result.get("earl:pointer", {}).get("cfi") or [None]
            description = _first_line(result.get("dct:description") or test.get("dct:description", ""))
            found.append(Finding(url, test.get("dct:title", "?"), test.get("earl:impact", "?"), description,
                                 cfis[0]))
    return found


def _first_line(text: str) -> str:
    """The first line that says something ("Fix any of the following:" does not)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    useful = [line for line in lines if not line.lower().startswith(("fix any", "fix all"))]
    return (useful or lines or [""])[0]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def main() -> int:
    """``python -m zinepress.ace``: install Ace now (for CI and offline use later); say where it is."""
    try:
        command = find_ace() or install(lambda message: print(f"ace: {message}", file=sys.stderr, flush=True))
    except AceUnavailable as error:
        print(f"ace: not installed: {error}", file=sys.stderr)
        return 1
    print(f"ace: {command[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
