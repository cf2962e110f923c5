"""The trainable head: train, save, load and the same scores; calibration is
monotone; a detector that sees only format or size is powerless pixel-only."""

import io
import pathlib
import typing as t

import numpy as np
import pytest
from PIL import Image

from vigil.detection.base import Detection, DetectionInput, FeatureDetector
from vigil.detection.evaluate import auc, feature_matrix, pixel_variant, tpr_at_fpr
from vigil.detection.head import Head, HeadError, calibrate, fit
from vigil.media.subject import Subject

RNG = np.random.default_rng(20261201)


def _separable(n: int) -> tuple[np.ndarray, np.ndarray]:
    labels = np.array([1] * n + [0] * n)
    x = RNG.normal(size=(2 * n, 3))
    x[:, 0] += labels * 2.0  # one informative feature, two noise ones
    x[RNG.integers(0, 2 * n, 5), 2] = np.nan  # unmeasurable here and there
    return x, labels


def test_train_save_load_gives_the_same_scores(tmp_path: pathlib.Path) -> None:
    x, y = _separable(100)
    head = fit(x, y, ["d.signal", "d.noise", "d.sparse"])
    assert auc(head.predict(x), y) > 0.9
    assert abs(head.weights[0]) > 5 * abs(head.weights[1])
    path = tmp_path / "head.json"
    head.save(path)
    loaded = Head.load(path)
    np.testing.assert_allclose(loaded.predict(x), head.predict(x))
    assert loaded.features == head.features
    assert set(head.contributions(x[0])) == set(head.features)


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_calibration_is_monotone(method: str) -> None:
    x, y = _separable(150)
    head = calibrate(fit(x[::2], y[::2], ["a", "b", "c"]), x[1::2], y[1::2], method)
    grid = np.linspace(-4, 4, 400)
    rows = np.column_stack([grid, np.zeros_like(grid), np.zeros_like(grid)])
    raw, calibrated = head.raw(rows), head.predict(rows)
    order = np.argsort(raw)
    assert np.all(np.diff(calibrated[order]) >= -1e-12)
    assert 0.0 <= calibrated.min() and calibrated.max() <= 1.0


def test_a_head_for_other_features_or_a_bad_file_is_refused(
    tmp_path: pathlib.Path,
) -> None:
    x, y = _separable(20)
    head = fit(x, y, ["a", "b", "c"])
    with pytest.raises(HeadError, match="reads 3 features"):
        head.predict(x[:, :2])
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    with pytest.raises(HeadError, match="not a Vigil"):
        Head.load(bad)


class FormatAndSize(FeatureDetector):
    """A confound: it reads only the container format and the byte count."""

    name: t.ClassVar[str] = "confound"
    feature_names: t.ClassVar[tuple[str, ...]] = ("is_png", "bytes")

    def features(self, subject: Subject, facts: DetectionInput) -> tuple[float, ...]:  # noqa: ARG002
        return (float(subject.kind.value == "png"), float(len(subject.data)))

    def detect(self, subject: Subject, facts: DetectionInput) -> Detection:  # noqa: ARG002
        return Detection(self.name, None)


def _noise_image(seed: int, fmt: str) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (96, 96, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(
        buffer, fmt, **({"quality": 95} if fmt == "JPEG" else {})
    )
    return buffer.getvalue()


def test_the_confound_guard_format_or_size_cannot_decide_pixel_only() -> None:
    """The 'AI' class saved as PNG and the 'real' class as BMP (both lossless),
    pixels from one distribution: as given, format and file size separate them
    perfectly; pixel-only (both re-encoded the same way) they do not."""
    ai = [_noise_image(i, "PNG") for i in range(40)]
    real = [_noise_image(1000 + i, "BMP") for i in range(40)]
    labels = np.array([1] * 40 + [0] * 40)
    detector = FormatAndSize()
    as_given, names = feature_matrix(ai + real, [detector])
    assert names == ("confound.is_png", "confound.bytes")
    assert auc(as_given[:, 0], labels) == 1.0
    assert auc(as_given[:, 1], labels) in (0.0, 1.0)
    pixel_only = [pixel_variant(b, "jpeg85") for b in ai + real]
    assert all(b is not None for b in pixel_only)
    matrix, _ = feature_matrix(t.cast(list[bytes], pixel_only), [detector])
    head = fit(matrix, labels, names)
    for column in range(2):
        assert 0.3 < auc(matrix[:, column], labels) < 0.7 or np.all(
            matrix[:, column] == matrix[0, column]
        )
    assert (
        0.3 < auc(head.predict(matrix), labels) < 0.75
    )  # seen in training, still weak


def test_metrics() -> None:
    labels = np.array([1, 1, 1, 0, 0, 0])
    assert auc(np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1]), labels) == 1.0
    assert auc(np.array([0.5] * 6), labels) == 0.5
    scores = np.array([0.9, 0.8, 0.2, 0.85, 0.1, 0.05])
    assert tpr_at_fpr(scores, labels, 0.34) == 1.0  # one real flagged: all AI found
    assert tpr_at_fpr(scores, labels, 0.0) == pytest.approx(1 / 3)


def test_pixel_variants_carry_no_metadata_and_survive_odd_files() -> None:
    """A palette PNG with a transparency entry made Pillow refuse to save it as RGB;
    variants are built from the pixels alone."""
    palette = Image.new("P", (64, 64), 3)
    palette.info["transparency"] = 3
    buffer = io.BytesIO()
    palette.save(buffer, "PNG", transparency=3)
    for variant in ("none", "jpeg85", "resize50", "crop90"):
        encoded = pixel_variant(buffer.getvalue(), variant)
        assert encoded is not None
        with Image.open(io.BytesIO(encoded)) as reread:
            assert reread.mode == "RGB" and "transparency" not in reread.info
