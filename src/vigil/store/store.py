"""The SQL store: the `Store` interface over SQLAlchemy 2 (SQLite by default,
PostgreSQL with `VIGIL_DATABASE_URL`, or in-memory SQLite for tests and one-off
checks). One transaction per finished file keeps scans resumable.

Thread safety: one store per process; SQLAlchemy's engine pools connections. Scans
write from the main process only; workers return records and never open the database.
"""

import datetime as dt
import json
import os
import pathlib
import socket
import typing as t

from sqlalchemy import Engine, create_engine, event, func, make_url, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from vigil.hashing.types import BUILTIN, HashTypes
from vigil.matching.index import make_index
from vigil.matching.matcher import IndexFactory, Matcher, MatchResult
from vigil.media.names import from_text, to_text
from vigil.pipeline.records import FileOutcome, ItemObservation
from vigil.store import migrate
from vigil.store.audit import AuditStore
from vigil.store.base import ScanBusyError, Store
from vigil.store.hashlists import HashListStore
from vigil.store.items import item_page, load_items, scan_errors
from vigil.store.matches import (
    add_matches,
    load_matcher,
    quarantine_floods,
    scan_match_counts,
)
from vigil.store.modelfiles import (
    add_model_file,
    link_models,
    scan_links,
    scan_model_counts,
)
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
    add_provenance,
    clip,
    scan_provenance_counts,
    text,
)
from vigil.store.records import (
    ErrorView,
    ItemQuery,
    ItemView,
    ModelLinkInfo,
    Page,
    ScanInfo,
    ScanStatus,
    ScanSummary,
)
from vigil.store.scores import add_scores
from vigil.store.triage import TriageStore
from vigil.store.users import UserStore

SQLITE_BUSY_TIMEOUT_MS = 30_000  # wait for a concurrent reader/writer rather than fail


def _sqlite_pragmas(dbapi_connection: t.Any, _record: t.Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer, and a killed process loses at most the
    # transaction it was in. NORMAL sync is durable against process death under WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def is_in_memory(url: str) -> bool:
    made = make_url(url)
    return made.get_backend_name() == "sqlite" and made.database in (
        None,
        "",
        ":memory:",
    )


def create_db_engine(url: str) -> Engine:
    if is_in_memory(url):
        # one connection shared by every session, or each would see its own empty
        # database
        engine = create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class SQLStore(Store):
    """Scans, items, places, hashes, matches, evidence, scores and error records in
    a SQL database; the schema is brought up to date on opening."""

    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        if upgrade:
            migrate.upgrade(self.engine)
        self.hashlists = HashListStore(self.engine)
        self.triage = TriageStore(self.engine)
        self.audit = AuditStore(self.engine)
        self.users = UserStore(self.engine)

    @property
    def location(self) -> str:
        made = make_url(self.url)
        if made.get_backend_name() == "sqlite":
            return made.database or ":memory:"
        return made.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def schema_revision(self) -> str | None:
        return migrate.current_revision(self.engine)

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
                owner_pid=os.getpid(),
                owner_host=_HOST,
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
        """Claim an unfinished scan for this process and mark it running again:
        one compare-and-set, so two commands can never run one scan's journal.

        Raises:
            ScanBusyError: another live process is running it.
        """
        with Session(self.engine) as session, session.begin():
            row = session.get_one(ScanRow, scan_id)
            owner = (row.owner_pid, row.owner_host)
            if row.status == ScanStatus.RUNNING and not _is_gone(*owner):
                raise ScanBusyError(scan_id, row.owner_pid, row.owner_host)
            claimed: CursorResult[t.Any] = session.execute(  # type: ignore[assignment]
                update(ScanRow)
                .where(
                    ScanRow.id == scan_id,
                    ScanRow.status == row.status,
                    _same(ScanRow.owner_pid, row.owner_pid),
                    _same(ScanRow.owner_host, row.owner_host),
                )
                .values(
                    status=ScanStatus.RUNNING,
                    runs=ScanRow.runs + 1,
                    owner_pid=os.getpid(),
                    owner_host=_HOST,
                )
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # another command claimed it in between
                raise ScanBusyError(scan_id, None, None)

    def end_run(
        self, scan_id: int, *, status: ScanStatus, elapsed_seconds: float
    ) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.get_one(ScanRow, scan_id)
            row.status = status
            row.elapsed_seconds += elapsed_seconds
            row.owner_pid, row.owner_host = None, None
            if status == ScanStatus.FINISHED:
                row.finished_at = utcnow()

    def finished_paths(self, scan_id: int) -> set[str]:
        with Session(self.engine) as session:
            return {
                from_text(path)
                for path in session.scalars(
                    select(ScanFileRow.path).where(ScanFileRow.scan_id == scan_id)
                )
            }

    # recording

    def record_file(
        self,
        scan_id: int,
        outcome: FileOutcome,
        matches: t.Mapping[str, t.Sequence[MatchResult]] | None = None,
        *,
        elapsed_seconds: float = 0.0,
    ) -> None:
        now = utcnow()
        with Session(self.engine) as session, session.begin():
            if elapsed_seconds:
                session.get_one(ScanRow, scan_id).elapsed_seconds += elapsed_seconds
            for observation in outcome.items:
                item_id = _item_id(session, observation, now)
                session.add(
                    LocationRow(
                        scan_id=scan_id,
                        item_id=item_id,
                        path=to_text(outcome.path),
                        member_path=to_text(observation.member_path),
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
                        path=to_text(outcome.path),
                        member_path=to_text(error.member_path),
                        reason=clip(error.reason, 64),
                        message=text(error.message),
                        recorded_at=now,
                    )
                )
            session.add(
                ScanFileRow(
                    scan_id=scan_id,
                    path=to_text(outcome.path),
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

    # matching

    def matcher(
        self,
        list_names: t.Sequence[str] | None = None,
        *,
        hash_types: HashTypes = BUILTIN,
        index_factory: IndexFactory = make_index,
    ) -> Matcher:
        return load_matcher(
            self.engine, list_names, hash_types=hash_types, index_factory=index_factory
        )

    def quarantine_floods(
        self, scan_id: int, entry_ids: t.Iterable[int], limit: int
    ) -> list[int]:
        return quarantine_floods(self.engine, scan_id, entry_ids, limit)

    # models

    def link_models(self, scan_id: int) -> int:
        return link_models(self.engine, scan_id)

    def model_links(self, scan_id: int) -> list[ModelLinkInfo]:
        return scan_links(self.engine, scan_id)

    # items

    def items(self, query: ItemQuery) -> Page:
        with Session(self.engine) as session:
            return item_page(session, query)

    def item(self, sha256: str) -> ItemView | None:
        with Session(self.engine) as session:
            item_id = session.scalar(select(ItemRow.id).where(ItemRow.sha256 == sha256))
            if item_id is None:
                return None
            return load_items(session, [item_id], None)[0]

    def errors(self, scan_id: int) -> list[ErrorView]:
        with Session(self.engine) as session:
            return scan_errors(session, scan_id)


_HOST = socket.gethostname()[:255]


def _same(column: t.Any, value: t.Any) -> t.Any:
    return column.is_(None) if value is None else column == value


def _is_gone(pid: int | None, host: str | None) -> bool:
    """Whether a scan's recorded owner has ended (killed, crashed): only a process
    on this machine can be checked; one elsewhere is taken to be alive."""
    if pid is None:
        return True
    if host != _HOST:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    try:  # a zombie is gone for our purposes
        state = (
            pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        )
    except (OSError, IndexError):
        return False
    return state == "Z"


def _scan_info(row: ScanRow) -> ScanInfo:
    return ScanInfo(
        id=row.id,
        key=row.key,
        roots=tuple(json.loads(row.roots)),
        options=json.loads(row.options),
        status=ScanStatus(row.status),
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
