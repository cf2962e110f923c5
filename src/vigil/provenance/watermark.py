"""Invisible watermarks of Stable Diffusion tools (imwatermark's `dwtDct` method).

Design notes:
- The decoder re-implements the algorithm of the `invisible-watermark` package
  (`imwatermark`, 0.2.0) with numpy and PyWavelets only, so the runtime needs neither
  OpenCV nor torch: the U channel of OpenCV's 8-bit BGR->YUV conversion (its
  fixed-point formula, bit-exact), one level of a Haar DWT, the approximation band cut
  into 4x4 blocks in raster order, and in each block the largest-magnitude coefficient
  after the first. Its magnitude modulo `scale` (36) in the upper half reads as 1.
  Block `n` carries message bit `n % length`; each bit is the majority of its
  repetitions (imwatermark's `mean * 255 > 127`). Despite the name, imwatermark's
  `dwtDct` path applies no DCT: the blocks are read straight from the DWT band.
- Tools disagree about what they hand imwatermark. Channel order: the SD 1.x/2.x
  scripts, Stability's generative-models and InvokeAI pass BGR, diffusers' SDXL
  watermarker RGB. Pixel type: those SD scripts and InvokeAI pass 8-bit pixels, but
  generative-models and diffusers pass float32 pixels in 0..255, which OpenCV takes
  for the 0..1 range: its U offset is then 0.5, not 128, so the mark sits in a U
  plane 127.5 lower than the one an 8-bit decode reads (where coefficients change
  sign, an 8-bit decode reads the wrong coefficient or the inverted bit). Each
  message is read in every `Reading` its tools use; the best agreement is reported.
- Lossy JPEG (4:2:0, 4:2:2) and WebP store chroma at half resolution and their
  decoders upsample it with a fixed [3, 1]/4 "fancy" filter, which smooths the Haar
  band with [1, 6, 1]/8 per halved axis and wipes out the mark for imwatermark's
  decoder (measured: chance agreement after JPEG q90 4:2:0). The encoders' 2x2 box
  downsampling lines up with the Haar cells, so for such files the smoothing is
  undone first (an exact inverse filter; its response never falls below 1/2). Only
  that reading is made for them: their pixels all went through the subsampling.
  This is Vigil's own step; everywhere else the decode equals imwatermark's.
- A decode compares the bits with each known message. Agreement is graded in bands
  from a binomial null model (an unmarked image agrees with each bit by chance, p=1/2),
  anchored on the SDXL bands of the provenance issue; see `BAND_THRESHOLDS`.
- Work is bounded without ever resampling (resampling destroys the mark): at most
  `MAX_WATERMARK_PIXELS` are read, as a band of whole rows from the top, which keeps
  every block's position in the repetition pattern.
"""

import dataclasses
import typing as t

import numpy as np
import numpy.typing as npt
import pywt
from PIL import Image

from vigil.media.base import MediaKind
from vigil.media.subject import Subject
from vigil.provenance._watermark_bands import (
    BAND_THRESHOLDS,
    REPORTED_BANDS,
    Band,
    binomial_tail,
)
from vigil.provenance._watermark_messages import (
    KNOWN_WATERMARKS,
    Bits,
    ChannelOrder,
    ChromaUpsampling,
    KnownWatermark,
    PixelType,
    Reading,
)
from vigil.provenance.base import Evidence, EvidenceKind, Extraction, Extractor

UInt8Array = npt.NDArray[np.uint8]
#: RIFF chunks looked at to tell lossy from lossless WebP (VP8X, ICCP, ANIM, EXIF
#: and XMP come before the image chunk in valid files; a handful at most).
MAX_WEBP_CHUNKS = 64

#: imwatermark's dwtDct quantisation step and block side (EmbedMaxDct defaults:
#: scales=[0, 36, 36] with only channels 0 and 1 visited, so only U is marked).
SCALE = 36.0
BLOCK = 4
#: One DWT level halves each side, and each block is BLOCK coefficients wide: a block
#: covers this many pixels along each side.
BLOCK_PIXELS = 2 * BLOCK
#: imwatermark's encoder refuses images under 256x256 pixels, so none carries its mark.
MIN_WATERMARK_PIXELS = 256 * 256
#: Pixels read per image: 2048x2048 covers every native output size of SD 1.x, 2.x
#: and SDXL (1024x1024 and its aspect buckets), where the decode equals imwatermark's.
#: Larger images are read as a band of whole rows from the top (4 MP hold over 65,000
#: blocks, hundreds of repetitions of even the 136-bit message).
MAX_WATERMARK_PIXELS = 2048 * 2048
#: Four planes of at most 4 MP take ~0.75 s on one core of the dev machine (either
#: chroma reading); 5 s leaves room for slow hosts and the pixel decode itself.
WATERMARK_MAX_SECONDS = 5.0

# OpenCV's 8-bit RGB->YUV (color_yuv.simd.hpp): coefficients scaled by 2**14,
# rounded with CV_DESCALE; checked bit-exact against cv2 over all 2**24 colours.
_SHIFT = 14
_R2Y, _G2Y, _B2Y = 4899, 9617, 1868  # 0.299, 0.587, 0.114
_B2U = 8061  # 0.492
_HALF = 128 << _SHIFT  # chroma offset
_ROUND = 1 << (_SHIFT - 1)
# OpenCV's float RGB->YUV: the same weights in float32, chroma offset 0.5 (it assumes
# floats are in 0..1).
_R2YF, _G2YF, _B2YF = np.float32(0.299), np.float32(0.587), np.float32(0.114)
_B2UF = np.float32(0.492)
_HALF_F = np.float32(0.5)


@dataclasses.dataclass(frozen=True)
class WatermarkMatch:
    """The best decode of one known message over its readings."""

    watermark: KnownWatermark
    reading: Reading
    agreeing_bits: int
    decoded: Bits
    blocks: int  # blocks read: each bit is the majority of blocks / length of them

    @property
    def total_bits(self) -> int:
        return len(self.watermark.bits)

    @property
    def band(self) -> Band:
        return BAND_THRESHOLDS[self.total_bits].band(self.agreeing_bits)

    @property
    def chance(self) -> float:
        """Chance probability of this much agreement on an unmarked image."""
        return binomial_tail(self.total_bits, self.agreeing_bits)


def chroma_u(rgb: UInt8Array, reading: Reading) -> npt.NDArray[t.Any]:
    """The U plane imwatermark computed, for pixels handed to it as `reading` says.

    `rgb` is an (H, W, 3) uint8 RGB array. With `ChannelOrder.RGB` the encoder took
    red for blue, so the two swap roles. 8-bit readings give uint8, float ones float32,
    each as OpenCV's `cvtColor(..., COLOR_BGR2YUV)` computes it for that type.
    """
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    if reading.order is ChannelOrder.RGB:
        red, blue = blue, red
    if reading.pixels is PixelType.FLOAT:
        red_f, green_f, blue_f = (c.astype(np.float32) for c in (red, green, blue))
        luma_f = red_f * _R2YF + green_f * _G2YF + blue_f * _B2YF
        u_f: npt.NDArray[np.float32] = (blue_f - luma_f) * _B2UF + _HALF_F
        return u_f
    red_i, green_i, blue_i = (c.astype(np.int32) for c in (red, green, blue))
    luma = (red_i * _R2Y + green_i * _G2Y + blue_i * _B2Y + _ROUND) >> _SHIFT
    u: npt.NDArray[np.int32] = ((blue_i - luma) * _B2U + _HALF + _ROUND) >> _SHIFT
    return np.clip(u, 0, 255).astype(np.uint8)


def block_bits(
    u: npt.NDArray[t.Any], upsampling: ChromaUpsampling = ChromaUpsampling.NONE
) -> npt.NDArray[np.uint8]:
    """One read bit per 4x4 block of the Haar approximation band, in raster order."""
    rows = u.shape[0] // BLOCK_PIXELS * BLOCK_PIXELS
    cols = u.shape[1] // BLOCK_PIXELS * BLOCK_PIXELS
    if rows == 0 or cols == 0:
        return np.zeros(0, np.uint8)
    if upsampling is ChromaUpsampling.NONE:
        # Blocks past the last whole one are never read: cropping first changes
        # nothing (each Haar coefficient depends on its own 2x2 pixels only).
        approx = np.asarray(pywt.dwt2(u[:rows, :cols], "haar")[0])
    else:  # the inverse filter sees the whole plane, up to its true edges
        even = u[: u.shape[0] // 2 * 2, : u.shape[1] // 2 * 2]
        approx = np.asarray(pywt.dwt2(even.astype(np.float64), "haar")[0])
        for axis, is_upsampled in enumerate(upsampling.value):
            if is_upsampled:
                approx = _unsmooth(approx, axis)
        approx = approx[: rows // 2, : cols // 2]
    block_rows, block_cols = rows // BLOCK_PIXELS, cols // BLOCK_PIXELS
    # pywt computes in float32 for float32 planes and float64 otherwise, as in
    # imwatermark; the decision below is taken in that type too.
    blocks: npt.NDArray[np.floating[t.Any]] = (
        approx.reshape(block_rows, BLOCK, block_cols, BLOCK)
        .swapaxes(1, 2)
        .reshape(block_rows * block_cols, BLOCK * BLOCK)
    )
    magnitudes = np.abs(blocks[:, 1:])
    chosen = magnitudes[np.arange(len(blocks)), np.argmax(magnitudes, axis=1)]
    is_one: npt.NDArray[np.bool_] = np.remainder(chosen, SCALE) > SCALE / 2
    return is_one.astype(np.uint8)


def _unsmooth(band: npt.NDArray[np.float64], axis: int) -> npt.NDArray[np.float64]:
    """Undo the [1, 6, 1]/8 smoothing, edges replicated, along `axis`.

    Over a 2x2 Haar cell, libjpeg's and libwebp's fancy upsampling ((3 * near + far)
    / 4 per axis) averages to (prev + 6 * own + next) / 8 of the stored samples.
    Replicated edges make it a circular filter on the mirrored signal, so it is
    divided out in the Fourier domain: response (6 + 2 cos w) / 8, at least 1/2.
    """
    size = band.shape[axis]
    mirrored = np.concatenate([band, np.flip(band, axis)], axis=axis)
    spectrum = np.fft.rfft(mirrored, axis=axis)
    frequencies = np.arange(spectrum.shape[axis]) * np.pi / size
    response = (6 + 2 * np.cos(frequencies)) / 8
    shape = [1, 1]
    shape[axis] = -1
    restored = np.fft.irfft(spectrum / response.reshape(shape), n=2 * size, axis=axis)
    return np.asarray(np.take(restored, np.arange(size), axis=axis), np.float64)


def _agreement(a: Bits, b: Bits) -> int:
    return sum(x == y for x, y in zip(a, b, strict=True))


def vote(bits: npt.NDArray[np.uint8], length: int) -> Bits:
    """Message bits from block bits (block n carries bit `n % length`): the majority
    of each bit's repetitions. Requires at least `length` blocks."""
    if len(bits) < length:
        raise ValueError(f"{len(bits)} blocks cannot carry {length} bits")
    positions = np.arange(len(bits)) % length
    counts = np.bincount(positions, minlength=length)
    ones = np.bincount(positions, weights=bits, minlength=length)
    decided = ones / counts * 255 > 127  # imwatermark's rule, ties read as 1
    return tuple(int(b) for b in decided)


def decode_bits(rgb: UInt8Array, length: int, reading: Reading) -> Bits:
    """What imwatermark's `WatermarkDecoder("bits", length).decode(pixels, "dwtDct")`
    returns for these pixels handed to it as `reading` says."""
    return vote(block_bits(chroma_u(rgb, reading)), length)


def read_watermarks(
    rgb: UInt8Array, upsampling: ChromaUpsampling = ChromaUpsampling.NONE
) -> tuple[WatermarkMatch, ...]:
    """The best match of each known message that the image has room for;
    `upsampling` says what the file's decoder did to its chroma."""
    planes: dict[Reading, npt.NDArray[np.uint8]] = {}
    matches = []
    for known in KNOWN_WATERMARKS:
        best: WatermarkMatch | None = None
        for reading in known.readings:
            if reading not in planes:
                planes[reading] = block_bits(chroma_u(rgb, reading), upsampling)
            bits = planes[reading]
            if len(bits) < len(known.bits):
                continue
            decoded = vote(bits, len(known.bits))
            agreeing = _agreement(decoded, known.bits)
            if best is None or agreeing > best.agreeing_bits:
                best = WatermarkMatch(known, reading, agreeing, decoded, len(bits))
        if best is not None:
            matches.append(best)
    return tuple(matches)


def strongest(matches: t.Sequence[WatermarkMatch]) -> WatermarkMatch | None:
    """The match worth reporting: the one least likely by chance, if its band is
    likely or above.

    One image carries at most one dwtDct message: every message is written into the
    same coefficients, so a second mark overwrites the first. Reporting only the
    strongest also drops aliases: byte messages whose lengths share factors of 8 read
    as each other (136 = 2 x 64 + 8 = 4 x 32 + 8), so an "InvokeAI" mark reads as
    ~90 of 136 "StableDiffusionV1" bits, a band of its own.
    """
    best = min(matches, key=lambda m: m.chance, default=None)
    if best is None or best.band not in REPORTED_BANDS:
        return None
    return best


def read_window(width: int, height: int) -> tuple[int, int]:
    """The top-left part of an image that is read: all of it within the pixel cap;
    else whole rows from the top (a multiple of the block height, so block numbering is
    kept), or for absurdly wide images the start of the first block row."""
    if width * height <= MAX_WATERMARK_PIXELS:
        return width, height
    rows = MAX_WATERMARK_PIXELS // width // BLOCK_PIXELS * BLOCK_PIXELS
    if rows >= BLOCK_PIXELS:
        return width, rows
    # One block row: block n is column n, whatever the width.
    return MAX_WATERMARK_PIXELS // BLOCK_PIXELS, BLOCK_PIXELS


def image_rgb(image: Image.Image) -> UInt8Array:
    """The read window of the first frame as RGB (alpha dropped, not composited, as
    `cv2.imread` does), in stored orientation."""
    width, height = read_window(*image.size)
    if (width, height) != image.size:
        image = image.crop((0, 0, width, height))
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image, dtype=np.uint8)


def chroma_upsampling(subject: Subject) -> ChromaUpsampling:
    """How the decoder of `subject` upsampled its chroma (libjpeg-turbo and libwebp,
    as Pillow uses them: fancy upsampling)."""
    if subject.kind is MediaKind.WEBP:
        return ChromaUpsampling.H2V2 if _is_lossy_webp(subject.data) else _NONE
    if subject.kind is not MediaKind.JPEG or subject.image().mode != "RGB":
        return _NONE
    # Pillow's `layer`: (component id, horizontal, vertical sampling, table) each.
    layers = getattr(subject.image(), "layer", None)
    if not isinstance(layers, list) or len(layers) != 3:
        return _NONE
    (_, luma_h, luma_v, _), (_, cb_h, cb_v, _), (_, cr_h, cr_v, _) = layers
    if (cb_h, cb_v) != (cr_h, cr_v) or (luma_h, luma_v) not in (
        (cb_h, cb_v),
        (2 * cb_h, cb_v),
        (2 * cb_h, 2 * cb_v),
    ):
        return _NONE  # 4:4:4, or a layout no common encoder writes (4:1:1, 4:4:0)
    if luma_v == 2 * cb_v:
        return ChromaUpsampling.H2V2
    return ChromaUpsampling.H2V1 if luma_h == 2 * cb_h else _NONE


_NONE = ChromaUpsampling.NONE


def _is_lossy_webp(data: bytes) -> bool:
    """Whether the first image chunk of a WebP file is lossy VP8 (not VP8L)."""
    offset = 12  # after "RIFF", the size and "WEBP"
    for _ in range(MAX_WEBP_CHUNKS):
        if offset + 8 > len(data):
            return False
        fourcc = data[offset : offset + 4]
        if fourcc in (b"VP8 ", b"VP8L"):
            return fourcc == b"VP8 "
        if fourcc == b"ANMF":  # an animation frame: 16 bytes of header, then chunks
            offset += 8 + 16
            continue
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        offset += 8 + size + (size & 1)
    return False


class InvisibleWatermarkExtractor(Extractor):
    """Known imwatermark `dwtDct` messages of Stable Diffusion tools."""

    name = "invisible_watermark"
    reads_pixels = True
    version = 1
    media_kinds = frozenset(kind for kind in MediaKind if kind.is_image)
    max_seconds = WATERMARK_MAX_SECONDS

    def extract(self, subject: Subject) -> Extraction:
        image = subject.pixels()
        width, height = image.size
        if width * height < MIN_WATERMARK_PIXELS:
            return Extraction()
        upsampling = chroma_upsampling(subject)
        rgb = image_rgb(image)
        matches = read_watermarks(rgb, upsampling)
        best = strongest(matches)
        if best is None:
            return Extraction()
        evidence = _evidence(best, matches, rgb.shape, upsampling)
        return Extraction(evidence=(evidence,))


def _evidence(
    match: WatermarkMatch,
    matches: t.Sequence[WatermarkMatch],
    shape: tuple[int, ...],
    upsampling: ChromaUpsampling,
) -> Evidence:
    known = match.watermark
    label = "very likely" if match.band is Band.VERY_LIKELY else "likely"
    summary = (
        f"Invisible watermark of {known.description}: {match.agreeing_bits} of "
        f"{match.total_bits} bits agree ({label})."
    )
    return Evidence(
        kind=EvidenceKind.AI_GENERATED,
        source=f"watermark:{known.name}",
        strength=REPORTED_BANDS[match.band],
        summary=summary,
        details={
            "watermark": known.name,
            "message": known.text,
            "method": "imwatermark_dwtDct",
            "agreeing_bits": match.agreeing_bits,
            "total_bits": match.total_bits,
            "band": match.band.value,
            "chance_probability": match.chance,
            "channel_order": match.reading.order.value,
            "pixel_type": match.reading.pixels.value,
            "blocks": match.blocks,
            "decoded_bits": "".join(map(str, match.decoded)),
            "chroma_upsampling_undone": upsampling.label,
            "read_width": int(shape[1]),
            "read_height": int(shape[0]),
            # every known message, for the analyst (aliases and near misses)
            "agreement": {
                m.watermark.name: {
                    "agreeing_bits": m.agreeing_bits,
                    "total_bits": m.total_bits,
                    "band": m.band.value,
                    "reading": str(m.reading),
                }
                for m in matches
            },
        },
    )
