"""The Stage interface: one step of the per-item pipeline.

Design notes:
- A stage is a configured instance with a stable `name`, the media kinds it applies
  to and `run(subject, context) -> StageResult`. Results are typed frozen
  dataclasses; a later stage reads an earlier one's result by its type
  (`context.result(ProvenanceResult)`), never through a dict.
- Generic channels: every result may carry `hashes`, `scores` and `errors`; the store
  writes those for any stage, so a new stage that adds a score touches only its own
  module and its registration. Specific results (evidence, a model report) are
  written by the store reads that know them.
- Failure is local: a stage that raises becomes that stage's error record
  (`stage_failed`), and every other stage's results are kept.
- Picklable: stages travel to worker processes inside the WorkConfig, so they hold
  configuration only and build heavy state (a compiled lexicon) lazily per process.
"""

import abc
import dataclasses
import typing as t

from vigil.detection.score import Score
from vigil.hashing.base import HashResult
from vigil.media.base import Limits, MediaKind
from vigil.media.errors import ErrorRecord
from vigil.media.subject import Subject

STAGE_FAILED_REASON = "stage_failed"

R = t.TypeVar("R", bound="StageResult")


@dataclasses.dataclass(frozen=True)
class StageResult:
    """What one stage learned about one item."""

    hashes: tuple[HashResult, ...] = ()
    scores: tuple[Score, ...] = ()
    errors: tuple[ErrorRecord, ...] = ()


@dataclasses.dataclass(frozen=True)
class StageExample:
    """A benign input a stage must accept, for the contract suite."""

    data: bytes
    kind: MediaKind
    source: str  # where the bytes come from


class StageContext:
    """What a stage may read besides the subject: limits and earlier results."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._results: dict[type[StageResult], StageResult] = {}

    def result(self, kind: type[R]) -> R | None:
        """The result an earlier stage gave, by its type; None if none ran."""
        found = self._results.get(kind)
        return found if isinstance(found, kind) else None

    def add(self, result: StageResult) -> None:
        self._results[type(result)] = result


class Stage(abc.ABC):
    """One step over a subject. `name` is stable (in scan options and error
    messages); bump `version` when the output for the same input changes."""

    name: t.ClassVar[str]
    version: t.ClassVar[int] = 1
    #: The media kinds the stage applies to; None for every kind.
    media_kinds: t.ClassVar[frozenset[MediaKind] | None] = None

    def applies_to(self, subject: Subject) -> bool:
        return self.media_kinds is None or subject.kind in self.media_kinds

    @abc.abstractmethod
    def run(self, subject: Subject, context: StageContext) -> StageResult:
        """Everything this stage learns about `subject`. Typed refusals of the
        input (`MediaError`) belong in the result's `errors`."""

    def max_bytes(self, kind: MediaKind, head: bytes, size: int) -> int | None:  # noqa: ARG002
        """A larger file-size limit for files this stage streams itself (model
        checkpoints), or None to keep `Limits.max_file_bytes`."""
        return None

    def options(self) -> dict[str, t.Any]:
        """The configuration that changes results, for the scan key."""
        return {}

    def examples(self) -> list[StageExample]:
        """Benign inputs the stage must handle; empty where none are needed."""
        return []

    def identity(self) -> str:
        return f"{self.name}/{self.version}"


@dataclasses.dataclass(frozen=True)
class Child:
    """An item found inside another (a model's embedded thumbnail), observed next."""

    member_path: str
    data: bytes


@dataclasses.dataclass(frozen=True)
class ChildrenResult(StageResult):
    """A result that also yields nested items to observe as items of their own."""

    children: tuple[Child, ...] = ()
