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
