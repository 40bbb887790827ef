"""Reader comments: threads in every output, the rules of comments.md, and
``zinepress comments import`` for each format, from fixtures in each format's published shape."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import NS, PROJECTS, ROOT, SEED, Epub, copy_project, epubcheck, pdf_text, run
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from zinepress.comments.text import format_entry, split_entries
from zinepress.errors import Diagnostics

FIXTURES = Path(__file__).resolve().parent / "data" / "comments"
# fixture → (id prefix, comments imported, replies among them)
FORMATS = {"wordpress.xml": ("wordpress", 3, 2), "disqus.xml": ("disqus", 3, 2), "remark42.jsonl": ("remark42", 3, 2),
           "mastodon.json": ("mastodon", 4, 2), "staticman": ("staticman", 3, 2), "pasted.txt": ("pasted", 3, 0)}
HTML_FORMATS = {"wordpress.xml", "disqus.xml", "remark42.jsonl", "mastodon.json"}
# e-mail addresses, IP numbers, profile and avatar URLs of the fixtures' metadata, and the words
# of their spam, unapproved, deleted, pingback comments and of a reply to spam
NEVER_WRITTEN = ["mail.example.com", "reviews.example.org/profile", "dana.example.net", "social.example.net",
                 "pills.example.com", "203.0.113.", "198.51.100.", "192.0.2.", "0c5a1b7e8f3d", "SPAMWORD",
                 "UNAPPROVEDWORD", "DELETEDWORD", "PINGBACKWORD", "ORPHANWORD", "Cheap Pills"]
COMMENT_HEADER = re.compile(r"^---\nauthor: ", re.MULTILINE)


def comments_text(project: Path) -> str:
    return (project / "manuscript" / "comments.md").read_text(encoding="utf-8")


def every_output_text(build: Path) -> dict[str, str]:
    """The text of every output: EPUB members, PDFs through pdftotext, the rest as text."""
    texts = {}
    for path in sorted(build.rglob("*")):
        if path.suffix == ".epub":
            with zipfile.ZipFile(path) as epub:
                for name in epub.namelist():
                    texts[f"{path.name}/{name}"] = epub.read(name).decode("utf-8", "replace")
        elif path.suffix == ".pdf":
            texts[path.name] = pdf_text(path)
            texts[path.name + " (raw)"] = path.read_bytes().decode("latin-1")
        elif path.is_file() and path.suffix != ".png":
            texts[path.name] = path.read_text(encoding="utf-8", errors="replace")
    return texts


@pytest.fixture(scope="module", params=sorted(FORMATS))
def imported(request, tmp_path_factory):
    """The minimal book with one fixture's comments imported, built in every format."""
    name = request.param
    project = copy_project(PROJECTS / "minimal", tmp_path_factory.mktemp(name.split(".")[0]) / "book")
    assert main_quiet(["comments", "import", str(FIXTURES / name), str(project)]) == 0
    assert main_quiet(["build", str(project)]) == 0
    return name, project


def main_quiet(argv: list[str]) -> int:
    from zinepress.cli import main
    return main(argv)


def test_import_writes_threads_with_prefixed_ids(imported):
    name, project = imported
    prefix, count, replies = FORMATS[name]
    text = comments_text(project)
    assert len(COMMENT_HEADER.findall(text)) == count
    ids = re.findall(r"^id: (.+)$", text, re.MULTILINE)
    assert len(ids) == count and all(comment_id.startswith(prefix + "-") for comment_id in ids)
    parents = re.findall(r"^reply_to: (.+)$", text, re.MULTILINE)
    assert len(parents) == replies and set(parents) <= set(ids)
    assert "저도 캠코더 장면이 제일 좋았어요" in text
    for secret in NEVER_WRITTEN:
        assert secret not in text, secret


def test_second_import_changes_nothing(imported, capsys):
    name, project = imported
    before = comments_text(project)
    code, out, _err = run(["comments", "import", str(FIXTURES / name), str(project)], capsys)
    assert code == 0
    assert comments_text(project) == before
    assert re.search(r"imported 0, merged \d+", out) and "is unchanged" in out


def test_replies_are_nested_articles_in_the_epub(imported):
    name, project = imported
    _prefix, count, replies = FORMATS[name]
    book = Epub(next((project / "build").glob("*.epub")))
    root = book.xml("reader-comments.xhtml")
    articles = root.xpath("//x:article", namespaces=NS)
    nested = root.xpath("//x:article//x:article", namespaces=NS)
    assert len(articles) == count and len(nested) == replies
    for reply in nested:
        parent = reply.xpath("ancestor::x:article[1]", namespaces=NS)[0]
        parent_author = parent.xpath("string(./x:header/x:p[@class='comment-author'])", namespaces=NS)
        label = reply.xpath("string(./x:header/x:p[@class='comment-reply-to'])", namespaces=NS)
        assert label == f"in reply to {parent_author}"
        assert reply.get("aria-label").endswith(f", in reply to {parent_author}")
        link = reply.xpath("./x:header/x:p[@class='comment-reply-to']/x:a/@href", namespaces=NS)[0]
        assert link == "#" + parent.get("id")


def test_replies_are_shown_in_the_print_editions(imported):
    name, project = imported
    replies = FORMATS[name][2]
    for pdf in ("a-minimal-book.pdf", "a-minimal-book-print.pdf"):
        text = pdf_text(project / "build" / pdf)
        assert text.count("in reply to") == replies, pdf
        assert "Reader comments" in text


def test_epubcheck_is_clean(imported):
    _name, project = imported
    assert epubcheck(next((project / "build").glob("*.epub"))) == []


def test_no_private_spam_or_script_in_any_output(imported):
    name, project = imported
    texts = every_output_text(project / "build")
    assert any(key.endswith(".pdf") for key in texts) and any("reader-comments" in key for key in texts)
    for where, text in texts.items():
        for secret in NEVER_WRITTEN:
            assert secret not in text, (secret, where)
        if where.endswith((".xhtml", ".html", ".xml", ".opf", ".ncx")):
            assert "<script" not in text, where  # pasted or Markdown text may say <script>, as text
        if where.endswith("(raw)"):
            assert "/JavaScript" not in text and "/JS " not in text, where
        if name in HTML_FORMATS:
            assert "pwned" not in text, where  # a script in comment HTML goes with its content
    index = texts["index.html"] + texts["opds.xml"]
    assert "camcorder" not in index and "Reader comments" not in index, "the downloads page shows no comments"


def test_forged_header_in_a_body_stays_text(imported):
    name, project = imported
    if name not in ("staticman", "pasted.txt"):
        pytest.skip("only these fixtures hold a forged header in a body")
    root = Epub(next((project / "build").glob("*.epub"))).xml("reader-comments.xhtml")
    authors = root.xpath("//x:p[@class='comment-author']/text()", namespaces=NS)
    assert "Forged Author" not in authors and len(authors) == 3
    assert "author: Forged Author" in "".join(root.itertext())


def test_seed_pasted_imports_to_the_bundled_comments(tmp_path, capsys):
    project = tmp_path / "book"
    shutil.copytree(ROOT / "manuscript", project / "manuscript")
    bundled = (ROOT / "manuscript" / "comments.md").read_text(encoding="utf-8")
    code, out, err = run(["comments", "import", str(SEED), str(project)], capsys)
    assert code == 0 and "is unchanged" in out and "merged 2" in out, err
    (project / "manuscript" / "comments.md").unlink()
    code, out, _err = run(["comments", "import", str(SEED), str(project)], capsys)
    assert code == 0 and "imported 2" in out and "lines before the first comment" in out
    assert comments_text(project) == bundled
    without_ids = re.sub(r"^id: .*\n", "", bundled, flags=re.MULTILINE)
    (project / "manuscript" / "comments.md").write_text(without_ids, encoding="utf-8")
    code, out, _err = run(["comments", "import", str(SEED), str(project)], capsys)
    assert code == 0 and "imported 0, merged 2" in out
    assert comments_text(project) == bundled, "the hand-written comments take the ids of the pasted ones"


def test_pseudonyms_and_time_zone(tmp_path, capsys):
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    code, _out, err = run(["comments", "import", str(FIXTURES / "disqus.xml"), str(project), "--pseudonyms",
                           "--timezone", "Asia/Seoul"], capsys)
    assert code == 0, err
    text = comments_text(project)
    assert re.findall(r"^author: (.+)$", text, re.MULTILINE) == ["D. W.", "김.", "D. W."]
    assert "date: 2024-03-01T05:07+09:00" in text and "Dana" not in text and "김민지" not in text
    other = copy_project(PROJECTS / "minimal", tmp_path / "other")
    assert run(["comments", "import", str(FIXTURES / "pasted.txt"), str(other), "--timezone", "-05:00"],
               capsys)[0] == 0
    local = copy_project(PROJECTS / "minimal", tmp_path / "local")
    assert run(["comments", "import", str(FIXTURES / "pasted.txt"), str(local)], capsys)[0] == 0
    assert "date: 2024-02-29T15:07-05:00" in comments_text(other)
    assert "date: 2024-02-29T15:07\n" in comments_text(local)
    ids = re.compile(r"^id: (.+)$", re.MULTILINE)
    assert ids.findall(comments_text(other)) == ids.findall(comments_text(local)), "a pasted id ignores the zone"
    code, _out, err = run(["comments", "import", str(FIXTURES / "pasted.txt"), str(local), "--timezone", "Mars/Base"],
                          capsys)
    assert code == 2 and "IANA" in err


def test_whole_site_export_asks_for_a_post(tmp_path, capsys):
    wxr = (FIXTURES / "wordpress.xml").read_text(encoding="utf-8")
    item = wxr[wxr.index("\t<item>"):wxr.index("</item>") + len("</item>")]
    second = item.replace("A fixture review", "Another review").replace("<wp:comment_id>1", "<wp:comment_id>2").replace(
        "<wp:comment_parent>1", "<wp:comment_parent>2")
    site = tmp_path / "site.xml"
    site.write_text(wxr.replace("</channel>", second + "\n</channel>"), encoding="utf-8")
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    code, _out, err = run(["comments", "import", str(site), str(project)], capsys)
    assert code == 1 and "2 posts" in err and "A fixture review" in err and "Another review" in err
    assert not (project / "manuscript" / "comments.md").exists()
    code, out, err = run(["comments", "import", str(site), str(project), "--post", "Another review"], capsys)
    assert code == 0 and "imported 3" in out, err
    assert "id: wordpress-201" in comments_text(project) and "wordpress-101" not in comments_text(project)


def test_gzipped_remark42_backup(tmp_path, capsys):
    backup = tmp_path / "backup-reviews-20240302.gz"
    backup.write_bytes(gzip.compress((FIXTURES / "remark42.jsonl").read_bytes(), mtime=0))
    plain, packed = (copy_project(PROJECTS / "minimal", tmp_path / name) for name in ("plain", "packed"))
    assert run(["comments", "import", str(FIXTURES / "remark42.jsonl"), str(plain)], capsys)[0] == 0
    code, out, _err = run(["comments", "import", str(backup), str(packed)], capsys)
    assert code == 0 and "Remark42" in out
    assert comments_text(packed) == comments_text(plain)


def test_sources_that_are_not_exports(tmp_path, capsys):
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    notes = tmp_path / "notes.txt"
    notes.write_text("Just some notes.\nNo comments here.\n", encoding="utf-8")
    code, _out, err = run(["comments", "import", str(notes), str(project)], capsys)
    assert code == 1 and "not a comment export" in err and "Traceback" not in err
    broken = tmp_path / "export.xml"
    text = (FIXTURES / "wordpress.xml").read_text(encoding="utf-8")
    broken.write_text(text[:text.index("<wp:comment_id>102")] + "<wp:comment_id>102</wp:comm", encoding="utf-8")
    code, _out, err = run(["comments", "import", str(broken), str(project)], capsys)
    assert code == 1 and re.search(r"export\.xml:\d+: error: not well-formed XML", err), err
    entities = tmp_path / "entities.xml"
    entities.write_text('<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                        + text.split("\n", 1)[1].replace("The camcorder", "&x; The camcorder"), encoding="utf-8")
    code, _out, err = run(["comments", "import", str(entities), str(project)], capsys)
    assert code == 1 and "entities.xml:2: error" in err and "root:" not in err
    assert not (project / "manuscript" / "comments.md").exists()


def test_a_broken_comments_md_is_not_imported_into(tmp_path, capsys):
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    target = project / "manuscript" / "comments.md"
    target.write_text("---\nauthor: A\ndate: someday\n---\nText.\n", encoding="utf-8")
    code, _out, err = run(["comments", "import", str(FIXTURES / "disqus.xml"), str(project)], capsys)
    assert code == 1 and "comments.md:3: error: a comment needs a 'date'" in err
    assert target.read_text(encoding="utf-8") == "---\nauthor: A\ndate: someday\n---\nText.\n"


def _book_with_comments(tmp_path: Path, comments: str) -> Path:
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    (project / "manuscript" / "comments.md").write_text(comments, encoding="utf-8")
    return project


@pytest.mark.parametrize("comments, line, message", [
    ("---\nauthor: A\ndate: 2024-01-01T10:00\nid: a\n---\nFirst.\n\n---\nauthor: B\ndate: 2024-01-02T10:00\n"
     "reply_to: nobody\n---\nReply.\n", 11, "reply_to: no comment before this one has the id 'nobody'"),
    ("---\nauthor: B\ndate: 2024-01-02T10:00\nreply_to: a\n---\nEarly reply.\n\n---\nauthor: A\n"
     "date: 2024-01-01T10:00\nid: a\n---\nFirst.\n", 4, "a reply must come after the comment it answers ('a' is at line 8)"),
    ("---\nauthor: A\ndate: 2024-01-01T10:00\nid: a\n---\nFirst.\n\n---\nauthor: B\ndate: 2024-01-02T10:00\n"
     "id: a\n---\nSecond.\n", 11, "the id 'a' is already used by the comment at line 1"),
    ("---\nauthor: A\ndate: 2024-01-01T10:00\nid: a b\n---\nFirst.\n", 4, "'id' must be letters"),
    ("---\nauthor: A\ndate: 2024-01-01T10:00\n---\nFirst.\n---\nauthor: Forged\ndate: 2024-01-01T10:00\n---\n"
     "Forged.\n", 6, "a '---' line inside a comment's text must be written '\\---'"),
    ("---\nauthor: A\ndate: 2024-02-29T15:07:60\n---\nFirst.\n", 2, "invalid comment header"),
])
def test_comment_problems_are_located(tmp_path, capsys, comments, line, message):
    project = _book_with_comments(tmp_path, comments)
    code, _out, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 1 and "Traceback" not in err
    assert f"comments.md:{line}: error: {message}" in err, err
    assert not (project / "build").exists()


def test_untrusted_characters_and_links_keep_the_book_valid(tmp_path, capsys):
    project = _book_with_comments(tmp_path, "---\nauthor: \"Ctrl\\x01Person\"\ndate: 2024-01-01T10:00\n---\n"
                                            "Bell \x07 and \ufffe here, a [relative link](/etc/passwd) and "
                                            "[a script](javascript:alert(1)).\n\\---\nAfter a rule.\n")
    code, _out, err = run(["build", str(project), "--format", "epub"], capsys)
    assert code == 0, err
    assert "comments.md:5: warning: removed 2 characters that a book cannot hold (U+0007, U+FFFE)" in err
    epub = next((project / "build").glob("*.epub"))
    assert epubcheck(epub) == []
    root = Epub(epub).xml("reader-comments.xhtml")
    assert root.xpath("//x:a[not(@href)]", namespaces=NS) == []
    body = "".join(root.xpath("//x:div[@class='comment-body']", namespaces=NS)[0].itertext())
    assert "relative link" in body and "a script" in body and "After a rule." in body
    assert run(["build", str(project), "--format", "epub", "--strict"], capsys)[0] == 1


BODY_LINES = st.lists(st.sampled_from(["---", "--- ", "\\---", "\\\\---", "author: Forged", "date: 2024-01-01T00:00",
                                       "id: x", "reply_to: y", "", "text", "  indented", "***"])
                      | st.text(alphabet="-\\ab: \t", max_size=8), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(BODY_LINES)
def test_a_body_reads_back_as_written_and_opens_no_comment(lines):
    body = "\n".join(lines).strip()
    if not body:
        return
    text = format_entry("A", "2024-01-01T10:00", body, "a") + "\n" + format_entry("B", "2024-01-02T10:00", "Two.", "b")
    problems = Diagnostics()
    entries = split_entries(text, Path("comments.md"), problems)
    assert problems.errors == []
    assert [entry.body for entry in entries] == [body, "Two."]
    assert entries[1].line == text.split("\n").index("author: B")


def test_serve_preview_nests_replies(tmp_path):
    project = copy_project(PROJECTS / "minimal", tmp_path / "book")
    assert main_quiet(["comments", "import", str(FIXTURES / "wordpress.xml"), str(project)]) == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen([sys.executable, "-m", "zinepress", "serve", str(project), "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = None
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/book/reader-comments.xhtml", timeout=5) as answer:
                    page = answer.read()
                if b"<article" in page:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert page is not None and b"<article" in page, "the preview never showed the comments"
    finally:
        server.terminate()
        server.wait(timeout=30)
    root = etree.fromstring(page)
    nested = root.xpath("//x:article//x:article//x:article", namespaces=NS)
    assert len(nested) == 1
    assert "in reply to 김민지" in " ".join("".join(nested[0].itertext()).split())
