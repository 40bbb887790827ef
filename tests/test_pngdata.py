"""PNG images reach the PDF with their pixels' data as the file holds it, when PDF can take it as it is."""

from __future__ import annotations

import io
import struct
import zlib

import pikepdf
import pytest
from PIL import Image

from zinepress.paged import weasy
from zinepress.paged.pngdata import flate_image_data


def png(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", **options)
    return out.getvalue()


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    found, position = [], 8
    while position < len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        found.append((kind, data[position + 8:position + 8 + length]))
        position += 12 + length
    return found


def rebuilt(parts: list[tuple[bytes, bytes]]) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(struct.pack(">I", len(body)) + kind + body
                                           + struct.pack(">I", zlib.crc32(kind + body)) for kind, body in parts)


def gradient(mode: str = "RGB", size=(64, 40)) -> Image.Image:
    image = Image.new("RGB", size)
    image.putdata([(x * 4, y * 6, (x + y) % 256) for y in range(size[1]) for x in range(size[0])])
    return image.convert(mode)


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_idat_data_is_taken_as_it_is(mode):
    data = png(gradient(mode), compress_level=1)
    assert flate_image_data(data, mode, (64, 40)) == b"".join(body for kind, body in chunks(data) if kind == b"IDAT")


def test_what_pdf_cannot_take_as_it_is_is_refused():
    data = png(gradient(), compress_level=1)
    parts = chunks(data)
    header = bytearray(parts[0][1])
    header[12] = 1  # Adam7 interlacing
    assert flate_image_data(rebuilt([(b"IHDR", bytes(header)), *parts[1:]]), "RGB", (64, 40)) is None
    header = bytearray(parts[0][1])
    header[8] = 16
    assert flate_image_data(rebuilt([(b"IHDR", bytes(header)), *parts[1:]]), "RGB", (64, 40)) is None
    assert flate_image_data(png(gradient(), transparency=(0, 0, 0)), "RGB", (64, 40)) is None
    assert flate_image_data(png(gradient().quantize(16)), "P", (64, 40)) is None
    assert flate_image_data(png(gradient("RGBA")), "RGBA", (64, 40)) is None
    assert flate_image_data(data, "RGB", (64, 41)) is None
    assert flate_image_data(data, "L", (64, 40)) is None
    assert flate_image_data(data[:-20], "RGB", (64, 40)) is None
    damaged = bytearray(data)
    damaged[60] ^= 0xFF
    assert flate_image_data(bytes(damaged), "RGB", (64, 40)) is None
    assert flate_image_data(b"GIF89a" + data[6:], "RGB", (64, 40)) is None


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_weasyprint_puts_the_same_pixels_in_the_pdf(tmp_path, mode):
    """Through the adapter's hook on ``RasterImage._get_png_data``: an RGB or grey PNG's stream is its
    own IDAT data (not encoded again), and every image shows the file's pixels."""
    source = gradient(mode)
    if mode == "RGBA":
        source.putalpha(200)
    data = png(source, compress_level=1)
    (tmp_path / "picture.png").write_bytes(data)
    pdf = weasy.HTML(string="<img src='picture.png' style='width: 64px'>", base_url=str(tmp_path) + "/").write_pdf()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        (image,) = document.pages[0].get_images().values()
        shown = pikepdf.PdfImage(image).as_pil_image()
        if mode != "RGBA":
            idat = b"".join(body for kind, body in chunks(data) if kind == b"IDAT")
            assert image.read_raw_bytes() == idat, "WeasyPrint encoded the PNG again (the hook is not called)"
    assert shown.tobytes() == source.tobytes()


def test_weasyprint_still_encodes_images_through_the_hooked_internal():
    from weasyprint import images
    assert images.RasterImage._get_png_data is weasy._png_stream_data, (
        "WeasyPrint's RasterImage._get_png_data is gone or no longer hooked: every PNG is encoded again")
