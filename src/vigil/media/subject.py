"""The subject: one item's bytes and its cached decodes, shared by every stage.

Design notes:
- Decode once per scale. Stages ask for what they need (`decoded(512)` for PDQ's
  DCT-scaled decode, `pixels()` for full-resolution LSB and watermark readers,
  `crops(256)` for detectors' fixed crops, `image()` for headers and metadata
  only); each is made at most once per item, and a failed decode is remembered,
  so one broken image gives one decode error record and pixel readers are
  skipped, not failed again.
- Bounded: `data` is only held for items up to `limits.max_image_bytes`; bigger
  items (model checkpoints) are read through `open()` as a stream.
"""

import io
import typing as t
import warnings

from PIL import Image

from vigil.media.base import DecodedImage, Limits, MediaKind
from vigil.media.errors import (
    DecodeError,
    FileTooLargeError,
    MediaError,
    TooManyPixelsError,
)
from vigil.media.image import decode_image, pixel_limit_error, register_heif_opener

HEAD_BYTES = 4096  # as much as any sniffer reads (vigil.media.sniff.SNIFF_BYTES)


class Subject:
    """The item stages read: its kind, its bytes where they are held, its source."""

    def __init__(
        self,
        data: bytes | None,
        kind: MediaKind,
        limits: Limits,
        *,
        member_path: str = "",
        size: int | None = None,
        path: str | None = None,
        head: bytes | None = None,
    ) -> None:
        self._data = data
        self.kind = kind
        self.limits = limits
        self.member_path = member_path
        self.size = size if size is not None else len(data or b"")
        self.path = path  # the file on disk when the subject is a whole file
        # the first bytes, for content sniffing by stages
        self.head = head if head is not None else (data or b"")[:HEAD_BYTES]
        self._image: Image.Image | None = None
        self._loaded = False
        self._decoded: dict[int | None, DecodedImage | MediaError] = {}
        self._crops: dict[int, tuple[Image.Image, ...]] = {}

    @property
    def data(self) -> bytes:
        """The item's bytes (readers apply their own input limits)."""
        if self._data is None:
            raise FileTooLargeError(
                f"{self.size} bytes are not held in memory (over the "
                f"{self.limits.max_image_bytes}-byte image limit)"
            )
        return self._data

    @property
    def is_held(self) -> bool:
        """Whether the bytes are in memory (items up to the image byte limit)."""
        return self._data is not None and len(self._data) <= self.limits.max_image_bytes

    @property
    def decode_failed(self) -> bool:
        """True once a decode of this image was tried and refused."""
        return any(isinstance(v, MediaError) for v in self._decoded.values())

    def open(self) -> t.BinaryIO:
        """The item's bytes as a stream: the file itself, or the bytes held."""
        if self.path is not None:
            return open(self.path, "rb")  # noqa: SIM115 - the caller closes it
        return io.BytesIO(self._data or b"")

    def decoded(self, target_px: int | None) -> DecodedImage:
        """The first frame in RGB, DCT-scaled so both sides stay >= `target_px`
        (None: full size); decoded once per scale, refusals remembered."""
        cached = self._decoded.get(target_px)
        if cached is None:
            try:
                cached = decode_image(
                    self._held(), self.kind, self.limits, target_px=target_px
                )
            except MediaError as exc:
                cached = exc
            self._decoded[target_px] = cached
        if isinstance(cached, MediaError):
            raise cached
        return cached

    def crops(self, side_px: int) -> tuple[Image.Image, ...]:
        """Fixed `side_px` square crops of the full-resolution first frame, in RGB:
        the centre, then the four corners (fewer where the image is too small to
        hold them apart; none when a side is under `side_px`). Detectors read these
        rather than resized images, so upsampling traces survive. Made once per
        size."""
        cached = self._crops.get(side_px)
        if cached is None:
            picture = self.decoded(None).image
            width, height = picture.size
            if width < side_px or height < side_px:
                cached = ()
            else:
                boxes = [((width - side_px) // 2, (height - side_px) // 2)]
                if width >= 2 * side_px and height >= 2 * side_px:
                    right, bottom = width - side_px, height - side_px
                    boxes += [(0, 0), (right, 0), (0, bottom), (right, bottom)]
                cached = tuple(
                    picture.crop((x, y, x + side_px, y + side_px)) for x, y in boxes
                )
            self._crops[side_px] = cached
        return cached

    def image(self) -> Image.Image:
        """The opened image (headers, text chunks, EXIF, XMP); pixels not decoded,
        so metadata of images over the pixel limit is still read."""
        if self._image is None:
            if not self.kind.is_image:
                raise DecodeError(f"{self.kind.value} is not an image")
            if self.kind is MediaKind.HEIF:
                register_heif_opener()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # hostile headers warn a lot
                    self._image = Image.open(io.BytesIO(self._held()))
            except Exception as exc:  # Pillow raises many types on hostile input
                raise DecodeError(f"cannot open image: {exc}") from exc
        return self._image

    def pixels(self) -> Image.Image:
        """The first frame decoded at full resolution, within the pixel limit."""
        image = self.image()
        if not self._loaded:
            width, height = image.size
            if width * height > self.limits.max_pixels:
                raise TooManyPixelsError(
                    f"{width}x{height} is over the {self.limits.max_pixels}-pixel limit"
                )
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    image.seek(0)
                    image.load()
            except MediaError:
                raise
            except Image.DecompressionBombError as exc:
                raise pixel_limit_error(exc, self.limits) from exc
            except Exception as exc:
                raise DecodeError(f"cannot decode pixels: {exc}") from exc
            self._loaded = True
        return image

    def _held(self) -> bytes:
        if self._data is None or not self.is_held:
            raise FileTooLargeError(
                f"image is over the {self.limits.max_image_bytes}-byte decode limit"
            )
        return self._data
