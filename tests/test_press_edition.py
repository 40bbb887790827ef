"""The press edition derived with pikepdf from the tagged ``pdf/ua-1`` book laid out with the bleed."""

from __future__ import annotations

import io
import subprocess
import uuid
from importlib import resources

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader
from weasyprint import HTML

from conftest import pdf_text
from test_print import boxes
from zinepress.config import PrintSettings
from zinepress.writers.press import MARKS_ROOM_MM, PRESS_SAVE_OPTIONS, make_press_edition

MM = 72 / 25.4
BLEED_MM = 3.0
BACKGROUND = (51, 102, 204)
IDENTIFIER = "urn:uuid:0b5c3f3e-7d1a-4c55-9d8e-2f6c1b7a9e10"
BOOK = """<html lang="en"><head><title>A small book</title><meta name="author" content="Ann Author">
<meta name="dcterms.created" content="2024-05-06T07:08:09Z">
<meta name="dcterms.modified" content="2024-05-06T07:08:09Z">
<style>{css} @page {{ size: 148mm 210mm; bleed: 3mm; margin: 20mm; background: {background}; }}
body {{ color: white; }} h1 {{ break-before: page; }}</style></head>
<body><h1 id="one">One</h1>
<p>The first chapter, with a <a href="#two">link</a> and <a href="https://example.org">one out</a>.</p>
<h1 id="two">Two</h1><p>The second chapter.</p>
<h1 id="three">Three</h1><p>The third and last chapter.</p></body></html>"""


def book_pdf(css: str = "", background: str = "rgb({}, {}, {})".format(*BACKGROUND)) -> bytes:
    return HTML(string=BOOK.format(css=css, background=background)).write_pdf(pdf_variant="pdf/ua-1",
                                                                              pdf_identifier=b"book")


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The book as WeasyPrint writes it tagged, pages still carrying their bleed, with page labels."""
    path = tmp_path_factory.mktemp("source") / "book.pdf"
    with pikepdf.open(io.BytesIO(book_pdf())) as pdf:
        pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array([0, pikepdf.Dictionary(S=pikepdf.Name.D)]))
        pdf.save(path)
    return path


def press(source, target, marks: str = "crop"):
    """``make_press_edition`` on a copy of ``source``, saved to ``target``."""
    with pikepdf.open(source) as pdf:
        make_press_edition(pdf, PrintSettings(bleed=BLEED_MM, marks=marks), IDENTIFIER)
        pdf.save(target, **PRESS_SAVE_OPTIONS)
    return target


def grown(box, by: float) -> tuple[float, ...]:
    return box[0] - by, box[1] - by, box[2] + by, box[3] + by


def close(box, expected) -> bool:
    return all(abs(a - b) < 0.02 for a, b in zip(box, expected))


@pytest.mark.parametrize("marks", ["crop", "cross", "crop cross", "none"])
def test_boxes_on_every_page(source, tmp_path, marks):
    result = press(source, tmp_path / "print.pdf", marks)
    before, after = boxes(source), boxes(result)
    assert len(after) == len(before) == 3
    room = 0 if marks == "none" else MARKS_ROOM_MM * MM
    for old, new in zip(before, after):
        assert new["TrimBox"] == new["ArtBox"] == old["TrimBox"]
        assert close(new["BleedBox"], grown(old["TrimBox"], BLEED_MM * MM))
        assert close(new["BleedBox"], old["BleedBox"])
        assert new["MediaBox"] == new["CropBox"]
        assert close(new["MediaBox"], grown(new["BleedBox"], room))


def test_page_content_streams_are_framed_not_rewritten(source, tmp_path):
    result = press(source, tmp_path / "print.pdf")
    with pikepdf.open(source) as before, pikepdf.open(result) as after:
        openings, closings = set(), set()
        for old, new in zip(before.pages, after.pages):
            opening, body, closing = new.obj.Contents
            assert body.read_raw_bytes() == old.obj.Contents.read_raw_bytes()
            assert opening.read_bytes().startswith(b"q ") and b" re W n" in opening.read_bytes()
            assert closing.read_bytes().startswith(b"\nQ\n")
            assert dict(new.obj.Resources.items()).keys() == dict(old.obj.Resources.items()).keys()
            openings.add(opening.objgen)
            closings.add(closing.objgen)
        assert len(openings) == len(closings) == 1, "pages of one trim share their framing streams"


def test_declares_pdfx4_and_no_longer_pdfua(source, tmp_path):
    result = press(source, tmp_path / "print.pdf")
    assert result.read_bytes().startswith(b"%PDF-1.6")
    with pikepdf.open(result) as pdf:
        xmp = pdf.Root.Metadata.read_bytes().decode()
        assert "/Filter" not in pdf.Root.Metadata.stream_dict
        assert pdf.docinfo.Trapped == pikepdf.Name("/False")
        assert str(pdf.docinfo.Title) == "A small book" and str(pdf.docinfo.ModDate) == "D:20240506070809Z"
    assert "<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in xmp
    assert "<pdfx:GTS_PDFXConformance>PDF/X-4</pdfx:GTS_PDFXConformance>" in xmp
    assert "<xmpMM:RenditionClass>proof:pdf</xmpMM:RenditionClass><xmpMM:VersionID>1</xmpMM:VersionID>" in xmp
    assert "<xmp:MetadataDate>2024-05-06T07:08:09Z</xmp:MetadataDate>" in xmp
    assert "pdfuaid" not in xmp
    assert '<rdf:li xml:lang="x-default">A small book</rdf:li>' in xmp and "<rdf:li>Ann Author</rdf:li>" in xmp
    assert "<xmp:CreateDate>2024-05-06T07:08:09Z</xmp:CreateDate>" in xmp
    stable = uuid.uuid5(uuid.NAMESPACE_URL, "zinepress-print:" + IDENTIFIER)
    assert xmp.count("<xmpMM:DocumentID>") == 1 and f"xmp.did:{stable}" in xmp
    assert xmp.startswith('<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>\n<x:xmpmeta')
    assert xmp.endswith('</x:xmpmeta>\n<?xpacket end="r"?>')


def test_declaring_twice_declares_once(source, tmp_path):
    twice = tmp_path / "twice.pdf"
    with pikepdf.open(press(source, tmp_path / "print.pdf")) as pdf:
        make_press_edition(pdf, PrintSettings(bleed=BLEED_MM), IDENTIFIER)
        pdf.save(twice, **PRESS_SAVE_OPTIONS)
    with pikepdf.open(twice) as pdf:
        xmp = pdf.Root.Metadata.read_bytes().decode()
    for name in ("pdfxid:GTS_PDFXVersion", "pdfx:GTS_PDFXVersion", "pdf:Trapped", "xmp:MetadataDate",
                 "xmpMM:DocumentID", "xmpMM:VersionID"):
        assert xmp.count(f"<{name}>") == 1, name


def test_one_srgb_output_intent(source, tmp_path):
    result = press(source, tmp_path / "print.pdf")
    reader = PdfReader(result)
    intents = reader.trailer["/Root"]["/OutputIntents"]
    assert len(intents) == 1
    intent = intents[0].get_object()
    assert intent["/S"] == "/GTS_PDFX" and intent["/OutputConditionIdentifier"] == "sRGB IEC61966-2.1"
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3 and profile.get_data()[36:40] == b"acsp"


def test_a_projects_colour_profile_stays_the_output_intent(tmp_path):
    icc = resources.files("weasyprint").joinpath("pdf", "sRGB2014.icc")
    source = tmp_path / "book.pdf"
    source.write_bytes(book_pdf(f"@color-profile --house {{ src: url({icc.as_uri()}); components: r g b; }}",
                                "color(--house 0.2 0.4 0.8)"))
    with pikepdf.open(source) as pdf:
        assert [intent.S for intent in pdf.Root.OutputIntents] == [pikepdf.Name.GTS_PDFX]
        written = str(pdf.Root.OutputIntents[0].OutputConditionIdentifier)
    with pikepdf.open(press(source, tmp_path / "print.pdf")) as pdf:
        assert len(pdf.Root.OutputIntents) == 1
        assert str(pdf.Root.OutputIntents[0].OutputConditionIdentifier) == written


def test_other_output_intents_give_way_to_a_pdfx_one(source, tmp_path):
    marked = tmp_path / "pdfa.pdf"
    with pikepdf.open(source) as pdf:
        intent = pikepdf.Dictionary(Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
                                    OutputConditionIdentifier=pikepdf.String("sRGB"))
        pdf.Root.OutputIntents = pikepdf.Array([intent])
        pdf.save(marked)
    with pikepdf.open(press(marked, tmp_path / "print.pdf")) as pdf:
        assert [intent.S for intent in pdf.Root.OutputIntents] == [pikepdf.Name.GTS_PDFX]


def test_structure_tree_dropped_navigation_kept(source, tmp_path):
    result = press(source, tmp_path / "print.pdf")
    with pikepdf.open(source) as before:
        assert "/StructTreeRoot" in before.Root
    assert "H1" in subprocess.run(["pdfinfo", "-struct", str(source)], check=True, capture_output=True,
                                  text=True).stdout
    with pikepdf.open(result) as pdf:
        assert "/StructTreeRoot" not in pdf.Root and "/MarkInfo" not in pdf.Root
        assert str(pdf.Root.Lang) == "en"
        for page in pdf.pages:
            assert "/StructParents" not in page.obj
            for annotation in page.obj.get("/Annots", ()):
                assert "/StructParent" not in annotation
        assert len(pdf.pages[0].obj.Annots) == 2
    assert subprocess.run(["pdfinfo", "-struct", str(result)], check=True, capture_output=True,
                          text=True).stdout.strip() == ""
    old, new = PdfReader(source), PdfReader(result)
    assert [item.title for item in new.outline] == [item.title for item in old.outline] == ["One", "Two", "Three"]
    assert new.page_labels == old.page_labels == ["1", "2", "3"]
    assert set(new.named_destinations) == set(old.named_destinations) >= {"one", "two", "three"}


def test_same_text_as_the_tagged_book(source, tmp_path):
    result = press(source, tmp_path / "print.pdf", "crop cross")
    assert pdf_text(result) == pdf_text(source)
    assert "The second chapter." in pdf_text(result)


def test_background_fills_the_bleed_and_marks_sit_outside_it(source, tmp_path):
    result = press(source, tmp_path / "print.pdf")
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "2", "-l", "2", str(result), str(tmp_path / "page")],
                   check=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    media, bleed, trim = (boxes(result)[1][name] for name in ("MediaBox", "BleedBox", "TrimBox"))
    scale = 30 / 72
    to_x = lambda x: int((x - media[0]) * scale)
    to_y = lambda y: int((media[3] - y) * scale)
    middle_y = to_y((trim[1] + trim[3]) / 2)
    in_bleed = image.getpixel((to_x((bleed[0] + trim[0]) / 2), middle_y))
    assert all(abs(a - b) < 8 for a, b in zip(in_bleed, BACKGROUND)), in_bleed
    assert image.getpixel((to_x((media[0] + bleed[0]) / 2), middle_y)) == (255, 255, 255)
    assert image.getpixel((to_x((media[0] + bleed[0]) / 2), to_y(media[1] + 2))) == (255, 255, 255)
    mark_row = [image.getpixel((x, to_y(trim[3]))) for x in range(to_x(bleed[0]))]
    assert min(sum(pixel) for pixel in mark_row) < 3 * 200, "a crop mark along the top trim line, left of the bleed"
    assert any(pixel != (255, 255, 255) for pixel in mark_row)


def test_reproducible(source, tmp_path):
    assert press(source, tmp_path / "a.pdf").read_bytes() == press(source, tmp_path / "b.pdf").read_bytes()
