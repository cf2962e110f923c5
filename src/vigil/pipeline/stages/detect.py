"""The detect stage: every registered detector over the item, fused into its
`ai_likelihood` score (with each detector's view among the reasons)."""

import dataclasses
import pathlib
import typing as t

from vigil.detection.base import (
    Detection,
    DetectionInput,
    Detector,
    FeatureDetector,
)
from vigil.detection.fusion import HEAD_DETECTOR, fuse
from vigil.detection.head import Head, HeadError
from vigil.media.errors import ErrorRecord, MediaError
from vigil.media.subject import Subject
from vigil.pipeline.stage import STAGE_FAILED_REASON, Stage, StageContext, StageResult
from vigil.pipeline.stages._identity import file_identity
from vigil.pipeline.stages.provenance import ProvenanceResult


@dataclasses.dataclass(frozen=True)
class DetectionResult(StageResult):
    detections: tuple[Detection, ...] = ()


class DetectStage(Stage):
    name = "detect"

    def __init__(
        self,
        detectors: t.Sequence[Detector] | None = None,
        head: str | None = None,
    ) -> None:
        """Args:
        detectors: the detectors to run (default: the evidence detector).
        head: a head file (`vigil detect train`) over the pixel detectors'
            features; loaded once per worker process.
        """
        if detectors is None:
            from vigil.detection.evidence import EvidenceDetector

            detectors = (EvidenceDetector(),)
        self.detectors = tuple(detectors)
        self.head = head
        self._loaded: Head | None = None

    def applies_to(self, subject: Subject) -> bool:  # noqa: ARG002 - every kind
        return bool(self.detectors)

    def run(self, subject: Subject, context: StageContext) -> StageResult:
        found = context.result(ProvenanceResult)
        facts = DetectionInput(
            evidence=found.evidence if found else (),
            generation=found.generation if found else None,
        )
        detections: list[Detection] = []
        errors: list[ErrorRecord] = []
        for detector in self.detectors:
            kinds = detector.media_kinds
            if kinds is not None and subject.kind not in kinds:
                continue
            if (
                isinstance(detector, FeatureDetector)
                and self.head is None
                and not detector.is_calibrated
            ):
                continue  # pixel features only feed a head: no cost without one
            try:
                detections.append(detector.detect(subject, facts))
            except MediaError as exc:
                if not subject.decode_failed:  # else already this item's record
                    errors.append(ErrorRecord.of(subject.member_path, exc))
            except Exception as exc:  # one detector's bug never stops the others
                message = f"{detector.name}: {type(exc).__name__}: {exc}"
                errors.append(
                    ErrorRecord(subject.member_path, STAGE_FAILED_REASON, message)
                )
        if self.head is not None:
            detections.extend(self._head_view(subject, facts, errors))
        score = fuse(detections)
        return DetectionResult(
            detections=tuple(detections),
            scores=(score,) if score is not None else (),
            errors=tuple(errors),
        )

    def _head_view(
        self, subject: Subject, facts: DetectionInput, errors: list[ErrorRecord]
    ) -> list[Detection]:
        """The trained head's probability over the pixel detectors' features."""
        import numpy as np

        if self._loaded is None:
            self._loaded = Head.load(pathlib.Path(t.cast(str, self.head)))
        pixel = [d for d in self.detectors if isinstance(d, FeatureDetector)]
        if not pixel or any(
            d.media_kinds is not None and subject.kind not in d.media_kinds
            for d in pixel
        ):
            return []  # not an image the head's features can be measured on
        row: list[float] = []
        for detector in pixel:
            try:
                row.extend(detector.features(subject, facts))
            except MediaError:
                row.extend([float("nan")] * len(detector.feature_names))
        try:
            matrix = np.asarray([row], dtype=np.float64)
            probability = float(self._loaded.predict(matrix)[0])
            parts = self._loaded.contributions(matrix[0])
        except HeadError as exc:
            errors.append(ErrorRecord(subject.member_path, HeadError.reason, str(exc)))
            return []
        top = sorted(parts.items(), key=lambda kv: -abs(kv[1]))[:3]
        reasons = tuple(f"head: {name} {value:+.2f}" for name, value in top)
        return [Detection(HEAD_DETECTOR, probability, reasons=reasons)]

    def options(self) -> dict[str, t.Any]:
        head = None if self.head is None else file_identity(self.head)
        return {
            "detectors": [
                {"detector": f"{d.name}/{d.version}", "options": d.options()}
                for d in self.detectors
            ],
            "head": head,
        }

    def __getstate__(self) -> dict[str, t.Any]:
        state = dict(self.__dict__)
        state["_loaded"] = None  # loaded again in each worker process
        return state
