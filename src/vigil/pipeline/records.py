"""What processing one file produces: plain frozen records, picklable across processes.

The worker that makes them never touches the store; the store writes them in one
transaction per file, which is what makes a scan resumable.
"""

import dataclasses
import typing as t

from vigil.hashing.base import HashResult
from vigil.media.errors import ErrorRecord
from vigil.provenance.base import Evidence, GenerationRecord

if t.TYPE_CHECKING:  # the filter loads its lexicon lazily, in the workers that use it
    from vigil.modelfiles.report import ModelReport
    from vigil.prompts.filter import PromptVerdict

#: Separator between nested archive levels in a member path: `inner.zip!/photos/a.jpg`.
MEMBER_SEPARATOR = "!/"


@dataclasses.dataclass(frozen=True)
class ItemObservation:
    """One item (a file, or an archive member) seen at one place, with its hashes."""

    member_path: (
        str  # "" for the file itself; nested members joined with MEMBER_SEPARATOR
    )
    size: int
    mtime: float | None
    sha256: str
    kind: str
    hashes: tuple[HashResult, ...]
    width: int | None = None
    height: int | None = None
    frame_count: int | None = None
    # PDQ hashes of rotations, flips and border-cropped versions, for matching only:
    # (variant name, hash, quality). Not stored as the item's hashes.
    variants: tuple[tuple[str, str, int], ...] = ()
    # where the item came from (C2PA, generator metadata, watermarks, camera EXIF)
    evidence: tuple[Evidence, ...] = ()
    generation: GenerationRecord | None = None
    # the prompt filter's verdict on the generation record's prompt
    prompt_verdict: "PromptVerdict | None" = None
    # a model file's fingerprints, metadata, pickle findings and model_risk
    model: "ModelReport | None" = None


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
