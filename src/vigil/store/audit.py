"""The audit log: every login, view, reveal, decision, export and settings change,
append-only and hash-chained.

Each record's SHA-256 covers its id, time, actor, action, target and details and the
SHA-256 of the record before it (the first follows `GENESIS`). So `verify` finds an
edited record (its hash no longer matches), a deleted or reordered one (the next
record's link breaks, or the ids jump). Deleting the newest records leaves a shorter
chain that still holds: keep `head()` (the newest hash and count) outside the
database, in a case file or a ticket, and `verify(expected_head=...)` detects that
too. Appends are serialised (an advisory lock in PostgreSQL; SQLite writes one
transaction at a time), so two writers never fork the chain.
"""

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import typing as t

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from vigil.store.models import AuditRow, utcnow

GENESIS = "0" * 64
#: pg_advisory_xact_lock key held while one record is appended.
POSTGRES_AUDIT_LOCK_KEY = 0x5649474941
MAX_ACTOR_CHARS = 128


class AuditAction(enum.StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    VIEW = "view"
    REVEAL = "reveal"
    DECISION = "decision"
    PROPAGATION_UNDONE = "propagation_undone"
    EXPORT = "export"
    SETTINGS = "settings"
    USER = "user"
    BREAK = "break"
    HASH_LIST = "hash_list"
    SECOND_OPINION = "second_opinion"


@dataclasses.dataclass(frozen=True)
class AuditRecord:
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    details: dict[str, t.Any]
    prev_sha256: str
    sha256: str

    def as_dict(self) -> dict[str, t.Any]:
        data = dataclasses.asdict(self)
        data["at"] = self.at.isoformat()
        return data


@dataclasses.dataclass(frozen=True)
class Verification:
    ok: bool
    records: int
    head: str  # the newest record's SHA-256 (GENESIS for an empty log)
    problem: str | None = None  # the first break found, for people
    record_id: int | None = None  # where it was found

    def as_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


def record_hash(
    record_id: int,
    at: dt.datetime,
    actor: str,
    action: str,
    target: str,
    details: str,
    prev_sha256: str,
) -> str:
    """The SHA-256 that chains a record: over canonical JSON of its fields."""
    body = json.dumps(
        [record_id, _utc(at).isoformat(), actor, action, target, details, prev_sha256],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


class AuditStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(
        self,
        actor: str,
        action: AuditAction | str,
        target: str = "",
        details: t.Mapping[str, t.Any] | None = None,
    ) -> AuditRecord:
        """Add one record at the end of the chain, in its own transaction."""
        canonical = json.dumps(
            dict(details or {}), sort_keys=True, ensure_ascii=False, default=str
        )
        at = utcnow()
        with Session(self.engine) as session, session.begin():
            if self.engine.dialect.name == "postgresql":
                session.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"),
                    {"k": POSTGRES_AUDIT_LOCK_KEY},
                )
            elif self.engine.dialect.name == "sqlite":
                # take the write lock now, so the last record read stays the last
                session.execute(text("UPDATE audit_log SET id = id WHERE 0"))
            last = session.execute(
                select(AuditRow.id, AuditRow.sha256)
                .order_by(AuditRow.id.desc())
                .limit(1)
            ).first()
            record_id = (last[0] + 1) if last else 1
            prev = last[1] if last else GENESIS
            actor = actor[:MAX_ACTOR_CHARS]
            sha = record_hash(
                record_id, at, actor, str(action), target, canonical, prev
            )
            session.add(
                AuditRow(
                    id=record_id,
                    at=at,
                    actor=actor,
                    action=str(action),
                    target=target,
                    details=canonical,
                    prev_sha256=prev,
                    sha256=sha,
                )
            )
        return AuditRecord(
            record_id, at, actor, str(action), target, json.loads(canonical), prev, sha
        )

    def records(
        self, *, after_id: int = 0, limit: int | None = None
    ) -> list[AuditRecord]:
        with Session(self.engine) as session:
            query = select(AuditRow).where(AuditRow.id > after_id).order_by(AuditRow.id)
            if limit is not None:
                query = query.limit(limit)
            return [_record(r) for r in session.scalars(query)]

    def records_of(self, actor: str, *, since: dt.datetime) -> list[AuditRecord]:
        """One actor's records since a time, in order."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(AuditRow)
                .where(AuditRow.actor == actor, AuditRow.at >= since)
                .order_by(AuditRow.id)
            )
            return [_record(r) for r in rows]

    def head(self) -> tuple[int, str]:
        """How many records there are and the newest one's SHA-256."""
        with Session(self.engine) as session:
            last = session.execute(
                select(AuditRow.id, AuditRow.sha256)
                .order_by(AuditRow.id.desc())
                .limit(1)
            ).first()
        return (last[0], last[1]) if last else (0, GENESIS)

    def verify(self, expected_head: str | None = None) -> Verification:
        """Walk the chain from the first record; the first break, if any. With
        `expected_head` (a SHA-256 that `head()` gave earlier), the chain must
        still hold that record: records removed from the end are found too."""
        prev, count, expected_id = GENESIS, 0, 1
        wanted = expected_head.lower() if expected_head else None
        seen = wanted in (None, GENESIS)
        with Session(self.engine) as session:
            rows = session.execute(select(AuditRow).order_by(AuditRow.id))
            for (row,) in rows:
                count += 1
                if row.id != expected_id:
                    return Verification(
                        False, count, prev, f"record {expected_id} is missing", row.id
                    )
                if row.prev_sha256 != prev:
                    return Verification(
                        False,
                        count,
                        prev,
                        "its link to the record before does not match "
                        "(a record was deleted, edited or moved)",
                        row.id,
                    )
                sha = record_hash(
                    row.id,
                    row.at,
                    row.actor,
                    row.action,
                    row.target,
                    row.details,
                    row.prev_sha256,
                )
                if sha != row.sha256:
                    return Verification(
                        False, count, prev, "its content was changed", row.id
                    )
                prev, expected_id = sha, expected_id + 1
                seen = seen or sha == wanted
        if not seen:
            return Verification(
                False,
                count,
                prev,
                "the head given is not in the chain (records were removed from "
                "the end, or it is another log's head)",
                None,
            )
        return Verification(True, count, prev)


def _record(row: AuditRow) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=_utc(row.at),
        actor=row.actor,
        action=row.action,
        target=row.target,
        details=json.loads(row.details),
        prev_sha256=row.prev_sha256,
        sha256=row.sha256,
    )


def _utc(when: dt.datetime) -> dt.datetime:
    return (
        when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    )
