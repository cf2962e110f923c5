"""The Store: the only writer. One transaction per finished file keeps scans resumable.

Thread safety: one Store per process; SQLAlchemy's engine pools connections. Scans write
from the main process only; workers return records and never open the database.
"""

import dataclasses
import datetime as dt
import json
import typing as t

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.orm import Session

from vigil.matching.matcher import MatchResult
from vigil.pipeline.records import FileOutcome, ItemObservation
from vigil.store import migrate
from vigil.store.hashlists import HashListStore
from vigil.store.matches import add_matches, scan_match_counts
from vigil.store.modelfiles import ModelCounts, add_model_file, scan_model_counts
from vigil.store.models import (
    ErrorRow,
    HashRow,
    ItemRow,
    LocationRow,
    ScanFileRow,
    ScanRow,
    utcnow,
)
from vigil.store.provenance import (
    ProvenanceCounts,
    add_provenance,
    scan_provenance_counts,
)
from vigil.store.scores import add_scores

SQLITE_BUSY_TIMEOUT_MS = 30_000  # wait for a concurrent reader/writer rather than fail


class ScanStatus:
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


def _sqlite_pragmas(dbapi_connection: t.Any, _record: t.Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer, and a killed process loses at most the
    # transaction it was in. NORMAL sync is durable against process death under WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Store:
    """Reads and writes scans, items, locations, hashes and error records."""

    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        if upgrade:
            migrate.upgrade(self.engine)
        self.hashlists = HashListStore(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # scans

    def create_scan(
        self,
        key: str,
        roots: t.Sequence[str],
        options: dict[str, t.Any],
        vigil_version: str,
    ) -> int:
        with Session(self.engine) as session, session.begin():
            row = ScanRow(
                key=key,
                roots=json.dumps(list(roots)),
                options=json.dumps(options, sort_keys=True),
                status=ScanStatus.RUNNING,
                vigil_version=vigil_version,
                started_at=utcnow(),
                elapsed_seconds=0.0,
                runs=1,
            )
            session.add(row)
            session.flush()
            return row.id

    def find_resumable_scan(self, key: str) -> ScanInfo | None:
        """The newest unfinished scan with this key, if any."""
        with Session(self.engine) as session:
            row = session.scalars(
                select(ScanRow)
                .where(ScanRow.key == key, ScanRow.status != ScanStatus.FINISHED)
                .order_by(ScanRow.id.desc())
                .limit(1)
            ).first()
            return _scan_info(row) if row else None

    def get_scan(self, scan_id: int) -> ScanInfo | None:
        with Session(self.engine) as session:
            row = session.get(ScanRow, scan_id)
            return _scan_info(row) if row else None

    def list_scans(self) -> list[ScanInfo]:
        with Session(self.engine) as session:
            rows = session.scalars(select(ScanRow).order_by(ScanRow.id)).all()
            return [_scan_info(row) for row in rows]

    def begin_run(self, scan_id: int) -> None:
        """Mark a resumed scan as running again."""
        with Session(self.engine) as session, session.begin():
            row = session.get_one(ScanRow, scan_id)
            row.status = ScanStatus.RUNNING
            row.runs += 1

    def end_run(self, scan_id: int, *, status: str, elapsed_seconds: float) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.get_one(ScanRow, scan_id)
            row.status = status
            row.elapsed_seconds += elapsed_seconds
            if status == ScanStatus.FINISHED:
                row.finished_at = utcnow()

    def finished_paths(self, scan_id: int) -> set[str]:
        with Session(self.engine) as session:
            return set(
                session.scalars(
                    select(ScanFileRow.path).where(ScanFileRow.scan_id == scan_id)
                )
            )

    # recording

    def record_file(
        self,
        scan_id: int,
        outcome: FileOutcome,
        matches: t.Mapping[str, t.Sequence[MatchResult]] | None = None,
    ) -> None:
        """Record what one file gave, and journal it, in one transaction."""
        now = utcnow()
        with Session(self.engine) as session, session.begin():
            for observation in outcome.items:
                item_id = _item_id(session, observation, now)
                session.add(
                    LocationRow(
                        scan_id=scan_id,
                        item_id=item_id,
                        path=outcome.path,
                        member_path=observation.member_path,
                        size=observation.size,
                        mtime=observation.mtime,
                    )
                )
                _add_hashes(session, item_id, observation)
                add_provenance(session, item_id, observation, now)
                add_scores(session, item_id, observation.scores, now)
                if observation.model is not None:
                    add_model_file(session, item_id, observation.model, now)
                if matches and observation.member_path in matches:
                    add_matches(
                        session, scan_id, item_id, matches[observation.member_path]
                    )
            for error in outcome.errors:
                session.add(
                    ErrorRow(
                        scan_id=scan_id,
                        path=outcome.path,
                        member_path=error.member_path,
                        reason=error.reason,
                        message=error.message,
                        recorded_at=now,
                    )
                )
            session.add(
                ScanFileRow(
                    scan_id=scan_id,
                    path=outcome.path,
                    bytes_read=outcome.bytes_read,
                    finished_at=now,
                )
            )

    # reading

    def summary(self, scan_id: int) -> ScanSummary:
        with Session(self.engine) as session:
            scan = session.get_one(ScanRow, scan_id)
            files, bytes_read = session.execute(
                select(
                    func.count(), func.coalesce(func.sum(ScanFileRow.bytes_read), 0)
                ).where(ScanFileRow.scan_id == scan_id)
            ).one()
            locations, items = session.execute(
                select(
                    func.count(), func.count(func.distinct(LocationRow.item_id))
                ).where(LocationRow.scan_id == scan_id)
            ).one()
            by_reason: dict[str, int] = dict(
                session.execute(
                    select(ErrorRow.reason, func.count())
                    .where(ErrorRow.scan_id == scan_id)
                    .group_by(ErrorRow.reason)
                    .order_by(ErrorRow.reason)
                ).all()
            )
            return ScanSummary(
                scan_id=scan_id,
                status=scan.status,
                files=files,
                items=items,
                locations=locations,
                duplicates=locations - items,
                errors=sum(by_reason.values()),
                errors_by_reason=by_reason,
                bytes=int(bytes_read),
                elapsed_seconds=scan.elapsed_seconds,
                runs=scan.runs,
                matches_by_verdict=scan_match_counts(self.engine, scan_id),
                provenance=scan_provenance_counts(self.engine, scan_id),
                models=scan_model_counts(self.engine, scan_id),
            )


def _scan_info(row: ScanRow) -> ScanInfo:
    return ScanInfo(
        id=row.id,
        key=row.key,
        roots=tuple(json.loads(row.roots)),
        options=json.loads(row.options),
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        elapsed_seconds=row.elapsed_seconds,
        runs=row.runs,
    )


def _item_id(session: Session, observation: ItemObservation, now: dt.datetime) -> int:
    row = session.scalars(
        select(ItemRow).where(ItemRow.sha256 == observation.sha256)
    ).first()
    if row is None:
        row = ItemRow(
            sha256=observation.sha256,
            size=observation.size,
            kind=observation.kind,
            width=observation.width,
            height=observation.height,
            frame_count=observation.frame_count,
            first_seen_at=now,
        )
        session.add(row)
        session.flush()
    elif row.width is None and observation.width is not None:
        row.width, row.height = observation.width, observation.height
        row.frame_count = observation.frame_count
    return row.id


def _add_hashes(session: Session, item_id: int, observation: ItemObservation) -> None:
    existing = {
        (hasher, pipeline)
        for hasher, pipeline in session.execute(
            select(HashRow.hasher, HashRow.pipeline).where(HashRow.item_id == item_id)
        )
    }
    for result in observation.hashes:
        if (result.hasher, result.pipeline) in existing:
            continue
        existing.add((result.hasher, result.pipeline))
        session.add(
            HashRow(
                item_id=item_id,
                hasher=result.hasher,
                value=result.value,
                pipeline=result.pipeline,
                quality=result.quality,
                is_reliable=result.is_reliable,
            )
        )
