"""The spectral detector: periodic traces of generator upsampling in a noise residual.

Generators upsample (nearest, bilinear or transposed convolutions, 2x at a time,
8x in latent-diffusion decoders), which leaves the energy of a high-pass residual
periodic in the pixel grid. On fixed full-resolution crops the residual is the
absolute first difference of BT.601 luma along each axis, clipped at a multiple of
its median so edges do not dominate, and averaged into a profile per column (row).

The JPEG grid: JPEG's own 8x8 blocks make the same profile periodic at 8 (and its
harmonics 4 and 2). What we chose: fold the profile at 8, find the grid as the phase
with the largest boundary spike (from the data, so crops and re-saved PNGs of old
JPEGs are aligned too), report that spike as `jpeg_grid_blockiness`, drop the
boundary phase, and remove from the seven in-block phases the shape quantisation
leaves there: a level plus a bump symmetric about the block centre (DCT basis
errors are mirror-symmetric). Periods 2 and 4 are read from what is left, and
period 8 only from its asymmetric part, which a block grid cannot make. Period 16
is read as the difference between the two halves of the 16-fold (JPEG luma has no
16-periodic part; luma uses JPEG's own Y weights so 4:2:0 chroma cancels), and
period 3, not a divisor of 8, straight from its fold.
"""

import math
import typing as t

import numpy as np

from vigil.detection._crops import MEDIAN_STRIDE_PX, FloatArray, luma, rgb_crops
from vigil.detection.base import Detection, DetectionInput, FeatureDetector
from vigil.media.base import MediaKind
from vigil.media.subject import Subject

#: Default crop side: 256 px holds 32 JPEG blocks per axis and is the crop size of
#: the spectral-artefact literature (Corvi et al., ICASSP 2023, use 256-px crops).
DEFAULT_CROP_PX = 256
#: Residual differences above this multiple of their median are clipped: about
#: the 99th percentile of |N(0, s)| differences (median 0.67 s, 99th 2.58 s);
#: Vigil's choice, so that strong edges do not make a period.
RESIDUAL_CLIP_MEDIANS = 4.0
#: Periodic modulation of residual energy (fraction of its mean) taken as even
#: odds of upsampling. Vigil's choice, set on synthetic noise (2x nearest and
#: bilinear upsampling give 0.3-1.0; plain noise under 0.01), not fitted to data.
UPSAMPLING_EFFECT_REF = 0.05
#: Log-odds per factor e of the effect over that reference (Vigil's choice).
UPSAMPLING_LOGIT_SLOPE = 1.5
JPEG_BLOCK_PX = 8  # ITU-T T.81: 8x8 DCT blocks

PERIOD_FEATURES = ("period_2", "period_4", "period_8_asymmetric", "period_16")

_IN_BLOCK = np.arange(JPEG_BLOCK_PX - 1, dtype=np.float64)
# Least-squares projector onto what the grid leaves in the seven in-block phases:
# a level and a bump symmetric about the block centre (phase 3).
_SYMMETRIC = np.stack([np.ones(7), (_IN_BLOCK - 3.0) ** 2], axis=1)
_GRID_SHAPE = _SYMMETRIC @ np.linalg.pinv(_SYMMETRIC)
_ALTERNATE = (-1.0) ** _IN_BLOCK
_QUARTER = np.exp(-0.5j * math.pi * _IN_BLOCK)


class SpectralDetector(FeatureDetector):
    """Upsampling periodicity at periods 2, 4, 8 and 16, the JPEG grid removed."""

    name: t.ClassVar[str] = "spectral"
    version: t.ClassVar[int] = 1
    media_kinds: t.ClassVar[frozenset[MediaKind] | None] = frozenset(
        kind for kind in MediaKind if kind.is_image
    )
    feature_names: t.ClassVar[tuple[str, ...]] = (
        *PERIOD_FEATURES,
        "period_3",
        "jpeg_grid_blockiness",
    )

    def __init__(self, crop: int = DEFAULT_CROP_PX) -> None:
        if crop < 2 * JPEG_BLOCK_PX:
            raise ValueError(f"crop {crop} px is under {2 * JPEG_BLOCK_PX} px")
        self.crop = crop

    def features(self, subject: Subject, facts: DetectionInput) -> tuple[float, ...]:  # noqa: ARG002
        crops = rgb_crops(subject, self.crop)
        if not crops:
            return (math.nan,) * len(self.feature_names)
        rows = np.array([_crop_features(luma(rgb)) for rgb in crops])
        return tuple(float(v) for v in np.median(rows, axis=0))

    def detect(self, subject: Subject, facts: DetectionInput) -> Detection:
        values = dict(
            zip(self.feature_names, self.features(subject, facts), strict=True)
        )
        periods = {name: values[name] for name in PERIOD_FEATURES}
        if any(math.isnan(v) for v in periods.values()):
            return Detection(self.name, None, reasons=("image too small to measure",))
        strongest = max(periods, key=lambda name: periods[name])
        effect = max(periods[strongest], 1e-6)
        logit = UPSAMPLING_LOGIT_SLOPE * math.log(effect / UPSAMPLING_EFFECT_REF)
        probability = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
        reasons = (
            f"strongest residual periodicity {strongest}={effect:.3f} "
            f"(reference {UPSAMPLING_EFFECT_REF}); untrained",
            f"JPEG grid blockiness {values['jpeg_grid_blockiness']:.3f}",
        )
        return Detection(self.name, probability, reasons=reasons)


def _crop_features(y: FloatArray) -> list[float]:
    """The feature row of one luma crop: the mean of its two axes."""
    per_axis = [_profile_features(_residual_profile(y, axis)) for axis in (0, 1)]
    return [float(v) for v in np.mean(per_axis, axis=0)]


def _residual_profile(y: FloatArray, axis: int) -> FloatArray:
    """Mean clipped |first difference| per position along `axis`."""
    residual = np.abs(np.diff(y, axis=1 - axis))
    median = float(np.median(residual[::MEDIAN_STRIDE_PX, ::MEDIAN_STRIDE_PX]))
    ceiling = RESIDUAL_CLIP_MEDIANS * max(median, 0.5)  # 0.5: flat 8-bit areas
    np.minimum(residual, ceiling, out=residual)
    profile: FloatArray = residual.mean(axis=axis)
    return profile


def _fold(profile: FloatArray, period: int) -> np.ndarray:
    return np.array([profile[i::period].mean() for i in range(period)])


def _relative(value: float, folded: FloatArray) -> float:
    """`value` over the folded profile's mean; 0 for a profile with no residual."""
    mean = float(folded.mean())
    return value / mean if mean > 0.0 else 0.0


def _profile_features(profile: FloatArray) -> list[float]:
    """period_2, period_4, period_8_asymmetric, period_16, period_3, blockiness."""
    mean = float(profile.mean())
    if mean <= 0.0:  # a flat crop: no residual to be periodic
        return [0.0] * 6
    p8 = _fold(profile, JPEG_BLOCK_PX)
    # Difference d[i] spans pixels i and i+1: a block boundary is one phase.
    spike = p8 - (np.roll(p8, 1) + np.roll(p8, -1)) / 2
    boundary = int(np.argmax(spike))
    aligned = np.roll(p8, JPEG_BLOCK_PX - 1 - boundary)
    inner = float(aligned[:-1].mean())
    if inner <= 0.0:  # residual only on one phase: no in-block shape to measure
        return [0.0] * 6
    in_block = aligned[:-1] / inner
    blockiness = float(aligned[-1] / inner - 1.0)
    left = in_block - _GRID_SHAPE @ in_block
    period_2 = abs(float(left @ _ALTERNATE)) / 7
    period_4 = abs(complex(left @ _QUARTER)) / 7
    period_8 = float(np.sqrt(np.mean(((left[:3] - left[:3:-1]) / 2) ** 2)))
    start = (boundary + 1) % JPEG_BLOCK_PX
    p16 = _fold(profile[start:], 2 * JPEG_BLOCK_PX)
    period_16 = _relative(float(np.sqrt(np.mean(((p16[:8] - p16[8:]) / 2) ** 2))), p16)
    p3 = _fold(profile, 3)
    period_3 = _relative(float(p3.std()), p3)
    return [period_2, period_4, period_8, period_16, period_3, blockiness]
