"""Broken projects end with exit code 1 and one located line, never a traceback."""

from __future__ import annotations

import re
import shutil

import pytest

from conftest import PROJECTS, run


@pytest.fixture
def project(tmp_path):
    return shutil.copytree(PROJECTS / "minimal", tmp_path / "book")


def assert_one_error(capsys, project, path_suffix: str, line: int, words: str):
    code, out, err = run(["build", str(project)], capsys)
    lines = err.strip().splitlines()
    assert code == 1, err
    assert len(lines) == 1, err
    match = re.fullmatch(r"(.+):(\d+): error: (.+)", lines[0])
    assert match, lines[0]
    assert match[1].endswith(path_suffix) and int(match[2]) == line, lines[0]
    assert words in match[3]
    assert "Traceback" not in err
    assert not list((project / "build").glob("*")) if (project / "build").exists() else True


def test_broken_toml(project, capsys):
    (project / "manuscript/book.toml").write_text('title = "A"\nlanguage = en\n')
    assert_one_error(capsys, project, "manuscript/book.toml", 2, "invalid TOML")


def test_unknown_key_in_toml(project, capsys):
    (project / "manuscript/book.toml").write_text('title = "A"\n\n[print]\ntrim = "A5"\ncolour = "red"\n')
    assert_one_error(capsys, project, "manuscript/book.toml", 5, "unknown key 'colour'")


def test_broken_front_matter(project, capsys):
    (project / "manuscript/01-start.md").write_text("---\ntitle: Start\nlang: [en\n---\n\nText.\n")
    code, out, err = run(["build", str(project)], capsys)
    assert code == 1
    assert re.fullmatch(r".+01-start\.md:\d+: error: invalid front matter: .+", err.strip())


def test_front_matter_with_wrong_type(project, capsys):
    (project / "manuscript/01-start.md").write_text("---\ntitle: Start\nlang: no\n---\n\nText.\n")
    assert_one_error(capsys, project, "manuscript/01-start.md", 3, "'lang' must be a string")


def test_missing_image(project, capsys):
    (project / "manuscript/01-start.md").write_text(
        "---\ntitle: Start\n---\n\nText.\n\n![A cat](images/cat.png)\n")
    assert_one_error(capsys, project, "manuscript/01-start.md", 7, "image 'images/cat.png' not found")


def test_layout_with_undefined_variable(project, capsys):
    (project / "layouts").mkdir()
    (project / "layouts/chapter.html").write_text(
        '<section class="chapter" id="{{ chapter.slug }}">\n<h1>{{ chapter.title }}</h1>\n'
        '<p>{{ chapter.subtitle_that_does_not_exist }}</p>\n{{ content }}\n</section>\n')
    assert_one_error(capsys, project, "layouts/chapter.html", 3, "undefined")


def test_layout_override_can_extend_default(project, capsys, tmp_path):
    (project / "layouts").mkdir()
    (project / "layouts/colophon.html").write_text(
        '{% extends "default/colophon.html" %}\n')
    code, out, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 0, err


def test_wrong_usage_is_exit_2(project, capsys):
    code, out, err = run(["build", str(project), "--format", "docx"], capsys)
    assert code == 2
