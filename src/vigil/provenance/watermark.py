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
  `MAX_WATERMARK_BLOCKS` blocks (`MAX_WATERMARK_PIXELS` pixels) are read. Images
  whose blocks fit, which includes every native SD 1.x/2.x/SDXL size, are read whole;
  larger ones as a band of whole block rows through their middle. A band is a run of
  consecutive blocks of imwatermark's raster order, so every block keeps its place in
  the repetition pattern and every bit its share of the votes. Only the band's pixels
  are converted (and, for lossy files, `UNSMOOTH_MARGIN_PIXELS` rows either side for
  the inverse filter).
- The arithmetic is imwatermark's, bit for bit, but cheaper: the Haar approximation
  band is computed directly with pywt's own float operations (`haar_approximation`,
  a tenth of the time of `pywt.dwt2`, which also computes the three detail bands the
  decode throws away), each block's largest magnitude is a strided maximum (the value
  read does not depend on which of equal magnitudes imwatermark picks), the channel
  conversions are shared by the four readings, and the inverse filter runs its FFTs
  along contiguous rows. Nothing can stop a read early without changing its result:
  a bit's majority is only settled once more than half of its blocks are read.
"""

import dataclasses
import typing as t

import numpy as np
import numpy.typing as npt
import pywt

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
from vigil.provenance._watermark_window import (
    BLOCK,
    BLOCK_PIXELS,
    MIN_WATERMARK_PIXELS,
    SCALE,
    ReadArea,
    Window,
    window_pixels,
)
from vigil.provenance.base import Evidence, EvidenceKind, Extraction, Extractor

UInt8Array = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.floating[t.Any]]
#: RIFF chunks looked at to tell lossy from lossless WebP (VP8X, ICCP, ANIM, EXIF
#: and XMP come before the image chunk in valid files; a handful at most).
MAX_WEBP_CHUNKS = 64

#: The four readings of at most 1 MP of blocks take ~0.012 s (lossless) to ~0.05 s
#: (lossy files, with the inverse filter) on one core of the dev machine, and the
#: full-resolution pixel decode before them ~0.1 s for a 12 MP JPEG; 5 s leaves room
#: for slow hosts and for decoding images up to the pixel limit.
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
# pywt's Haar low-pass tap (1/sqrt(2) as float64; pywt filters float32 data with its
# float32 rounding). pywt filters uint8 planes as float64: the row pass of two 8-bit
# levels a (upper) and b (lower), then its product with the tap, looked up at
# a * 256 + b.
_HAAR = np.float64(pywt.Wavelet("haar").dec_lo[0])
_HAAR_F = np.float32(_HAAR)
_HAAR_LEVELS = np.arange(256, dtype=np.float64) * _HAAR
_HAAR_PAIRS = ((_HAAR_LEVELS[:, None] + _HAAR_LEVELS[None, :]) * _HAAR).reshape(-1)


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


class _Channels:
    """The red, green and blue planes of an RGB array, each converted to int32 (8-bit
    readings) or float32 (float readings) at most once for all readings."""

    def __init__(self, rgb: UInt8Array) -> None:
        self._rgb = rgb
        self._converted: dict[type, tuple[npt.NDArray[t.Any], ...]] = {}

    def get(self, dtype: type) -> tuple[npt.NDArray[t.Any], ...]:
        if dtype not in self._converted:
            rgb = self._rgb
            self._converted[dtype] = tuple(rgb[..., i].astype(dtype) for i in range(3))
        return self._converted[dtype]


def chroma_u(rgb: UInt8Array, reading: Reading) -> npt.NDArray[t.Any]:
    """The U plane imwatermark computed, for pixels handed to it as `reading` says.

    `rgb` is an (H, W, 3) uint8 RGB array. With `ChannelOrder.RGB` the encoder took
    red for blue, so the two swap roles. 8-bit readings give uint8, float ones float32,
    each as OpenCV's `cvtColor(..., COLOR_BGR2YUV)` computes it for that type.
    """
    return _chroma_u(_Channels(rgb), reading)


def _chroma_u(channels: _Channels, reading: Reading) -> npt.NDArray[t.Any]:
    if reading.pixels is PixelType.FLOAT:
        red_f, green_f, blue_f = channels.get(np.float32)
        if reading.order is ChannelOrder.RGB:
            red_f, blue_f = blue_f, red_f
        # red * 0.299 + green * 0.587 + blue * 0.114, in that order, in float32
        luma_f = red_f * _R2YF
        luma_f += green_f * _G2YF
        luma_f += blue_f * _B2YF
        u_f: npt.NDArray[np.float32] = np.subtract(blue_f, luma_f, out=luma_f)
        u_f *= _B2UF
        u_f += _HALF_F
        return u_f
    red, green, blue = channels.get(np.int32)
    if reading.order is ChannelOrder.RGB:
        red, blue = blue, red
    luma = red * _R2Y
    luma += green * _G2Y
    luma += blue * _B2Y
    luma += _ROUND
    luma >>= _SHIFT
    u: npt.NDArray[np.int32] = np.subtract(blue, luma, out=luma)
    u *= _B2U
    u += _HALF + _ROUND
    u >>= _SHIFT
    return np.clip(u, 0, 255, out=u).astype(np.uint8)


def haar_approximation(plane: npt.NDArray[t.Any], wide: bool = False) -> FloatArray:
    """`pywt.dwt2(plane, "haar")[0]` for a plane with even sides, bit for bit (of
    `plane.astype(np.float64)` if `wide`): like pywt, each row pair, then each column
    pair, as the sum of the two products with the tap, in float32 for float32 planes
    and float64 otherwise. The detail bands, which the decode discards, are skipped."""
    if plane.dtype == np.uint8:
        pairs = plane[0::2].astype(np.uint16) << 8
        pairs |= plane[1::2]
        rows: FloatArray = _HAAR_PAIRS[pairs]
    else:
        if plane.dtype == np.float32 and not wide:
            tap: np.floating[t.Any] = _HAAR_F
            scaled = plane * tap
        else:
            tap = _HAAR
            scaled = np.multiply(plane, tap, dtype=np.float64)
        rows = scaled[0::2] + scaled[1::2]
        rows *= tap
    band: FloatArray = rows[:, 0::2] + rows[:, 1::2]
    return band


def _band_bits(band: FloatArray, rows: int, cols: int) -> UInt8Array:
    """One read bit for each of the first `rows` x `cols` 4x4 blocks of `band`, in
    raster order. Overwrites `band`."""
    magnitudes = band[: rows * BLOCK, : cols * BLOCK]
    np.abs(magnitudes, out=magnitudes)  # `band` is scratch, computed for this read
    # The first coefficient is never read; magnitudes are >= 0, so a 0 there never
    # changes a block's largest one.
    magnitudes[::BLOCK, ::BLOCK] = 0
    # imwatermark reads the coefficient with the largest magnitude, the first if
    # several tie, and keeps only its magnitude: the largest magnitude is what it reads.
    largest = magnitudes.reshape(rows, BLOCK, cols * BLOCK).max(axis=1)
    largest = largest.reshape(rows, cols, BLOCK).max(axis=2)
    # pywt computes in float32 for float32 planes and float64 otherwise, as in
    # imwatermark; the decision below is taken in that type too.
    is_one: npt.NDArray[np.bool_] = np.remainder(largest, SCALE) > SCALE / 2
    return is_one.astype(np.uint8).reshape(-1)


def _plane_bits(
    u: npt.NDArray[t.Any],
    area: ReadArea,
    row: int,
    col: int,
    upsampling: ChromaUpsampling,
) -> UInt8Array:
    """The bits of `area`'s blocks, which start at pixel (`row`, `col`) of the U
    plane `u`."""
    if area.blocks == 0:
        return np.zeros(0, np.uint8)
    if upsampling is ChromaUpsampling.NONE:
        # Each Haar coefficient depends on its own 2x2 pixels only: cropping to the
        # blocks read first changes nothing.
        height, width = area.rows * BLOCK_PIXELS, area.cols * BLOCK_PIXELS
        band = haar_approximation(u[row : row + height, col : col + width])
    else:  # the inverse filter sees all of `u`, up to its true edges
        even = u[: u.shape[0] // 2 * 2, : u.shape[1] // 2 * 2]
        band = haar_approximation(even, wide=True)
        for axis, is_upsampled in enumerate(upsampling.value):
            if is_upsampled:
                band = _unsmooth(band, axis)
        band = band[row // 2 :, col // 2 :]
    return _band_bits(band, area.rows, area.cols)


def block_bits(
    u: npt.NDArray[t.Any], upsampling: ChromaUpsampling = ChromaUpsampling.NONE
) -> npt.NDArray[np.uint8]:
    """One read bit per 4x4 block of the Haar approximation band, in raster order."""
    return _plane_bits(u, ReadArea.whole(u.shape[1], u.shape[0]), 0, 0, upsampling)


def _unsmooth(band: FloatArray, axis: int) -> npt.NDArray[np.float64]:
    """Undo the [1, 6, 1]/8 smoothing, edges replicated, along `axis`.

    Over a 2x2 Haar cell, libjpeg's and libwebp's fancy upsampling ((3 * near + far)
    / 4 per axis) averages to (prev + 6 * own + next) / 8 of the stored samples.
    Replicated edges make it a circular filter on the mirrored signal, so it is
    divided out in the Fourier domain: response (6 + 2 cos w) / 8, at least 1/2.
    The transforms run along rows, contiguous in memory (same values, less time).
    """
    if axis == 0:
        return _unsmooth(band.T, 1).T
    size = band.shape[1]
    mirrored = np.concatenate([band, band[:, ::-1]], axis=1, dtype=np.float64)
    spectrum = np.fft.rfft(mirrored, axis=1)
    frequencies = np.arange(spectrum.shape[1]) * np.pi / size
    spectrum /= (6 + 2 * np.cos(frequencies)) / 8
    restored = np.fft.irfft(spectrum, n=2 * size, axis=1)
    return restored[:, :size]


def _agreement(a: Bits, b: Bits) -> int:
    return sum(x == y for x, y in zip(a, b, strict=True))


def vote(bits: npt.NDArray[np.uint8], length: int, first: int = 0) -> Bits:
    """Message bits from block bits (block n carries bit `n % length`; `bits` are
    those of blocks `first`, `first + 1`, ...): the majority of each bit's
    repetitions. Requires at least `length` blocks."""
    if len(bits) < length:
        raise ValueError(f"{len(bits)} blocks cannot carry {length} bits")
    positions = (np.arange(len(bits)) + first) % length
    counts = np.bincount(positions, minlength=length)
    ones = np.bincount(positions, weights=bits, minlength=length)
    decided = ones / counts * 255 > 127  # imwatermark's rule, ties read as 1
    return tuple(int(b) for b in decided)


def decode_bits(rgb: UInt8Array, length: int, reading: Reading) -> Bits:
    """What imwatermark's `WatermarkDecoder("bits", length).decode(pixels, "dwtDct")`
    returns for these pixels handed to it as `reading` says."""
    return vote(block_bits(chroma_u(rgb, reading)), length)


def _region(
    window: Window, upsampling: ChromaUpsampling
) -> tuple[UInt8Array, int, int]:
    """The pixels of `window` that a reading converts, and where the first block read
    starts in them: the blocks read only, or for lossy files all of the window (the
    inverse filter sees beyond the blocks)."""
    if upsampling is not ChromaUpsampling.NONE:
        return window.rgb, window.row, window.col
    area, row, col = window.area, window.row, window.col
    height, width = area.rows * BLOCK_PIXELS, area.cols * BLOCK_PIXELS
    return window.rgb[row : row + height, col : col + width], 0, 0


def window_bits(
    window: Window,
    reading: Reading,
    upsampling: ChromaUpsampling = ChromaUpsampling.NONE,
) -> UInt8Array:
    """The bits of the blocks of `window.area` (from block `area.first` of the image,
    in raster order) in `reading`."""
    rgb, row, col = _region(window, upsampling)
    u = _chroma_u(_Channels(rgb), reading)
    return _plane_bits(u, window.area, row, col, upsampling)


def read_watermarks(
    pixels: Window | UInt8Array,
    upsampling: ChromaUpsampling = ChromaUpsampling.NONE,
) -> tuple[WatermarkMatch, ...]:
    """The best match of each known message that the read blocks have room for;
    `pixels` is a `window_pixels` window or a whole RGB array, and `upsampling` says
    what the file's decoder did to its chroma."""
    window = pixels if isinstance(pixels, Window) else Window.whole(pixels)
    area = window.area
    rgb, row, col = _region(window, upsampling)
    channels = _Channels(rgb)  # shared by the readings, like the planes they give
    planes: dict[Reading, npt.NDArray[np.uint8]] = {}
    matches = []
    for known in KNOWN_WATERMARKS:
        if area.blocks < len(known.bits):
            continue
        best: WatermarkMatch | None = None
        for reading in known.readings:
            if reading not in planes:
                u = _chroma_u(channels, reading)
                planes[reading] = _plane_bits(u, area, row, col, upsampling)
            decoded = vote(planes[reading], len(known.bits), area.first)
            agreeing = _agreement(decoded, known.bits)
            if best is None or agreeing > best.agreeing_bits:
                best = WatermarkMatch(known, reading, agreeing, decoded, area.blocks)
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
    version = 2  # 2: large images read as a middle band of 1 MP, read_left/top
    media_kinds = frozenset(kind for kind in MediaKind if kind.is_image)
    max_seconds = WATERMARK_MAX_SECONDS

    def extract(self, subject: Subject) -> Extraction:
        image = subject.pixels()
        width, height = image.size
        if width * height < MIN_WATERMARK_PIXELS:
            return Extraction()
        upsampling = chroma_upsampling(subject)
        window = window_pixels(image)
        matches = read_watermarks(window, upsampling)
        best = strongest(matches)
        if best is None:
            return Extraction()
        evidence = _evidence(best, matches, window, upsampling)
        return Extraction(evidence=(evidence,))


def _evidence(
    match: WatermarkMatch,
    matches: t.Sequence[WatermarkMatch],
    window: Window,
    upsampling: ChromaUpsampling,
) -> Evidence:
    known = match.watermark
    left, top, width, height = window.read_box()
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
            "read_left": left,
            "read_top": top,
            "read_width": width,
            "read_height": height,
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
