"""The camera detector: demosaicing traces, noise, quantization tables, EXIF."""

import io
import math
import pathlib

import numpy as np
import pytest
from PIL import Image

from vigil.detection._jpeg_tables import IJG_CHROMA, IJG_LUMA, ijg_table, nearest_ijg
from vigil.detection.base import Detection, DetectionInput
from vigil.detection.camera import CameraDetector
from vigil.media.base import Limits, MediaKind
from vigil.media.errors import MediaError
from vigil.media.subject import Subject

FACTS = DetectionInput()
NAMES = CameraDetector.feature_names


def noise(side: int, seed: int = 0) -> np.ndarray:
    """Smooth random colour fields plus fine noise, float RGB."""
    rng = np.random.default_rng(seed)
    fields = [
        Image.fromarray(
            rng.normal(128, 30, (side // 4, side // 4)).clip(0, 255).astype(np.uint8)
        ).resize((side, side), Image.BICUBIC)
        for _ in range(3)
    ]
    scene = np.stack([np.asarray(f, dtype=np.float64) for f in fields], axis=2)
    return scene + rng.normal(0, 4, scene.shape)


def bayer_demosaiced(scene: np.ndarray) -> np.ndarray:
    """RGGB sampling, then bilinear interpolation of the missing samples."""
    side = scene.shape[0]
    mask = np.zeros(scene.shape, bool)
    mask[0::2, 0::2, 0] = mask[1::2, 1::2, 2] = True
    mask[0::2, 1::2, 1] = mask[1::2, 0::2, 1] = True
    kernel = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4

    def blur(a: np.ndarray) -> np.ndarray:
        p = np.pad(a, 1, mode="reflect")
        return sum(
            kernel[i, j] * p[i : i + side, j : j + side]
            for i in range(3)
            for j in range(3)
        )

    out = scene.copy()
    for c in range(3):
        known = mask[..., c]
        estimate = blur(np.where(known, scene[..., c], 0)) / blur(known.astype(float))
        out[..., c] = np.where(known, scene[..., c], estimate)
    return out


def subject(pixels: np.ndarray, fmt: str = "PNG", **options: object) -> Subject:
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
        buffer, fmt, **options
    )
    kind = MediaKind.JPEG if fmt == "JPEG" else MediaKind.PNG
    return Subject(buffer.getvalue(), kind, Limits())


def feature(found: tuple[float, ...], name: str) -> float:
    return found[NAMES.index(name)]


def test_features_have_the_right_length_and_pixel_features_are_finite() -> None:
    found = CameraDetector().features(subject(noise(512)), FACTS)
    assert len(found) == len(NAMES)
    pixel = (
        "cfa_green_lattice",
        "cfa_chroma_2x2",
        "noise_sigma",
        "channel_residual_corr",
    )
    assert all(math.isfinite(feature(found, n)) for n in pixel)
    assert math.isnan(feature(found, "jpeg_ijg_quality"))  # a PNG has no tables


def test_a_tiny_image_gives_nan_not_an_exception() -> None:
    found = CameraDetector().features(subject(noise(32)), FACTS)
    assert len(found) == len(NAMES)
    assert math.isnan(feature(found, "cfa_green_lattice"))
    assert math.isnan(feature(found, "noise_sigma"))
    assert CameraDetector().detect(subject(noise(32)), FACTS).probability is None


def test_features_are_deterministic() -> None:
    data = noise(300, seed=4)
    first = CameraDetector().features(subject(data, "JPEG", quality=90), FACTS)
    second = CameraDetector().features(subject(data, "JPEG", quality=90), FACTS)
    assert first == second


def test_demosaicing_leaves_a_green_lattice_trace() -> None:
    scene = noise(512, seed=5)
    demosaiced = feature(
        CameraDetector().features(subject(bayer_demosaiced(scene)), FACTS),
        "cfa_green_lattice",
    )
    plain = feature(
        CameraDetector().features(subject(scene), FACTS), "cfa_green_lattice"
    )
    assert demosaiced > 0.3
    assert plain < 0.05


def test_noise_sigma_follows_the_noise_added() -> None:
    rng = np.random.default_rng(6)
    flat = np.full((256, 256, 3), 128.0)
    grey = (256, 256, 1)  # the same noise in every channel: luma noise is its sigma
    quiet = feature(
        CameraDetector().features(subject(flat + rng.normal(0, 2, grey)), FACTS),
        "noise_sigma",
    )
    loud = feature(
        CameraDetector().features(subject(flat + rng.normal(0, 8, grey)), FACTS),
        "noise_sigma",
    )
    assert quiet == pytest.approx(2, rel=0.25)
    assert loud == pytest.approx(8, rel=0.25)


def test_pillow_q75_tables_read_as_ijg_and_an_encoder_default() -> None:
    found = CameraDetector().features(subject(noise(256), "JPEG", quality=75), FACTS)
    assert feature(found, "jpeg_ijg_quality") == 75
    assert feature(found, "jpeg_ijg_distance") == 0.0
    assert feature(found, "jpeg_is_encoder_default") == 1.0


def test_a_non_standard_table_is_told_from_pillow_q75() -> None:
    # a synthetic table: flat steps, the shape of no IJG quality
    tables = [[6] * 64, [9] * 64]
    found = CameraDetector().features(
        subject(noise(256), "JPEG", qtables=tables), FACTS
    )
    assert feature(found, "jpeg_ijg_distance") > 0.3
    assert feature(found, "jpeg_is_encoder_default") == 0.0
    standard = CameraDetector().detect(subject(noise(256), "JPEG", quality=75), FACTS)
    custom = CameraDetector().detect(subject(noise(256), "JPEG", qtables=tables), FACTS)
    assert standard.probability is not None and custom.probability is not None
    assert custom.probability < standard.probability


@pytest.mark.parametrize("quality", [10, 50, 90, 100])
def test_libjpeg_scaling_is_recovered_exactly(quality: int) -> None:
    tables = {
        0: ijg_table(IJG_LUMA, quality).tolist(),
        1: ijg_table(IJG_CHROMA, quality).tolist(),
    }
    assert nearest_ijg(tables) == (quality, 0.0)


def test_exif_thumbnail_and_camera_fields_are_read() -> None:
    thumb = io.BytesIO()
    Image.fromarray(np.clip(noise(64), 0, 255).astype(np.uint8)).resize(
        (160, 120)
    ).save(thumb, "JPEG")
    image = Image.fromarray(np.clip(noise(400), 0, 255).astype(np.uint8)).resize(
        (400, 300)
    )
    exif = Image.Exif()
    exif[0x010F] = "TestMake"
    exif[0x0110] = "TestModel"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    found = CameraDetector().features(
        Subject(buffer.getvalue(), MediaKind.JPEG, Limits()), FACTS
    )
    assert feature(found, "exif_has_camera") == 1.0
    assert feature(found, "exif_tag_count_log") == pytest.approx(math.log(3))
    assert feature(found, "exif_has_thumbnail") == 0.0  # Pillow writes no IFD1
    assert math.isnan(feature(found, "exif_thumbnail_aspect_error"))


@pytest.mark.shared
def test_a_camera_fixture_has_a_matching_thumbnail(
    shared_fixtures: "pathlib.Path",
) -> None:  # noqa: F821
    path = shared_fixtures / "camera" / "gps" / "DSCN0010.jpg"
    if not path.is_file():
        pytest.skip("camera fixture not in this checkout")
    found = CameraDetector().features(
        Subject(path.read_bytes(), MediaKind.JPEG, Limits()), FACTS
    )
    assert feature(found, "exif_has_thumbnail") == 1.0
    assert feature(found, "exif_thumbnail_aspect_error") < 0.05
    assert feature(found, "exif_has_camera") == 1.0


def test_detect_returns_a_detection_with_a_probability_in_range() -> None:
    found = CameraDetector().detect(subject(noise(300), "JPEG", quality=95), FACTS)
    assert isinstance(found, Detection)
    assert found.detector == "camera"
    assert found.probability is not None and 0.0 <= found.probability <= 1.0


def test_unreadable_input_raises_a_media_error() -> None:
    broken = Subject(b"\xff\xd8\xff\xe0 not a jpeg", MediaKind.JPEG, Limits())
    with pytest.raises(MediaError):
        CameraDetector().features(broken, FACTS)
