"""Media kinds, limits and decoded-image records shared by sniffing, decoding and
walking.

Design notes:
- Why kinds by content? Extensions lie (a pickle renamed `.safetensors`, a PNG named
  `.jpg`); every decision downstream is taken on the sniffed kind.
- Limits: every reader of untrusted bytes takes a `Limits` value; the defaults are
  conservative for hotline bulk sets and can be raised per scan. No reader has an
  unbounded path.
"""

import dataclasses
import enum

from PIL import Image


class MediaKind(enum.StrEnum):
    """What a file is, decided by its content."""

    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    GIF = "gif"
    BMP = "bmp"
    TIFF = "tiff"
    HEIF = "heif"  # HEIC and AVIF: ISO-BMFF image brands, decoded through pillow-heif
    VIDEO = "video"  # MP4/MOV/WebM/MKV: recorded now, frames in a later issue
    SAFETENSORS = "safetensors"
    PYTORCH_ZIP = "pytorch_zip"
    PICKLE = "pickle"
    ZIP = "zip"
    TAR = "tar"
    GZIP = "gzip"  # gzip stream; a tar inside it is walked as tar.gz
    UNKNOWN = "unknown"

    @property
    def is_image(self) -> bool:
        return self in _IMAGE_KINDS

    @property
    def is_archive(self) -> bool:
        return self in (MediaKind.ZIP, MediaKind.TAR, MediaKind.GZIP)


_IMAGE_KINDS = frozenset(
    {
        MediaKind.JPEG,
        MediaKind.PNG,
        MediaKind.WEBP,
        MediaKind.GIF,
        MediaKind.BMP,
        MediaKind.TIFF,
        MediaKind.HEIF,
    }
)

MIB = 1024 * 1024

# Default limits. Sources: 100 MP is the pixel cap named in the foundation issue
# (Pillow's own bomb warning starts near 89 MP); archive figures are sized for forum
# dumps and seized-device exports, where real archives nest two or three deep and hold
# tens of thousands of files.
DEFAULT_MAX_PIXELS = 100_000_000
DEFAULT_MAX_FILE_BYTES = 4 * 1024 * MIB
DEFAULT_MAX_IMAGE_BYTES = 256 * MIB
DEFAULT_MAX_DECODE_SECONDS = 30.0
DEFAULT_MAX_ARCHIVE_DEPTH = 3
DEFAULT_MAX_ARCHIVE_MEMBERS = 100_000
DEFAULT_MAX_EXPANDED_BYTES = 20 * 1024 * MIB
# Real media barely compresses (JPEG/PNG/video are already compressed); a member that
# inflates more than 200:1 is almost certainly padding built to exhaust the reader.
DEFAULT_MAX_COMPRESSION_RATIO = 200.0
# The ratio is judged only for members past this size: flat scans, screenshots and
# blank frames stored as BMP or TIFF compress 1000:1 and more (an 18 MB BMP zips to
# 17 KB), and a member up to the image byte limit is read whatever its ratio, the
# member and expanded-size caps bounding what it costs. Past it, a ratio over 200:1
# is padding built to exhaust the reader.
DEFAULT_MIN_RATIO_CHECK_BYTES = DEFAULT_MAX_IMAGE_BYTES
DEFAULT_MAX_MEMBER_BYTES = 2 * 1024 * MIB


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds on what any reader will do with one input."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    max_decode_seconds: float = DEFAULT_MAX_DECODE_SECONDS
    max_archive_depth: int = DEFAULT_MAX_ARCHIVE_DEPTH
    max_archive_members: int = DEFAULT_MAX_ARCHIVE_MEMBERS
    max_expanded_bytes: int = DEFAULT_MAX_EXPANDED_BYTES
    max_compression_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO
    min_ratio_check_bytes: int = DEFAULT_MIN_RATIO_CHECK_BYTES
    max_member_bytes: int = DEFAULT_MAX_MEMBER_BYTES


@dataclasses.dataclass(frozen=True)
class DecodedImage:
    """An image decoded within limits, orientation applied, ready for perceptual
    hashing.

    `image` is RGB, possibly decoded at reduced scale (JPEG DCT scaling) when a hasher
    asked for a target size; `width`/`height` are the stored full-resolution dimensions
    after orientation.
    """

    image: Image.Image
    kind: MediaKind
    width: int
    height: int
    frame_count: int
    orientation: int  # EXIF orientation tag that was applied (1 = none)
    is_reduced: bool  # decoded with DCT scaling rather than at full size
