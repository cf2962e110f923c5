"""Embedded thumbnails (`modelspec.thumbnail`): decoded, hashed and inspected like any
image, so a preview can be matched against hash lists.

Only hashes and facts leave this module, never the image bytes; callers that want the
image treated as an item of a scan get the bytes from `thumbnail_bytes` and pass them
to the scan pipeline themselves.
"""

import base64
import binascii
import dataclasses
import re
import typing as t

from vigil.hashing.crypto import MD5Hasher, SHA1Hasher, SHA256Hasher
from vigil.hashing.digest import digest_bytes
from vigil.hashing.pdq import PDQHasher
from vigil.media.base import Limits
from vigil.media.errors import MediaError
from vigil.media.image import decode_image
from vigil.media.sniff import sniff_bytes
from vigil.modelfiles.base import ModelError, ModelLimits
from vigil.modelfiles.errors import ThumbnailError
from vigil.modelfiles.training import MODELSPEC_THUMBNAIL

_DATA_URI = re.compile(r"data:(?P<type>[\w.+-]+/[\w.+-]+)?(?:;[\w=.+-]+)*?;base64,")
_BASE64_EXPANSION = 4 / 3


@dataclasses.dataclass(frozen=True)
class EmbeddedImage:
    """Hashes and facts of an image embedded in a model file's metadata."""

    source: str  # the metadata key it came from
    declared_type: str | None  # the data URI's media type, as written
    kind: str  # sniffed vigil.media.base.MediaKind value
    size: int
    hashes: t.Mapping[str, str]  # md5, sha1, sha256, and pdq when it decoded
    width: int | None = None
    height: int | None = None
    pdq_quality: int | None = None
    error: ModelError | None = None

    def as_dict(self) -> dict[str, t.Any]:
        out = dataclasses.asdict(self)
        out["hashes"] = dict(self.hashes)
        out["error"] = self.error.as_dict() if self.error else None
        return out


def thumbnail_bytes(
    metadata: t.Mapping[str, str], limits: ModelLimits | None = None
) -> tuple[str | None, bytes] | None:
    """The declared media type and bytes of `modelspec.thumbnail`; None if absent.

    Raises:
        ThumbnailError: the value is not base64 (or a base64 data URI) within
            `limits.max_thumbnail_bytes`.
    """
    limits = limits or ModelLimits()
    value = metadata.get(MODELSPEC_THUMBNAIL)
    if not value:
        return None
    declared: str | None = None
    match = _DATA_URI.match(value)
    if match:
        declared = match.group("type")
        value = value[match.end() :]
    if len(value) > limits.max_thumbnail_bytes * _BASE64_EXPANSION + 4:
        raise ThumbnailError(f"thumbnail over {limits.max_thumbnail_bytes} bytes")
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ThumbnailError(f"thumbnail is not base64: {exc}") from exc
    if not data:
        raise ThumbnailError("thumbnail is empty")
    return declared, data


def inspect_thumbnail(
    metadata: t.Mapping[str, str], limits: ModelLimits | None = None
) -> EmbeddedImage | None:
    """Hash and decode `modelspec.thumbnail`; None when there is none.

    Raises:
        ThumbnailError: see `thumbnail_bytes`. Decoding failures are kept in
            `EmbeddedImage.error`, with the hashes of the bytes.
    """
    limits = limits or ModelLimits()
    found = thumbnail_bytes(metadata, limits)
    if found is None:
        return None
    declared, data = found
    kind = sniff_bytes(data[:4096])
    hashes = digest_bytes(data, [MD5Hasher(), SHA1Hasher(), SHA256Hasher()])
    image_limits = Limits(max_image_bytes=limits.max_thumbnail_bytes)
    found_image = EmbeddedImage(
        source=MODELSPEC_THUMBNAIL,
        declared_type=declared,
        kind=kind.value,
        size=len(data),
        hashes=hashes,
    )
    hasher = PDQHasher()
    try:
        image = decode_image(
            data, kind, image_limits, target_px=hasher.decode_target_px
        )
        pdq = hasher.hash_image(image)
    except MediaError as exc:
        error = ModelError(exc.reason, exc.message, MODELSPEC_THUMBNAIL)
        return dataclasses.replace(found_image, error=error)
    return dataclasses.replace(
        found_image,
        hashes={**hashes, pdq.hasher: pdq.value},
        width=image.width,
        height=image.height,
        pdq_quality=pdq.quality,
    )
