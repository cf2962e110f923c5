"""What processing one file produces: plain frozen records, picklable across processes.

The worker that makes them never touches the store; the store writes them in one
transaction per file, which is what makes a scan resumable. An item's facts are the
typed results of the stages that ran over it (`observation.result(ModelResult)`);
the generic channels every stage shares (hashes, scores) are gathered here.
"""

import dataclasses
import typing as t

from vigil.detection.score import Score
from vigil.hashing.base import HashResult
from vigil.media.errors import ErrorRecord
from vigil.pipeline.stage import R, StageResult
from vigil.pipeline.stages.image_hash import ImageFacts
from vigil.pipeline.stages.model import MEMBER_SEPARATOR, ModelResult
from vigil.pipeline.stages.prompt import PromptResult
from vigil.pipeline.stages.provenance import ProvenanceResult
from vigil.pipeline.stages.variants import Variants
from vigil.provenance.base import Evidence, GenerationRecord

if t.TYPE_CHECKING:
    from vigil.modelfiles.report import ModelReport
    from vigil.prompts.filter import PromptVerdict

__all__ = ["MEMBER_SEPARATOR", "FileOutcome", "ItemObservation", "location_label"]


@dataclasses.dataclass(frozen=True)
class ItemObservation:
    """One item (a file, or an archive member) seen at one place, with its digests
    and the results of every stage that ran over it."""

    member_path: str  # "" for the file itself; nested members joined with "!/"
    size: int
    mtime: float | None
    sha256: str
    kind: str
    digests: tuple[HashResult, ...]  # md5, sha1, sha256 of the bytes
    results: tuple[StageResult, ...] = ()

    def result(self, kind: type[R]) -> R | None:
        for found in self.results:
            if isinstance(found, kind):
                return found
        return None

    @property
    def hashes(self) -> tuple[HashResult, ...]:
        """Every hash of the item: its digests, then each stage's hashes."""
        return self.digests + tuple(h for r in self.results for h in r.hashes)

    @property
    def scores(self) -> tuple[Score, ...]:
        return tuple(score for r in self.results for score in r.scores)

    @property
    def width(self) -> int | None:
        facts = self.result(ImageFacts)
        return facts.width if facts else None

    @property
    def height(self) -> int | None:
        facts = self.result(ImageFacts)
        return facts.height if facts else None

    @property
    def frame_count(self) -> int | None:
        facts = self.result(ImageFacts)
        return facts.frame_count if facts else None

    @property
    def variants(self) -> tuple[tuple[str, str, int], ...]:
        """PDQ hashes of rotations, flips and border-cropped versions, for matching
        only: (variant name, hash, quality). Not stored as the item's hashes."""
        found = self.result(Variants)
        return found.variants if found else ()

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        found = self.result(ProvenanceResult)
        return found.evidence if found else ()

    @property
    def generation(self) -> GenerationRecord | None:
        found = self.result(ProvenanceResult)
        return found.generation if found else None

    @property
    def prompt_verdict(self) -> "PromptVerdict | None":
        found = self.result(PromptResult)
        return found.verdict if found else None

    @property
    def model(self) -> "ModelReport | None":
        found = self.result(ModelResult)
        return found.report if found else None


@dataclasses.dataclass(frozen=True)
class FileOutcome:
    """Everything learned from one file on disk, every archive member in it included."""

    path: str
    items: tuple[ItemObservation, ...]
    errors: tuple[ErrorRecord, ...]
    bytes_read: int


def location_label(path: str, member_path: str) -> str:
    """How a place is shown to people: `dump.zip!/photos/a.jpg`, or the path alone."""
    return f"{path}{MEMBER_SEPARATOR}{member_path}" if member_path else path
