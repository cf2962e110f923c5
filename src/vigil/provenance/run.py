"""Running every extractor over one item, each bounded in time, none able to stop
the others."""

import dataclasses
import time
import typing as t

from vigil.media.base import Limits, MediaKind
from vigil.media.errors import ErrorRecord, MediaError
from vigil.media.image import deadline
from vigil.media.subject import Subject
from vigil.provenance.base import (
    Evidence,
    Extractor,
    ExtractorTimeoutError,
    GenerationRecord,
    merge_records,
)

EXTRACTOR_FAILED_REASON = "extractor_failed"


@dataclasses.dataclass(frozen=True)
class Provenance:
    """Everything the extractors found in one item."""

    evidence: tuple[Evidence, ...] = ()
    generation: GenerationRecord | None = None
    errors: tuple[ErrorRecord, ...] = ()

    @property
    def is_ai(self) -> bool:
        return any(e.is_ai for e in self.evidence)


def extract_all(
    data: bytes,
    kind: MediaKind,
    extractors: t.Sequence[Extractor],
    limits: Limits,
    *,
    member_path: str = "",
) -> Provenance:
    """Run each extractor that reads `kind`; errors become records and the rest go
    on. Evidence keeps the extractors' order."""
    return extract_subject(
        Subject(data, kind, limits, member_path=member_path), extractors
    )


def extract_subject(subject: Subject, extractors: t.Sequence[Extractor]) -> Provenance:
    """`extract_all` over a subject whose decodes other stages share."""
    kind, member_path = subject.kind, subject.member_path
    evidence: list[Evidence] = []
    records: list[GenerationRecord] = []
    errors: list[ErrorRecord] = []
    for extractor in extractors:
        if kind not in extractor.media_kinds:
            continue
        started = time.monotonic()
        try:
            with deadline(extractor.max_seconds, ExtractorTimeoutError):
                found = extractor.extract(subject)
        except MediaError as exc:
            message = f"{extractor.name}: {exc.message}"
            errors.append(ErrorRecord(member_path, exc.reason, message))
            continue
        except Exception as exc:  # a bug in one extractor must not stop the others
            message = f"{extractor.name}: {type(exc).__name__}: {exc}"
            errors.append(ErrorRecord(member_path, EXTRACTOR_FAILED_REASON, message))
            continue
        elapsed = time.monotonic() - started
        if elapsed > extractor.max_seconds:  # where no timer could interrupt it
            message = (
                f"{extractor.name}: took {elapsed:.1f} s, over its "
                f"{extractor.max_seconds} s limit; its findings were dropped"
            )
            errors.append(
                ErrorRecord(member_path, ExtractorTimeoutError.reason, message)
            )
            continue
        evidence.extend(
            dataclasses.replace(e, extractor=extractor.name) for e in found.evidence
        )
        records.extend(found.records)
    return Provenance(
        evidence=tuple(evidence),
        generation=merge_records(records),
        errors=tuple(errors),
    )
