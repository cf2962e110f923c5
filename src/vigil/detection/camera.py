"""The camera detector: how consistent an image is with a real camera pipeline.

Four kinds of trace, each a feature a trained head can weigh: demosaicing (the
quincunx of interpolated green and the 2x2 lattice of red and blue leave residual
energy periodic at 2), sensor noise (its level, and its rise with brightness that
shot noise gives), JPEG quantization tables (a camera's own tables are not IJG's
scaled by quality; libjpeg/Pillow tables at 75 or 95 are an encoder's default) and
EXIF structure (camera fields, an embedded thumbnail whose aspect matches).
Metadata can be typed or stripped by anyone: it moves the untrained view a little,
never decides.
"""

import math
import typing as t

import numpy as np

from vigil.detection._crops import MEDIAN_STRIDE_PX, FloatArray, luma, rgb_crops
from vigil.detection._exif import exif_facts
from vigil.detection._jpeg_tables import nearest_ijg
from vigil.detection.base import Detection, DetectionInput, FeatureDetector
from vigil.media.base import MediaKind
from vigil.media.subject import Subject

DEFAULT_CROP_PX = 256  # the spectral detector's crop, so the subject decodes it once
#: Residuals above this multiple of their median are clipped (as in `spectral`).
RESIDUAL_CLIP_MEDIANS = 4.0
NOISE_BLOCK_PX = 16  # blocks for the noise-level function (Vigil's choice)
NOISE_BRIGHTNESS_BINS = 8  # over 0-255 (Vigil's choice)
#: The flattest blocks of a brightness bin stand for its noise: this quantile of
#: their residual level (Vigil's choice; texture only ever adds to the level).
NOISE_FLAT_QUANTILE = 0.2
MIN_BLOCKS_PER_BIN = 4
MIN_BINS_FOR_SLOPE = 3
#: mean |x - mean of 4 neighbours| of white Gaussian noise of sigma 1:
#: sqrt(2/pi) * sqrt(1 + 1/4).
LAPLACE_ABS_PER_SIGMA = math.sqrt(2 / math.pi) * math.sqrt(1.25)
#: Encoder defaults: libjpeg's cjpeg and Pillow save at 75 (cjpeg(1), Pillow docs);
#: 95 is Pillow's documented practical maximum and a common "high" setting.
ENCODER_DEFAULT_QUALITIES = frozenset({75, 95})
#: Mean |log2| distance under which tables count as IJG's (rounding differences
#: of other encoders stay far under it; camera tables are 0.1 and more).
IJG_DISTANCE_MAX = 0.02
#: Untrained log-odds of AI per sign (Vigil's choice, from the direction each sign
#: points in the forensics literature; not fitted to any data).
LOGIT_ENCODER_DEFAULT_TABLES = 0.8
LOGIT_NON_IJG_TABLES = -1.2
LOGIT_CAMERA_EXIF = -0.4
LOGIT_MATCHING_THUMBNAIL = -0.6
LOGIT_NO_EXIF = 0.3
LOGIT_CFA_PER_REF = -1.0
#: Green-lattice contrast taken as one unit of CFA evidence: bilinear Bayer
#: demosaicing of synthetic noise gives 0.3 and more, undemosaiced noise under
#: 0.01 (Vigil's choice, set on synthetic patterns).
CFA_LATTICE_REF = 0.05
THUMBNAIL_ASPECT_TOLERANCE = 0.05  # |ln ratio|: rounding of a 160-px thumbnail

_PIXEL_NAMES = (
    "cfa_green_lattice",
    "cfa_chroma_2x2",
    "noise_sigma",
    "noise_brightness_slope",
    "channel_residual_corr",
)


class CameraDetector(FeatureDetector):
    """Demosaicing, sensor noise, quantization tables and EXIF structure."""

    name: t.ClassVar[str] = "camera"
    version: t.ClassVar[int] = 1
    media_kinds: t.ClassVar[frozenset[MediaKind] | None] = frozenset(
        kind for kind in MediaKind if kind.is_image
    )
    feature_names: t.ClassVar[tuple[str, ...]] = (
        *_PIXEL_NAMES,
        "jpeg_ijg_quality",
        "jpeg_ijg_distance",
        "jpeg_is_encoder_default",
        "exif_tag_count_log",
        "exif_has_camera",
        "exif_has_thumbnail",
        "exif_thumbnail_aspect_error",
    )

    def __init__(self, crop: int = DEFAULT_CROP_PX) -> None:
        if crop < NOISE_BLOCK_PX * 2:
            raise ValueError(f"crop {crop} px is under {NOISE_BLOCK_PX * 2} px")
        self.crop = crop

    def features(self, subject: Subject, facts: DetectionInput) -> tuple[float, ...]:  # noqa: ARG002
        crops = rgb_crops(subject, self.crop)  # decodes first: refusals raise here
        if crops:
            rows = np.array([_pixel_features(rgb) for rgb in crops])
            pixel = [_finite_median(column) for column in rows.T]
        else:
            pixel = [math.nan] * len(_PIXEL_NAMES)
        image = subject.image()
        tables = _tables(getattr(image, "quantization", None))
        if tables is None:
            jpeg = [math.nan] * 3
        else:
            quality, distance = nearest_ijg(tables)
            is_default = distance <= IJG_DISTANCE_MAX and (
                quality in ENCODER_DEFAULT_QUALITIES
            )
            jpeg = [float(quality), distance, float(is_default)]
        exif = exif_facts(image)
        return (
            *pixel,
            *jpeg,
            math.log1p(exif.tag_count),
            float(exif.has_camera),
            float(exif.has_thumbnail),
            exif.thumbnail_aspect_error,
        )

    def detect(self, subject: Subject, facts: DetectionInput) -> Detection:
        v = dict(zip(self.feature_names, self.features(subject, facts), strict=True))
        logit, reasons = 0.0, []
        cfa = v["cfa_green_lattice"]
        has_tables = not math.isnan(v["jpeg_ijg_distance"])
        if math.isnan(cfa) and not has_tables and v["exif_tag_count_log"] == 0.0:
            return Detection(self.name, None, reasons=("nothing measurable",))
        if not math.isnan(cfa):
            logit += LOGIT_CFA_PER_REF * min(cfa / CFA_LATTICE_REF, 3.0)
            reasons.append(f"demosaicing trace {cfa:.3f} (reference {CFA_LATTICE_REF})")
        if has_tables:
            if v["jpeg_is_encoder_default"] == 1.0:
                logit += LOGIT_ENCODER_DEFAULT_TABLES
                quality = int(v["jpeg_ijg_quality"])
                reasons.append(f"libjpeg/Pillow tables at quality {quality}")
            elif v["jpeg_ijg_distance"] > IJG_DISTANCE_MAX:
                logit += LOGIT_NON_IJG_TABLES
                reasons.append("quantization tables not libjpeg's (a camera's own?)")
        if v["exif_tag_count_log"] == 0.0:
            logit += LOGIT_NO_EXIF
            reasons.append("no EXIF")
        if v["exif_has_camera"] == 1.0:
            logit += LOGIT_CAMERA_EXIF
            reasons.append("weak, not a verdict: camera make/model in EXIF")
        if v["exif_thumbnail_aspect_error"] <= THUMBNAIL_ASPECT_TOLERANCE:
            logit += LOGIT_MATCHING_THUMBNAIL
            reasons.append("EXIF thumbnail matches the image's aspect")
        probability = 1.0 / (1.0 + math.exp(-logit))
        return Detection(self.name, probability, reasons=(*reasons, "untrained"))


def _tables(quantization: object) -> dict[int, list[int]] | None:
    """The file's quantization tables when it is a JPEG with sane ones."""
    if not isinstance(quantization, dict) or not quantization:
        return None
    tables: dict[int, list[int]] = {}
    for key, table in quantization.items():
        values = list(table)
        if not isinstance(key, int) or len(values) != 64 or min(values) < 1:
            return None
        tables[key] = [int(x) for x in values]
    return tables


def _finite_median(values: np.ndarray) -> float:
    """The median of the crops' finite values; NaN when none is."""
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else math.nan


def _laplace(channel: FloatArray) -> FloatArray:
    """x minus the mean of its 4 neighbours, on the interior."""
    c = channel
    out: FloatArray = c[1:-1, 1:-1] - (
        c[:-2, 1:-1] + c[2:, 1:-1] + c[1:-1, :-2] + c[1:-1, 2:]
    ) / np.float32(4)
    return out


def _clipped_abs(residual: FloatArray) -> FloatArray:
    magnitude = np.abs(residual)
    median = float(np.median(magnitude[::MEDIAN_STRIDE_PX, ::MEDIAN_STRIDE_PX]))
    ceiling = RESIDUAL_CLIP_MEDIANS * max(median, 0.5)
    out: FloatArray = np.minimum(magnitude, ceiling)
    return out


def _pixel_features(rgb: FloatArray) -> list[float]:
    residuals = [_laplace(rgb[..., c]) for c in range(3)]
    red, green, blue = (_clipped_abs(r) for r in residuals)
    quincunx = [green[0::2, 0::2].mean() + green[1::2, 1::2].mean()]
    quincunx.append(green[0::2, 1::2].mean() + green[1::2, 0::2].mean())
    lattice = abs(math.log(max(quincunx[0], 1e-6) / max(quincunx[1], 1e-6)))
    chroma = []
    for energy in (red, blue):
        phases = [energy[i::2, j::2].mean() for i in (0, 1) for j in (0, 1)]
        chroma.append(math.log(max(max(phases), 1e-6) / max(min(phases), 1e-6)))
    sigma, slope = _noise_level(luma(rgb))
    r, b = residuals[0].ravel(), residuals[2].ravel()
    spread = float(r.std() * b.std())
    corr = float(np.mean((r - r.mean()) * (b - b.mean())) / spread) if spread else 0.0
    return [lattice, float(np.mean(chroma)), sigma, slope, corr]


def _noise_level(y: FloatArray) -> tuple[float, float]:
    """Noise sigma (8-bit units) of the flattest blocks, and the slope of ln sigma
    against ln brightness over brightness bins (NaN where too few bins)."""
    side = NOISE_BLOCK_PX
    residual = np.abs(_laplace(y))
    h, w = (residual.shape[0] // side) * side, (residual.shape[1] // side) * side
    if h == 0 or w == 0:
        return math.nan, math.nan
    blocks = residual[:h, :w].reshape(h // side, side, w // side, side)
    level = blocks.mean(axis=(1, 3)).ravel() / LAPLACE_ABS_PER_SIGMA
    bright = y[1 : 1 + h, 1 : 1 + w].reshape(h // side, side, w // side, side)
    brightness = bright.mean(axis=(1, 3)).ravel()
    bins = np.minimum((brightness / 256 * NOISE_BRIGHTNESS_BINS).astype(int), 7)
    points = []
    for index in range(NOISE_BRIGHTNESS_BINS):
        chosen = bins == index
        if chosen.sum() >= MIN_BLOCKS_PER_BIN:
            points.append(
                (
                    float(brightness[chosen].mean()),
                    float(np.quantile(level[chosen], NOISE_FLAT_QUANTILE)),
                )
            )
    if not points:
        return math.nan, math.nan
    sigma = float(np.median([p[1] for p in points]))
    if len(points) < MIN_BINS_FOR_SLOPE:
        return sigma, math.nan
    x = np.log([max(p[0], 1.0) for p in points])
    z = np.log([max(p[1], 0.05) for p in points])
    return sigma, float(np.polyfit(x, z, 1)[0])
