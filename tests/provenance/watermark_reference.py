"""The reference encoder and decoder (`invisible-watermark`, imported as imwatermark)
for the watermark tests and benchmark, and the benign images they mark.

Only its `dwtDct` path is used, which needs OpenCV and PyWavelets but not torch.
"""

import io
import pathlib
import sys
import types
import typing as t

import numpy as np
from PIL import Image

# imwatermark's package __init__ imports its RivaGAN module, which does
# `import torch` at module level although the dwtDct method never touches it. torch
# is deliberately not installed (pyproject overrides it away: gigabytes for nothing),
# so an empty placeholder module stands in for the import. setdefault keeps a real
# torch should one ever be present.
sys.modules.setdefault("torch", types.ModuleType("torch"))

import cv2  # noqa: E402  (OpenCV comes with the reference, in the dev group only)
from imwatermark import WatermarkDecoder, WatermarkEncoder  # noqa: E402
from imwatermark.maxDct import EmbedMaxDct  # noqa: E402

from vigil.provenance.watermark import (  # noqa: E402
    ChannelOrder,
    KnownWatermark,
    PixelType,
    Reading,
)

__all__ = ["EmbedMaxDct", "WatermarkDecoder", "WatermarkEncoder", "cv2"]

#: Photo fixtures (benign landscapes and objects) large enough to carry a mark.
PHOTO_DIRS = ("camera", "pdq")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic")


def mark(rgb: np.ndarray, known: KnownWatermark, reading: Reading) -> np.ndarray:
    """`rgb` marked with `known` as a tool calling imwatermark as `reading` says:
    8-bit tools get imwatermark's own uint8 result; float tools (diffusers,
    generative-models) pass float32 pixels and round to uint8 afterwards."""
    encoder = WatermarkEncoder()
    encoder.set_watermark("bits", list(known.bits))
    marked = encoder.encode(_handed(rgb, reading), "dwtDct")
    if reading.pixels is PixelType.FLOAT:
        marked = np.clip(np.round(marked), 0, 255)
    marked = marked.astype(np.uint8)
    if reading.order is ChannelOrder.BGR:
        marked = marked[..., ::-1]
    return np.ascontiguousarray(marked)


def reference_bits(rgb: np.ndarray, length: int, reading: Reading) -> tuple[int, ...]:
    """imwatermark's own decode of these pixels, handed to it as `reading` says."""
    decoder = WatermarkDecoder("bits", length)
    bits = decoder.decode(_handed(rgb, reading), "dwtDct")
    return tuple(int(b) for b in bits)


def reference_block_decode(
    rgb: np.ndarray, length: int, reading: Reading
) -> tuple[int, ...]:
    """imwatermark's dwtDct decode without WatermarkDecoder's 256x256 minimum, for
    property tests on small images."""
    bits = EmbedMaxDct(watermarks=[], wmLen=length).decode(_handed(rgb, reading))
    return tuple(int(b) for b in bits)


def _handed(rgb: np.ndarray, reading: Reading) -> np.ndarray:
    pixels = rgb[..., ::-1] if reading.order is ChannelOrder.BGR else rgb
    dtype = np.float32 if reading.pixels is PixelType.FLOAT else np.uint8
    return np.ascontiguousarray(pixels, dtype)


#: Per-pixel colour noise (standard deviation, levels) of the textured images.
#: imwatermark writes a 0 bit by lowering the block's largest coefficient, which then
#: often stops being the largest where the chroma is smooth; the decode reads another
#: coefficient there. Fine colour texture, as in photos and generated images, keeps it
#: the largest; with none, even imwatermark's own decoder gets ~85% of the bits.
TEXTURED_GRAIN = 32.0
SMOOTH_GRAIN = 4.0


def synthetic(
    seed: int, size: tuple[int, int] = (512, 512), grain: float = TEXTURED_GRAIN
) -> np.ndarray:
    """A benign RGB image: smooth colour gradients, a few flat shapes and colour
    noise of `grain`, kept within 30..225 so that the mark is not clipped away
    (it moves blue by up to ~14 levels; at 0 or 255 it cannot, as in real dark or
    blown-out areas)."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.empty((height, width, 3), np.float32)
    for channel in range(3):
        fx, fy = rng.uniform(0.002, 0.012, 2)
        phase = rng.uniform(0, 2 * np.pi)
        image[..., channel] = 128 + 50 * np.sin(fx * x + fy * y + phase)
    for _ in range(rng.integers(3, 7)):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.04, 0.25) * min(width, height)
        colour = rng.uniform(70, 185, 3)
        if rng.random() < 0.5:
            inside = (x - cx) ** 2 + (y - cy) ** 2 < radius**2
        else:
            inside = (abs(x - cx) < radius) & (abs(y - cy) < radius * 0.6)
        image[inside] = colour
    image += rng.normal(0, grain, image.shape)
    return np.clip(np.round(image), 30, 225).astype(np.uint8)


def encode(rgb: np.ndarray, fmt: str, **options: t.Any) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, fmt, **options)
    return buffer.getvalue()


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), np.uint8)


def photo_paths(root: pathlib.Path) -> list[pathlib.Path]:
    """Every photo fixture under camera/ and pdq/ (sorted, so runs are comparable)."""
    paths = [
        path
        for folder in PHOTO_DIRS
        for path in (root / folder).rglob("*")
        if path.suffix.lower() in PHOTO_SUFFIXES
    ]
    return sorted(paths)


def load_photo(path: pathlib.Path) -> np.ndarray:
    """A fixture photo as stored-orientation RGB pixels (HEIC through pillow-heif)."""
    if path.suffix.lower() == ".heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), np.uint8)
