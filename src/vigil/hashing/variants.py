"""Query variants: the extra PDQ hashes a lookup tries for one query image.

Mirroring, rotating or letterboxing a picture moves its PDQ hash about 128 bits, so a
plain lookup misses such copies. Separate from `pdq.py` because variants are a matching
concern: an item's stored hash stays its plain `PDQHasher` hash, and the variants of a
query are computed at lookup time, each named so that a match can say which one hit.

Design notes:
- Pipeline: every variant is a `vigil-pdq512/1` hash (`PDQ_PIPELINE`); `original` is
  exactly `PDQHasher().hash_image(image).value`.
- Dihedral hashes come from one pass of the PDQ core over the same 512x512 pixels
  (`pdqhash.compute_dihedral`), so the seven extra hashes cost almost nothing. They are
  close to, not equal to, the hashes of the rotated images (within 18 bits on Meta's
  `pdq/reg-test-input/dih` set): PDQ's DCT grid is not exactly rotation-invariant.
- Borders are found on PDQ's luma and cropped on the decoded pixels, before the
  512x512 resize, so a border never bleeds into the content through resampling. For
  a DCT-scaled JPEG the decoded pixels are the reduced ones, and the crop is hashed
  from them by the same rule as the plain hash.
- A variant's name says what was done to the query: `rotate_90` is the query turned
  90 degrees anticlockwise, so it matches a listed image that the query shows turned
  90 degrees clockwise.
"""

import dataclasses
import math
import typing as t

import numpy as np
import numpy.typing as npt
from PIL import Image

from vigil.hashing.pdq import (
    PDQ_DOWNSAMPLE_PX,
    PDQ_MIN_RELIABLE_SIDE_PX,
    downsample_like_pdqio,
    pdq_dihedral_from_rgb,
    pdq_from_rgb,
)
from vigil.media.base import DecodedImage

# The order of `pdqhash.compute_dihedral` and of the reference C++
# `pdqDihedralHash256esFromFloatLuma` (facebook/ThreatExchange pdq/cpp/hashing), whose
# names these are; Meta's `pdq/reg-test-input/dih` images are named the same way. In
# Pillow's terms: rotate_90 = ROTATE_90 (anticlockwise), flip_x = FLIP_TOP_BOTTOM,
# flip_y = FLIP_LEFT_RIGHT (a mirror), flip_plus_1 = TRANSPOSE, flip_minus_1 =
# TRANSVERSE.
DIHEDRAL_NAMES: tuple[str, ...] = (
    "original",
    "rotate_90",
    "rotate_180",
    "rotate_270",
    "flip_x",
    "flip_y",
    "flip_plus_1",
    "flip_minus_1",
)
BORDERLESS_PREFIX = "borderless"

# Vigil, measured with bench/variants.py: every pixel of a border line is within this
# many levels (of 255) of the line's colour, in PDQ's luma, the only channel PDQ sees
# (JPEG chroma bleeding into a black bar is invisible to it). Photos padded by 10% and
# re-encoded as JPEG q75 are found 93-100% of the time at 16 and 4 of 70 unpadded
# photos get a crop; at 24, 96-99% and 11 of 70; at 8, 84-87% and 3 of 70.
BORDER_TOLERANCE_LEVELS = 16
# Vigil: a border thinner than 1% of its side (and than 2 px) moves PDQ by a few bits
# at most, while a dark one-pixel edge is common in ordinary photos and thumbnails.
MIN_BORDER_FRACTION = 0.01
MIN_BORDER_PX = 2
# Vigil: the crop must keep at least a quarter of each side. A 9:16 phone picture
# pillarboxed into 16:9 keeps 32% of the width; a uniform (or nearly uniform) image
# would otherwise be cropped to nothing.
MIN_CONTENT_FRACTION = 0.25
# Lines compared per numpy step while walking inward from an edge, doubled at each
# step: a photo without borders costs a few lines per side, a thick border a few steps.
_FIRST_CHUNK_LINES = 8

# pdqhash's bindings.pyx and the C++ core (ITU-R BT.601 luma weights).
_LUMA_WEIGHTS = (0.299, 0.587, 0.114)
_RGB_CHANNELS = 3

PixelArray = npt.NDArray[np.uint8]


@dataclasses.dataclass(frozen=True)
class QueryVariant:
    """One hash a lookup tries for a query image.

    `name` is stable lower_snake: one of `DIHEDRAL_NAMES`, or the same prefixed with
    `borderless` for the image with its uniform borders cropped (`borderless`,
    `borderless_rotate_90`, ...). `quality` is PDQ's 0-100 quality of the pixels the
    variant was computed from; a caller matching only reliable hashes compares it with
    `PDQ_MIN_RELIABLE_QUALITY`.
    """

    name: str
    value: str
    quality: int


def pdq_variants(
    image: DecodedImage, *, dihedral: bool = True, borders: bool = True
) -> list[QueryVariant]:
    """The PDQ hashes to try when looking up one image.

    Args:
        image: an RGB decode, as `PDQHasher.hash_image` takes it.
        dihedral: add the seven rotations and flips of each hashed image.
        borders: when the image has uniform borders (letterboxing, padding), add the
            hash of the image with them cropped.

    Returns:
        `original` first, then the other variants in `DIHEDRAL_NAMES` order, then the
        borderless ones. A variant whose value equals an earlier one is left out (a
        symmetric image gives some identical dihedral hashes).
    """
    picture = image.image
    if picture.mode != "RGB":
        raise ValueError(f"expected an RGB image, got mode {picture.mode}")
    variants = _hashes(picture, "", dihedral=dihedral)
    if borders:
        top, bottom, left, right = find_borders(np.asarray(picture, dtype=np.uint8))
        if top or bottom or left or right:
            width, height = picture.size
            cropped = picture.crop((left, top, width - right, height - bottom))
            variants += _hashes(cropped, BORDERLESS_PREFIX, dihedral=dihedral)
    unique: dict[str, QueryVariant] = {}
    for variant in variants:
        unique.setdefault(variant.value, variant)
    return list(unique.values())


def find_borders(pixels: PixelArray) -> tuple[int, int, int, int]:
    """Uniform borders of an image: (top, bottom, left, right) in pixels.

    A border is a run of whole rows (or columns) at an edge whose every pixel's luma is
    within `BORDER_TOLERANCE_LEVELS` of the median luma of the outermost line, so black,
    white or any flat colour counts, and each side may have its own. Rows are measured
    first, then columns between the row borders: this finds letterboxing,
    pillarboxing and both. (Measuring rows again between column borders finds a few
    more frames but crops flat bands of content from pillarboxed photos: 3 points of
    recall lost in bench/variants.py.) A run thinner than `MIN_BORDER_FRACTION` of
    its side (or `MIN_BORDER_PX`) counts as none; when the runs of an axis would leave
    less than `MIN_CONTENT_FRACTION` of it (a uniform image), that axis gets none.

    Args:
        pixels: H x W x 3 (RGB) or H x W (grey) uint8 array.
    """
    if pixels.ndim == 2:
        pixels = pixels[:, :, np.newaxis]
    if (
        pixels.ndim != 3
        or pixels.shape[2] not in (1, _RGB_CHANNELS)
        or pixels.dtype != np.uint8
        or 0 in pixels.shape
    ):
        raise ValueError(f"expected non-empty H x W x 3 uint8 pixels, {pixels.shape}")
    height = pixels.shape[0]
    top, bottom = _axis_borders(pixels)
    left, right = _axis_borders(pixels[top : height - bottom].transpose(1, 0, 2))
    return top, bottom, left, right


def _hashes(picture: Image.Image, prefix: str, *, dihedral: bool) -> list[QueryVariant]:
    # The pixels PDQHasher.hash_image gives the core (vigil-pdq512/1).
    pixels = np.asarray(
        downsample_like_pdqio(picture, PDQ_DOWNSAMPLE_PX), dtype=np.uint8
    )
    if dihedral:
        values, quality = pdq_dihedral_from_rgb(pixels)
        names: t.Sequence[str] = DIHEDRAL_NAMES
    else:
        value, quality = pdq_from_rgb(pixels)
        values, names = [value], DIHEDRAL_NAMES[:1]
    return [
        QueryVariant(_variant_name(prefix, name), value, quality)
        for name, value in zip(names, values, strict=True)
    ]


def _variant_name(prefix: str, dihedral_name: str) -> str:
    # ("", "flip_y") -> "flip_y"; ("borderless", "original") -> "borderless";
    # ("borderless", "flip_y") -> "borderless_flip_y"
    if not prefix:
        return dihedral_name
    if dihedral_name == DIHEDRAL_NAMES[0]:
        return prefix
    return f"{prefix}_{dihedral_name}"


def _axis_borders(lines: PixelArray) -> tuple[int, int]:
    """Border runs at the start and end of axis 0 (lines x length x channels)."""
    side = lines.shape[0]
    min_content = max(math.ceil(MIN_CONTENT_FRACTION * side), PDQ_MIN_RELIABLE_SIDE_PX)
    max_total = side - min_content
    if max_total <= 0:
        return 0, 0
    min_run = max(MIN_BORDER_PX, math.ceil(MIN_BORDER_FRACTION * side))
    # Walking one line past the allowance is enough to know the axis is refused.
    runs = [_uniform_run(edge, max_total + 1) for edge in (lines, lines[::-1])]
    start, end = (run if run >= min_run else 0 for run in runs)
    if start + end > max_total:
        return 0, 0
    return start, end


def _uniform_run(lines: PixelArray, limit: int) -> int:
    """How many leading lines (at most `limit`) match the first line's median luma."""
    level = float(np.median(_luma(lines[0])))
    count, step = 0, _FIRST_CHUNK_LINES
    while count < limit:
        chunk = _luma(lines[count : min(count + step, limit)])
        deviation = np.abs(chunk - level).max(axis=1)
        off = np.flatnonzero(deviation > BORDER_TOLERANCE_LEVELS)
        if off.size:
            return count + int(off[0])
        count += len(chunk)
        step *= 2
    return count


def _luma(pixels: PixelArray) -> npt.NDArray[np.float32]:
    """PDQ's luma (pdqhash: 0.299 R + 0.587 G + 0.114 B); one channel is its own."""
    if pixels.shape[-1] != _RGB_CHANNELS:
        return pixels[..., 0].astype(np.float32)
    weights = np.asarray(_LUMA_WEIGHTS, dtype=np.float32)
    return t.cast(npt.NDArray[np.float32], pixels.astype(np.float32) @ weights)
