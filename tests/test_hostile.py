"""Hostile and broken projects: each ends in one located line (or a clean book), never a traceback.

Every fixture is generated in a temporary folder from the ``minimal`` project. For each
case the exit code and the message are asserted, and the outputs are checked: nothing
written on an error, the text of the book intact when it builds.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from conftest import PROJECTS, Epub, epubcheck, pdf_text, run, squash

START = "manuscript/01-start.md"


def chapter(body: str, front: str = "title: Start\n") -> str:
    return f"---\n{front}---\n\n{body}"


def png(width=4, height=4, kind="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("1" if width * height > 10**6 else "RGB", (width, height)).save(buffer, kind)
    return buffer.getvalue()


def make_project(tmp_path: Path, files: dict[str, object]) -> Path:
    """The minimal project with ``files`` written over it (str, bytes, or a callable(project))."""
    project = shutil.copytree(PROJECTS / "minimal", tmp_path / "book")
    (tmp_path / "secret.txt").write_text("SENTINEL-7f3a\n")
    for name, content in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(project, path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return project


def symlink_to_secret(project: Path, path: Path) -> None:
    path.symlink_to(project.parent / "secret.txt")


def outputs(project: Path) -> list[Path]:
    build = project / "build"
    return sorted(build.iterdir()) if build.exists() else []


# (id, files, path suffix, line, words): the build fails with exactly this one error line.
ERRORS = [
    ("toml-syntax", {"manuscript/book.toml": 'title = "A"\nlanguage = en\n'}, "book.toml", 2, "invalid TOML"),
    ("toml-duplicate-key", {"manuscript/book.toml": 'title = "A"\ntitle = "B"\n'}, "book.toml", 2, "invalid TOML"),
    ("toml-title-number", {"manuscript/book.toml": 'title = 5\n'}, "book.toml", 1, "'title' must be a string"),
    ("toml-unknown-key", {"manuscript/book.toml": 'title = "A"\ncolour = "red"\n'}, "book.toml", 2,
     "unknown key 'colour'"),
    ("toml-not-utf8", {"manuscript/book.toml": b'title = "A"\nsubtitle = "\xff"\n'}, "book.toml", 2,
     "not valid UTF-8"),
    ("toml-symlink-out", {"manuscript/book.toml": lambda p, path: (path.unlink(), symlink_to_secret(p, path))},
     "book.toml", None, "outside the project"),
    ("front-matter-unclosed", {START: "---\ntitle: Start\n\nText.\n"}, START, 1, "not closed"),
    ("front-matter-missing", {START: "Text without front matter.\n"}, START, 1, "must start with front matter"),
    ("front-matter-list", {START: "---\n- a\n- b\n---\n\nText.\n"}, START, 2, "must be a mapping"),
    ("front-matter-duplicate", {START: chapter("Text.\n", "title: A\ntitle: B\n")}, START, 3, "duplicate key"),
    ("front-matter-lang-no", {START: chapter("Text.\n", "title: A\nlang: no\n")}, START, 3,
     "'lang' must be a string"),
    ("front-matter-title-number", {START: chapter("Text.\n", "title: 5\n")}, START, 2, "'title' must be a string"),
    ("front-matter-unknown-key", {START: chapter("Text.\n", "title: A\nauthor: B\n")}, START, 3,
     "unknown front matter key 'author'"),
    ("front-matter-syntax", {START: chapter("Text.\n", "title: [A\n")}, START, 2, "invalid front matter"),
    ("empty-chapter", {START: chapter("\n\n")}, START, 3, "no text"),
    ("same-slug", {"manuscript/02-start.md": chapter("Again.\n", "title: Again\n")}, "02-start.md", 1,
     "already used"),
    ("reserved-slug", {"manuscript/02-colophon.md": chapter("Mine.\n", "title: Mine\n")}, "02-colophon.md", None,
     "taken by the book's own colophon page"),
    ("chapter-not-utf8", {START: b"---\ntitle: Start\n---\n\nOne.\n\nTw\xe9.\n"}, START, 7, "not valid UTF-8"),
    ("chapter-huge", {START: lambda p, path: os.truncate(path, 21 * 2**20)}, START, None, "larger than"),
    ("chapter-fifo", {"manuscript/02-pipe.md": lambda p, path: os.mkfifo(path)}, "02-pipe.md", None,
     "not a regular file"),
    ("chapter-symlink-out", {"manuscript/02-out.md": symlink_to_secret}, "02-out.md", None, "outside the project"),
    ("link-missing-chapter", {START: chapter("See [next](09-none.md).\n")}, START, 5, "missing chapter"),
    ("link-missing-anchor", {START: chapter("Intro.\n\nSee [here](#nowhere).\n")}, START, 7, "missing anchor"),
    ("duplicate-id", {START: chapter('<p id="x">One.</p>\n\n<p id="x">Two.</p>\n')}, START, 5, "used twice"),
    ("image-missing", {START: chapter("![A cat](images/cat.png)\n")}, START, 5, "'images/cat.png' not found"),
    ("image-empty", {START: chapter("Text.\n\n![A cat](images/cat.png)\n"), "manuscript/images/cat.png": b""},
     START, 7, "empty file"),
    ("image-not-an-image", {START: chapter("![A cat](images/cat.png)\n"), "manuscript/images/cat.png": "meow"},
     START, 5, "not an image"),
    ("image-bomb", {START: chapter("![Big](images/big.png)\n"),
                    "manuscript/images/big.png": lambda p, path: path.write_bytes(png(9000, 9000))},
     START, 5, "pixels"),
    ("image-mislabelled", {START: chapter("![A cat](images/cat.png)\n"),
                           "manuscript/images/cat.png": lambda p, path: path.write_bytes(png(kind="JPEG"))},
     START, 5, "is a JPEG file"),
    ("image-wrong-type", {START: chapter("![A cat](images/cat.bmp)\n"),
                          "manuscript/images/cat.bmp": lambda p, path: path.write_bytes(png(kind="BMP"))},
     START, 5, "not a PNG, JPEG"),
    ("svg-entities", {START: chapter("![Logo](images/x.svg)\n"), "manuscript/images/x.svg":
                      '<!DOCTYPE svg [<!ENTITY x SYSTEM "../../../secret.txt">]>\n'
                      '<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'},
     START, 5, "entities"),
    ("svg-external-image", {START: chapter("![Logo](images/x.svg)\n"), "manuscript/images/x.svg":
                            '<svg xmlns="http://www.w3.org/2000/svg"><image href="../../../secret.txt"/></svg>'},
     START, 5, "refers to"),
    ("image-outside", {START: chapter("![S](../../secret.txt)\n")}, START, 5, "outside the project"),
    ("image-absolute", {START: chapter("![S](/etc/hostname)\n")}, START, 5, "absolute paths"),
    ("image-network", {START: chapter("![S](http://127.0.0.1:9/x.png)\n")}, START, 5, "network"),
    ("image-protocol-relative", {START: chapter("![S](//127.0.0.1:9/x.png)\n")}, START, 5, "network"),
    ("image-file-url", {START: chapter("![S](file:///etc/hostname)\n")}, START, 5, "file: URLs"),
    ("iframe-outside", {START: chapter('<iframe src="../../secret.txt"></iframe>\n')}, START, 5,
     "outside the project"),
    ("object-outside", {START: chapter('<object data="../../secret.txt"></object>\n')}, START, 5,
     "outside the project"),
    ("style-url-outside", {START: chapter('<p style="background: url(../../secret.txt)">Hi</p>\n')}, START, 5,
     "outside the project"),
    ("style-import-escaped", {START: chapter('<style>\n@import "../../secret.txt";\n</style>\n')}, START, 6,
     "outside the project"),
    ("attachment-outside", {START: chapter('<a rel="attachment" href="../../secret.txt">x</a>\n')}, START, 5,
     "outside the project"),
    ("print-css-url-outside", {"styles/print.css": "body { color: black }\np { background: url(../../secret.txt) }\n"},
     "styles/print.css", 2, "outside the project"),
    ("print-css-import-network", {"styles/print.css": '\n\n@import "http://127.0.0.1:9/a.css";\n'},
     "styles/print.css", 3, "network"),
    ("print-css-missing-font", {"styles/print.css": '@font-face { font-family: X;\n src: url(fonts/x.woff2) }\n'},
     "styles/print.css", 2, "no such file"),
    ("epub-css-escaped-url", {"styles/epub.css": "p {\n background: u\\72l(../../secret.txt) }\n"},
     "styles/epub.css", 2, "outside the project"),
    ("stylesheet-symlink-out", {"styles/print.css": symlink_to_secret}, "styles/print.css", None,
     "outside the project"),
    ("layout-symlink-out", {"layouts/colophon.html": symlink_to_secret}, "layouts/colophon.html", None,
     "outside the project"),
    ("unclosed-script", {START: chapter("One.\n\n<script>\nalert(1)\n\nTwo.\n")}, START, 7, "not closed"),
    ("nested-quotes", {START: chapter(">" * 200 + " deep\n")}, START, 5, "nested"),
    ("nested-lists", {START: chapter("".join("    " * i + f"- item{i}\n" for i in range(100)))}, START, None,
     "nested"),
    ("nested-divs", {START: chapter("<div>" * 300 + "deep" + "</div>" * 300 + "\n")}, START, None, "nested"),
    ("brackets", {START: chapter("Before.\n\n" + "[" * 10_000 + "\n")}, START, 7, "'[' characters"),
]


@pytest.mark.parametrize("files, suffix, line, words", [case[1:] for case in ERRORS],
                         ids=[case[0] for case in ERRORS])
def test_one_located_error(tmp_path, capsys, files, suffix, line, words):
    project = make_project(tmp_path, files)
    (project / "build").mkdir()
    (project / "build" / "a-minimal-book.epub").write_bytes(b"previous")
    code, out, err = run(["build", str(project)], capsys)
    assert code == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    match = re.fullmatch(r"(.+?)(?::(\d+))?: error: (.+)", lines[0])
    assert match, lines[0]
    assert match[1].endswith(suffix), lines[0]
    if line is not None:
        assert match[2] and int(match[2]) == line, lines[0]
    assert words in match[3], lines[0]
    assert "SENTINEL" not in err
    assert outputs(project) == [project / "build" / "a-minimal-book.epub"]
    assert (project / "build" / "a-minimal-book.epub").read_bytes() == b"previous"


# (id, files, words of the warning or None, text that must be in the book)
BUILDS = [
    ("bom-crlf", {START: "\ufeff---\r\ntitle: Start\r\n---\r\n\r\nWindows text.\r\n"}, None, ["Windows text."]),
    ("heading-same-as-chapter", {START: chapter("## Start\n\nUnder the heading.\n\n[Up](#start)\n")}, None,
     ["Under the heading."]),
    ("duplicate-heading-across-chapters", {START: chapter("## Notes\n\nFirst notes.\n"),
                                           "manuscript/02-next.md": chapter("## Notes\n\nSecond notes.\n",
                                                                            "title: Next\n")},
     None, ["First notes.", "Second notes."]),
    ("cdata-opener", {START: chapter("Text <![ more\n\nNext paragraph.\n")}, None, ["Text <![ more", "Next paragraph."]),
    ("unclosed-html-comment", {START: chapter("Before <!-- never closed\n\nAfter paragraph.\n")}, None,
     ["never closed", "After paragraph."]),
    ("script-dropped", {START: chapter("Kept.\n\n<script>alert(1)</script>\n\nAlso kept.\n")}, "<script> was dropped",
     ["Kept.", "Also kept."]),
    ("event-handler-dropped", {START: chapter('<p onclick="alert(1)">Click text.</p>\n')}, "onclick", ["Click text."]),
    ("javascript-link-dropped", {START: chapter("[Link text](javascript:alert(1)).\n")}, "javascript", ["Link text"]),
    ("iframe-dropped", {START: chapter("Around.\n\n<iframe></iframe>\n")}, "<iframe> was dropped", ["Around."]),
    ("nested-twenty", {START: chapter(">" * 20 + " Deep enough.\n")}, None, ["Deep enough."]),
]


@pytest.mark.parametrize("files, warning, texts", [case[1:] for case in BUILDS], ids=[case[0] for case in BUILDS])
def test_builds_right(tmp_path, capsys, files, warning, texts):
    project = make_project(tmp_path, files)
    code, out, err = run(["build", str(project), "--format", "epub", "--format", "pdf"], capsys)
    assert code == 0, err
    assert "Traceback" not in err
    if warning:
        assert re.fullmatch(r".+01-start\.md:\d+: warning: .+", err.strip()) and warning in err, err
    book = project / "build" / "a-minimal-book.epub"
    assert epubcheck(book) == []
    epub_text, pdf = Epub(book).text(), squash(pdf_text(project / "build" / "a-minimal-book.pdf"))
    for text in texts:
        assert text in epub_text and squash(text) in pdf, text
    raw = b"".join(Epub(book).zip.read(name) for name in Epub(book).zip.namelist())
    assert b"<script" not in raw and b"onclick" not in raw and b"javascript:" not in raw
    if warning:
        code, out, err = run(["build", str(project), "--strict"], capsys)
        assert code == 1 and ": error: " in err and "Traceback" not in err


def test_missing_image_in_stylesheet_is_error_at_its_line(tmp_path, capsys):
    project = make_project(tmp_path, {"styles/print.css": "body {}\n\nh1 { background: url(images/none.png) }\n"})
    code, out, err = run(["build", str(project), "--format", "pdf"], capsys)
    assert code == 1 and re.fullmatch(r".+styles/print\.css:3: error: .*no such file", err.strip()), err


def test_css_warning_names_stylesheet_line_and_strict_fails(tmp_path, capsys):
    project = make_project(tmp_path, {"styles/print.css": "body { color: black }\n\np { colr: red }\n"})
    code, out, err = run(["build", str(project), "--format", "pdf"], capsys)
    assert code == 0, err
    assert re.fullmatch(r".+styles/print\.css:3: warning: WeasyPrint: .*colr.*", err.strip()), err
    code, out, err = run(["build", str(project), "--format", "pdf", "--strict"], capsys)
    assert code == 1 and "print.css:3: error" in err


def test_internal_error_is_short_with_exit_3(tmp_path, capsys, monkeypatch):
    project = make_project(tmp_path, {})
    import zinepress.cli

    def broken(options):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(zinepress.cli, "build", broken)
    code, out, err = run(["build", str(project)], capsys)
    assert code == 3
    assert "Traceback" not in err and "internal error: ZeroDivisionError: a bug" in err
    log = Path(re.search(r"traceback is in (\S+)", err)[1])
    assert "Traceback" in log.read_text()
    log.unlink()
