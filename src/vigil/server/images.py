"""Images for the console, read from where they lie, on demand, never cached: the
file (or the archive member) is read again, checked against the item's SHA-256, and
a thumbnail is made in memory, blurred and greyscale unless revealed."""

import dataclasses
import hashlib
import io
import pathlib

from PIL import ImageFilter, ImageOps

from vigil.media.archive import ArchiveMember, walk_archive
from vigil.media.base import Limits, MediaKind
from vigil.media.errors import MediaError
from vigil.media.files import open_regular
from vigil.media.image import decode_image
from vigil.media.sniff import SNIFF_BYTES, sniff_bytes
from vigil.store.records import Location

THUMBNAIL_PX = 320
#: Blur levels 0-6 (Coop's scale); each level is this many pixels of Gaussian radius
#: on a 320-pixel thumbnail. Level 2, Coop's default, leaves shapes, not detail.
BLUR_RADIUS_PER_LEVEL = 4.0
MAX_BLUR_LEVEL = 6


class ImageUnavailable(Exception):
    """The original cannot be shown: gone, changed since the scan, not an image."""


@dataclasses.dataclass(frozen=True)
class View:
    """How a thumbnail is drawn."""

    blur: int = 2
    greyscale: bool = True
    sepia: bool = False


def original_bytes(
    sha256: str, locations: tuple[Location, ...], limits: Limits
) -> bytes:
    """The item's bytes from the first place that still holds them.

    Raises:
        ImageUnavailable: no place holds bytes with this SHA-256 any more.
    """
    reasons = []
    for place in locations:
        try:
            data = _read(place, limits)
        except (OSError, MediaError, ImageUnavailable) as exc:
            reasons.append(str(exc) or type(exc).__name__)
            continue
        if hashlib.sha256(data).hexdigest() == sha256:
            return data
        reasons.append("changed since the scan")
    raise ImageUnavailable("; ".join(reasons) or "no location recorded")


def thumbnail(data: bytes, view: View, limits: Limits) -> bytes:
    """A PNG thumbnail, drawn as `view` says.

    Raises:
        ImageUnavailable: not an image that can be decoded within the limits.
    """
    kind = sniff_bytes(data[:SNIFF_BYTES])
    if not kind.is_image:
        raise ImageUnavailable(f"not an image ({kind.value})")
    try:
        decoded = decode_image(data, kind, limits, target_px=THUMBNAIL_PX)
    except MediaError as exc:
        raise ImageUnavailable(str(exc)) from exc
    image = decoded.image.copy()
    image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    level = max(0, min(MAX_BLUR_LEVEL, view.blur))
    if level:
        image = image.filter(ImageFilter.GaussianBlur(level * BLUR_RADIUS_PER_LEVEL))
    if view.sepia:
        image = ImageOps.colorize(ImageOps.grayscale(image), "#3b2a1a", "#f4e6c8")
    elif view.greyscale:
        image = ImageOps.grayscale(image)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _read(place: Location, limits: Limits) -> bytes:
    with open_regular(place.path) as handle:
        data = handle.read(limits.max_file_bytes + 1)
    if len(data) > limits.max_file_bytes:
        raise ImageUnavailable("over the size limit")
    if not place.member_path:
        return data
    kind = sniff_bytes(data[:SNIFF_BYTES])
    if not kind.is_archive:
        raise ImageUnavailable("the archive is no longer an archive")
    for found in walk_archive(data, kind, limits):
        if isinstance(found, ArchiveMember) and found.member_path == place.member_path:
            return found.data
    raise ImageUnavailable(
        f"{place.member_path} is no longer in {pathlib.Path(place.path).name}"
    )


__all__ = ["ImageUnavailable", "MediaKind", "View", "original_bytes", "thumbnail"]
