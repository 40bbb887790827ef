"""The release gate tells the truth: a check that cannot run is "not verified", --skip is said
aloud, Ace is zinepress's own (installed on first use), messages are printed as written and
point into the manuscript; serve answers HEAD."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import NEEDS_NODE, PROJECTS, ROOT, copy_project, run

from zinepress import ace

def tools_without_node(folder: Path) -> str:
    """A PATH holding what a check needs (Java, Chromium, fontconfig for the cover's faces) but no
    Node.js, npm or Ace."""
    folder.mkdir()
    for tool in ("java", "chromium", "fc-match", "fc-list"):
        if shutil.which(tool):
            (folder / tool).symlink_to(shutil.which(tool))
    return str(folder)


@pytest.fixture
def minimal(tmp_path) -> Path:
    return copy_project(PROJECTS / "minimal", tmp_path / "minimal")


def test_check_that_cannot_run_is_not_verified_and_fails_the_gate(minimal, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", tools_without_node(tmp_path / "bin"))
    monkeypatch.setenv("ZINEPRESS_ACE_HOME", str(tmp_path / "no-ace"))
    code, out, _err = run(["check", str(minimal), "--skip", "epubcheck"], capsys)
    assert code == 1, out
    assert re.search(r"^not verified: ace: Ace needs Node\.js 20 or newer, which is not installed", out, re.M), out
    assert "ready to ship" not in out
    assert not (tmp_path / "no-ace").exists()

    code, out, _err = run(["check", str(minimal), "--skip", "epubcheck", "--skip", "ace"], capsys)
    assert code == 0, out
    assert out.rstrip().endswith("ready to ship (left out with --skip: epubcheck, ace)"), out
    assert "not verified" not in out


def test_skip_takes_only_the_names_of_the_rows(minimal, capsys):
    code, _out, err = run(["check", str(minimal), "--skip", "EPUBCheck"], capsys)
    assert code == 2 and "'EPUBCheck' is not one of 'epubcheck', 'ace'" in err


@NEEDS_NODE
def test_an_install_that_fails_leaves_nothing_and_says_why(tmp_path, monkeypatch):
    """npm pointed at a registry that does not answer: the check says so; no half-installed Ace stays."""
    for variable in ("PATH",):
        monkeypatch.setenv(variable, os.pathsep.join(p for p in os.environ[variable].split(os.pathsep)
                                                      if not (Path(p) / "ace").exists()))
    home = tmp_path / "cache" / "ace"
    monkeypatch.setenv("ZINEPRESS_ACE_HOME", str(home))
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    announced: list[str] = []
    with pytest.raises(ace.AceUnavailable, match=r"npm could not install @daisy/ace-cli@1\.4\.6: "):
        ace.run_ace(tmp_path / "book.epub", announced.append)
    assert announced and "with npm from the network into" in announced[0] and str(home) in announced[0]
    assert not home.exists() and list(home.parent.iterdir()) == []


def long_chapter(project: Path) -> Path:
    """The bundled first chapter, grown to a broken link at line 100 among text that rich would rewrite."""
    chapter = project / "manuscript" / "01-the-setting.md"
    lines = chapter.read_text(encoding="utf-8").splitlines()
    while len(lines) < 99:
        lines.append("" if len(lines) % 2 else f"Padding :{len(lines) + 1}: with [bold]markup[/bold] and :smile:.")
    chapter.write_text("\n".join(lines + ["See [the sequel](no-such-chapter.md)."]) + "\n", encoding="utf-8")
    return chapter


def test_problem_at_line_100_prints_as_written_in_build_and_check(tmp_path, capsys):
    project = copy_project(ROOT, tmp_path / "[bold]book[i] :100:")
    long_chapter(project)
    expected = re.compile(r"manuscript/01-the-setting\.md:100: (error|warning): link to a missing chapter "
                          r"'no-such-chapter\.md'")
    build_code, _out, err = run(["build", str(project), "--format", "epub"], capsys)
    assert expected.search(err), err
    code, out, _err = run(["check", str(project), "--skip", "ace", "--skip", "epubcheck"], capsys)
    assert code == 1
    assert re.search(r"^build: .*" + expected.pattern, out, re.M), out
    assert "zinepress check: [bold]book[i] :100:" in out
    assert "\N{HUNDRED POINTS SYMBOL}" not in out + err and "\N{SMILING FACE WITH OPEN MOUTH AND SMILING EYES}" not in out


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    project = copy_project(PROJECTS / "minimal", tmp_path_factory.mktemp("serve") / "book")
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([sys.executable, "-m", "zinepress", "serve", str(project), "--port", "0"],
                              env=environment, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for line in server.stdout:
            if match := re.search(r"http://127\.0\.0\.1:(\d+)/", line):
                yield int(match[1])
                break
        else:
            pytest.fail("serve printed no address")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_answers_head_like_get_without_a_body(served):
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=60)
    for _attempt in range(600):  # until the first build is there, so that GET and HEAD see the same
        connection.request("GET", "/book/")
        if connection.getresponse().read() == b"" or time.sleep(0.1):
            break
    for path in ("/book/", "/_zinepress/live.js", "/no/such/page", "/_zinepress/events?since=0"):
        connection.request("HEAD", path)
        head = connection.getresponse()
        assert head.read() == b""
        if path.startswith("/_zinepress/events"):
            assert head.status == 200 and head.getheader("Content-Type") == "text/event-stream"
            continue
        connection.request("GET", path)  # the same connection: HEAD wrote no stray body into it
        get = connection.getresponse()
        body = get.read()
        assert (head.status, head.getheader("Content-Type"), head.getheader("Content-Length")) == \
            (get.status, get.getheader("Content-Type"), get.getheader("Content-Length")), path
        assert int(head.getheader("Content-Length")) == len(body)
    connection.close()
