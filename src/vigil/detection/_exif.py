"""EXIF structure for the camera detector: tag count, camera fields, thumbnail.

Separate so the camera detector's pixel code does not mix with header parsing of
untrusted EXIF, which is bounded here and never raises.
"""

import dataclasses
import io
import math
import warnings

from PIL import ExifTags, Image

#: An EXIF APP1 segment holds at most 65,533 bytes (a 16-bit length, JFIF/Exif
#: 2.32 section 4.5.4), so no honest thumbnail is larger.
MAX_THUMBNAIL_BYTES = 65_533
_EXIF_HEADER = b"Exif\x00\x00"
_MAKE, _MODEL = 0x010F, 0x0110  # Exif 2.32 table 4 (TIFF tags)
_THUMB_OFFSET, _THUMB_LENGTH = 0x0201, 0x0202  # JPEGInterchangeFormat(Length)


@dataclasses.dataclass(frozen=True)
class ExifFacts:
    tag_count: int = 0
    has_camera: bool = False
    has_thumbnail: bool = False
    #: |ln(thumbnail aspect / image aspect)|; NaN without a readable thumbnail.
    thumbnail_aspect_error: float = math.nan


def exif_facts(image: Image.Image) -> ExifFacts:
    """What the EXIF block says about its own structure (empty facts when absent
    or unreadable: hostile EXIF is common and is not a decode failure)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exif = image.getexif()
            count = len(exif) + sum(
                len(exif.get_ifd(ifd))
                for ifd in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo)
            )
            ifd1 = exif.get_ifd(ExifTags.IFD.IFD1)
    except Exception:  # noqa: BLE001 - Pillow raises many types on hostile EXIF
        return ExifFacts()
    has_camera = bool(exif.get(_MAKE) or exif.get(_MODEL))
    size = _thumbnail_size(image.info.get("exif"), ifd1)
    if size is None:
        return ExifFacts(count, has_camera, False)
    width, height = image.size
    error = abs(math.log((size[0] / size[1]) / (width / height)))
    return ExifFacts(count, has_camera, True, error)


def _thumbnail_size(raw: object, ifd1: dict[int, object]) -> tuple[int, int] | None:
    offset, length = ifd1.get(_THUMB_OFFSET), ifd1.get(_THUMB_LENGTH)
    if not isinstance(raw, bytes) or not isinstance(offset, int):
        return None
    if not isinstance(length, int) or not 0 < length <= MAX_THUMBNAIL_BYTES:
        return None
    tiff = raw[len(_EXIF_HEADER) :] if raw.startswith(_EXIF_HEADER) else raw
    data = tiff[offset : offset + length]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as thumbnail:  # header only
                width, height = thumbnail.size
    except Exception:  # noqa: BLE001 - a broken thumbnail is a fact, not an error
        return None
    return (width, height) if width > 0 and height > 0 else None
