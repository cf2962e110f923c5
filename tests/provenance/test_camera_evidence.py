"""Camera EXIF extractor: weak capture evidence from Make/Model, GPS presence only,
no AI evidence from any real photo, and broken EXIF refused without crashing."""

import io
import json
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image

from helpers import require_fixture
from vigil.media.base import Limits, MediaKind
from vigil.media.errors import MediaError
from vigil.media.sniff import SNIFF_BYTES, sniff_bytes
from vigil.media.subject import Subject
from vigil.provenance.base import EvidenceKind, Extraction, Extractor, Strength
from vigil.provenance.camera import CameraExtractor
from vigil.provenance.run import Provenance, extract_all
from vigil.provenance.xmp import XMPExtractor

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".heic", ".tif", ".tiff", ".webp"}
# Make, model and GPS as the upstream READMEs and the files' own EXIF give them.
KNOWN_CAMERAS = {
    "camera/exif-samples/Nikon_D70.jpg": ("NIKON CORPORATION", "NIKON D70", False),
    "camera/gps/DSCN0010.jpg": ("NIKON", "COOLPIX P6000", True),
    "camera/mobile/IMG_5195.HEIC": ("Apple", "iPhone 11 Pro Max", True),
    "camera/exif-org/sony-cybershot.jpg": ("SONY", "CYBERSHOT", False),
    "camera/exif-org/ricoh-rdc5300.jpg": ("RICOH", "RDC-5300", False),
}
NO_CAMERA = [
    "camera/orientation/landscape_3.jpg",
    "camera/exif-samples/Canon_40D_photoshop_import.jpg",
]
DETAIL_KEYS = {
    "make",
    "model",
    "lens_make",
    "lens_model",
    "date_time_original",
    "software",
    "has_gps",
}


def run(data: bytes, *extractors: Extractor) -> Provenance:
    kind = sniff_bytes(data[:SNIFF_BYTES])
    chosen = list(extractors) or [CameraExtractor()]
    return extract_all(data, kind, chosen, Limits())


def jpeg_with_exif(**tags: object) -> bytes:
    exif = Image.Exif()
    gps = tags.pop("gps", None)
    for name, value in tags.items():
        exif[ExifTags.Base[name]] = value
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(gps)
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 140, 60)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_no_real_photo_gives_ai_evidence(shared_fixtures: pathlib.Path) -> None:
    paths = [
        p
        for p in sorted((shared_fixtures / "camera").rglob("*"))
        if p.suffix.lower() in IMAGE_SUFFIXES
    ]
    assert len(paths) >= 10
    for path in paths:
        found = run(path.read_bytes(), CameraExtractor(), XMPExtractor())
        assert not found.errors, path
        assert not found.is_ai, path
        for evidence in found.evidence:
            assert evidence.strength is Strength.WEAK
            json.dumps(evidence.as_dict())


@pytest.mark.parametrize("relative", sorted(KNOWN_CAMERAS))
def test_make_and_model_are_weak_capture_evidence(
    shared_fixtures: pathlib.Path, relative: str
) -> None:
    make, model, has_gps = KNOWN_CAMERAS[relative]
    found = run(require_fixture(shared_fixtures, relative).read_bytes())
    (evidence,) = found.evidence
    assert (evidence.kind, evidence.strength) == (
        EvidenceKind.CAPTURED,
        Strength.WEAK,
    )
    assert (evidence.details["make"], evidence.details["model"]) == (make, model)
    assert evidence.details["has_gps"] is has_gps
    assert set(evidence.details) == DETAIL_KEYS
    assert model in evidence.summary


@pytest.mark.parametrize("relative", NO_CAMERA)
def test_no_make_or_model_means_no_evidence(
    shared_fixtures: pathlib.Path, relative: str
) -> None:
    found = run(require_fixture(shared_fixtures, relative).read_bytes())
    assert found == Provenance()


def test_gps_is_reported_as_presence_never_as_coordinates() -> None:
    data = jpeg_with_exif(
        Make="ExampleCam",
        Model="X100",
        gps={
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (51.0, 30.0, 26.4),
            ExifTags.GPS.GPSLongitudeRef: "W",
            ExifTags.GPS.GPSLongitude: (0.0, 7.0, 39.9),
        },
    )
    (evidence,) = run(data).evidence
    assert evidence.details["has_gps"] is True
    text = json.dumps(evidence.as_dict())
    for fragment in ("26.4", "39.9", "51", "GPSLatitude", "latitude"):
        assert fragment not in text


def test_details_are_cleaned_and_bounded() -> None:
    data = jpeg_with_exif(
        Make="ACME   ", Model="Shot\x00\x00\x00", Software="Firmware " + "v" * 999
    )
    (evidence,) = run(data).evidence
    assert (evidence.details["make"], evidence.details["model"]) == ("ACME", "Shot")
    assert len(evidence.details["software"]) == 256
    assert evidence.details["has_gps"] is False


def test_make_alone_is_enough_and_software_alone_is_not() -> None:
    assert [e.kind for e in run(jpeg_with_exif(Make="ACME")).evidence] == [
        EvidenceKind.CAPTURED
    ]
    assert run(jpeg_with_exif(Software="GIMP 2.10")).evidence == ()


def test_exif_software_naming_a_generator_is_weak_ai_evidence() -> None:
    found = run(jpeg_with_exif(Software="NovelAI"))
    assert [(e.kind, e.strength) for e in found.evidence] == [
        (EvidenceKind.AI_GENERATED, Strength.WEAK)
    ]
    assert found.evidence[0].details["generator"] == "NovelAI"


def test_broken_exif_and_truncated_files_never_crash(
    shared_fixtures: pathlib.Path,
) -> None:
    good = jpeg_with_exif(Make="ACME", Model="One")
    segment = b"Exif\x00\x00II*\x00" + b"\xff\x00\x00\x00" * 8
    hostile = good[:2] + b"\xff\xe1" + (len(segment) + 2).to_bytes(2, "big") + segment
    assert run(hostile + good[2:]) == Provenance()  # unreadable EXIF: no fields
    for end in range(0, len(good), 41):
        found = extract_all(good[:end], MediaKind.JPEG, [CameraExtractor()], Limits())
        assert {e.reason for e in found.errors} <= {
            "decode_error",
            "malformed_metadata",
        }
    for path in sorted((shared_fixtures / "generated" / "malformed").iterdir()):
        found = run(path.read_bytes())
        assert found.evidence == ()
        assert {e.reason for e in found.errors} <= {"decode_error"}


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=512))
def test_random_exif_blocks_give_evidence_or_a_media_error(block: bytes) -> None:
    image = Image.new("RGB", (8, 8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=b"Exif\x00\x00" + block)
    try:
        found = CameraExtractor().extract(
            Subject(buffer.getvalue(), MediaKind.JPEG, Limits())
        )
    except MediaError as exc:
        assert exc.reason in {"decode_error", "malformed_metadata"}
    else:
        assert isinstance(found, Extraction)
        assert all(e.strength is Strength.WEAK for e in found.evidence)
