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

from conftest import NS, PROJECTS, Epub, epubcheck, pdf_text, run, squash
from zinepress.writers import Writer

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
    ("duplicate-id", {START: chapter('<p id="x">One.</p>\n\n<p id="x">Two.</p>\n')}, START, 7, "used twice"),
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
    ("stylesheet-svg-script", {"styles/epub.css": "h1 { color: black }\nbody { background: url(bg.svg) }\n",
                               "styles/bg.svg": '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'},
     "styles/epub.css", 2, "holds a script"),
    ("stylesheet-broken-image", {"styles/print.css": "\n\nh1 { background: url(mark.png) }\n",
                                 "styles/mark.png": "not a picture"},
     "styles/print.css", 3, "not an image that can be read"),
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


EPUBCHECKED = {"heading-same-as-chapter", "script-dropped", "event-handler-dropped"}


@pytest.mark.parametrize("name, files, warning, texts", BUILDS, ids=[case[0] for case in BUILDS])
def test_builds_right(tmp_path, capsys, name, files, warning, texts):
    project = make_project(tmp_path, files)
    code, out, err = run(["build", str(project), "--format", "epub", "--format", "pdf"], capsys)
    assert code == 0, err
    assert "Traceback" not in err
    if warning:
        assert re.fullmatch(r".+01-start\.md:\d+: warning: .+", err.strip()) and warning in err, err
    book = project / "build" / "a-minimal-book.epub"
    if name in EPUBCHECKED:
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


def every_output_byte(project: Path) -> bytes:
    """Every output file's bytes, EPUBs unzipped and PDFs also as text, for grepping."""
    import zipfile
    data = []
    for path in (project / "build").rglob("*"):
        if path.is_file():
            data.append(path.read_bytes())
            if path.suffix == ".epub":
                with zipfile.ZipFile(path) as archive:
                    data += [archive.read(name) for name in archive.namelist()]
            if path.suffix == ".pdf":
                data.append(pdf_text(path).encode())
                from pypdf import PdfReader
                for page in PdfReader(path).pages:
                    data.append(page.get_contents().get_data() if page.get_contents() else b"")
    return b"\n".join(data)


SENTINEL_WAYS = {
    "relative": "![S](../../secret.txt)\n",
    "absolute": "![S]({secret})\n",
    "file-url": "![S](file://{secret})\n",
    "symlink": "![S](images/link.png)\n",
    "css-url": '<p style="background: url(../../secret.txt)">x</p>\n',
    "css-import": '<style>@import url("../../secret.txt");</style>\n',
    "link-attachment": '<link rel="attachment" href="../../secret.txt">\n',
    "a-attachment": '<a rel="attachment" href="../../secret.txt">x</a>\n',
    "object": '<object data="../../secret.txt"></object>\n',
    "iframe": '<iframe src="../../secret.txt"></iframe>\n',
    "svg-image": '<svg xmlns="http://www.w3.org/2000/svg"><image href="../../secret.txt"/></svg>\n',
    "svg-xlink": '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                 '<image xlink:href="file://{secret}"/></svg>\n',
    "embed": '<embed src="{secret}">\n',
    "print-css": None, "epub-css": None, "layout": None,
    "plain-links": "[s](../../secret.txt), [t](file://{secret}) and [u]({secret}).\n",
}


@pytest.mark.parametrize("way", SENTINEL_WAYS)
def test_sentinel_outside_the_project_never_reaches_an_output(tmp_path, capsys, way):
    project = make_project(tmp_path, {"manuscript/images/link.png": symlink_to_secret})
    secret = (tmp_path / "secret.txt").resolve()
    body = SENTINEL_WAYS[way]
    if body:
        (project / START).write_text(chapter("Visible.\n\n" + body.format(secret=secret)))
    elif way == "layout":
        (project / "layouts").mkdir()
        (project / "layouts/colophon.html").write_text('<section id="colophon"><h1>C</h1>'
                                                       '<img alt="s" src="../../secret.txt"/></section>\n')
    else:
        (project / "styles").mkdir()
        (project / f"styles/{way[:-4]}.css").write_text('@import "../../secret.txt";\nbody { background: '
                                                        f'url({secret}) }}\n')
    code, out, err = run(["build", str(project)], capsys)
    assert "Traceback" not in err and "SENTINEL" not in err + out
    if way == "plain-links":
        assert code == 0, err
        assert b"Visible." in every_output_byte(project)
    else:
        assert code == 1, err
        assert re.match(r".+:\d+: error: .*(outside the project|not followed|is not read)", err), err
        assert outputs(project) == []
    assert b"SENTINEL-7f3a" not in every_output_byte(project)


def test_sentinel_fetcher_backstop_in_weasyprint(tmp_path):
    """Even HTML that skipped the manuscript checks cannot make WeasyPrint read the sentinel."""
    from weasyprint import HTML
    from zinepress.paged.fetcher import ConfinedFetcher
    project = make_project(tmp_path, {})
    secret = (tmp_path / "secret.txt").resolve()
    html = (f'<link rel="stylesheet" href="../secret.txt"><link rel="attachment" href="{secret.as_uri()}">'
            f'<style>@import "../secret.txt"; p {{ background: url({secret.as_uri()}) }}</style>'
            f'<img src="../secret.txt"><object data="{secret}"></object><p>x</p>'
            f'<svg><image href="../secret.txt"/></svg>')
    fetcher = ConfinedFetcher(project)
    pdf = HTML(string=html, base_url=str(project) + "/", url_fetcher=fetcher).write_pdf()
    assert b"SENTINEL" not in pdf
    assert fetcher.refused and all("outside the project" in reason for _, reason in fetcher.refused)


@pytest.fixture
def listener():
    """A TCP socket on 127.0.0.1 that records every connection made to it."""
    import socket
    import threading
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    connections: list = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connections.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


NETWORK_FORMS = [
    "![i](http://127.0.0.1:{port}/a.png)", "![i](//127.0.0.1:{port}/b.png)", "![i](https://127.0.0.1:{port}/c.png)",
    '<img alt="i" src="http://127.0.0.1:{port}/d.png">', '<img alt="i" srcset="http://127.0.0.1:{port}/e.png 2x">',
    '<p style="background: url(http://127.0.0.1:{port}/f.png)">x</p>',
    '<style>@import "http://127.0.0.1:{port}/g.css";</style>',
    '<link rel="stylesheet" href="http://127.0.0.1:{port}/h.css">',
    '<link rel="attachment" href="http://127.0.0.1:{port}/i.txt">',
    '<a rel="attachment" href="//127.0.0.1:{port}/j.txt">x</a>',
    '<object data="http://127.0.0.1:{port}/k.svg"></object>', '<iframe src="http://127.0.0.1:{port}/l"></iframe>',
    '<embed src="ftp://127.0.0.1:{port}/m">', '<video poster="http://127.0.0.1:{port}/n.png"></video>',
    '<svg xmlns="http://www.w3.org/2000/svg"><image href="http://127.0.0.1:{port}/o.png"/></svg>',
]


def test_no_connection_during_builds_referencing_the_network(tmp_path, capsys, listener):
    port, connections = listener
    for index, form in enumerate(NETWORK_FORMS):
        project = make_project(tmp_path / str(index), {START: chapter("Text.\n\n" + form.format(port=port) + "\n")})
        code, out, err = run(["build", str(project)], capsys)
        if form.startswith(("![i]", '<img alt="i" src=')):  # a remote image gives way to its alt text
            assert code == 0 and re.match(r".+01-start\.md:7: warning: .*not fetched: on the network", err), (form, err)
        else:
            assert code == 1 and re.match(r".+01-start\.md:7: error: .*network", err), (form, err)
    links = "\n\n".join(f"[x{i}](http://127.0.0.1:{port}/{i}) <http://127.0.0.1:{port}/auto{i}>" for i in range(3))
    project = make_project(tmp_path / "links", {START: chapter("Links are not fetched.\n\n" + links + "\n"),
                                                "styles/print.css": "a::after { content: attr(href) }\n"})
    code, out, err = run(["build", str(project)], capsys)
    assert code == 0, err
    from weasyprint import HTML
    from zinepress.paged.fetcher import ConfinedFetcher
    fetcher = ConfinedFetcher(project)
    HTML(string="".join(form.format(port=port) for form in NETWORK_FORMS), base_url=str(project) + "/",
         url_fetcher=fetcher).write_pdf()
    assert len(fetcher.refused) >= 8
    assert connections == []


XSS_VECTORS = [
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<a onmouseover=\"alert(document.cookie)\">xxs link</a>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>",
    "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097\">",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert('XSS')>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<SCRIPT/XSS SRC=\"http://xss.rocks/xss.js\"></SCRIPT>",
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    "<<SCRIPT>alert(\"XSS\");//\\<</SCRIPT>",
    "<iframe src=http://xss.rocks/scriptlet.html <",
    "<svg/onload=alert('XSS')>",
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"http://xss.rocks/scriptlet.html\"></OBJECT>",
    "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\" type=\"image/svg+xml\"></EMBED>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<a href=\"&#1;javascript:alert(1)\">x</a>",
    "[click](javascript:alert('XSS'))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](vbscript:msgbox(\"XSS\"))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](file:///etc/passwd)",
    "![x](javascript:alert(1))",
    "[click](http://example.com\" onmouseover=\"alert(1))",
    "[click][r]\n\n[r]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[a](&#106;avascript:alert(1))",
    "[a](java\tscript:alert(1))",
    "{{ 7*7 }} {% raw %}{{ config }}",
]
SAFE_SCHEMES = ("http://", "https://", "mailto:")
ACTIVE = {"script", "iframe", "object", "embed", "applet", "form", "img", "svg", "math", "style", "link",
          "meta", "base", "frame", "frameset", "body", "table", "video", "audio", "source"}


@pytest.fixture(scope="module")
def xss_book(tmp_path_factory):
    """The minimal book with one reader comment per XSS vector, built to EPUB and PDF."""
    project = shutil.copytree(PROJECTS / "minimal", tmp_path_factory.mktemp("xss") / "book")
    comments = "".join(f"---\nauthor: Reader {index}\ndate: 2024-02-29T15:07\n---\n\nComment {index}: {vector}\n\n"
                       for index, vector in enumerate(XSS_VECTORS))
    comments += "---\nauthor: \"{{ 7*7 }} <script>x()</script>\"\ndate: 2024-03-01T10:00\n---\n\nSigned.\n"
    (project / "manuscript/comments.md").write_text(comments)
    from zinepress.cli import main
    assert main(["build", str(project), "--format", "epub", "--format", "pdf"]) == 0
    from pypdf import PdfReader
    epub = Epub(project / "build/a-minimal-book.epub")
    return epub, PdfReader(project / "build/a-minimal-book.pdf"), project


def pdf_actions(reader) -> list[str]:
    """Every link target and action type in a PDF, plus the names of its document-level scripts."""
    found = []
    root = reader.trailer["/Root"]
    found += [key for key in ("/OpenAction", "/AA") if key in root]
    names = root.get("/Names", {})
    found += [key for key in ("/JavaScript", "/EmbeddedFiles") if key in names]
    for page in reader.pages:
        for annotation in page.get("/Annots", []) or []:
            annotation = annotation.get_object()
            action = annotation.get("/A", {})
            found.append(str(action.get("/URI", action.get("/S", ""))))
            found += [key for key in ("/AA", "/JS") if key in annotation]
    return found


@pytest.mark.parametrize("index", range(len(XSS_VECTORS)), ids=lambda index: XSS_VECTORS[index][:28])
def test_xss_vector_in_comment_is_inert(xss_book, index):
    epub, pdf, project = xss_book
    root = epub.xml("reader-comments.xhtml")
    from conftest import NS
    article = root.xpath("//x:article", namespaces=NS)[index]
    assert f"Comment {index}:" in "".join(article.itertext())
    for element in article.iter():
        name = etree_name(element)
        assert name not in ACTIVE, name
        for attribute, value in element.attrib.items():
            assert not attribute.lower().startswith("on") and attribute != "style", attribute
            if attribute in ("href", "src"):
                assert value.startswith(SAFE_SCHEMES), value
    vector = XSS_VECTORS[index]
    everything = b"".join(epub.zip.read(name) for name in epub.zip.namelist())
    if vector.startswith("<"):
        assert vector.encode() not in everything
    assert b"49" not in everything.split(b"Reader comments", 1)[-1].split(b"Signed")[0][-60:]
    for target in pdf_actions(pdf):
        assert target.startswith(SAFE_SCHEMES) or target.startswith("/GoTo") or target == "", target


def etree_name(element) -> str:
    from lxml import etree
    return etree.QName(element).localname.lower() if isinstance(element.tag, str) else ""


def test_comments_are_never_template_source(xss_book):
    epub, pdf, project = xss_book
    text = epub.text()
    assert "{{ 7*7 }}" in text and "{% raw %}{{ config }}" in text
    assert "Reader 49" not in text and " 49 " not in text
    assert squash("{{ 7*7 }}") in squash(pdf_text(project / "build/a-minimal-book.pdf"))



class InterruptedWriter(Writer):
    """A writer that writes half a file, then is interrupted as if by Ctrl-C."""

    name = "interrupted"
    suffix = ".half"
    description = "interrupted mid-write"

    def write(self, rendered, folder, session):
        (folder / "a-minimal-book.half").write_bytes(b"half")
        raise KeyboardInterrupt


def test_interrupt_inside_a_writer_leaves_previous_outputs(tmp_path, capsys, monkeypatch):
    project = make_project(tmp_path, {})
    assert run(["build", str(project), "--format", "epub"], capsys)[0] == 0
    before = {path.name: path.read_bytes() for path in outputs(project)}
    (project / START).write_text(chapter("A changed text.\n"))
    import importlib
    build_module = importlib.import_module("zinepress.build")
    monkeypatch.setitem(build_module.WRITERS, "interrupted", InterruptedWriter)
    with pytest.raises(KeyboardInterrupt):
        build_module.build(build_module.BuildOptions(project=project, formats=("epub", "interrupted")))
    assert {path.name: path.read_bytes() for path in outputs(project)} == before
    assert not [path for path in (project / "build").rglob("*") if path.name.startswith(".")]


def test_ctrl_c_during_a_real_build_leaves_previous_outputs(tmp_path):
    """SIGINT sent while the CLI is writing: exit 130, old outputs untouched, no temporary files."""
    import signal
    import subprocess
    import sys
    import time
    project = make_project(tmp_path, {})
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")}
    subprocess.run([sys.executable, "-m", "zinepress", "build", str(project)], check=True, env=env,
                   capture_output=True)
    before = {path.name: path.read_bytes() for path in outputs(project)}
    (project / START).write_text(chapter("\n\n".join(f"Paragraph {i} " * 40 for i in range(400))))
    process = subprocess.Popen([sys.executable, "-m", "zinepress", "build", str(project)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while process.poll() is None and not list((project / "build").glob(".zinepress-staging-*")):
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert "Traceback" not in err
    if process.returncode == 130:
        assert err.strip() == "interrupted"
        assert {path.name: path.read_bytes() for path in outputs(project)} == before
    else:
        assert process.returncode == 0, err
    assert not list((project / "build").glob(".*"))


from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789éøß한글", min_size=1, max_size=12)
PHRASE = st.lists(WORD, min_size=1, max_size=12).map(" ".join)
BLOCK = st.one_of(
    PHRASE.map(lambda text: (text, text)),
    PHRASE.map(lambda text: (f"## {text}", text)),
    PHRASE.map(lambda text: (f"- {text}", text)),
    PHRASE.map(lambda text: (f"> {text}", text)),
    PHRASE.map(lambda text: (f"*{text}*", text)),
    PHRASE.map(lambda text: (f"1. **{text}**", text)),
    PHRASE.map(lambda text: (f"    {text}", text)),
)
NOISE = st.lists(st.sampled_from(list("*_[]()<>#!-`|:{}&;\\/=\"' \n\t>~^") + ["<!--", "-->", "<div>",
                                                                                    "</div>", "<![", "```", "---",
                                                                                    "<script>", "[^1]", "é"]),
                 max_size=40).map("".join)
FRONT = st.one_of(PHRASE.map(lambda title: f"title: {title}\n"),
                  st.tuples(PHRASE, st.sampled_from(["en", "ko", "no", "yes", "1", "[x", "en-GB"]))
                  .map(lambda pair: f"title: {pair[0]}\nlang: {pair[1]}\n"),
                  st.text(max_size=30).map(lambda text: f"title: {text}\n"),
                  st.sampled_from(["", "title:\n", "- a\n", "title: [\n", "slug: x\n", "title: a\ntitle: b\n"]))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    project = shutil.copytree(PROJECTS / "minimal", tmp_path_factory.mktemp("property") / "book")
    from zinepress.config import load_config
    return project, load_config(project)


def chapter_text(rendered) -> str:
    from lxml import etree
    document = next(doc for doc in rendered.epub_documents if doc.kind == "chapter")
    return " ".join("".join(etree.fromstring(document.xhtml.encode()).itertext()).split())


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(blocks=st.lists(BLOCK, min_size=1, max_size=8), title=PHRASE)
def test_property_valid_documents_keep_every_paragraph(scratch, blocks, title):
    from zinepress.manuscript import load_manuscript
    from zinepress.render import render
    project, config = scratch
    (project / START).write_text(chapter("\n\n".join(source for source, _ in blocks) + "\n", f"title: \"{title}\"\n"))
    text = chapter_text(render(load_manuscript(config)))
    for _, words in blocks:
        assert " ".join(words.split()) in text


@settings(max_examples=700, deadline=None, suppress_health_check=list(HealthCheck))
@given(front=FRONT, parts=st.lists(st.one_of(BLOCK.map(lambda block: block[0]), NOISE), max_size=8))
def test_property_any_document_ends_in_a_book_or_a_located_error(scratch, front, parts):
    from zinepress.errors import ProjectError
    from zinepress.manuscript import load_manuscript
    from zinepress.render import render
    project, config = scratch
    (project / START).write_text(chapter("\n\n".join(parts) + "\n", front))
    try:
        render(load_manuscript(config))
    except ProjectError as error:
        assert all(problem.path is not None for problem in error.problems)
        assert re.fullmatch(r"(.+?)(:\d+)?: error: .+", str(error.problems[0]), re.S)


KOREAN_LINE = "d1Ct 글ß한5 00000 00000000 00000000000A 00000000000 00000000000"


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(blocks=st.lists(BLOCK, min_size=1, max_size=5))
@example(blocks=[(KOREAN_LINE, KOREAN_LINE)])
def test_property_full_builds_keep_every_paragraph(scratch, blocks):
    project, _ = scratch
    (project / START).write_text(chapter("\n\n".join(source for source, _ in blocks) + "\n"))
    from zinepress.cli import main
    assert main(["build", str(project), "--format", "epub", "--format", "pdf"]) == 0
    epub_text = Epub(project / "build/a-minimal-book.epub").text()
    # -layout keeps the lines in their order: pdftotext's reading-order guess can put a justified
    # line's last word after the next line when a Korean word in another font shifts the baseline
    pdf = squash(pdf_text(project / "build/a-minimal-book.pdf", "-layout"))
    for _, words in blocks:
        assert " ".join(words.split()) in epub_text and squash(words) in pdf


# ================================================================ issue 16: confinement, cache, serve, faults
# Each class below is one class of attack or fault; every case ends in exit 0 with a valid book or exit 1 with
# one located line, the previous outputs unchanged and nothing outside the output folder touched.

import json  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402

BOOK = "a-minimal-book"
SRC = Path(__file__).resolve().parent.parent / "src"


def previous_outputs(project: Path) -> dict[str, bytes]:
    """Build the EPUB once so that later failures can be checked to leave it alone."""
    assert run_cli(["build", str(project), "--format", "epub"])[0] == 0
    return {path.name: path.read_bytes() for path in outputs(project)}


def run_cli(argv: list[str], env: dict | None = None, user: str | None = None) -> tuple[int, str, str]:
    """The command line in a child process (signals and other users need one)."""
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if user == "nobody" else []
    result = subprocess.run([*prefix, sys.executable, "-m", "zinepress", *argv], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(SRC), **(env or {})}, timeout=600)
    return result.returncode, result.stdout, result.stderr


def one_located_error(err: str, suffix: str, words: str, line: int | None = None) -> None:
    assert "Traceback" not in err and "internal error" not in err, err
    lines = [line for line in err.strip().splitlines() if ": error: " in line]
    assert len(lines) == 1, err
    match = re.fullmatch(r"(.+?)(?::(\d+))?: error: (.+)", lines[0])
    assert match and match[1].endswith(suffix) and words in match[3], lines[0]
    if line is not None:
        assert match[2] and int(match[2]) == line, lines[0]


class TestOutputFolderConfinement:
    """The output folder is the project's own: its links are never followed, and it is never a source folder."""

    def test_a_symlinked_output_is_not_listed_hashed_or_bundled(self, tmp_path, capsys):
        project = make_project(tmp_path, {})
        with (project / "manuscript/book.toml").open("a") as stream:
            stream.write("\n[site]\nbundle = true\n")
        (project / "build").mkdir()
        (project / f"build/{BOOK}.pdf").symlink_to(tmp_path / "secret.txt")
        code, out, err = run(["build", str(project), "--format", "epub", "--format", "site"], capsys)
        assert code == 0, err
        build = project / "build"
        assert f"{BOOK}.pdf" not in (build / "SHA256SUMS").read_text()
        assert f"{BOOK}.pdf" not in (build / "index.html").read_text()
        assert f"{BOOK}.pdf" not in zipfile.ZipFile(build / f"{BOOK}.zip").namelist()
        for path in build.iterdir():
            if not path.is_symlink():
                data = [path.read_bytes()]
                if path.suffix in (".zip", ".epub"):
                    archive = zipfile.ZipFile(path)
                    data += [archive.read(name) for name in archive.namelist()]
                assert not any(b"SENTINEL" in item for item in data), path
        assert (tmp_path / "secret.txt").read_text() == "SENTINEL-7f3a\n"

    def test_a_symlinked_build_folder_is_refused(self, tmp_path, capsys):
        project = make_project(tmp_path, {})
        (tmp_path / "elsewhere").mkdir()
        (project / "build").symlink_to(tmp_path / "elsewhere")
        code, out, err = run(["build", str(project), "--format", "epub"], capsys)
        assert code == 1
        one_located_error(err, "build", "symbolic link")
        assert list((tmp_path / "elsewhere").iterdir()) == []

    @pytest.mark.parametrize("folder", ["manuscript", "manuscript/images", "styles", "layouts",
                                        ".zinepress-cache/objects"])
    def test_out_inside_a_source_folder_is_refused(self, tmp_path, capsys, folder):
        project = make_project(tmp_path, {"manuscript/images/cover.png": png(), "styles/epub.css": "p {}\n",
                                          "layouts/.keep": ""})
        (project / folder).mkdir(parents=True, exist_ok=True)
        before = {path: path.read_bytes() for path in project.rglob("*") if path.is_file()}
        code, out, err = run(["build", str(project), "--out", str(project / folder)], capsys)
        assert code == 1
        one_located_error(err, folder, "--out is inside")
        assert {path: path.read_bytes() for path in project.rglob("*") if path.is_file()} == before


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs (needs root and mount; else the test is skipped): a disk that fills up for real."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def free_bytes(folder: Path) -> int:
    status = os.statvfs(folder)
    return status.f_bavail * status.f_frsize


def cache_entries(project: Path, folder: str) -> list[Path]:
    return sorted(path for path in (project / ".zinepress-cache" / folder).rglob("*") if path.is_file())


def rehash(cache: Path, path: Path, body: bytes) -> None:
    """Rewrite an entry as a forger who knows the format would: the hash line made right for ``body``."""
    import hashlib
    name = path.relative_to(cache).as_posix().encode()
    path.write_bytes(b"zinepress-entry sha256=" + hashlib.sha256(name + b"\0" + body).hexdigest().encode()
                     + b"\n" + body)


class TestCacheVerifiesWhatItServes:
    """A damaged, swapped, truncated or symlinked cache entry is missing, never content; records name no paths."""

    @pytest.mark.parametrize("damage", ["symlink", "truncate", "edit", "folder-symlink"])
    def test_a_damaged_markdown_entry_is_made_again(self, tmp_path, capsys, damage):
        project = make_project(tmp_path, {START: chapter("The true chapter text.\n")})
        assert run(["build", str(project), "--format", "epub"], capsys)[0] == 0
        markdown = cache_entries(project, "markdown")
        assert markdown
        for entry in markdown:
            if damage == "symlink":
                entry.unlink()
                entry.symlink_to(tmp_path / "secret.txt")
            elif damage == "truncate":
                entry.write_bytes(entry.read_bytes()[:-9])
            elif damage == "edit":
                entry.write_bytes(entry.read_bytes().replace(b"true", b"fake"))
        if damage == "folder-symlink":
            shutil.rmtree(project / ".zinepress-cache/markdown")
            (tmp_path / "outside").mkdir()
            (tmp_path / "outside/planted.html").write_text("SENTINEL")
            (project / ".zinepress-cache/markdown").symlink_to(tmp_path / "outside")
        shutil.rmtree(project / ".zinepress-cache/builds")
        (project / "build" / f"{BOOK}.epub").unlink()
        code, out, err = run(["build", str(project), "--format", "epub", "--verbose"], capsys)
        assert code == 0, err
        text = Epub(project / f"build/{BOOK}.epub").text()
        assert "The true chapter text." in text and "SENTINEL" not in text and "fake" not in text
        if damage != "folder-symlink":
            assert "damaged" in err and err.count("cache:") == 1, err
        else:
            assert [path.name for path in (tmp_path / "outside").iterdir()] == ["planted.html"]

    @pytest.mark.parametrize("name", ["../../escaped.epub", "/tmp/zinepress-escaped.epub", "..", ".hidden",
                                      "sub/dir.epub", "a\nb.epub", ""])
    def test_output_names_in_a_record_are_never_paths(self, tmp_path, capsys, name):
        project = make_project(tmp_path, {})
        assert run(["build", str(project), "--format", "epub"], capsys)[0] == 0
        cache = project / ".zinepress-cache"
        for record in cache_entries(project, "builds"):
            data = json.loads(record.read_bytes().split(b"\n", 1)[1])
            data["outputs"] = [[name, sha] for _, sha in data["outputs"]]
            rehash(cache, record, json.dumps(data).encode())
        shutil.rmtree(project / "build")
        code, out, err = run(["build", str(project), "--format", "epub"], capsys)
        assert code == 0, err
        assert not (tmp_path / "escaped.epub").exists() and not Path("/tmp/zinepress-escaped.epub").exists()
        assert [path.name for path in outputs(project)] == [f"{BOOK}.epub"]
        assert epubcheck(project / f"build/{BOOK}.epub") == []

    def test_swapped_and_truncated_layout_parts_never_change_the_pdf(self, tmp_path, capsys, in_parts):
        files = {f"manuscript/0{n}-{name}.md": chapter(f"Chapter {name} text.\n", f"title: Part {n}\n")
                 for n, name in ((2, "second"), (3, "third"))}
        project = make_project(tmp_path, files)
        env = ["--format", "pdf"]
        assert run(["build", str(project), "--out", str(tmp_path / "fresh"), "--no-cache", *env], capsys)[0] == 0
        assert run(["build", str(project), *env], capsys)[0] == 0
        pdfs = [path for path in cache_entries(project, "layout") if path.suffix == ".pdf"]
        assert len(pdfs) >= 2
        first, second = pdfs[0].read_bytes(), pdfs[1].read_bytes()
        pdfs[0].write_bytes(second)
        pdfs[1].write_bytes(first)
        if len(pdfs) > 2:
            pdfs[2].write_bytes(pdfs[2].read_bytes()[:200])
        shutil.rmtree(project / ".zinepress-cache/builds")
        code, out, err = run(["build", str(project), *env], capsys)
        assert code == 0, err
        assert (project / f"build/{BOOK}.pdf").read_bytes() == (tmp_path / f"fresh/{BOOK}.pdf").read_bytes()

    def test_a_restore_on_a_full_disk_keeps_the_old_outputs(self, tmp_path, capsys, small_disk):
        project = make_project(tmp_path, {})
        assert run(["build", str(project), "--out", str(small_disk), "--format", "epub"], capsys)[0] == 0
        book = small_disk / f"{BOOK}.epub"
        book.write_bytes(b"an older book")
        (small_disk / "filler").write_bytes(b"x" * (free_bytes(small_disk) - 4096))
        code, out, err = run(["build", str(project), "--out", str(small_disk), "--format", "epub"], capsys)
        assert code == 1
        one_located_error(err, f"{BOOK}.epub", "No space left")
        assert book.read_bytes() == b"an older book"
        assert not [path for path in small_disk.iterdir() if path.name.startswith(".")]


RECORD_VALUE = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
                            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=3), max_leaves=8)
FORGED_NAME = st.one_of(st.text(max_size=30), st.sampled_from(["../x.epub", "/etc/x", "a/../../b", "..", ".",
                                                               "build/../../x", "x\x00y", "C:\\x", "~/.bashrc"]))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(names=st.lists(FORGED_NAME, min_size=1, max_size=4), extra=RECORD_VALUE)
def test_property_a_forged_record_restores_only_inside_the_output_folder(tmp_path_factory, names, extra):
    """Whatever a record says, a restore writes plain file names into the output folder or nothing."""
    import hashlib
    from zinepress.cache import BuildCache
    root = tmp_path_factory.mktemp("forged")
    project, out = root / "book", root / "book" / "build"
    (project / "manuscript").mkdir(parents=True)
    store = BuildCache(project)
    data = b"the stored output"
    sha = hashlib.sha256(data).hexdigest()
    (store.folder / "objects" / sha[:2]).mkdir(parents=True)
    (store.folder / "objects" / sha[:2] / sha).write_bytes(data)
    (store.folder / "builds").mkdir()
    record = {"outputs": [[name, sha] for name in names], "warnings": [], "extras": [], "noise": extra}
    rehash(store.folder, store.folder / "builds/k.json", json.dumps(record).encode())
    entry = store.lookup("k")
    if entry is not None:
        restored = store.restore("k", entry, out)
        assert all(path.parent == out for path in restored)
    written = {path for path in root.rglob("*") if path.is_file() and not path.is_relative_to(store.folder)}
    assert all(path.parent == out and not path.name.startswith(".") for path in written), written


class TestLayoutSandbox:
    """Layouts are the author's, but they run sandboxed: no Python internals, no files, no commands."""

    PAYLOADS = {
        "lipsum-globals": "{{ lipsum.__globals__['__builtins__']['open']('SECRET').read() }}",
        "cycler-popen": "{{ cycler.__init__.__globals__.os.popen('touch TOUCHED').read() }}",
        "config-path": "{{ book.project.joinpath('../secret.txt').read_text() }}",
        "path-parent": "{{ book.manuscript.parent.parent }}",
        "mro": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "self-module": "{{ self._TemplateReference__context.environment }}",
    }

    @pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
    def test_a_layout_cannot_reach_outside_what_it_is_given(self, tmp_path, capsys, payload):
        touched = tmp_path / "TOUCHED"
        text = payload.replace("SECRET", str(tmp_path / "secret.txt")).replace("TOUCHED", str(touched))
        project = make_project(tmp_path, {"layouts/colophon.html": f'<section id="colophon">\n<p>{text}</p>\n'
                                                                   "</section>\n"})
        code, out, err = run(["build", str(project), "--format", "epub"], capsys)
        assert code == 1
        one_located_error(err, "layouts/colophon.html", "layout", 2)
        assert "SENTINEL" not in err and not touched.exists() and outputs(project) == []

    def test_the_default_layouts_and_extends_still_work_in_the_sandbox(self, tmp_path, capsys):
        project = make_project(tmp_path, {"layouts/colophon.html": '{% extends "default/colophon.html" %}\n'})
        code, out, err = run(["build", str(project), "--format", "epub", "--format", "site"], capsys)
        assert code == 0, err
        assert epubcheck(project / f"build/{BOOK}.epub") == []


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    """A preview server on 127.0.0.1, port 0, showing the minimal book; its files folder holds a link out."""
    from zinepress.serve import PreviewServer, PreviewState, render_view
    root = tmp_path_factory.mktemp("serve")
    project = shutil.copytree(PROJECTS / "minimal", root / "book")
    (root / "secret.txt").write_text("SENTINEL-7f3a\n")
    (project / ".env").write_text("SENTINEL-env\n")
    (project / ".git").mkdir()
    (project / ".git/config").write_text("SENTINEL-git\n")
    (project / "manuscript/comments.md").write_text("---\nauthor: e\ndate: 2024-02-29T15:07\n---\nSENTINEL-c\n")
    (project / "styles").mkdir()
    (project / "styles/epub.css").write_text("p { color: black }\n")
    files = root / "files"
    files.mkdir()
    (files / "index.html").write_text("<html><body><p>downloads</p></body></html>")
    (files / "out.txt").symlink_to(root / "secret.txt")
    state = PreviewState(project, files)
    state.view = render_view(project)
    server = PreviewServer(("127.0.0.1", 0), state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    state.stop()
    server.shutdown()
    server.server_close()


def raw_request(server, target: str, host: str | None = "default", method: str = "GET") -> tuple[int, bytes]:
    """Send one request as bytes (no client-side normalisation) and read the status and body."""
    port = server.server_address[1]
    host = f"127.0.0.1:{port}" if host == "default" else host
    lines = [f"{method} {target} HTTP/1.1"] + ([f"Host: {host}"] if host is not None else []) + ["Connection: close"]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


class TestPreviewServer:
    """``serve`` answers only its own address and only the preview's folders; bad requests are 400, quietly."""

    @pytest.mark.parametrize("target", [
        "/book/styles/..%2f.env", "/book/styles/..%2f.git%2fconfig", "/book/styles/..%2fmanuscript%2fcomments.md",
        "/book/styles/%2e%2e/.env", "/book/..%2f.env", "/book/styles/..%2f..%2fsecret.txt", "/book/.env",
        "/book/manuscript/comments.md", "/files/..%2fsecret.txt", "/files/out.txt", "/files/%2e%2e/secret.txt",
        "/book//etc/passwd", "/book/styles//etc/passwd", "/book/styles/..%252f.env"])
    def test_nothing_outside_the_served_folders(self, preview, capsys, target):
        status, body = raw_request(preview, target)
        assert status == 404, (target, status)
        assert b"SENTINEL" not in body
        assert "Traceback" not in capsys.readouterr().err

    @pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1", "127.0.0.1:1", "localhost.evil:{port}",
                                      "127.0.0.2:{port}", "[::2]:{port}", "127.0.0.1:{port}@evil", ""])
    def test_another_host_gets_421(self, preview, host):
        status, body = raw_request(preview, "/book/styles/epub.css", host.format(port=preview.server_address[1]))
        assert status == (400 if host == "" else 421), host
        assert b"color" not in body

    @pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}"])
    def test_the_loopback_names_with_the_port_are_served(self, preview, host):
        status, body = raw_request(preview, "/book/styles/epub.css", host.format(port=preview.server_address[1]))
        assert status == 200 and b"color: black" in body

    @pytest.mark.parametrize("target", ["/files/%00", "/book/%00.xhtml", "/_zinepress/events?since=abc",
                                        "/_zinepress/events?since=-1", "/book/%ff", "/files/a%5cb",
                                        "/_zinepress/events?since=%ff", "http://evil.example/book/", "*"])
    def test_a_malformed_request_gets_400_without_a_traceback(self, preview, capsys, target):
        status, body = raw_request(preview, target)
        assert status == 400, (target, status)
        assert "Traceback" not in capsys.readouterr().err

    def test_no_host_header_gets_400(self, preview):
        assert raw_request(preview, "/book/styles/epub.css", host=None)[0] == 400

    def test_the_book_and_its_files_are_still_served(self, preview):
        assert raw_request(preview, "/files/index.html")[0] == 200
        status, body = raw_request(preview, "/book/nav.xhtml")
        assert status == 200 and b"<nav" in body


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(segments=st.lists(st.sampled_from(["..", ".", "", "%2e%2e", "%2E%2e", "..%2f", "%2f", "styles", ".env",
                                           ".git", "config", "manuscript", "comments.md", "%00", "%5c", "%ff",
                                           "secret.txt", "out.txt", "epub.css", "%252e%252e", "~", "%c0%ae"]),
                         max_size=6), prefix=st.sampled_from(["/book/", "/book/styles/", "/files/"]))
def test_property_no_request_path_reaches_outside_the_preview(preview, segments, prefix):
    status, body = raw_request(preview, prefix + "/".join(segments))
    assert status in (200, 302, 400, 404), status
    assert b"SENTINEL" not in body


def big_chapter() -> str:
    return chapter("\n\n".join(f"Paragraph {i} " * 40 for i in range(400)))


def zinepress_processes(project: Path) -> list[str]:
    found = subprocess.run(["pgrep", "-f", f"zinepress build {project}"], capture_output=True, text=True)
    return found.stdout.split()


def test_a_sigterm_that_lands_in_a_finalizer_still_stops_the_build():
    """Python drops an exception raised in ``__del__``: the stop is sent again once it has run."""
    from zinepress.build import Terminated, terminated_as_interrupt

    class SignalledWhileCollected:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(10_000))  # the handler runs here, inside the finalizer

    deadline = time.monotonic() + 5
    with pytest.raises(Terminated), terminated_as_interrupt():
        SignalledWhileCollected()
        while time.monotonic() < deadline:
            time.sleep(0.001)
    assert time.monotonic() < deadline


class TestSignalsAndLeftovers:
    """SIGTERM stops a build as Ctrl-C does; a staging folder left by ``kill -9`` goes at the next build."""

    @pytest.mark.parametrize("delay", [0.0, 1.5, 4.0])
    def test_sigterm_during_a_build_leaves_only_complete_outputs(self, tmp_path, delay):
        project = make_project(tmp_path, {})
        before = previous_outputs(project)
        (project / START).write_text(big_chapter())
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        process = subprocess.Popen([sys.executable, "-m", "zinepress", "build", str(project)], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while process.poll() is None and not list((project / "build").glob(".zinepress-staging-*")):
            time.sleep(0.01)
        time.sleep(delay)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
        assert "Traceback" not in err
        if process.returncode == 143:
            assert err == "terminated\n"  # one line, without the blank one click writes after a ^C
            assert {path.name: path.read_bytes() for path in outputs(project)} == before
        else:
            assert process.returncode == 0, err
        assert not list((project / "build").glob(".*"))
        time.sleep(0.5)
        assert zinepress_processes(project) == []

    def test_a_staging_folder_left_by_a_killed_build_is_removed(self, tmp_path, capsys):
        project = make_project(tmp_path, {})
        before = previous_outputs(project)
        dead = subprocess.Popen(["true"])
        dead.wait()
        leftovers = [project / "build" / f".zinepress-staging-{dead.pid}-abc", project / "build/.zinepress-staging-x"]
        for folder in leftovers:
            folder.mkdir()
            (folder / f"{BOOK}.epub").write_bytes(b"half")
        os.utime(leftovers[1], (0, 0))
        alive = project / "build" / f".zinepress-staging-{os.getpid()}-live"
        alive.mkdir()
        (project / START).write_text(chapter("Changed.\n"))
        assert run(["build", str(project), "--format", "epub"], capsys)[0] == 0
        assert not any(folder.exists() for folder in leftovers)
        assert alive.is_dir(), "a running build's staging folder is left alone"
        assert (project / f"build/{BOOK}.epub").read_bytes() != before[f"{BOOK}.epub"]

    def test_kill_9_then_a_build_cleans_up(self, tmp_path):
        project = make_project(tmp_path, {})
        previous_outputs(project)
        (project / START).write_text(big_chapter())
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        process = subprocess.Popen([sys.executable, "-m", "zinepress", "build", str(project), "--format", "epub"],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while process.poll() is None and not list((project / "build").glob(".zinepress-staging-*")):
            time.sleep(0.01)
        process.kill()
        process.wait()
        assert run_cli(["build", str(project), "--format", "epub"])[0] == 0
        assert not list((project / "build").glob(".*"))


class TestWriteFailures:
    """A full disk or a read-only folder: exit 1 naming the file, the previous outputs kept."""

    def test_a_full_disk_names_the_file_and_keeps_the_old_outputs(self, tmp_path, capsys, small_disk):
        project = make_project(tmp_path, {})
        (small_disk / f"{BOOK}.pdf").write_bytes(b"the old pdf")
        (small_disk / "filler").write_bytes(b"x" * (free_bytes(small_disk) - 60_000))
        code, out, err = run(["build", str(project), "--out", str(small_disk), "--format", "epub",
                              "--format", "pdf", "--no-cache"], capsys)
        assert code == 1
        one_located_error(err, ".pdf", "No space left on device")
        assert (small_disk / f"{BOOK}.pdf").read_bytes() == b"the old pdf"
        assert sorted(path.name for path in small_disk.iterdir()) == [f"{BOOK}.pdf", "filler"]

    def test_a_read_only_output_folder_is_a_located_error(self):
        if os.geteuid() != 0:
            pytest.skip("needs root to run the build as another user")
        import tempfile
        root = Path(tempfile.mkdtemp(prefix="zinepress-read-only-"))  # pytest's own folder is closed to others
        project = make_project(root, {})
        before = previous_outputs(project)
        (project / START).write_text(chapter("Changed.\n"))
        for path in [root, *root.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        os.chmod(project / "build", 0o555)
        code, out, err = run_cli(["build", str(project), "--format", "epub", "--no-cache"], user="nobody")
        assert code == 1, err
        try:
            one_located_error(err, "build", "Permission denied")
            assert {path.name: path.read_bytes() for path in outputs(project)} == before
        finally:
            os.chmod(project / "build", 0o755)
            shutil.rmtree(root, ignore_errors=True)


# (id, files, path suffix, line, words): one located error, the old outputs left as they were.
LOCATED = [
    ("slug-newline", {START: chapter("Text.\n", 'title: A\nslug: "abc\\n"\n')}, START, 3, "'slug' may hold"),
    ("lang-newline", {START: chapter("Text.\n", 'title: A\nlang: "en\\n"\n')}, START, 3, "'lang' must be"),
    ("layout-missing", {START: chapter("Text.\n", "title: A\nlayout: wide\n")}, START, 3, "no layout named 'wide'"),
    ("layout-climbing", {START: chapter("Text.\n", "title: A\nlayout: ../../secret\n")}, START, 3, "no layout named"),
    ("comment-date-60-seconds", {"manuscript/comments.md": "---\nauthor: e\ndate: 2024-02-29T15:07:60\n---\nHi\n"},
     "comments.md", 3, "needs a 'date'"),
    ("comment-date-month-13", {"manuscript/comments.md": "---\nauthor: e\ndate: 2024-13-01\n---\nHi\n"},
     "comments.md", 3, "needs a 'date'"),
    ("image-nul", {START: chapter("![x](images/a%00.png)\n")}, START, 5, "NUL"),
    ("srcset-nul", {START: chapter('<img alt="x" src="images/a.png" srcset="images/b%00.png 2x"/>\n'),
                    "manuscript/images/a.png": png()}, START, 5, "NUL"),
    ("srcset-missing", {START: chapter('<img alt="x" src="images/a.png" srcset="images/b.png 2x"/>\n'),
                        "manuscript/images/a.png": png()}, START, 5, "'images/b.png' not found"),
    ("css-url-nul", {"styles/epub.css": "body {}\np { background: url(a%00.png) }\n"}, "styles/epub.css", 2, "NUL"),
    ("cover-nul", {"manuscript/book.toml": 'title = "A"\ncover = "images/a\\u0000.png"\n'}, "book.toml", 2,
     "cover"),
    ("cover-huge", {"manuscript/book.toml": 'title = "A"\ncover = "big.png"\n',
                    "manuscript/big.png": lambda p, path: path.write_bytes(png(10_000, 10_000))}, "book.toml", 2,
     "too many pixels"),
    ("svg-script", {START: chapter("![Logo](images/x.svg)\n"), "manuscript/images/x.svg":
                    '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'}, START, 5,
     "holds a script"),
    ("svg-onload", {START: chapter("![Logo](images/x.svg)\n"), "manuscript/images/x.svg":
                    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="2" height="2"/></svg>'},
     START, 5, "holds a script"),
    ("svg-external-doctype", {START: chapter("![Logo](images/x.svg)\n"), "manuscript/images/x.svg":
                              '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                              '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
                              '<svg xmlns="http://www.w3.org/2000/svg"><rect width="2" height="2"/></svg>'},
     START, 5, "external DOCTYPE"),
    ("title-only-control-characters", {START: chapter("Text.\n", 'title: "\\x01\\x02"\n')}, START, 2,
     "must not be empty"),
]


@pytest.mark.parametrize("files, suffix, line, words", [case[1:] for case in LOCATED], ids=[c[0] for c in LOCATED])
def test_hostile_value_is_one_located_error(tmp_path, capsys, files, suffix, line, words):
    test_one_located_error(tmp_path, capsys, files, suffix, line, words)


class TestNewProject:
    """``new`` refuses what it cannot make: a symlinked folder, a name too long for the file system."""

    def test_new_into_a_symlinked_folder_is_refused(self, tmp_path, capsys):
        (tmp_path / "real").mkdir()
        (tmp_path / "link").symlink_to(tmp_path / "real")
        code, out, err = run(["new", str(tmp_path / "link")], capsys)
        assert code == 1
        one_located_error(err, "link", "symbolic link")
        assert list((tmp_path / "real").iterdir()) == []

    @pytest.mark.parametrize("length", [256, 300])
    def test_new_with_a_name_too_long_is_refused(self, tmp_path, capsys, length):
        code, out, err = run(["new", str(tmp_path / ("x" * length))], capsys)
        assert code == 1
        one_located_error(err, tmp_path.name, "bytes long")
        assert list(tmp_path.iterdir()) == []


class TestValidBooks:
    """Hostile values that can be made right are: the EPUB passes EPUBCheck, with a warning where a value changed."""

    def test_control_characters_in_book_toml_are_removed_with_a_warning(self, tmp_path, capsys):
        toml = ('title = "A Minimal\\u0007 Book"\npublisher = "\\u0001\\u0002"\ndescription = "bad \\u000b char"\n'
                'authors = ["Test\\u001f Author"]\nlanguage = "en"\n')
        project = make_project(tmp_path, {"manuscript/book.toml": toml})
        code, out, err = run(["build", str(project), "--format", "epub"], capsys)
        assert code == 0, err
        warnings = err.strip().splitlines()
        assert len(warnings) == 4 and all(re.match(r".+book\.toml:\d: warning: .+control characters", w)
                                          for w in warnings), err
        book = project / f"build/{BOOK}.epub"
        assert epubcheck(book) == []
        assert Epub(book).opf.xpath("//dc:title/text()", namespaces=NS) == ["A Minimal Book"]

    def test_a_date_after_2107_is_clamped_in_the_zip_with_a_warning(self, tmp_path, capsys, monkeypatch):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "7258118400")  # 2200-01-01
        project = make_project(tmp_path, {"manuscript/book.toml": 'title = "A Minimal Book"\n[site]\nbundle = true\n'})
        code, out, err = run(["build", str(project), "--format", "epub", "--format", "site"], capsys)
        assert code == 0, err
        assert "warning: the build's date (2200-01-01, from SOURCE_DATE_EPOCH) is after 2107" in err
        for archive in (f"{BOOK}.epub", f"{BOOK}.zip"):
            assert {info.date_time[0] for info in zipfile.ZipFile(project / "build" / archive).infolist()} == {2107}
        assert epubcheck(project / f"build/{BOOK}.epub") == []
        assert run(["build", str(project), "--format", "epub", "--strict"], capsys)[0] == 1

    def test_a_book_toml_date_after_2107_warns_at_its_line(self, tmp_path, capsys, monkeypatch):
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
        project = make_project(tmp_path, {"manuscript/book.toml": 'title = "A Minimal Book"\ndate = "2150-06-01"\n'})
        code, out, err = run(["build", str(project), "--format", "epub"], capsys)
        assert code == 0, err
        assert re.search(r"book\.toml:2: warning: the build's date \(2150-06-01, from book.toml's 'date'\)", err), err

    def test_srcset_candidates_are_packaged_and_attachments_are_text(self, tmp_path, capsys):
        body = ('<img alt="A square" src="images/a.png" srcset="images/a.png 1x, images/b.png 2x"/>\n\n'
                'The <a rel="attachment" href="files/notes.txt">notes</a> come with the PDF.\n')
        project = make_project(tmp_path, {START: chapter(body), "manuscript/images/a.png": png(400, 400),
                                          "manuscript/images/b.png": png(800, 800),
                                          "manuscript/files/notes.txt": "notes\n"})
        code, out, err = run(["build", str(project), "--format", "epub"], capsys)
        assert code == 0, err
        assert re.search(r".+01-start\.md:7: warning: 'files/notes.txt' is attached to the PDF only", err), err
        book = Epub(project / f"build/{BOOK}.epub")
        assert {"images/a.png", "images/b.png"} <= set(book.manifest())
        assert epubcheck(project / f"build/{BOOK}.epub") == []

    def test_a_chapter_image_named_like_the_generated_cover_keeps_its_bytes(self, tmp_path, capsys):
        mine = png(300, 200)
        project = make_project(tmp_path, {START: chapter("![My own picture](images/cover.png)\n"),
                                          "manuscript/images/cover.png": mine})
        code, out, err = run(["build", str(project), "--format", "epub", "--format", "site"], capsys)
        assert code == 0, err
        book = Epub(project / f"build/{BOOK}.epub")
        assert book.read("images/cover.png") == mine
        cover = book.opf.xpath("//opf:item[contains(@properties, 'cover-image')]/@href", namespaces=NS)[0]
        assert cover != "images/cover.png" and book.read(cover) != mine
        assert epubcheck(project / f"build/{BOOK}.epub") == []

    def test_a_yaml_date_that_does_not_exist_is_a_title(self, tmp_path, capsys):
        project = make_project(tmp_path, {START: chapter("Text.\n", "title: 2024-13-01\n")})
        code, out, err = run(["build", str(project), "--format", "epub"], capsys)
        assert code == 0, err
        assert "2024-13-01" in Epub(project / f"build/{BOOK}.epub").text()


YAML_SCALAR = st.one_of(st.text(max_size=12), st.sampled_from(["2024-13-01", "2024-02-30", "0000-01-01",
                                                                "2024-02-29T15:07:60", "9999-12-31T23:59:59",
                                                                "2024-1-1 25:00:00", "en\n", "abc\n", "a\x00b"]))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(key=st.sampled_from(["title", "slug", "lang", "layout"]), value=YAML_SCALAR, quoted=st.booleans())
def test_property_front_matter_values_give_a_book_or_a_located_error(scratch, key, value, quoted):
    import yaml
    from zinepress.errors import ProjectError
    from zinepress.manuscript import load_manuscript
    from zinepress.render import render
    project, config = scratch
    written = yaml.safe_dump({key: value}, allow_unicode=True) if quoted else f"{key}: {value}\n"
    front = ("" if key == "title" else "title: T\n") + written
    (project / START).write_text(chapter("Text.\n", front))
    try:
        rendered = render(load_manuscript(config))
    except ProjectError as error:
        assert all(problem.path is not None and problem.line for problem in error.problems), error
        return
    chapter_ = rendered.book.chapters[0]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", chapter_.slug) and "\n" not in chapter_.lang


class TestGeneratedCoverScripts:
    """The generated cover sets Arabic and Hebrew in fonts that have them, or warns that it cannot."""

    @pytest.mark.parametrize("title, missing", [("كتاب صغير", ""), ("ספר קטן", ""), ("A Minimal Book", ""),
                                                ("ᱚᱞ ᱪᱤᱠᱤ", "ᱚᱞᱪᱤᱠ")])
    def test_the_cover_fonts_cover_the_title(self, tmp_path, title, missing):
        import dataclasses
        from zinepress.config import load_config
        from zinepress.cover import missing_characters
        config = dataclasses.replace(load_config(make_project(tmp_path, {})), title=title)
        assert missing_characters(config) == missing

    def test_a_title_no_cover_font_has_is_a_warning(self, tmp_path, capsys):
        project = make_project(tmp_path, {"manuscript/book.toml": 'title = "ᱚᱞ ᱪᱤᱠᱤ"\nslug = "olchiki"\n'})
        code, out, err = run(["build", str(project), "--format", "epub"], capsys)
        assert code == 0, err
        assert re.fullmatch(r".+book\.toml:1: warning: the generated cover cannot show 'ᱚᱞᱪᱤᱠ'.+", err.strip()), err
