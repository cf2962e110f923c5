"""The relational schema. Only hashes, facts and decisions: never content bytes.

Portability rules: no database-specific types; text keys for hashes; "" rather than NULL
in columns that take part in unique constraints (NULLs never collide in SQL uniqueness).
"""

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class ScanRow(Base):
    """One scan of a set of roots with a set of options; resumable until finished."""

    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    roots: Mapped[str] = mapped_column(Text)  # JSON list of absolute paths
    options: Mapped[str] = mapped_column(Text)  # JSON object
    status: Mapped[str] = mapped_column(String(16))  # running | interrupted | finished
    vigil_version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    elapsed_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    runs: Mapped[int] = mapped_column(Integer, default=1)
    # the process running the scan (NULL once it ended): a lock other commands see
    owner_pid: Mapped[int | None] = mapped_column(Integer)
    owner_host: Mapped[str | None] = mapped_column(String(255))


class ScanFileRow(Base):
    """The journal: a file on disk whose whole outcome is recorded for this scan."""

    __tablename__ = "scan_files"
    __table_args__ = (UniqueConstraint("scan_id", "path", name="uq_scan_files_path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text)
    bytes_read: Mapped[int] = mapped_column(BigInteger)
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ItemRow(Base):
    """One distinct content, keyed by SHA-256, wherever and however often seen."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    frame_count: Mapped[int | None] = mapped_column(Integer)
    first_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class LocationRow(Base):
    """Where an item was seen in a scan: a path, and a member path inside archives."""

    __tablename__ = "locations"
    __table_args__ = (
        UniqueConstraint("scan_id", "path", "member_path", name="uq_locations_place"),
        Index("ix_locations_item", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text)
    member_path: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[float | None] = mapped_column(Float)


class HashRow(Base):
    """One hash of one item, named by hasher and by the pipeline that produced it."""

    __tablename__ = "hashes"
    __table_args__ = (
        UniqueConstraint("item_id", "hasher", "pipeline", name="uq_hashes_item_hasher"),
        Index("ix_hashes_value", "hasher", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    hasher: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(256))
    pipeline: Mapped[str] = mapped_column(String(64))
    quality: Mapped[int | None] = mapped_column(Integer)
    is_reliable: Mapped[bool] = mapped_column(Boolean, default=True)


class ErrorRow(Base):
    """A refusal or failure recorded during a scan; the scan went on."""

    __tablename__ = "errors"
    __table_args__ = (Index("ix_errors_scan_reason", "scan_id", "reason"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text)
    member_path: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class HashListRow(Base):
    """A named, versioned hash list. The version goes up with every change."""

    __tablename__ = "hash_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    # JSON object: match threshold in bits by perceptual hash type ({"pdq": 31})
    thresholds: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    pdq_pipeline: Mapped[str] = mapped_column(String(64))
    is_suppression: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class HashEntryRow(Base):
    """One hash in a hash list, with its labels; `status` is active or quarantined."""

    __tablename__ = "hash_entries"
    __table_args__ = (
        UniqueConstraint("list_id", "hash_type", "value", name="uq_hash_entries_value"),
        Index("ix_hash_entries_type_value", "hash_type", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("hash_lists.id", ondelete="CASCADE")
    )
    hash_type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(512))
    category: Mapped[str | None] = mapped_column(String(128))
    ai_generated: Mapped[bool | None] = mapped_column(Boolean)
    source: Mapped[str | None] = mapped_column(String(256))
    added_by: Mapped[str | None] = mapped_column(String(128))
    added_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of [key, value]
    status: Mapped[str] = mapped_column(String(16), default="active")
    added_in_version: Mapped[int] = mapped_column(Integer)


class ImportRowRow(Base):
    """Staging for one streaming import, inside its transaction; always empty after."""

    __tablename__ = "hash_import_rows"
    __table_args__ = (Index("ix_hash_import_rows_key", "token", "hash_type", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    line: Mapped[int] = mapped_column(Integer)
    hash_type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(512))
    category: Mapped[str | None] = mapped_column(String(128))
    ai_generated: Mapped[bool | None] = mapped_column(Boolean)
    source: Mapped[str | None] = mapped_column(String(256))
    added_by: Mapped[str | None] = mapped_column(String(128))
    added_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[str] = mapped_column(Text, default="[]")


class MatchRow(Base):
    """An item's hash found in a hash list, with distance, variant and provenance."""

    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint(
            "scan_id",
            "item_id",
            "entry_id",
            "query_hasher",
            "variant",
            name="uq_matches_item_entry",
        ),
        Index("ix_matches_entry", "entry_id"),
        Index("ix_matches_item", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("hash_entries.id", ondelete="CASCADE")
    )
    list_id: Mapped[int] = mapped_column(
        ForeignKey("hash_lists.id", ondelete="CASCADE")
    )
    list_version: Mapped[int] = mapped_column(Integer)
    query_hasher: Mapped[str] = mapped_column(String(32))
    query_pipeline: Mapped[str] = mapped_column(String(64))
    variant: Mapped[str] = mapped_column(String(64))
    distance: Mapped[int] = mapped_column(Integer)
    threshold_bits: Mapped[int] = mapped_column(Integer)
    query_quality: Mapped[int | None] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(16))  # match | near_review | held
    # why a result is not a plain match (MatchReason); NULL for a match
    reason: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class EvidenceRow(Base):
    """One fact about where an item came from (C2PA, generator metadata, watermark,
    camera EXIF), with its source and strength. Kept per item: content, not place."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_item", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    extractor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # ai_generated | captured | ...
    source: Mapped[str] = mapped_column(String(128))
    strength: Mapped[str] = mapped_column(String(16))  # proof | strong | weak
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)  # JSON object
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class GenerationRow(Base):
    """The normalised generation record of an item (at most one per item).

    The prompt is kept for the prompt filter, whose verdict is the item's
    `prompt_risk` score. Seeds are decimal text: ComfyUI seeds reach
    2**64 - 1, past a signed 64-bit column.
    """

    __tablename__ = "generation_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), unique=True
    )
    tool: Mapped[str] = mapped_column(String(64))
    tool_version: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(128))
    prompt: Mapped[str | None] = mapped_column(Text)
    negative_prompt: Mapped[str | None] = mapped_column(Text)
    seed: Mapped[str | None] = mapped_column(String(32))
    steps: Mapped[int | None] = mapped_column(Integer)
    sampler: Mapped[str | None] = mapped_column(String(128))
    cfg_scale: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    model_name: Mapped[str | None] = mapped_column(Text)
    model_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    model_hash_kind: Mapped[str | None] = mapped_column(String(16))
    loras: Mapped[str] = mapped_column(Text)  # JSON list of {name, weight, hash, kind}
    other_models: Mapped[str] = mapped_column(Text)  # JSON list of names
    extra: Mapped[str] = mapped_column(Text)  # JSON object
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ModelFileRow(Base):
    """A model file (safetensors, PyTorch, pickle, GGUF, ONNX) seen as an item: its
    fingerprints, whether loading it would run code, and its risk level (the
    `model_risk` score itself is in `scores`)."""

    __tablename__ = "model_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), unique=True
    )
    format: Mapped[str] = mapped_column(String(16))
    autov1: Mapped[str | None] = mapped_column(String(8), index=True)
    autov2: Mapped[str | None] = mapped_column(String(10), index=True)
    autov3: Mapped[str | None] = mapped_column(String(12), index=True)
    blake3: Mapped[str | None] = mapped_column(String(64), index=True)
    crc32: Mapped[str | None] = mapped_column(String(8))
    dangerous: Mapped[bool] = mapped_column(Boolean)  # unpickling would run code
    risk_level: Mapped[str] = mapped_column(String(16))  # unknown | low | review | high
    report: Mapped[str] = mapped_column(Text)  # JSON: ModelReport.as_dict(), capped
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ModelLinkRow(Base):
    """An image whose generation record names a model or LoRA hash that was seen as
    a model file in the store or is on a hash list. Rebuilt at the end of each scan
    run for the images of that scan."""

    __tablename__ = "model_links"
    __table_args__ = (Index("ix_model_links_scan", "scan_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # checkpoint | lora | embedding
    name: Mapped[str | None] = mapped_column(Text)  # as the generation record names it
    hash_kind: Mapped[str] = mapped_column(String(16))
    hash_value: Mapped[str] = mapped_column(String(64))
    model_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE")
    )
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("hash_entries.id", ondelete="CASCADE")
    )


class ScoreRow(Base):
    """One signal's score of one item (prompt_risk, model_risk, ai_likelihood, ...),
    in [0, 1], with its level, reasons and the detector that made it."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("item_id", "name", "detector", name="uq_scores_item_name"),
        Index("ix_scores_name_value", "name", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of sentences
    details: Mapped[str] = mapped_column(Text)  # JSON object
    detector: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ClusterRow(Base):
    """Items that belong together (near-duplicates, a generation batch, a repost),
    across every scan. Clusters only grow: a scan that bridges two merges the newer
    into the older, which keeps its id (`merged_into_id` points the way)."""

    __tablename__ = "clusters"
    __table_args__ = (Index("ix_clusters_kind", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # near_duplicate | generation_batch | repost
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(Text)  # what the members share, for people
    representative_item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE")
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("clusters.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ClusterMemberRow(Base):
    __tablename__ = "cluster_members"
    __table_args__ = (
        UniqueConstraint("cluster_id", "item_id", name="uq_cluster_members_item"),
        Index("ix_cluster_members_item", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE")
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    added_scan_id: Mapped[int | None] = mapped_column(
        ForeignKey("scans.id", ondelete="SET NULL")
    )
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PropagationRow(Base):
    """One assessment of a cluster's representative applied to its other members;
    undone by setting `undone_at` (the assessments it made stay, inactive)."""

    __tablename__ = "propagations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE")
    )
    # the representative's assessment (a plain id: the two tables point at each other)
    assessment_id: Mapped[int] = mapped_column(Integer)
    analyst: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(128))


class AssessmentRow(Base):
    """An analyst's decision on an item as raw observations, with what the mapping
    tables derived from them. Append-only: a correction is a new row that supersedes
    the old one; nothing here is ever updated or deleted."""

    __tablename__ = "assessments"
    __table_args__ = (
        Index("ix_assessments_item", "item_id"),
        Index("ix_assessments_supersedes", "supersedes_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    analyst: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))  # analyst | propagated | hash_list
    observations: Mapped[str] = mapped_column(Text)  # JSON object
    derived: Mapped[str] = mapped_column(Text)  # JSON object
    mapping_version: Mapped[str] = mapped_column(String(32))
    seconds: Mapped[float | None] = mapped_column(Float)  # time spent deciding
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL")
    )
    second_opinion_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL")
    )
    propagation_id: Mapped[int | None] = mapped_column(
        ForeignKey("propagations.id", ondelete="CASCADE")
    )
    note: Mapped[str] = mapped_column(Text, default="")


class QueueStateRow(Base):
    """Who is looking at an item now (a claim), so two analysts never decide the
    same item at once."""

    __tablename__ = "queue_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16))  # claimed | second_opinion
    analyst: Mapped[str] = mapped_column(String(128))
    since: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # second_opinion: the assessment a second opinion is asked on
    assessment_id: Mapped[int | None] = mapped_column(Integer)


class AuditRow(Base):
    """One audited action (a login, a view, a reveal, a decision, an export, a
    settings change). Append-only and hash-chained: `sha256` covers this record and
    the `prev_sha256` of the one before it, so an edit, a deletion or a reordering
    breaks the chain (`vigil audit verify`)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_actor_at", "actor", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)  # canonical JSON object
    prev_sha256: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)


class UserRow(Base):
    """Someone who signs in to the console: a role, an argon2 password hash (never
    the password), and welfare settings of their own over the organisation's."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # admin | supervisor | analyst
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[str] = mapped_column(Text, default="{}")  # JSON overrides
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SessionRow(Base):
    """A signed-in browser. Only the SHA-256 of its token is kept, so a copy of
    the database signs nobody in."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginFailureRow(Base):
    """A failed sign-in, for throttling by user name and by client address."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
