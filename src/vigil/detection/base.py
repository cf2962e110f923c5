"""The Detector interface: one signal about whether an item was AI-generated.

Design notes:
- A detector reads what the pipeline already has (the subject's decodes, the
  provenance evidence and generation record) and returns a `Detection`: its own
  probability that the item is AI-generated, or None where it has nothing to say,
  with the reasons an analyst reads. It never decodes on its own: pixels come from
  `subject.decoded(...)`, `subject.crops(...)` or `subject.pixels()`, shared with
  every other stage.
- Fusion (`vigil.detection.fusion`) combines detections into one `ai_likelihood`
  score. Proof or strong evidence decides; otherwise pixel detectors (and, later,
  a calibrated head trained on an organisation's own labels) do.
- Detectors are plugins (kind `detector`): a stable `name`, a `version` bumped
  whenever the output changes for the same input, a no-argument default.
"""

import abc
import dataclasses
import enum
import typing as t

from vigil.media.base import MediaKind
from vigil.media.subject import Subject
from vigil.provenance.base import Evidence, GenerationRecord


class Decisiveness(enum.StrEnum):
    """How a detection weighs in fusion."""

    DECIDES = "decides"  # proof or strong evidence: fusion takes it as the answer
    CONTRIBUTES = "contributes"  # a signal among others, weighed by the head


@dataclasses.dataclass(frozen=True)
class DetectionInput:
    """What a detector may read besides the subject."""

    evidence: tuple[Evidence, ...] = ()
    generation: GenerationRecord | None = None


@dataclasses.dataclass(frozen=True)
class Detection:
    """One detector's view: P(AI-generated) in [0, 1], or None (nothing to say)."""

    detector: str
    probability: float | None
    decisiveness: Decisiveness = Decisiveness.CONTRIBUTES
    reasons: tuple[str, ...] = ()
    # a probability someone measured and vouches for (a configured ONNX classifier),
    # not a hand-set untrained view: only these count without a trained head
    is_calibrated: bool = False

    def __post_init__(self) -> None:
        p = self.probability
        if p is not None and not 0.0 <= p <= 1.0:
            raise ValueError(f"{self.detector}: probability {p} is not in [0, 1]")


class Detector(abc.ABC):
    name: t.ClassVar[str]
    version: t.ClassVar[int] = 1
    #: The media kinds it reads; None for every kind.
    media_kinds: t.ClassVar[frozenset[MediaKind] | None] = None

    @abc.abstractmethod
    def detect(self, subject: Subject, facts: DetectionInput) -> Detection:
        """This detector's view of one item. Typed refusals of the input
        (`MediaError`) propagate; the stage records them."""

    def examples(self) -> list[t.Any]:
        """Benign inputs with known results for the contract suite."""
        return []

    def options(self) -> dict[str, t.Any]:
        """The configuration that changes its output, for the scan key (a model
        file by content, thresholds)."""
        return {}

    @property
    def is_calibrated(self) -> bool:
        """Whether its own probability can be trusted without a trained head (a
        configured ONNX classifier); untrained pixel detectors only feed a head."""
        return False


class FeatureDetector(Detector):
    """A detector whose view rests on numbers a trained head can weigh: pixel
    detectors (spectral traces, camera-pipeline consistency, an ONNX model's
    outputs). `features` gives one value per name in `feature_names`, always the
    same length, NaN where a feature cannot be measured on this item (too small,
    not a JPEG); `detect` gives the detector's own untrained view of them (or None).

    Capability, not a flag: the head trainer and the detect stage check it with
    `isinstance`.
    """

    feature_names: t.ClassVar[tuple[str, ...]]

    @abc.abstractmethod
    def features(self, subject: Subject, facts: DetectionInput) -> tuple[float, ...]:
        """One float per `feature_names` entry (NaN: not measurable here).

        Raises:
            MediaError: the pixels cannot be read (the stage records it).
        """
