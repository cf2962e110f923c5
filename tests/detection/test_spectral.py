"""The spectral detector on synthesised benign patterns: noise, gradients, resizes."""

import io
import math

import numpy as np
import pytest
from PIL import Image

from vigil.detection.base import Detection, DetectionInput
from vigil.detection.spectral import SpectralDetector
from vigil.media.base import Limits, MediaKind
from vigil.media.errors import MediaError
from vigil.media.subject import Subject

FACTS = DetectionInput()


def photo(side: int, seed: int = 0) -> Image.Image:
    """A photo-like pattern: a smooth gradient field plus sensor-like noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    base = 128 + 60 * np.sin(x / 37) * np.cos(y / 53)
    pixels = base[..., None] + rng.normal(0, 12, (side, side, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def subject(image: Image.Image, fmt: str = "PNG", **options: object) -> Subject:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    kind = MediaKind.JPEG if fmt == "JPEG" else MediaKind.PNG
    return Subject(buffer.getvalue(), kind, Limits())


def period_2(found: tuple[float, ...]) -> float:
    return found[SpectralDetector.feature_names.index("period_2")]


def test_features_are_finite_and_complete_on_a_photo_like_image() -> None:
    found = SpectralDetector().features(subject(photo(512)), FACTS)
    assert len(found) == len(SpectralDetector.feature_names)
    assert all(math.isfinite(v) for v in found)


def test_a_tiny_image_gives_nan_not_an_exception() -> None:
    detector = SpectralDetector()
    found = detector.features(subject(photo(32)), FACTS)
    assert len(found) == len(detector.feature_names)
    assert all(math.isnan(v) for v in found)
    assert detector.detect(subject(photo(32)), FACTS).probability is None


def test_features_are_deterministic() -> None:
    image = photo(300, seed=3)
    assert SpectralDetector().features(
        subject(image), FACTS
    ) == SpectralDetector().features(subject(image), FACTS)


@pytest.mark.parametrize("resample", [Image.NEAREST, Image.BILINEAR])
@pytest.mark.parametrize("jpeg_quality", [None, 85])
def test_2x_upsampling_is_more_periodic_than_the_same_noise_not_upsampled(
    resample: Image.Resampling, jpeg_quality: int | None
) -> None:
    source = photo(256, seed=1)
    upsampled = source.resize((512, 512), resample)
    plain = photo(512, seed=1)
    options = {} if jpeg_quality is None else {"quality": jpeg_quality}
    fmt = "PNG" if jpeg_quality is None else "JPEG"
    detector = SpectralDetector()
    up = period_2(detector.features(subject(upsampled, fmt, **options), FACTS))
    flat = period_2(detector.features(subject(plain, fmt, **options), FACTS))
    assert up > 0.1  # 2x bilinear at q85 measures about 0.11, nearest 0.4-1.0
    assert up > 5 * flat


def test_the_jpeg_grid_alone_does_not_read_as_upsampling() -> None:
    detector = SpectralDetector()
    jpeg = subject(photo(512, seed=2), "JPEG", quality=75)
    upsampled = subject(
        photo(256, seed=2).resize((512, 512), Image.BILINEAR), "JPEG", quality=85
    )
    names = SpectralDetector.feature_names
    grid = dict(zip(names, detector.features(jpeg, FACTS), strict=True))
    assert grid["jpeg_grid_blockiness"] > 0.2  # the grid is there and is measured
    assert grid["period_2"] < 0.05
    assert grid["period_8_asymmetric"] < 0.02
    grid_p = detector.detect(jpeg, FACTS).probability
    up_p = detector.detect(upsampled, FACTS).probability
    assert grid_p is not None and up_p is not None
    assert grid_p < 0.5 < up_p


def test_detect_returns_a_detection_with_a_probability_in_range() -> None:
    found = SpectralDetector(crop=128).detect(subject(photo(400)), FACTS)
    assert isinstance(found, Detection)
    assert found.detector == "spectral"
    assert found.probability is not None and 0.0 <= found.probability <= 1.0
    assert found.reasons


def test_unreadable_input_raises_a_media_error() -> None:
    broken = Subject(b"\x89PNG\r\n\x1a\nnot a png", MediaKind.PNG, Limits())
    with pytest.raises(MediaError):
        SpectralDetector().features(broken, FACTS)


def test_a_crop_smaller_than_two_blocks_is_refused() -> None:
    with pytest.raises(ValueError, match="under 16"):
        SpectralDetector(crop=8)
