"""Bounded image decoding: typed refusals, limits, frames, orientation and colour modes.

Every image here is synthesised (gradients, flat colours, shapes), except the tests
marked `shared`, which read public camera fixtures from ../shared.
"""

import io
import pathlib
import signal
import struct
import threading
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from vigil.hashing.pdq import PDQHasher, hamming_distance
from vigil.media.base import DecodedImage, Limits, MediaKind
from vigil.media.errors import (
    DecodeError,
    DecodeTimeoutError,
    EmptyFileError,
    FileTooLargeError,
    MediaError,
    TooManyPixelsError,
    TruncatedError,
    UnsupportedTypeError,
)
from vigil.media.image import decode_image

PDQ_MATCH_THRESHOLD_BITS = 31  # ThreatExchange PDQ docs
EXIF_ORIENTATION_TAG = 0x0112
LIMITS = Limits()


def _scene(height: int, width: int, seed: int = 0) -> np.ndarray:
    """An asymmetric scene: gradients, a bright block, a dark disc and some noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    red = 255 * x / max(width - 1, 1)
    green = 255 * y / max(height - 1, 1)
    blue = 128 + 100 * np.sin(x / 17.0 + y / 29.0)
    scene = np.stack([red, green, blue], axis=2) + rng.normal(0, 6, (height, width, 3))
    scene[height // 8 : height // 3, width // 10 : width // 2] = (250, 240, 30)
    disc = (x - 0.7 * width) ** 2 + (y - 0.65 * height) ** 2 < (
        0.15 * min(height, width)
    ) ** 2
    scene[disc] = (20, 30, 60)
    return np.clip(scene, 0, 255).astype(np.uint8)


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body))
    )


def _one_bit_png(width: int, height: int, *, valid_pixels: bool = True) -> bytes:
    """A black 1-bit PNG built row block by row block, so a bomb costs little memory."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    if valid_pixels:
        compressor = zlib.compressobj(9)
        row = b"\x00" * (1 + (width + 7) // 8)
        block_rows = 1000
        parts = []
        for start in range(0, height, block_rows):
            parts.append(compressor.compress(row * min(block_rows, height - start)))
        parts.append(compressor.flush())
        pixels = b"".join(parts)
    else:
        pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


# Refusals ----------


def test_zero_bytes_is_empty() -> None:
    with pytest.raises(EmptyFileError) as raised:
        decode_image(b"", MediaKind.PNG, LIMITS)
    assert raised.value.reason == "empty_file"


def test_over_the_byte_limit() -> None:
    data = _encode(Image.new("RGB", (64, 64), (1, 2, 3)), "PNG")
    with pytest.raises(FileTooLargeError):
        decode_image(data, MediaKind.PNG, Limits(max_image_bytes=len(data) - 1))
    assert (
        decode_image(data, MediaKind.PNG, Limits(max_image_bytes=len(data))).width == 64
    )


@pytest.mark.parametrize("kind", [MediaKind.ZIP, MediaKind.VIDEO, MediaKind.UNKNOWN])
def test_non_image_kinds_are_unsupported(kind: MediaKind) -> None:
    with pytest.raises(UnsupportedTypeError):
        decode_image(b"\x00" * 32, kind, LIMITS)


def test_garbage_is_a_decode_error() -> None:
    with pytest.raises(DecodeError) as raised:
        decode_image(b"this is not an image, only some text", MediaKind.PNG, LIMITS)
    assert raised.value.reason == "decode_error"


def test_only_the_sniffed_format_is_tried() -> None:
    png = _encode(Image.new("RGB", (32, 32), (9, 9, 9)), "PNG")
    with pytest.raises(DecodeError):
        decode_image(png, MediaKind.JPEG, LIMITS)


@pytest.mark.parametrize(
    ("fmt", "kind"), [("JPEG", MediaKind.JPEG), ("PNG", MediaKind.PNG)]
)
def test_truncated_files_are_refused(fmt: str, kind: MediaKind) -> None:
    data = _encode(Image.fromarray(_scene(300, 400)), fmt)
    with pytest.raises(TruncatedError) as raised:
        decode_image(data[: len(data) // 2], kind, LIMITS)
    assert raised.value.reason == "truncated"


def test_decoder_warnings_never_escape() -> None:
    tiff = _encode(Image.fromarray(_scene(50, 60)), "TIFF")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(MediaError):
            decode_image(
                tiff[:40], MediaKind.TIFF, LIMITS
            )  # Pillow warns "Corrupt EXIF"
    assert caught == []


# Pixel limits ----------


def test_decompression_bomb_is_refused() -> None:
    bomb = _one_bit_png(30_000, 30_000)  # 900 MP of black in about 100 KB
    assert len(bomb) < 200_000
    with pytest.raises(TooManyPixelsError) as raised:
        decode_image(bomb, MediaKind.PNG, LIMITS)
    assert raised.value.reason == "too_many_pixels"


def test_pixel_limit_is_checked_before_decoding() -> None:
    # The pixel data is not even valid: only the header can have been read.
    header_only = _one_bit_png(2_000, 2_000, valid_pixels=False)
    with pytest.raises(TooManyPixelsError, match="2000x2000"):
        decode_image(header_only, MediaKind.PNG, Limits(max_pixels=3_999_999))


def test_limits_decide_below_pillows_hard_error() -> None:
    # 90 MP is past Pillow's DecompressionBombWarning (89.5 MP): the warning must not
    # escape, and our limit, not Pillow's warning, decides.
    header_only = _one_bit_png(10_000, 9_000, valid_pixels=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TooManyPixelsError):
            decode_image(header_only, MediaKind.PNG, Limits(max_pixels=50_000_000))
        with pytest.raises((TruncatedError, DecodeError)):  # allowed, then bad pixels
            decode_image(header_only, MediaKind.PNG, LIMITS)
    assert caught == []


def test_one_by_100000_png_decodes() -> None:
    row = np.tile(np.arange(256, dtype=np.uint8), 400)[:100_000]
    data = _encode(
        Image.fromarray(np.stack([row, row, row], axis=1)[np.newaxis]), "PNG"
    )
    image = decode_image(data, MediaKind.PNG, LIMITS, target_px=512)
    assert (image.width, image.height) == (100_000, 1)
    assert image.image.size == (100_000, 1)
    assert image.image.mode == "RGB"
    assert not image.is_reduced


# Time limit ----------


def test_time_limit_in_the_main_thread_restores_the_signal_state() -> None:
    data = _encode(Image.fromarray(_scene(600, 800)), "PNG")
    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(DecodeTimeoutError, match="exceeded") as raised:  # interrupted
        decode_image(data, MediaKind.PNG, Limits(max_decode_seconds=1e-4))
    assert raised.value.reason == "timeout"
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert decode_image(data, MediaKind.PNG, LIMITS).width == 800


def test_time_limit_in_a_thread_is_checked_after_decode() -> None:
    data = _encode(Image.fromarray(_scene(600, 800)), "PNG")
    outcomes: list[object] = []

    def work(limits: Limits) -> None:
        try:
            outcomes.append(decode_image(data, MediaKind.PNG, limits))
        except MediaError as exc:
            outcomes.append(exc)

    for limits in (Limits(max_decode_seconds=1e-4), LIMITS):
        thread = threading.Thread(target=work, args=(limits,))
        thread.start()
        thread.join()
    assert isinstance(outcomes[0], DecodeTimeoutError)
    assert "took" in outcomes[0].message  # no signal in a thread: checked afterwards
    assert isinstance(outcomes[1], DecodedImage)


# Frames ----------

FRAME_COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [("GIF", MediaKind.GIF), ("PNG", MediaKind.PNG), ("WEBP", MediaKind.WEBP)],
)
def test_animated_images_give_first_frame_and_count(fmt: str, kind: MediaKind) -> None:
    frames = [Image.new("RGB", (40, 30), colour) for colour in FRAME_COLOURS]
    params: dict[str, object] = {"save_all": True, "append_images": frames[1:]}
    if fmt == "WEBP":
        params["lossless"] = True
    data = _encode(frames[0], fmt, **params)
    image = decode_image(data, kind, LIMITS)
    assert image.frame_count == 3
    assert image.image.mode == "RGB"
    assert (image.width, image.height) == (40, 30)
    assert tuple(np.asarray(image.image)[15, 20]) == FRAME_COLOURS[0]


def test_still_image_has_one_frame() -> None:
    data = _encode(Image.new("RGB", (8, 8), (5, 6, 7)), "PNG")
    assert decode_image(data, MediaKind.PNG, LIMITS).frame_count == 1


# Orientation ----------


def _jpeg_with_orientation(pixels: np.ndarray, orientation: int) -> bytes:
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[EXIF_ORIENTATION_TAG] = orientation
    return _encode(image, "JPEG", quality=95, exif=exif.tobytes())


def test_exif_orientation_6_is_applied_before_hashing() -> None:
    stored = _scene(300, 400)  # as a camera stores it: landscape, sideways
    image = decode_image(_jpeg_with_orientation(stored, 6), MediaKind.JPEG, LIMITS)
    assert image.orientation == 6
    assert (image.width, image.height) == (300, 400)  # swapped
    assert image.image.size == (300, 400)

    # Orientation 6 means "rotate 90 degrees clockwise to view".
    upright = np.ascontiguousarray(np.rot90(stored, k=-1))
    reference = decode_image(
        _encode(Image.fromarray(upright), "PNG"), MediaKind.PNG, LIMITS
    )
    ours = PDQHasher().hash_image(image).value
    assert hamming_distance(ours, PDQHasher().hash_image(reference).value) <= 8
    sideways = decode_image(
        _encode(Image.fromarray(stored), "PNG"), MediaKind.PNG, LIMITS
    )
    assert hamming_distance(ours, PDQHasher().hash_image(sideways).value) > 31


def test_orientation_with_dct_scaling_reports_full_size() -> None:
    data = _jpeg_with_orientation(_scene(1200, 2000), 6)
    image = decode_image(data, MediaKind.JPEG, LIMITS, target_px=512)
    assert image.is_reduced
    assert (image.width, image.height) == (1200, 2000)
    assert image.image.size == (600, 1000)  # scale 1/2: both sides stay >= 512
    assert min(image.image.size) >= 512


@pytest.mark.parametrize("value", [0, 9])
def test_out_of_range_orientation_is_ignored(value: int) -> None:
    image = decode_image(
        _jpeg_with_orientation(_scene(30, 40), value), MediaKind.JPEG, LIMITS
    )
    assert image.orientation == 1
    assert image.image.size == (40, 30)


def test_small_jpeg_is_not_reduced() -> None:
    data = _encode(Image.fromarray(_scene(600, 800)), "JPEG")
    image = decode_image(data, MediaKind.JPEG, LIMITS, target_px=512)
    assert not image.is_reduced  # 800 // 512 == 1: no DCT scaling possible
    assert image.image.size == (800, 600)


@pytest.mark.shared
def test_camera_orientation_set_is_upright(shared_fixtures: pathlib.Path) -> None:
    folder = shared_fixtures / "camera" / "orientation"
    hashes = {}
    for value in (1, 3, 6, 8):
        data = (folder / f"landscape_{value}.jpg").read_bytes()
        image = decode_image(data, MediaKind.JPEG, LIMITS, target_px=512)
        assert image.orientation == value
        assert (image.width, image.height) == (600, 450)
        hashes[value] = PDQHasher().hash_image(image).value
    for value in (3, 6, 8):
        assert hamming_distance(hashes[1], hashes[value]) <= PDQ_MATCH_THRESHOLD_BITS


# Colour modes ----------


def _decode_pixel(data: bytes, kind: MediaKind) -> tuple[int, ...]:
    image = decode_image(data, kind, LIMITS)
    assert image.image.mode == "RGB"
    return tuple(int(v) for v in np.asarray(image.image)[0, 0])


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = _encode(Image.new("CMYK", (16, 16), (255, 0, 0, 0)), "JPEG", quality=100)
    red, green, blue = _decode_pixel(data, MediaKind.JPEG)
    assert red < 10 and green > 245 and blue > 245  # pure cyan


def test_palette_png_becomes_its_colours() -> None:
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 12, 34, 56] + [0] * 762)
    assert _decode_pixel(_encode(image, "PNG"), MediaKind.PNG) == (12, 34, 56)


def test_alpha_is_dropped_like_the_references() -> None:
    rgba = _encode(Image.new("RGBA", (8, 8), (10, 200, 30, 0)), "PNG")
    assert _decode_pixel(rgba, MediaKind.PNG) == (10, 200, 30)
    la = _encode(Image.new("LA", (8, 8), (77, 128)), "PNG")
    assert _decode_pixel(la, MediaKind.PNG) == (77, 77, 77)


def test_sixteen_bit_grey_keeps_the_high_byte() -> None:
    pixels = np.array([[0x8000, 0xFFFF, 0x00FF, 0x1234]], dtype=np.uint16)
    data = _encode(Image.fromarray(pixels), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    image = decode_image(data, MediaKind.PNG, LIMITS)
    assert np.asarray(image.image)[0, :, 0].tolist() == [0x80, 0xFF, 0x00, 0x12]


def test_one_bit_and_grey_become_rgb() -> None:
    one_bit = Image.new("1", (8, 8), 1)
    assert _decode_pixel(_encode(one_bit, "PNG"), MediaKind.PNG) == (255, 255, 255)
    grey = Image.new("L", (8, 8), 99)
    assert _decode_pixel(_encode(grey, "BMP"), MediaKind.BMP) == (99, 99, 99)
    assert _decode_pixel(_encode(grey, "TIFF"), MediaKind.TIFF) == (99, 99, 99)


def test_avif_decodes_as_heif_kind() -> None:
    data = _encode(Image.fromarray(_scene(64, 96)), "AVIF", quality=90)
    image = decode_image(data, MediaKind.HEIF, LIMITS)
    assert (image.width, image.height) == (96, 64)
    assert image.image.mode == "RGB"
    assert image.kind is MediaKind.HEIF


@pytest.mark.shared
def test_iphone_heic_decodes(shared_fixtures: pathlib.Path) -> None:
    data = (shared_fixtures / "camera" / "mobile" / "IMG_5195.HEIC").read_bytes()
    image = decode_image(data, MediaKind.HEIF, LIMITS, target_px=512)
    assert (image.width, image.height) == (2566, 3313)
    assert image.image.mode == "RGB"
    assert image.frame_count == 1
    assert not image.is_reduced  # DCT scaling is JPEG only


def test_heif_without_the_heif_extra_is_a_clear_refusal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pillow-heif is the opt-in `heif` extra (GPLv2 wheels): without it a HEIC file
    becomes one error record naming the extra, never a crash."""
    import sys

    import vigil.media.image as image_module
    from vigil.media.errors import DependencyMissingError

    heic = (
        pathlib.Path(__file__).parents[1] / "data/fixtures/camera/mobile/IMG_5195.HEIC"
    )
    monkeypatch.setattr(image_module, "_heif_registered", False)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # import fails
    with pytest.raises(DependencyMissingError) as refused:
        decode_image(heic.read_bytes(), MediaKind.HEIF, Limits())
    assert refused.value.reason == "dependency_missing"
    assert "pip install 'vigil[heif]'" in refused.value.message


def test_the_pixel_limit_message_names_vigils_limit_not_pillows() -> None:
    """Pillow refuses 400 MP itself (its own bomb limit); the error record must say
    Vigil's limit, which is the one a person can change."""
    header = b"\x89PNG\r\n\x1a\n"
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    chunk += struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    data = header + chunk + b"\x00\x00\x00\x00IEND\xaeB`\x82"
    with pytest.raises(TooManyPixelsError) as refused:
        decode_image(data, MediaKind.PNG, Limits())
    message = refused.value.message
    assert "100000000-pixel limit" in message, message
    assert "178956970" not in message and "DOS" not in message


def test_error_messages_carry_no_object_reprs() -> None:
    with pytest.raises(DecodeError) as refused:
        decode_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, MediaKind.PNG, Limits())
    assert " object at 0x" not in refused.value.message
