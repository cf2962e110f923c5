"""Toy plugins registered the way a third party would (an entry-point factory): a
64-bit perceptual hash type with its hasher, and a stage that adds a score. The
recipes in docs/architecture.md are exactly these."""

import dataclasses
import typing as t

import numpy as np

from vigil.detection.base import Detection, DetectionInput, FeatureDetector
from vigil.detection.score import Score
from vigil.hashing.base import HashResult, ImageHasher
from vigil.hashing.types import HashType
from vigil.media.base import DecodedImage, MediaKind
from vigil.media.errors import MediaError
from vigil.media.subject import Subject
from vigil.pipeline.stage import Stage, StageContext, StageResult

TOY_HASH = HashType(
    name="toy_ahash",
    hex_length=16,
    is_perceptual=True,
    default_threshold_bits=6,
    threshold_source="a toy: 6 of 64 bits",
    near_review_bits=12,
    index="linear",  # any new type works on day one with the brute-force index
)


class ToyAverageHasher(ImageHasher):
    """8x8 average hash: one bit per cell, set where the cell is brighter than the
    mean."""

    name = "toy_ahash"
    hex_length = 16
    decode_target_px = 64

    @property
    def hash_type(self) -> HashType:
        return TOY_HASH

    def hash_image(self, image: DecodedImage) -> HashResult:
        grey = np.asarray(image.image.convert("L").resize((8, 8)), dtype=np.float32)
        bits = (grey > grey.mean()).flatten()
        value = int("".join("1" if b else "0" for b in bits), 2)
        return HashResult(self.name, f"{value:016x}", "toy/1")


@dataclasses.dataclass(frozen=True)
class Brightness(StageResult):
    mean: float = 0.0


class BrightnessStage(Stage):
    """A toy detector: the mean brightness of an image as a score in [0, 1]."""

    name = "toy_brightness"
    media_kinds = frozenset(kind for kind in MediaKind if kind.is_image)

    def run(self, subject: Subject, context: StageContext) -> StageResult:  # noqa: ARG002
        try:
            image = subject.decoded(64)
        except MediaError:
            return Brightness()  # the hash stage has recorded the refusal
        mean = float(np.asarray(image.image.convert("L")).mean()) / 255
        score = Score("brightness", mean, "bright" if mean > 0.5 else "dark", self.name)
        return Brightness(mean=mean, scores=(score,))


def toy_plugins() -> list[type[t.Any]]:
    return [ToyAverageHasher, BrightnessStage]


class NoiseLevel(FeatureDetector):
    """A toy pixel detector: the mean absolute difference of neighbouring pixels."""

    name = "toy_noise"
    feature_names = ("noise",)

    def features(self, subject: Subject, facts: DetectionInput) -> tuple[float, ...]:  # noqa: ARG002
        grey = np.asarray(subject.decoded(256).image.convert("L"), dtype=np.float32)
        if grey.shape[0] < 2 or grey.shape[1] < 2:
            return (float("nan"),)
        return (float(np.abs(np.diff(grey, axis=1)).mean()),)

    def detect(self, subject: Subject, facts: DetectionInput) -> Detection:
        (noise,) = self.features(subject, facts)
        return Detection(self.name, None if noise != noise else 1 / (1 + noise / 10))


def toy_detectors() -> list[type[t.Any]]:
    return [NoiseLevel]
