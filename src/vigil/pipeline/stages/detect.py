"""The detect stage: every registered detector over the item, fused into its
`ai_likelihood` score (with each detector's view among the reasons)."""

import dataclasses
import typing as t

from vigil.detection.base import Detection, DetectionInput, Detector
from vigil.detection.fusion import fuse
from vigil.media.errors import ErrorRecord, MediaError
from vigil.media.subject import Subject
from vigil.pipeline.stage import STAGE_FAILED_REASON, Stage, StageContext, StageResult
from vigil.pipeline.stages.provenance import ProvenanceResult


@dataclasses.dataclass(frozen=True)
class DetectionResult(StageResult):
    detections: tuple[Detection, ...] = ()


class DetectStage(Stage):
    name = "detect"

    def __init__(self, detectors: t.Sequence[Detector] | None = None) -> None:
        if detectors is None:
            from vigil.detection.evidence import EvidenceDetector

            detectors = (EvidenceDetector(),)
        self.detectors = tuple(detectors)

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
        score = fuse(detections)
        return DetectionResult(
            detections=tuple(detections),
            scores=(score,) if score is not None else (),
            errors=tuple(errors),
        )

    def options(self) -> dict[str, t.Any]:
        return {"detectors": [f"{d.name}/{d.version}" for d in self.detectors]}
