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
