"""What processing one file produces: plain frozen records, picklable across processes.

The worker that makes them never touches the store; the store writes them in one
transaction per file, which is what makes a scan resumable.
"""

import dataclasses

from vigil.hashing.base import HashResult

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


@dataclasses.dataclass(frozen=True)
class ErrorRecord:
    """A refusal or failure, with a stable reason code and a human-readable message."""

    member_path: str
    reason: str
    message: str


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
