"""Builders for the generator-metadata tests: benign PNG/JPEG/WebP files carrying
text chunks, EXIF and stealth LSB payloads, and a runner over the generator
extractors."""

import gzip
import io
import struct
import typing as t
import zlib

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from vigil.media.base import Limits
from vigil.media.sniff import SNIFF_BYTES, sniff_bytes
from vigil.provenance.base import Extractor
from vigil.provenance.generators import GENERATOR_EXTRACTORS
from vigil.provenance.run import Provenance, extract_all

USER_COMMENT = 0x9286
EXIF_IFD = 0x8769


def pixels(
    size: tuple[int, int] = (32, 24), mode: str = "RGB", seed: int = 0
) -> Image.Image:
    """A benign noise-and-gradient image."""
    rng = np.random.default_rng(seed)
    width, height = size
    channels = len(mode)
    gradient = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    noise = rng.integers(0, 60, size=(height, width, channels)).astype(np.float32)
    array = np.clip(gradient * 0.7 + noise, 0, 255).astype(np.uint8)
    if mode == "RGBA":
        array[:, :, 3] = 255
    return Image.fromarray(array, mode)


def png(
    image: Image.Image | None = None,
    *,
    text: t.Mapping[str, str] | None = None,
    ztxt: t.Mapping[str, str] | None = None,
    itxt: t.Mapping[str, str] | None = None,
) -> bytes:
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    for key, value in (ztxt or {}).items():
        info.add_text(key, value, zip=True)
    for key, value in (itxt or {}).items():
        info.add_itxt(key, value, zip=True)
    buffer = io.BytesIO()
    (image or pixels()).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def with_chunks(
    data: bytes, chunks: t.Sequence[bytes], *, after: bytes = b"IHDR"
) -> bytes:
    """`data` (a PNG) with raw chunks inserted right after the first `after` chunk."""
    offset = 8
    while True:
        (length,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        offset += 12 + length
        if kind == after:
            return data[:offset] + b"".join(chunks) + data[offset:]


def user_comment_jpeg(comment: bytes, *, endian: str = "<", fmt: str = "JPEG") -> bytes:
    """A JPEG (or WebP) whose Exif IFD holds `comment` as the raw UserComment."""
    exif = Image.Exif()
    exif._loaded = True
    exif.get_ifd(EXIF_IFD)[USER_COMMENT] = comment
    raw = exif.tobytes()
    if endian == ">":  # Pillow always writes little-endian; swap the whole block
        raw = _big_endian_exif(comment)
    buffer = io.BytesIO()
    pixels().save(
        buffer, fmt, exif=raw, **({"lossless": True} if fmt == "WEBP" else {})
    )
    return buffer.getvalue()


def _big_endian_exif(comment: bytes) -> bytes:
    """A minimal big-endian TIFF block: IFD0 → Exif IFD → UserComment."""
    ifd0 = b"MM\x00\x2a" + struct.pack(">I", 8)
    ifd0 += struct.pack(">H", 1) + struct.pack(">HHII", EXIF_IFD, 4, 1, 26)
    ifd0 += struct.pack(">I", 0)
    exif_ifd = struct.pack(">H", 1)
    exif_ifd += struct.pack(">HHII", USER_COMMENT, 7, len(comment), 26 + 18)
    exif_ifd += struct.pack(">I", 0)
    return b"Exif\x00\x00" + ifd0 + exif_ifd + comment


def ifd0_webp(tags: t.Mapping[int, str]) -> bytes:
    """An animated WebP whose IFD0 string tags hold `tags` (ComfyUI's
    SaveAnimatedWEBP layout)."""
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[tag] = value
    return animated_webp([pixels(seed=1), pixels(seed=2)], exif=exif.tobytes())


def animated_webp(frames: t.Sequence[Image.Image], exif: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        "WEBP",
        save_all=True,
        append_images=list(frames[1:]),
        lossless=True,
        exif=exif,
        duration=100,
    )
    return buffer.getvalue()


def stealth_payload(text: str | bytes, mode: str, *, compressed: bool) -> bytes:
    """Magic, 32-bit big-endian length in bits, then the (gzipped) payload."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    body = gzip.compress(raw) if compressed else raw
    magic = "stealth_" + ("png" if mode == "alpha" else "rgb")
    magic += "comp" if compressed else "info"
    return magic.encode() + struct.pack(">I", len(body) * 8) + body


def embed_stealth(image: Image.Image, data: bytes, mode: str) -> Image.Image:
    """Write `data` into pixel LSBs the way the stealth-pnginfo extension does:
    `for x in range(width): for y in range(height)`, alpha one bit a pixel, RGB
    three (R, G, B)."""
    out = image.copy()
    grid = out.load()
    assert grid is not None
    bits = "".join(f"{byte:08b}" for byte in data)
    index = 0
    width, height = out.size
    for x in range(width):
        for y in range(height):
            if index >= len(bits):
                return out
            values = list(t.cast(tuple[int, ...], grid[x, y]))
            targets = [3] if mode == "alpha" else [0, 1, 2]
            for channel in targets:
                if index < len(bits):
                    values[channel] = (values[channel] & ~1) | int(bits[index])
                    index += 1
            grid[x, y] = tuple(values)
    if index < len(bits):
        raise ValueError("image too small for the payload")
    return out


def run(data: bytes, extractors: t.Sequence[Extractor] | None = None) -> Provenance:
    kind = sniff_bytes(data[:SNIFF_BYTES])
    chosen = (
        extractors if extractors is not None else [c() for c in GENERATOR_EXTRACTORS]
    )
    return extract_all(data, kind, chosen, Limits())
