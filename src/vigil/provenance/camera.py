"""Camera EXIF: which device says it took the picture.

Design notes:
- Make and Model are the only fields that make this `captured` evidence; it is always
  `weak`, because EXIF is easily forged (any editor writes it) and easily stripped
  (most upload pipelines drop it).
- GPS is recorded as present or absent, never as coordinates: the location where a
  possible victim was photographed is among the most sensitive facts in a case, and
  evidence travels into the store, logs and exports. Investigators who need it read
  the original under their own controls.
- EXIF Software naming a known AI generator is AI evidence (`weak`) and is decided
  here, for the EXIF tag only; the XMP properties of the same name are the XMP
  extractor's.
- ComfyUI and its saver nodes put `prompt:{...}` / `workflow:{...}` JSON in Make,
  Model and ImageDescription of JPEG/WebP files. Such a value names no camera and is
  dropped here (the ComfyUI extractor reads it): `captured` evidence on an AI image
  would be wrong evidence.
- Pillow parses the EXIF block; its warnings about corrupt blocks are silenced here
  (they are not errors of the scan), and the raw block is refused over
  `MAX_METADATA_BYTES` before it is parsed.
"""

import re
import typing as t
import warnings

from PIL import ExifTags, Image

from vigil.media.base import MediaKind
from vigil.media.errors import MetadataError
from vigil.media.subject import Subject
from vigil.provenance.base import (
    MAX_METADATA_BYTES,
    Evidence,
    EvidenceKind,
    Extraction,
    Extractor,
    Strength,
)
from vigil.provenance.xmp import clean_text, match_generator, metadata_image

#: Characters kept of one EXIF text field. EXIF ASCII fields are short (camera
#: models are < 40 characters); this only bounds what hostile files can put in.
MAX_EXIF_TEXT_CHARS = 256

# A generator payload in a text tag: JSON, or `key:` then JSON (ComfyUI's
# `prompt:{...}` / `workflow:{...}`, nodes_images.py SaveAnimatedWEBP).
_GENERATOR_PAYLOAD = re.compile(r"\s*(?:[A-Za-z_][\w-]{0,31}:)?\s*[{\[]")

_MAKE = ExifTags.Base.Make
_MODEL = ExifTags.Base.Model
_SOFTWARE = ExifTags.Base.Software
_DATE_TIME_ORIGINAL = ExifTags.Base.DateTimeOriginal
_LENS_MAKE = ExifTags.Base.LensMake
_LENS_MODEL = ExifTags.Base.LensModel
_GPS_LATITUDE = ExifTags.GPS.GPSLatitude
_GPS_LONGITUDE = ExifTags.GPS.GPSLongitude


class CameraExtractor(Extractor):
    """Camera make and model (and lens, capture time, software) from EXIF."""

    name = "camera_exif"
    version = 2
    media_kinds = frozenset(
        {
            MediaKind.JPEG,
            MediaKind.TIFF,
            MediaKind.WEBP,
            MediaKind.PNG,
            MediaKind.HEIF,
        }
    )

    def extract(self, subject: Subject) -> Extraction:
        fields = read_camera_fields(metadata_image(subject))
        evidence = []
        make, model = fields["make"], fields["model"]
        if make or model:
            evidence.append(
                Evidence(
                    EvidenceKind.CAPTURED,
                    "exif",
                    Strength.WEAK,
                    f"EXIF names the camera {_camera_name(make, model)}",
                    details=fields,
                )
            )
        software = fields["software"]
        generator = match_generator(software) if isinstance(software, str) else None
        if generator:
            evidence.append(
                Evidence(
                    EvidenceKind.AI_GENERATED,
                    "exif",
                    Strength.WEAK,
                    f"EXIF Software names the AI generator {generator}",
                    details={**fields, "generator": generator},
                )
            )
        return Extraction(evidence=tuple(evidence))


def read_camera_fields(image: Image.Image) -> dict[str, str | bool | None]:
    """Make, model, lens, capture time, software and whether a GPS position is
    recorded (never the position itself).

    Raises:
        MetadataError: the EXIF block is over the size limit or cannot be parsed.
    """
    raw = image.info.get("exif")
    if isinstance(raw, bytes | bytearray) and len(raw) > MAX_METADATA_BYTES:
        raise MetadataError(
            f"EXIF block of {len(raw)} bytes is over {MAX_METADATA_BYTES}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns on corrupt blocks; we go on
        try:
            exif = image.getexif()
            sub = exif.get_ifd(ExifTags.IFD.Exif)
            gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        except Exception as exc:  # Pillow raises many types on hostile EXIF
            raise MetadataError(f"EXIF cannot be parsed: {exc}") from exc
    return {
        "make": _device_text(exif.get(_MAKE)),
        "model": _device_text(exif.get(_MODEL)),
        "lens_make": _text(sub.get(_LENS_MAKE)),
        "lens_model": _text(sub.get(_LENS_MODEL)),
        "date_time_original": _text(sub.get(_DATE_TIME_ORIGINAL)),
        "software": _text(exif.get(_SOFTWARE)),
        # Presence only: see the module notes on why coordinates are never kept.
        "has_gps": _GPS_LATITUDE in gps and _GPS_LONGITUDE in gps,
    }


def _device_text(value: t.Any) -> str | None:
    """A Make/Model value, or None when it holds a generator's JSON payload."""
    text = _text(value)
    if text is not None and _GENERATOR_PAYLOAD.match(text):
        return None
    return text


def _text(value: t.Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        return None  # a malformed tag of another type says nothing we can use
    cleaned = clean_text(value.replace("\x00", " "), MAX_EXIF_TEXT_CHARS)
    return cleaned or None


def _camera_name(make: t.Any, model: t.Any) -> str:
    if isinstance(make, str) and isinstance(model, str):
        # "Canon" + "Canon EOS 40D" reads as "Canon EOS 40D"
        return (
            model if model.casefold().startswith(make.casefold()) else f"{make} {model}"
        )
    return str(make or model)
