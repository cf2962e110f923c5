"""Fusion: the detections of one item become its `ai_likelihood` score.

Evidence that decides is the answer (the most decisive detection wins: proof over
strong, an AI claim over a capture claim at equal strength). Otherwise a
calibrated head trained on labelled images (`vigil detect train`) gives the
answer; without one, calibrated detectors (a configured ONNX classifier) are
averaged in log-odds, each reason kept. Untrained pixel detectors (spectral,
camera) only feed a head: their hand-set views measured AUC 0.38-0.55 on the
fixtures (bench/detection.py), no basis for a likelihood an analyst would read.
With nothing to say, there is no score: an absent score is
"unknown", never a made-up 0.5.
"""

import math
import typing as t

from vigil.detection.base import Decisiveness, Detection
from vigil.detection.score import Score

AI_LIKELIHOOD = "ai_likelihood"
#: The trained head's detection: when present, it is the pixel answer.
FUSION_DETECTOR = "fusion"
HEAD_DETECTOR = "head"
FUSION_VERSION = 1
#: Levels of `ai_likelihood`, by lower bound (Vigil's bands for the queue).
LEVELS: tuple[tuple[float, str], ...] = (
    (0.9, "ai"),
    (0.6, "likely_ai"),
    (0.4, "uncertain"),
    (0.1, "likely_real"),
    (0.0, "real"),
)
_CLIP = 1e-6


def fuse(detections: t.Sequence[Detection], *, untrained: bool = False) -> Score | None:
    """One `ai_likelihood` from the detections, or None when none has a view that
    counts: decisive evidence, a trained head, or a calibrated detector (a
    configured ONNX classifier). Untrained views count only with `untrained`."""
    deciding = [
        d
        for d in detections
        if d.decisiveness is Decisiveness.DECIDES and d.probability is not None
    ]
    if deciding:
        # the most extreme decisive view: an AI claim at 0.99 beats a capture at 0.05
        # only when it is further from 0.5 (proof outranks strong)
        chosen = max(deciding, key=lambda d: abs(t.cast(float, d.probability) - 0.5))
        probability = t.cast(float, chosen.probability)
        reasons = tuple(r for d in deciding for r in d.reasons)
        return _score(probability, reasons, {"decided_by": chosen.detector})
    views = [
        d
        for d in detections
        if d.probability is not None
        and (untrained or d.is_calibrated or d.detector == HEAD_DETECTOR)
    ]
    if not views:
        return None
    head = next((d for d in views if d.detector == HEAD_DETECTOR), None)
    if head is not None:  # the calibrated head already weighs every pixel detector
        probability = t.cast(float, head.probability)
        reasons = tuple(r for d in detections for r in d.reasons)
        return _score(probability, reasons, {"decided_by": HEAD_DETECTOR})
    logits = [_logit(t.cast(float, d.probability)) for d in views]
    probability = 1 / (1 + math.exp(-sum(logits) / len(logits)))
    reasons = tuple(
        f"{d.detector}: {t.cast(float, d.probability):.2f}" for d in views
    ) + tuple(r for d in detections for r in d.reasons)
    contributions = {d.detector: round(t.cast(float, d.probability), 4) for d in views}
    return _score(probability, reasons, {"contributions": contributions})


def level_of(probability: float) -> str:
    return next(name for bound, name in LEVELS if probability >= bound)


def _score(
    probability: float, reasons: tuple[str, ...], details: dict[str, t.Any]
) -> Score:
    return Score(
        name=AI_LIKELIHOOD,
        value=probability,
        level=level_of(probability),
        detector=FUSION_DETECTOR,
        version=FUSION_VERSION,
        reasons=reasons,
        details=details,
    )


def _logit(p: float) -> float:
    p = min(max(p, _CLIP), 1 - _CLIP)
    return math.log(p / (1 - p))
