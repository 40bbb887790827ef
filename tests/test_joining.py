"""Joining WeasyPrint's tagged part PDFs: pages, structure tree, bookmarks, links across parts, reproducible bytes."""

from __future__ import annotations

import io
import re
import subprocess
import time

import pikepdf
import pytest
from pikepdf import Array, Dictionary
from pypdf import PdfReader
from weasyprint import HTML

from zinepress.paged.join import join_tagged, save_reproducibly

IDENTIFIER = b"0f1e2d3c4b5a69788796a5b4c3d2e1f0"
STYLE = """
@page { size: 120mm 180mm; bleed: 3mm; margin: 18mm 15mm;
        @top-center { content: string(head); } @bottom-center { content: counter(page); } }
h1 { bookmark-level: 1; string-set: head content(); }
h2 { bookmark-level: 2; }
.titlepage h1 { bookmark-level: none; }
.break { break-before: page; }
"""
FRONT = """<section class="titlepage"><h1>The Joined Book</h1><p>A test of parts.</p></section>
<section class="break"><h1 id="contents">Contents</h1>
<ol><li><a href="#one">Chapter One</a></li><li><a href="#two">Chapter Two</a></li></ol></section>"""
ONE = """<section id="one"><h1>Chapter One</h1><p>The first chapter opens here.</p>
<h2 class="break" id="more">More of one</h2><p id="target">The paragraph a later chapter points to.</p></section>"""
TWO = """<section id="two"><h1>Chapter Two</h1><p>Go back to <a href="#target">that paragraph</a>
or <a href="https://example.org/">away</a>.</p><h2>Last of two</h2><p>The end.</p></section>"""
BORROWED = [{"one", "two"}, set(), {"target"}]


def part_pdf(body: str, stand_ins=()) -> bytes:
    """A part as the print pipeline writes it: ``pdf/ua-1`` with the bleed on, stand-ins for anchors elsewhere."""
    html = f'<html lang="en"><head><title>The Joined Book</title><style>{STYLE}</style></head><body>{body}</body></html>'
    document = HTML(string=html).render()
    for name in stand_ins:
        document.pages[0].anchors[name] = (0, 0, 0, 0)
    return document.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=IDENTIFIER)


@pytest.fixture(scope="module")
def parts() -> list[bytes]:
    return [part_pdf(body, stand_ins) for body, stand_ins in zip((FRONT, ONE, TWO), BORROWED)]


@pytest.fixture(scope="module")
def joined(parts, tmp_path_factory):
    """The joined book's path (written by ``save_reproducibly``) and its bytes."""
    data = save_reproducibly(join_tagged(parts, BORROWED), IDENTIFIER)
    path = tmp_path_factory.mktemp("joined") / "book.pdf"
    path.write_bytes(data)
    return path, data


def opened(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data))


def poppler(*args) -> str:
    return subprocess.run(list(map(str, args)), check=True, capture_output=True, text=True).stdout


def parent_tree(pdf: pikepdf.Pdf) -> dict[int, pikepdf.Object]:
    nums = pdf.Root.StructTreeRoot.ParentTree.Nums
    keys = [int(nums[index]) for index in range(0, len(nums), 2)]
    assert len(set(keys)) == len(keys)
    return {key: nums[2 * index + 1] for index, key in enumerate(keys)}


def kids(element) -> list:
    value = element.get("/K")
    return [] if value is None else list(value) if isinstance(value, Array) else [value]


def test_pages_are_the_parts_pages_in_order_with_their_boxes(parts, joined):
    pdf, originals = opened(joined[1]), [opened(part) for part in parts]
    expected = [page for original in originals for page in original.pages]
    assert len(pdf.pages) == len(expected) == 5
    for page, original in zip(pdf.pages, expected):
        for box in ("/MediaBox", "/TrimBox", "/BleedBox"):
            assert [float(v) for v in page.obj[box]] == [float(v) for v in original.obj[box]]
    assert float(pdf.pages[0].MediaBox[2]) - float(pdf.pages[0].TrimBox[2]) > 8  # the bleed is still on


def test_text_is_in_reading_order(joined):
    text = " ".join(poppler("pdftotext", joined[0], "-").split())
    order = ["The Joined Book", "A test of parts", "Contents", "The first chapter opens here",
             "The paragraph a later chapter points to", "Chapter Two", "Go back to", "The end."]
    position = 0
    for phrase in order:
        position = text.index(phrase, position)


def test_one_structure_tree_holds_every_part_in_order(parts, joined, tmp_path):
    def structure(path) -> list[str]:
        lines = poppler("pdfinfo", "-struct-text", path).splitlines()
        assert lines[0] == "Document" and "Document" not in lines[1:]
        return [re.sub(r"Object \d+ \d+", "Object", line) for line in lines[1:]]

    expected = []
    for number, part in enumerate(parts):
        (tmp_path / f"{number}.pdf").write_bytes(part)
        expected += structure(tmp_path / f"{number}.pdf")
    assert structure(joined[0]) == expected
    assert [line.strip() for line in expected if line.strip().startswith('"Chapter')][:2] == [
        '"Chapter One"', '"Chapter Two"']


def structure_elements(pdf: pikepdf.Pdf) -> int:
    """The structure elements under the Document element, each checked to name its parent and a page of ``pdf``."""
    pages = {page.obj.objgen for page in pdf.pages}
    root = pdf.Root.StructTreeRoot
    document = root.K[0]
    assert document.S == "/Document" and document.P.objgen == root.objgen
    stack, elements = [document], 0
    while stack:
        element = stack.pop()
        for kid in kids(element):
            if not isinstance(kid, Dictionary):
                continue
            assert kid.Pg.objgen in pages
            if kid.get("/Type") != "/OBJR":
                assert kid.P.objgen == element.objgen
                stack.append(kid)
                elements += 1
    return elements


def test_every_element_names_its_parent_and_a_joined_page(parts, joined):
    assert structure_elements(opened(joined[1])) == sum(structure_elements(opened(part)) for part in parts) > 30


def test_parent_tree_is_renumbered_across_parts(parts, joined):
    pdf = opened(joined[1])
    entries = parent_tree(pdf)
    document = pdf.Root.StructTreeRoot.K[0]
    assert int(pdf.Root.StructTreeRoot.ParentTreeNextKey) == max(entries) + 1
    references = 0
    for page in pdf.pages:
        owners = entries[int(page.StructParents)]
        references += len(owners)
        for element in owners:
            assert element.Pg.objgen == page.obj.objgen
            while element.objgen != document.objgen:  # running heads and folios too lead up to the Document
                element = element.P
        for annotation in page.get("/Annots", ()):
            owner = entries[int(annotation.StructParent)]
            assert any(kid.get("/Obj") is not None and kid.Obj.objgen == annotation.objgen
                       for kid in kids(owner) if isinstance(kid, Dictionary))
    part_references = sum(len(value) for part in parts for value in parent_tree(opened(part)).values()
                          if isinstance(value, Array))
    assert references == part_references > 0


def test_bookmarks_of_every_part_lead_to_the_joined_pages(joined):
    reader = PdfReader(io.BytesIO(joined[1]))

    def titles(items) -> list:
        found = []
        for item in items:
            if isinstance(item, list):
                found.append(titles(item))
            else:
                found.append((item.title, reader.get_destination_page_number(item)))
        return found

    assert titles(reader.outline) == [("Contents", 1), ("Chapter One", 2), [("More of one", 3)],
                                      ("Chapter Two", 4), [("Last of two", 4)]]
    assert int(opened(joined[1]).Root.Outlines.Count) == 5


def test_links_lead_to_anchors_in_other_parts(joined):
    reader = PdfReader(io.BytesIO(joined[1]))
    destinations = reader.named_destinations
    assert list(destinations) == sorted(destinations)
    links = {}
    for number, page in enumerate(reader.pages):
        for annotation in page.get("/Annots", ()):
            annotation = annotation.get_object()
            if "/Dest" in annotation:
                links[str(annotation["/Dest"])] = number
    assert links == {"one": 1, "two": 1, "target": 4}
    targets = {name: reader.get_destination_page_number(destinations[name]) for name in links}
    assert targets == {"one": 2, "two": 4, "target": 3}
    assert float(destinations["target"]["/Top"]) > 0  # the real anchor, not the stand-in at the page's corner
    listed = poppler("pdfinfo", "-dests", joined[0])
    assert re.search(r'^\s+4 \[ XYZ .*\] "target"$', listed, re.MULTILINE)


def test_catalog_and_metadata_come_from_the_first_part(parts, joined):
    pdf, first = opened(joined[1]), opened(parts[0])
    assert str(pdf.Root.Lang) == "en"
    assert bool(pdf.Root.MarkInfo.Marked) and bool(pdf.Root.ViewerPreferences.DisplayDocTitle)
    assert pdf.Root.Metadata.read_bytes() == first.Root.Metadata.read_bytes()
    assert b"pdfuaid" in pdf.Root.Metadata.read_bytes()
    assert dict(pdf.docinfo.items()) == dict(first.docinfo.items())
    assert "/ModDate" not in pdf.docinfo and "/CreationDate" not in pdf.docinfo


def test_saving_is_reproducible(parts, joined):
    again = save_reproducibly(join_tagged(parts, BORROWED), IDENTIFIER)
    assert again == joined[1]
    pdf = opened(again)
    assert [bytes(value) for value in pdf.trailer.ID] == [IDENTIFIER, IDENTIFIER]
    assert b"/Type /ObjStm" in again and b"/Type /XRef" in again
    streams = [stream for stream in pdf.objects if isinstance(stream, pikepdf.Stream)]
    assert all("/Filter" in stream for stream in streams if stream.get("/Type") != "/Metadata")  # QPDF keeps XMP legible


def with_role_map(part: bytes, **roles: str) -> bytes:
    pdf = opened(part)
    pdf.Root.StructTreeRoot.RoleMap = Dictionary({f"/{name}": pikepdf.Name(f"/{role}") for name, role in roles.items()})
    output = io.BytesIO()
    pdf.save(output)
    return output.getvalue()


def test_role_maps_are_merged_first_part_first(parts):
    mapped = [parts[0], with_role_map(parts[1], Chapter="Sect"), with_role_map(parts[2], Chapter="Div", Aside="Note")]
    pdf = join_tagged(mapped, BORROWED)
    role_map = pdf.Root.StructTreeRoot.RoleMap
    assert {str(name): str(role) for name, role in role_map.items()} == {"/Chapter": "/Sect", "/Aside": "/Note"}


def test_a_borrowed_anchor_no_part_defines_is_an_error(parts):
    with pytest.raises(ValueError, match="two"):
        join_tagged(parts[:2], BORROWED[:2])


def test_a_200_page_book_joins_quickly(parts):
    prose = "".join(f"<p>{'Words that fill the page, line after line, with a little more to say. ' * 9}"
                    f"<em>Emphasis {number}</em> and <a href='#one'>a link</a>.</p>" for number in range(17))
    chapter = part_pdf(f'<section id="one"><h1>A chapter</h1>{prose}</section>')
    book = [parts[0]] + [chapter] * 20
    pages = len(opened(chapter).pages) * 20 + len(opened(parts[0]).pages)
    started = time.perf_counter()
    data = save_reproducibly(join_tagged(book, [{"one"}]), IDENTIFIER)
    seconds = time.perf_counter() - started
    print(f"\njoined {pages} pages from {len(book)} parts in {seconds:.3f} s: "
          f"{len(data) / 1e6:.2f} MB (parts {sum(map(len, book)) / 1e6:.2f} MB)")
    assert len(opened(data).pages) == pages >= 200
    assert seconds < 2
