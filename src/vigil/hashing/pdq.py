"""PDQ, Meta's perceptual image hash, on Vigil's bounded decoder.

The PDQ core (luma, Jarosz filter, 64x64 decimation, DCT, median threshold, quality) is
the reference C++ code as bound by the `pdqhash` package. What this module adds is the
part the PDQ authors leave to each platform, and that moves hashes by a few bits: how
pixels reach the core. See docs/pdq.md for the measurements behind these choices.

Pipelines (named in every `HashResult`):
- `PDQ_PIPELINE` ("vigil-pdq512/1"), `PDQHasher()`: as the reference C++ tools
  (`pdq/cpp/io/pdqio.cpp` in facebook/ThreatExchange), an image with either side over
  512 px is resized to 512x512 (aspect not kept) with CImg's default nearest-neighbour
  rule, then hashed. Large JPEGs are decoded with DCT scaling to no less than 512 px a
  side first, which is what makes this path fast; on the C++ regression images it
  reproduces the reference hashes within 2 bits.
- `PDQ_FULL_PIPELINE` ("pdq-full/1"), `PDQFullHasher()`: python-threatexchange's
  convention (`PdqSignal.hash_from_file`): the core runs on the full-resolution decode.
  Vigil still applies EXIF orientation first; python-threatexchange does not.
"""

import io
import re
import typing as t

import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image

from vigil.hashing.base import HasherExample, HashResult, ImageHasher
from vigil.hashing.types import PDQ, HashType
from vigil.media.base import DecodedImage

PDQ_PIPELINE = "vigil-pdq512/1"
PDQ_FULL_PIPELINE = "pdq-full/1"

PDQ_HASH_BITS = 256
PDQ_HEX_LENGTH = PDQ_HASH_BITS // 4
# Meta PDQ docs (pdq/README.md): "Quality Threshold where we recommend discarding
# hashes: <=49".
PDQ_MIN_RELIABLE_QUALITY = 50
# Vigil: PDQ's 16x16 DCT block leaves out the DC row and column, so on an image one
# pixel tall or wide every coefficient is rounding noise (measured below 1e-4) and the
# bits are arbitrary, whatever the quality metric says.
PDQ_MIN_RELIABLE_SIDE_PX = 2
# pdq/cpp/io/pdqio.cpp DOWNSAMPLE_DIMS: "The two-pass Jarosz filter is prohibitively
# expensive for larger images so we use off-the-shelf downsampling" to 512x512.
PDQ_DOWNSAMPLE_PX = 512
#: `PDQHasher(pipeline=...)`: (decode target in px or None for full size, the
#: pipeline name stored with each hash).
PIPELINES: dict[str, tuple[int | None, str]] = {
    "pdq512": (PDQ_DOWNSAMPLE_PX, PDQ_PIPELINE),
    "full": (None, PDQ_FULL_PIPELINE),
}

# The hash of `_example_bmp()`, computed with this module; its 16x16 DCT values leave a
# gap of 1.7 around the median, so float differences between builds cannot flip a bit.
_EXAMPLE_PDQ_HEX = "3c3978fef5d1e012c1ee8725592ae3510ecbe192d22bc5528ab7a5ad82b525ad"
_EXAMPLE_SIDE_PX = 64

_HEX_RE = re.compile(rf"[0-9a-fA-F]{{{PDQ_HEX_LENGTH}}}")

RGBArray = npt.NDArray[np.uint8]


class PDQHasher(ImageHasher):
    """PDQ as the reference C++ tools compute it: 512x512 nearest-neighbour, then PDQ.

    Thread safety: stateless; `pdqhash.compute` allocates its buffers per call.
    """

    name: t.ClassVar[str] = "pdq"
    hex_length: t.ClassVar[int] = PDQ_HEX_LENGTH

    def __init__(self, pipeline: str = "pdq512") -> None:
        """Args:
        pipeline: `pdq512` (the default: pdqio.cpp's 512 px resize, after a
            DCT-scaled decode) or `full` (the core on the full-resolution decode,
            python-threatexchange's convention; slow on large images).
        """
        if pipeline not in PIPELINES:
            known = ", ".join(PIPELINES)
            raise ValueError(f"PDQ pipeline must be one of {known}, not {pipeline!r}")
        self.decode_target_px, self._pipeline = PIPELINES[pipeline]

    @property
    def pipeline(self) -> str:
        return self._pipeline

    @property
    def hash_type(self) -> HashType:
        return PDQ

    def hash_image(self, image: DecodedImage) -> HashResult:
        if self.decode_target_px is None and image.is_reduced:
            raise ValueError(f"{PDQ_FULL_PIPELINE} needs a full-resolution decode")
        picture = image.image
        if picture.mode != "RGB":
            raise ValueError(f"expected an RGB image, got mode {picture.mode}")
        is_degenerate = min(picture.size) < PDQ_MIN_RELIABLE_SIDE_PX
        if self.decode_target_px is not None:
            picture = downsample_like_pdqio(picture, PDQ_DOWNSAMPLE_PX)
        value, quality = pdq_from_rgb(np.asarray(picture, dtype=np.uint8))
        return HashResult(
            hasher=self.name,
            value=value,
            pipeline=self.pipeline,
            quality=quality,
            is_reliable=quality >= PDQ_MIN_RELIABLE_QUALITY and not is_degenerate,
        )

    def examples(self) -> list[HasherExample]:
        # Synthesised by Vigil (no third-party image): see _example_bmp.
        source = "synthesised 64x64 BMP: ramp, checkerboard and inverted block"
        return [HasherExample(_example_bmp(), _EXAMPLE_PDQ_HEX, source)]


class PDQFullHasher(PDQHasher):
    """PDQ on the full-resolution image: `PDQHasher(pipeline="full")`.

    Slow on large images (the core filters every pixel); offered so that hashes can be
    compared with lists made that way. It shares the name "pdq" (the same hash space)
    and is told apart by its pipeline; scans use it with `--pdq-pipeline full`.
    """

    def __init__(self) -> None:
        super().__init__(pipeline="full")


def downsample_like_pdqio(image: Image.Image, side_px: int) -> Image.Image:
    """Resize to side_px x side_px when either side is larger, as pdqio.cpp does.

    pdqio.cpp calls CImg's `resize(512, 512)`, whose default interpolation is nearest
    neighbour taking output pixel i from source pixel floor(i * old / new): no
    half-pixel centring, unlike Pillow's NEAREST resize. Pillow's affine transform with
    the origin moved back half an output pixel reproduces that rule exactly (old / 512
    is a binary fraction, so its fixed-point stepping is exact; the tests check it
    against the integer rule), at a fraction of the cost of numpy fancy indexing.
    """
    width, height = image.size
    if width <= side_px and height <= side_px:
        return image
    x_step, y_step = width / side_px, height / side_px
    coefficients = (x_step, 0.0, -0.5 * x_step, 0.0, y_step, -0.5 * y_step)
    return image.transform(
        (side_px, side_px),
        Image.Transform.AFFINE,
        coefficients,
        resample=Image.Resampling.NEAREST,
    )


def pdq_from_rgb(pixels: RGBArray) -> tuple[str, int]:
    """PDQ core on an H x W x 3 uint8 array: (64 hex chars, quality 0-100).

    pdqhash returns the bits most significant first (bit 255 of the reference Hash256
    at index 0), so packing them big-endian gives ThreatExchange's hex string.
    """
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected H x W x 3 uint8 pixels, got {pixels.shape}")
    bits, quality = pdqhash.compute(np.ascontiguousarray(pixels))
    packed = np.packbits(np.asarray(bits, dtype=np.uint8))
    return packed.tobytes().hex(), int(quality)


def pdq_dihedral_from_rgb(pixels: RGBArray) -> tuple[list[str], int]:
    """PDQ core's eight dihedral hashes of one H x W x 3 uint8 array, in one pass.

    Returns (hashes, quality) with the hashes in `pdqhash.compute_dihedral` order,
    which is the reference C++ `pdqDihedralHash256esFromFloatLuma` order: original,
    rotate 90, rotate 180, rotate 270, flip X, flip Y, flip plus 1, flip minus 1. The
    first equals `pdq_from_rgb(pixels)[0]`.
    """
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected H x W x 3 uint8 pixels, got {pixels.shape}")
    vectors, quality = pdqhash.compute_dihedral(np.ascontiguousarray(pixels))
    hashes = [
        np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()
        for bits in vectors
    ]
    return hashes, int(quality)


def hamming_distance(a_hex: str, b_hex: str) -> int:
    """Number of differing bits between two PDQ hashes given as 64 hex characters."""
    for value in (a_hex, b_hex):
        if not _HEX_RE.fullmatch(value):
            raise ValueError(
                f"not a {PDQ_HEX_LENGTH}-character hex PDQ hash: {value!r}"
            )
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()


def _example_bmp() -> bytes:
    """A 64x64 RGB card: a diagonal ramp, halved on a checkerboard, one block inverted.

    BMP because its encoding is uncompressed and fixed, so the bytes are stable too.
    """
    y, x = np.mgrid[0:_EXAMPLE_SIDE_PX, 0:_EXAMPLE_SIDE_PX]
    ramp = (9 * (x + y)) % 256
    ramp = np.where((x >= 8) & (x < 24) & (y >= 40) & (y < 56), 255 - ramp, ramp)
    ramp = np.where((x // 16 + y // 16) % 2 == 1, ramp // 2, ramp)
    green = np.where(x < 32, (ramp * 3) % 256, ramp)
    rgb = np.stack([ramp, green, 255 - ramp], axis=2).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "BMP")
    return buffer.getvalue()
