"""What the store gives back: frozen records of scans, summaries and items, the same
for every Store implementation (SQLite, PostgreSQL, in memory)."""

import dataclasses
import datetime as dt
import enum
import typing as t

from vigil.detection.score import Score
from vigil.hashing.base import HashResult
from vigil.media.names import display, name_bytes
from vigil.pipeline.records import location_label
from vigil.provenance.base import Evidence, GenerationRecord


@dataclasses.dataclass(frozen=True)
class ProvenanceCounts:
    """Distinct items of one scan with AI evidence, with a generation record, and
    with a prompt the filter blocked or sent to review."""

    ai_items: int
    generation_records: int
    prompts_by_decision: dict[str, int]

    def as_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ModelCounts:
    """Model files among a scan's items, by `model_risk` level; how many would run
    code if unpickled; images linked to a model file or a hash-list entry."""

    model_files: int
    by_risk: dict[str, int]
    dangerous: int
    linked_images: int

    def as_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ModelLinkInfo:
    """One link, with the places it can be found: the image's location in the scan,
    and the model file's location (any scan) or the hash list naming the hash."""

    image: str
    role: str
    name: str | None
    hash_kind: str
    hash_value: str
    model: str | None  # where the model file was seen
    hash_list: str | None  # the list whose entry named the hash

    def as_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


class ScanStatus(enum.StrEnum):
    RUNNING = "running"
    INTERRUPTED = "interrupted"
    FINISHED = "finished"


@dataclasses.dataclass(frozen=True)
class ScanInfo:
    id: int
    key: str
    roots: tuple[str, ...]
    options: dict[str, t.Any]
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    elapsed_seconds: float
    runs: int

    def as_dict(self) -> dict[str, t.Any]:
        data = dataclasses.asdict(self)
        data["roots"] = list(self.roots)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        data["elapsed_seconds"] = round(self.elapsed_seconds, 3)
        return data


@dataclasses.dataclass(frozen=True)
class ScanSummary:
    """What a scan found, counted from the store (so it is right after a resume too)."""

    scan_id: int
    status: str
    files: int  # files on disk fully processed
    items: int  # distinct contents (SHA-256) seen in this scan
    locations: int  # places seen, archive members included
    duplicates: int  # locations beyond the first of each item
    errors: int
    errors_by_reason: dict[str, int]
    bytes: int
    elapsed_seconds: float
    runs: int
    # distinct items per match verdict (match, near_review, held)
    matches_by_verdict: dict[str, int] = dataclasses.field(default_factory=dict)
    provenance: ProvenanceCounts = dataclasses.field(
        default_factory=lambda: ProvenanceCounts(0, 0, {})
    )
    models: ModelCounts = dataclasses.field(
        default_factory=lambda: ModelCounts(0, {}, 0, 0)
    )

    @property
    def mb_per_second(self) -> float:
        return self.bytes / 1e6 / self.elapsed_seconds if self.elapsed_seconds else 0.0

    @property
    def files_per_second(self) -> float:
        return self.files / self.elapsed_seconds if self.elapsed_seconds else 0.0

    def as_dict(self) -> dict[str, t.Any]:
        data = dataclasses.asdict(self)
        data["mb_per_second"] = round(self.mb_per_second, 3)
        data["files_per_second"] = round(self.files_per_second, 3)
        data["elapsed_seconds"] = round(self.elapsed_seconds, 3)
        return data


@dataclasses.dataclass(frozen=True)
class Location:
    """Where an item was seen: a file, and a member path inside archives."""

    scan_id: int
    path: str
    member_path: str

    @property
    def label(self) -> str:
        return location_label(self.path, self.member_path)


@dataclasses.dataclass(frozen=True)
class MatchView:
    """A recorded match of an item, with the list entry's labels."""

    scan_id: int
    hash_list: str
    list_version: int
    hash_type: str
    entry: str
    variant: str
    distance: int
    threshold_bits: int
    verdict: str
    category: str | None
    ai_generated: bool | None
    reason: str | None = None  # why it is not a plain match; None for a match

    def as_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ErrorView:
    scan_id: int
    path: str
    member_path: str
    reason: str
    message: str

    @property
    def label(self) -> str:
        return location_label(self.path, self.member_path)

    def as_dict(self) -> dict[str, t.Any]:
        return {**dataclasses.asdict(self), "location": self.label}


@dataclasses.dataclass(frozen=True)
class ItemView:
    """One item with everything recorded about it: locations, hashes, matches,
    evidence, its generation record, scores and error records."""

    item_id: int
    sha256: str
    size: int
    kind: str
    width: int | None
    height: int | None
    locations: tuple[Location, ...]
    hashes: tuple[HashResult, ...]
    matches: tuple[MatchView, ...]
    evidence: tuple[Evidence, ...]
    generation: GenerationRecord | None
    scores: tuple[Score, ...]
    errors: tuple[ErrorView, ...]

    @property
    def is_ai(self) -> bool:
        return any(e.is_ai for e in self.evidence)

    @property
    def is_matched(self) -> bool:
        return any(m.verdict == "match" for m in self.matches)

    def score(self, name: str) -> Score | None:
        return next((s for s in self.scores if s.name == name), None)

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "item_id": self.item_id,
            "sha256": self.sha256,
            "size": self.size,
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "locations": [display(p.label) for p in self.locations],
            # hex of the bytes of each name that its readable form had to escape
            "locations_bytes": {
                display(p.label): name_bytes(p.label).hex()
                for p in self.locations
                if display(p.label) != p.label
            },
            "hashes": {h.hasher: h.value for h in self.hashes},
            "matches": [m.as_dict() for m in self.matches],
            "ai_evidence": self.is_ai,
            "evidence": [e.as_dict() for e in self.evidence],
            "generation": self.generation.as_dict() if self.generation else None,
            "scores": {s.name: s.as_dict() for s in self.scores},
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclasses.dataclass(frozen=True)
class ItemQuery:
    """Which items to list: of one scan (None: every scan), and only those matched,
    with AI evidence or with error records; a page at a time, by item id."""

    scan_id: int | None = None
    matched: bool = False
    ai: bool = False
    errors: bool = False
    limit: int = 500
    after_id: int = 0  # the last item id of the previous page
    item_ids: frozenset[int] | None = None  # only these items


@dataclasses.dataclass(frozen=True)
class Page:
    items: tuple[ItemView, ...]
    next_after_id: int | None  # None on the last page


@dataclasses.dataclass(frozen=True)
class ClusterView:
    """A stored cluster: its members (item ids), the representative first."""

    id: int
    kind: str
    key: str
    representative: int
    members: tuple[int, ...]
    created_at: dt.datetime
    updated_at: dt.datetime
    merged_into: int | None = None  # merged into this cluster (which holds them now)

    @property
    def size(self) -> int:
        return len(self.members)

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "key": self.key,
            "size": self.size,
            "representative": self.representative,
            "members": list(self.members),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "merged_into": self.merged_into,
        }


@dataclasses.dataclass(frozen=True)
class ClusterChange:
    """A cluster as triage found it, to store: a new one (`cluster_id` None) or a
    stored one that gains members, and the stored clusters it absorbs."""

    kind: str
    key: str
    representative: int
    members: tuple[int, ...]
    cluster_id: int | None = None
    absorbs: tuple[int, ...] = ()


class AssessmentSource(enum.StrEnum):
    ANALYST = "analyst"  # an analyst decided this item
    PROPAGATED = "propagated"  # from the cluster representative's assessment
    HASH_LIST = "hash_list"  # labelled from the hash-list entry it matched


@dataclasses.dataclass(frozen=True)
class NewAssessment:
    """What an assessment records; the store adds its id and time."""

    item_id: int
    analyst: str
    observations: dict[str, t.Any]
    derived: dict[str, t.Any]
    mapping_version: str
    source: AssessmentSource = AssessmentSource.ANALYST
    seconds: float | None = None
    supersedes: int | None = None
    second_opinion_of: int | None = None
    note: str = ""


@dataclasses.dataclass(frozen=True)
class AssessmentView:
    id: int
    item_id: int
    sha256: str
    analyst: str
    created_at: dt.datetime
    source: str
    observations: dict[str, t.Any]
    derived: dict[str, t.Any]
    mapping_version: str
    seconds: float | None
    supersedes: int | None
    second_opinion_of: int | None
    propagation: int | None
    note: str
    # not superseded, not a second opinion, not from an undone propagation
    active: bool

    def as_dict(self) -> dict[str, t.Any]:
        data = dataclasses.asdict(self)
        data["created_at"] = self.created_at.isoformat()
        return data


@dataclasses.dataclass(frozen=True)
class PropagationView:
    id: int
    cluster_id: int
    assessment_id: int
    analyst: str
    created_at: dt.datetime
    undone_at: dt.datetime | None
    undone_by: str | None
    items: tuple[int, ...]  # the items it assessed

    def as_dict(self) -> dict[str, t.Any]:
        data = dataclasses.asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["undone_at"] = self.undone_at.isoformat() if self.undone_at else None
        data["items"] = list(self.items)
        return data


@dataclasses.dataclass(frozen=True)
class Claim:
    """An item an analyst has open now."""

    item_id: int
    analyst: str
    since: dt.datetime
