"""Bounded decoding of untrusted image bytes into an RGB image ready for hashing.

Separate from sniffing and archive walking because it is the one place that hands
hostile bytes to native decoders (libjpeg, libpng, libwebp, libheif): every limit, and
every translation of a decoder failure into a typed `MediaError`, lives here.

Design notes:
- Pixel limit first: the header is parsed, `width * height` is checked against
  `Limits.max_pixels`, and only then are pixels decoded. Pillow's own bomb check also
  runs inside `Image.open`: its error becomes `TooManyPixelsError`; its warning is
  captured and never escapes (below Pillow's hard error at ~179 MP, `Limits` decides).
- Alpha is dropped, not composited: the PDQ references (C++ `pdqio.cpp` via CImg,
  pdqhash, python-threatexchange) all hash the stored R, G, B channels and ignore alpha.
- Time limit: in the main thread of a process (the CLI, and every process-pool worker)
  a `SIGALRM` interval timer interrupts the decode. It is delivered between the
  Python-level steps of Pillow's chunked decode loop, so one long native call can
  overrun it. Elsewhere (threads) a decode cannot be interrupted: the elapsed time is
  checked afterwards and an over-long decode is refused all the same.
- `LOAD_TRUNCATED_IMAGES` is never enabled: a truncated file is refused as `truncated`.
"""

import contextlib
import io
import logging
import re
import signal
import sys
import threading
import time
import typing as t
import warnings

import numpy as np
from PIL import Image

from vigil._optional import MissingDependencyError, import_optional
from vigil.media.base import DecodedImage, Limits, MediaKind
from vigil.media.errors import (
    DecodeError,
    DecodeTimeoutError,
    DependencyMissingError,
    EmptyFileError,
    FileTooLargeError,
    MediaError,
    TooManyPixelsError,
    TruncatedError,
    UnsupportedTypeError,
)

logger = logging.getLogger(__name__)

# Pillow format ids tried for each sniffed kind. Nothing else is tried on the bytes:
# that keeps rarely used (and rarely fuzzed) Pillow plugins away from hostile input.
_PILLOW_FORMATS: dict[MediaKind, tuple[str, ...]] = {
    MediaKind.JPEG: ("JPEG", "MPO"),
    MediaKind.PNG: ("PNG",),
    MediaKind.WEBP: ("WEBP",),
    MediaKind.GIF: ("GIF",),
    MediaKind.BMP: ("BMP", "DIB"),
    MediaKind.TIFF: ("TIFF",),
    MediaKind.HEIF: ("HEIF", "AVIF"),  # HEIF via pillow-heif; AVIF is built into Pillow
}

EXIF_ORIENTATION_TAG = 0x0112  # EXIF 2.32, tag 274 "Orientation"

# EXIF orientation value -> the transpose that shows the image upright (EXIF 2.32,
# Orientation tag; the same table as Pillow's ImageOps.exif_transpose).
_ORIENTATION_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_SIDES = frozenset({5, 6, 7, 8})

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_SIXTEEN_TO_EIGHT_BITS = 8  # keep the high byte, as Pillow does for 16-bit RGB PNGs

_heif_lock = threading.Lock()
_heif_registered = False


def decode_image(
    data: bytes, kind: MediaKind, limits: Limits, *, target_px: int | None = None
) -> DecodedImage:
    """Decode untrusted image bytes within `limits`.

    Args:
        data: the whole file.
        kind: the sniffed kind; only the matching Pillow decoders are tried.
        limits: size, pixel and time bounds.
        target_px: the smallest side a hasher needs. A JPEG larger than this is decoded
            with DCT scaling (both sides stay >= target_px) and `is_reduced` is set.

    Returns:
        The first frame in mode RGB with EXIF orientation applied.

    Raises:
        MediaError: a typed refusal (`EmptyFileError`, `FileTooLargeError`,
            `TooManyPixelsError`, `TruncatedError`, `DecodeError`, `DecodeTimeoutError`,
            `UnsupportedTypeError`).
    """
    formats = _PILLOW_FORMATS.get(kind)
    if formats is None:
        raise UnsupportedTypeError(f"{kind.value} is not an image kind")
    if not data:
        raise EmptyFileError("zero-byte image")
    if len(data) > limits.max_image_bytes:
        raise FileTooLargeError(
            f"{len(data)} bytes is over the {limits.max_image_bytes}-byte image limit"
        )
    if kind is MediaKind.HEIF:
        register_heif_opener()

    started = time.monotonic()
    with (
        deadline(limits.max_decode_seconds, DecodeTimeoutError),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        try:
            decoded = _decode(data, kind, formats, limits, target_px)
        except MediaError:
            raise
        except Image.DecompressionBombError as exc:
            raise pixel_limit_error(exc, limits) from exc
        except Exception as exc:  # Pillow plugins raise many types on hostile input
            raise _refusal(exc) from exc
    for warning in caught:
        logger.debug("decoder warning: %s", warning.message)
    elapsed = time.monotonic() - started
    if elapsed > limits.max_decode_seconds:
        raise DecodeTimeoutError(
            f"decode took {elapsed:.1f} s, over the {limits.max_decode_seconds} s limit"
        )
    return decoded


def _decode(
    data: bytes,
    kind: MediaKind,
    formats: tuple[str, ...],
    limits: Limits,
    target_px: int | None,
) -> DecodedImage:
    image = Image.open(io.BytesIO(data), formats=list(formats))
    stored_width, stored_height = image.size
    if stored_width * stored_height > limits.max_pixels:
        raise TooManyPixelsError(
            f"{stored_width}x{stored_height} pixels is over the "
            f"{limits.max_pixels}-pixel limit"
        )
    # Counted from the headers before any pixels are decoded (GIF and TIFF seek through
    # the frames to count them, then return to the first).
    frame_count = int(getattr(image, "n_frames", 1))
    if target_px is not None and image.format in ("JPEG", "MPO"):
        image.draft("RGB", (target_px, target_px))
    is_reduced = image.size != (stored_width, stored_height)
    image.load()

    orientation = _orientation(image)
    rgb = _to_rgb(image)
    transpose = _ORIENTATION_TRANSPOSE.get(orientation)
    if transpose is not None:
        rgb = rgb.transpose(transpose)
    if kind is MediaKind.HEIF:
        # libheif has applied irot/imir and reset the EXIF tag; record the original.
        orientation = int(image.info.get("original_orientation") or orientation)
    if orientation not in _ORIENTATION_TRANSPOSE:
        orientation = 1

    width, height = stored_width, stored_height
    if orientation in _SWAPS_SIDES:
        width, height = height, width
    return DecodedImage(
        image=rgb,
        kind=kind,
        width=width,
        height=height,
        frame_count=frame_count,
        orientation=orientation,
        is_reduced=is_reduced,
    )


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation tag, 1 when absent, out of range or unreadable."""
    try:
        value = image.getexif().get(EXIF_ORIENTATION_TAG, 1)
    except (SyntaxError, ValueError, TypeError, KeyError, IndexError, OSError):
        logger.debug("unreadable EXIF; orientation taken as 1")
        return 1
    return value if isinstance(value, int) and value in _ORIENTATION_TRANSPOSE else 1


def _to_rgb(image: Image.Image) -> Image.Image:
    """Mode RGB: palette expanded, alpha dropped, 16-bit reduced to its high byte."""
    if image.mode == "RGB":
        return image
    if image.mode in _SIXTEEN_BIT_MODES:
        wide = np.asarray(image).astype(np.int64)
        narrow = (np.clip(wide, 0, 0xFFFF) >> _SIXTEEN_TO_EIGHT_BITS).astype(np.uint8)
        return Image.fromarray(narrow, "L").convert("RGB")
    if image.mode == "F":
        clipped = np.clip(np.asarray(image), 0, 255).astype(np.uint8)
        return Image.fromarray(clipped, "L").convert("RGB")
    return image.convert("RGB")


def _refusal(exc: Exception) -> MediaError:
    """Translate a decoder exception into the matching typed refusal."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError) or "truncated" in message.lower():
        return TruncatedError(message)
    return DecodeError(message)


@contextlib.contextmanager
def deadline(
    seconds: float, error: type[MediaError] = DecodeTimeoutError
) -> t.Iterator[None]:
    """Interrupt the body after `seconds` (raising `error`) where a SIGALRM timer can
    be used: the main thread of a worker, with no other timer armed. Elsewhere the body
    runs unbounded, and callers also check elapsed time afterwards."""
    if not _can_use_alarm():
        yield
        return

    def _on_alarm(_signum: int, _frame: object) -> None:
        raise error(f"exceeded the {seconds} s limit")

    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        # Armed inside `try` so that an alarm firing at once still restores the handler.
        signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _can_use_alarm() -> bool:
    """SIGALRM reaches only the main thread, and one timer must not clobber another."""
    if sys.platform == "win32":
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    delay, _interval = signal.getitimer(signal.ITIMER_REAL)
    return delay == 0.0


#: pillow-heif's binary wheels are GPLv2 (they bundle x265), so HEIF decoding is
#: the opt-in `heif` extra (see the README's licence notes).
HEIF_EXTRA = "heif"


_PILLOW_PIXELS = re.compile(r"Image size \((\d+) pixels\)")


def pixel_limit_error(exc: Exception, limits: Limits) -> TooManyPixelsError:
    """Pillow's bomb refusal in Vigil's words: Vigil's own limit, never Pillow's."""
    found = _PILLOW_PIXELS.search(str(exc))
    size = f"{int(found.group(1))} pixels" if found else "the image"
    return TooManyPixelsError(f"{size} is over the {limits.max_pixels}-pixel limit")


def register_heif_opener() -> None:
    """Teach Pillow HEIF/HEIC through pillow-heif, once per process.

    Raises:
        DependencyMissingError: pillow-heif is not installed.
    """
    global _heif_registered
    with _heif_lock:
        if _heif_registered:
            return
        try:
            pillow_heif = import_optional("pillow_heif", extra=HEIF_EXTRA)
        except MissingDependencyError as exc:
            raise DependencyMissingError(f"HEIF images need {exc.install}") from exc

        pillow_heif.register_heif_opener()
        _heif_registered = True
