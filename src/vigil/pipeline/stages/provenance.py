"""The provenance stage: every extractor over the subject (C2PA, XMP, generator
metadata, watermarks, camera EXIF), each bounded in time, none able to stop the
others; at most one generation record per item."""

import dataclasses
import typing as t

from vigil.media.errors import DecodeError, TruncatedError
from vigil.media.subject import Subject
from vigil.pipeline.stage import Stage, StageContext, StageResult
from vigil.provenance.base import Evidence, Extractor, GenerationRecord
from vigil.provenance.run import extract_subject

_DECODE_REASONS = frozenset({DecodeError.reason, TruncatedError.reason})


@dataclasses.dataclass(frozen=True)
class ProvenanceResult(StageResult):
    evidence: tuple[Evidence, ...] = ()
    generation: GenerationRecord | None = None


class ProvenanceStage(Stage):
    name = "provenance"

    def __init__(self, extractors: t.Sequence[Extractor] | None = None) -> None:
        if extractors is None:
            from vigil.provenance.builtin import builtin_extractors

            extractors = [cls() for cls in builtin_extractors()]
        self.extractors = tuple(extractors)

    def applies_to(self, subject: Subject) -> bool:
        # only items whose bytes are held: images and archive members up to the
        # image byte limit (bigger items carry no metadata the extractors read)
        return bool(self.extractors) and subject.is_held

    def run(self, subject: Subject, context: StageContext) -> StageResult:  # noqa: ARG002
        # Pixel readers are skipped for an image that already failed to decode:
        # one broken file gives one error record, not one per extractor.
        wanted = [
            e
            for e in self.extractors
            if subject.kind in e.media_kinds
            and not (e.reads_pixels and subject.decode_failed)
        ]
        if not wanted:
            return ProvenanceResult()
        found = extract_subject(subject, wanted)
        errors = found.errors
        if subject.decode_failed:
            # the decode refusal is already this item's error record: an extractor
            # that could not open the same broken image adds nothing but a copy
            errors = tuple(e for e in errors if e.reason not in _DECODE_REASONS)
        return ProvenanceResult(
            evidence=found.evidence, generation=found.generation, errors=errors
        )

    def options(self) -> dict[str, t.Any]:
        return {"extractors": [f"{e.name}/{e.version}" for e in self.extractors]}
