"""A PNG file → the image data a PDF image stream takes as it is, without decoding the pixels.

A non-interlaced 8-bit greyscale or RGB PNG keeps its pixels as one zlib stream of
scanlines, each led by its PNG filter byte: just what PDF's FlateDecode filter with PNG
predictors (``Predictor`` 10 or more) decodes. WeasyPrint decodes every PNG and encodes
it again to get that stream (0.1 s for the generated 1600 × 2560 cover, in each layout);
for such files the stream is the file's IDAT chunks joined, and the pixels are the same.
"""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
TAKEN_AS_THEY_ARE = {(0, "L"), (2, "RGB")}  # PNG colour type and the Pillow mode it opens as, at 8 bits


def flate_image_data(png: bytes, mode: str, size: tuple[int, int]) -> bytes | None:
    """The joined IDAT data of ``png`` if a PDF image of ``mode`` and ``size`` (8 bits a component) can
    take it as it is; None for anything else: interlaced, 16-bit, palette or transparent images, a
    size or mode that does not match, a damaged or truncated chunk."""
    if not png.startswith(SIGNATURE):
        return None
    view = memoryview(png)
    position, header, parts = len(SIGNATURE), None, []
    while True:
        if position + 12 > len(png):
            return None
        length, kind = struct.unpack_from(">I4s", png, position)
        end = position + 12 + length
        if end > len(png) or zlib.crc32(view[position + 4:end - 4]) != struct.unpack_from(">I", png, end - 4)[0]:
            return None
        body = view[position + 8:end - 4]
        if kind == b"IHDR":
            header = bytes(body)
        elif kind == b"IDAT":
            parts.append(body)
        elif kind == b"tRNS":
            return None
        elif kind == b"IEND":
            break
        position = end
    if header is None or len(header) != 13 or not parts:
        return None
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", header)
    if ((width, height) != tuple(size) or depth != 8 or (colour, mode) not in TAKEN_AS_THEY_ARE
            or compression or filtering or interlace):
        return None
    return b"".join(parts)
