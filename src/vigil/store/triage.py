"""What the analyst half writes: clusters across scans, assessments (append-only),
propagations of a representative's assessment to its cluster, and queue claims.

Assessments are never updated or deleted. Which one holds for an item is worked out
when reading: the newest that no other row supersedes, that is not a second opinion,
and whose propagation (if it came from one) was not undone. Undoing a propagation is
the one update, and it is to the propagation's own row.
"""

import datetime as dt
import json
import typing as t

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from vigil.store.models import (
    AssessmentRow,
    ClusterMemberRow,
    ClusterRow,
    ItemRow,
    LocationRow,
    PropagationRow,
    QueueStateRow,
    utcnow,
)
from vigil.store.records import (
    AssessmentSource,
    AssessmentView,
    Claim,
    ClusterChange,
    ClusterView,
    NewAssessment,
    PropagationView,
)

#: A claim older than this is free for another analyst: whoever held it has gone
#: (a session of viewing is never longer: hotlines break every hour).
CLAIM_EXPIRY = dt.timedelta(minutes=30)
MAX_ANALYST_CHARS = 128
CLAIMED = "claimed"
SECOND_OPINION = "second_opinion"
#: Above this many ids a query reads every row and filters here: SQLite's default
#: limit on bound parameters is 32,766.
MAX_BOUND_IDS = 10_000


class TriageError(Exception):
    """A triage or review write was refused (unknown item, assessment or cluster;
    a claim held by someone else; a propagation already undone)."""


class TriageStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def exclusive(self) -> t.ContextManager[None]:
        """Held while triage state is brought up to date, so that two commands
        started together never both create the same clusters or labels."""
        from vigil.store.migrate import POSTGRES_TRIAGE_LOCK_KEY, exclusive

        return exclusive(self.engine, "triage", POSTGRES_TRIAGE_LOCK_KEY)

    # clusters

    def clusters(self, kind: str | None = None) -> list[ClusterView]:
        """Every cluster that was not merged into another, largest first."""
        with Session(self.engine) as session:
            query = select(ClusterRow).where(ClusterRow.merged_into_id.is_(None))
            if kind is not None:
                query = query.where(ClusterRow.kind == kind)
            rows = list(session.scalars(query))
            views = _cluster_views(session, rows)
        return sorted(views, key=lambda c: (-c.size, c.id))

    def clusters_of(self, item_id: int) -> list[ClusterView]:
        """The clusters (not merged into another) that hold this item."""
        with Session(self.engine) as session:
            rows = list(
                session.scalars(
                    select(ClusterRow)
                    .join(
                        ClusterMemberRow, ClusterMemberRow.cluster_id == ClusterRow.id
                    )
                    .where(
                        ClusterMemberRow.item_id == item_id,
                        ClusterRow.merged_into_id.is_(None),
                    )
                )
            )
            return _cluster_views(session, rows)

    def cluster(self, cluster_id: int) -> ClusterView | None:
        with Session(self.engine) as session:
            row = session.get(ClusterRow, cluster_id)
            return _cluster_views(session, [row])[0] if row else None

    def save_clusters(
        self, changes: t.Sequence[ClusterChange], scan_id: int | None = None
    ) -> list[int]:
        """Store what triage found, in one transaction: new clusters, members added
        to stored ones, and stored clusters merged into the one that absorbs them.
        Members are only ever added. Returns each change's cluster id."""
        now = utcnow()
        ids: list[int] = []
        with Session(self.engine) as session, session.begin():
            for change in changes:
                if change.cluster_id is None:
                    row = ClusterRow(
                        kind=change.kind,
                        key=change.key,
                        representative_item_id=change.representative,
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(row)
                    session.flush()
                    have: set[int] = set()
                else:
                    found = session.get(ClusterRow, change.cluster_id)
                    if found is None:
                        raise TriageError(f"no cluster {change.cluster_id}")
                    row = found
                    row.key = change.key
                    row.representative_item_id = change.representative
                    row.updated_at = now
                    have = set(
                        session.scalars(
                            select(ClusterMemberRow.item_id).where(
                                ClusterMemberRow.cluster_id == row.id
                            )
                        )
                    )
                session.add_all(
                    ClusterMemberRow(
                        cluster_id=row.id,
                        item_id=item,
                        added_scan_id=scan_id,
                        added_at=now,
                    )
                    for item in change.members
                    if item not in have
                )
                if change.absorbs:
                    session.execute(
                        update(ClusterRow)
                        .where(ClusterRow.id.in_(change.absorbs))
                        .values(merged_into_id=row.id, updated_at=now)
                    )
                ids.append(row.id)
        return ids

    # assessments

    def add_assessment(self, new: NewAssessment) -> AssessmentView:
        """Record one assessment.

        Raises:
            TriageError: unknown item; `supersedes` or `second_opinion_of` names an
                assessment of another item or none.
        """
        with Session(self.engine) as session, session.begin():
            if session.get(ItemRow, new.item_id) is None:
                raise TriageError(f"no item {new.item_id}")
            for name, other in (
                ("supersedes", new.supersedes),
                ("second opinion of", new.second_opinion_of),
            ):
                if other is None:
                    continue
                target = session.get(AssessmentRow, other)
                if target is None or target.item_id != new.item_id:
                    raise TriageError(
                        f"{name} {other}: no such assessment of this item"
                    )
            row = _assessment_row(new, utcnow())
            session.add(row)
            session.flush()
            row_id = row.id
        return self.assessments(ids=[row_id])[0]

    def assessments(
        self,
        *,
        item_ids: t.Iterable[int] | None = None,
        scan_id: int | None = None,
        ids: t.Iterable[int] | None = None,
        active_only: bool = False,
    ) -> list[AssessmentView]:
        """Assessments in the order they were made; of some items, of the items of
        one scan, or by id."""
        with Session(self.engine) as session:
            query = select(AssessmentRow, ItemRow.sha256).join(
                ItemRow, ItemRow.id == AssessmentRow.item_id
            )
            wanted = None if item_ids is None else set(item_ids)
            if wanted is not None and len(wanted) <= MAX_BOUND_IDS:
                query = query.where(AssessmentRow.item_id.in_(sorted(wanted)))
            if ids is not None:
                query = query.where(AssessmentRow.id.in_(list(ids)))
            if scan_id is not None:
                in_scan = select(LocationRow.item_id).where(
                    LocationRow.scan_id == scan_id
                )
                query = query.where(AssessmentRow.item_id.in_(in_scan))
            rows = [
                (row, sha)
                for row, sha in session.execute(query.order_by(AssessmentRow.id))
                if wanted is None or row.item_id in wanted
            ]
            inactive = _inactive(session, [r for r, _ in rows])
        views = [_assessment_view(r, sha, r.id not in inactive) for r, sha in rows]
        return [v for v in views if v.active] if active_only else views

    def current(
        self, item_ids: t.Iterable[int] | None = None
    ) -> dict[int, AssessmentView]:
        """The assessment that holds for each assessed item (the newest active one)."""
        found: dict[int, AssessmentView] = {}
        for view in self.assessments(item_ids=item_ids, active_only=True):
            found[view.item_id] = view  # in id order: the newest wins
        return found

    # propagation

    def propagate(
        self, cluster_id: int, assessment_id: int, analyst: str
    ) -> PropagationView:
        """Apply an assessment of one member (the representative, or the member
        that stands for the cluster once the representative is decided) to every
        other member that has no assessment of its own yet, recorded as propagated.
        Which members may carry a decision is triage's rule
        (`vigil.triage.assess.carried_clusters`).

        Raises:
            TriageError: unknown cluster or assessment, or the assessment is not of
                a member of the cluster or no longer holds.
        """
        cluster = self.cluster(cluster_id)
        if cluster is None:
            raise TriageError(f"no cluster {cluster_id}")
        source = self.assessments(ids=[assessment_id])
        if not source:
            raise TriageError(f"no assessment {assessment_id}")
        origin = source[0]
        if origin.item_id not in cluster.members:
            raise TriageError(
                f"assessment {assessment_id} is not of a member of cluster {cluster_id}"
            )
        if not origin.active:
            raise TriageError(f"assessment {assessment_id} no longer holds")
        held = self.current(cluster.members)
        targets = [m for m in cluster.members if m != origin.item_id and m not in held]
        now = utcnow()
        with Session(self.engine) as session, session.begin():
            row = PropagationRow(
                cluster_id=cluster_id,
                assessment_id=assessment_id,
                analyst=analyst[:MAX_ANALYST_CHARS],
                created_at=now,
            )
            session.add(row)
            session.flush()
            for item in targets:
                copy = _assessment_row(
                    NewAssessment(
                        item_id=item,
                        analyst=analyst,
                        observations=origin.observations,
                        derived=origin.derived,
                        mapping_version=origin.mapping_version,
                        source=AssessmentSource.PROPAGATED,
                        note=f"from assessment {assessment_id} of cluster {cluster_id}",
                    ),
                    now,
                )
                copy.propagation_id = row.id
                session.add(copy)
            propagation_id = row.id
        return self.propagations(ids=[propagation_id])[0]

    def undo_propagation(self, propagation_id: int, analyst: str) -> PropagationView:
        """The assessments a propagation made stop holding (they stay recorded),
        and so do those of every propagation made from them (a decision carried on
        to the clusters its members represent), in one transaction.

        Raises:
            TriageError: no such propagation, or it was undone already.
        """
        now = utcnow()
        with Session(self.engine) as session, session.begin():
            row = session.get(PropagationRow, propagation_id)
            if row is None:
                raise TriageError(f"no propagation {propagation_id}")
            if row.undone_at is not None:
                raise TriageError(f"propagation {propagation_id} was undone already")
            pending = [row]
            while pending:
                current = pending.pop()
                current.undone_at = now
                current.undone_by = analyst[:MAX_ANALYST_CHARS]
                made = select(AssessmentRow.id).where(
                    AssessmentRow.propagation_id == current.id
                )
                pending.extend(
                    session.scalars(
                        select(PropagationRow).where(
                            PropagationRow.assessment_id.in_(made),
                            PropagationRow.undone_at.is_(None),
                        )
                    )
                )
        return self.propagations(ids=[propagation_id])[0]

    def propagations(
        self, *, cluster_id: int | None = None, ids: t.Iterable[int] | None = None
    ) -> list[PropagationView]:
        with Session(self.engine) as session:
            query = select(PropagationRow).order_by(PropagationRow.id)
            if cluster_id is not None:
                query = query.where(PropagationRow.cluster_id == cluster_id)
            if ids is not None:
                query = query.where(PropagationRow.id.in_(list(ids)))
            rows = list(session.scalars(query))
            items: dict[int, list[int]] = {r.id: [] for r in rows}
            if rows:
                made = session.execute(
                    select(AssessmentRow.propagation_id, AssessmentRow.item_id)
                    .where(AssessmentRow.propagation_id.in_(list(items)))
                    .order_by(AssessmentRow.id)
                )
                for propagation, item in made:
                    items[t.cast(int, propagation)].append(item)
        return [
            PropagationView(
                id=r.id,
                cluster_id=r.cluster_id,
                assessment_id=r.assessment_id,
                analyst=r.analyst,
                created_at=_aware(r.created_at),
                undone_at=_aware(r.undone_at) if r.undone_at else None,
                undone_by=r.undone_by,
                items=tuple(items[r.id]),
            )
            for r in rows
        ]

    # queue claims

    def claim(self, item_id: int, analyst: str) -> Claim:
        """Mark an item as open by `analyst` (again, for the same analyst).

        Raises:
            TriageError: another analyst has it open (for less than CLAIM_EXPIRY).
        """
        now = utcnow()
        with Session(self.engine) as session, session.begin():
            if session.get(ItemRow, item_id) is None:
                raise TriageError(f"no item {item_id}")
            row = session.scalars(
                select(QueueStateRow).where(QueueStateRow.item_id == item_id)
            ).first()
            if row is None:
                row = QueueStateRow(item_id=item_id, state=CLAIMED)
                session.add(row)
            elif row.state != CLAIMED:
                return Claim(item_id, analyst, now)  # waits for a second opinion
            elif row.analyst != analyst and now - _aware(row.since) < CLAIM_EXPIRY:
                raise TriageError(f"item {item_id} is open by {row.analyst}")
            row.analyst = analyst[:MAX_ANALYST_CHARS]
            row.since = now
        return Claim(item_id, analyst, now)

    def release(self, item_id: int, analyst: str) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.scalars(
                select(QueueStateRow).where(QueueStateRow.item_id == item_id)
            ).first()
            if row is not None and row.state == CLAIMED and row.analyst == analyst:
                session.delete(row)

    # second opinions

    def ask_second_opinion(self, assessment_id: int, analyst: str) -> None:
        """Mark an assessment as waiting for a second opinion (a supervisor
        settles it).

        Raises:
            TriageError: no such assessment.
        """
        with Session(self.engine) as session, session.begin():
            made = session.get(AssessmentRow, assessment_id)
            if made is None:
                raise TriageError(f"no assessment {assessment_id}")
            row = session.scalars(
                select(QueueStateRow).where(QueueStateRow.item_id == made.item_id)
            ).first()
            if row is None:
                row = QueueStateRow(item_id=made.item_id)
                session.add(row)
            row.state = SECOND_OPINION
            row.analyst = analyst[:MAX_ANALYST_CHARS]
            row.since = utcnow()
            row.assessment_id = assessment_id

    def second_opinions(self) -> list[tuple[int, int, str, dt.datetime]]:
        """Waiting requests, oldest first: (item, assessment, who asked, since)."""
        with Session(self.engine) as session:
            rows = list(
                session.scalars(
                    select(QueueStateRow)
                    .where(QueueStateRow.state == SECOND_OPINION)
                    .order_by(QueueStateRow.since)
                )
            )
        return [
            (r.item_id, t.cast(int, r.assessment_id), r.analyst, _aware(r.since))
            for r in rows
        ]

    def settle(self, item_id: int) -> None:
        """The item's second opinion is settled: it waits no more."""
        with Session(self.engine) as session, session.begin():
            row = session.scalars(
                select(QueueStateRow).where(
                    QueueStateRow.item_id == item_id,
                    QueueStateRow.state == SECOND_OPINION,
                )
            ).first()
            if row is not None:
                session.delete(row)

    def claims(self) -> dict[int, Claim]:
        """Items open now, by item id (expired claims left out)."""
        now = utcnow()
        with Session(self.engine) as session:
            rows = list(
                session.scalars(
                    select(QueueStateRow).where(QueueStateRow.state == CLAIMED)
                )
            )
        return {
            r.item_id: Claim(r.item_id, r.analyst, _aware(r.since))
            for r in rows
            if now - _aware(r.since) < CLAIM_EXPIRY
        }


def _assessment_row(new: NewAssessment, now: dt.datetime) -> AssessmentRow:
    return AssessmentRow(
        item_id=new.item_id,
        analyst=new.analyst[:MAX_ANALYST_CHARS],
        created_at=now,
        source=str(new.source),
        observations=json.dumps(new.observations, sort_keys=True),
        derived=json.dumps(new.derived, sort_keys=True),
        mapping_version=new.mapping_version,
        seconds=new.seconds,
        supersedes_id=new.supersedes,
        second_opinion_of_id=new.second_opinion_of,
        note=new.note,
    )


def _inactive(session: Session, rows: t.Sequence[AssessmentRow]) -> set[int]:
    """Of these rows, the ones that no longer hold. Reads every supersedes link and
    every undone propagation (few, and no parameter list grows with the rows)."""
    if not rows:
        return set()
    superseded = set(
        session.scalars(
            select(AssessmentRow.supersedes_id).where(
                AssessmentRow.supersedes_id.is_not(None)
            )
        )
    )
    undone = set(
        session.scalars(
            select(PropagationRow.id).where(PropagationRow.undone_at.is_not(None))
        )
    )
    return {
        r.id
        for r in rows
        if r.id in superseded
        or r.second_opinion_of_id is not None
        or r.propagation_id in undone
    }


def _assessment_view(row: AssessmentRow, sha256: str, active: bool) -> AssessmentView:
    return AssessmentView(
        id=row.id,
        item_id=row.item_id,
        sha256=sha256,
        analyst=row.analyst,
        created_at=_aware(row.created_at),
        source=row.source,
        observations=json.loads(row.observations),
        derived=json.loads(row.derived),
        mapping_version=row.mapping_version,
        seconds=row.seconds,
        supersedes=row.supersedes_id,
        second_opinion_of=row.second_opinion_of_id,
        propagation=row.propagation_id,
        note=row.note,
        active=active,
    )


def _cluster_views(session: Session, rows: t.Sequence[ClusterRow]) -> list[ClusterView]:
    members: dict[int, list[int]] = {r.id: [] for r in rows}
    if rows:
        for cluster, item in session.execute(
            select(ClusterMemberRow.cluster_id, ClusterMemberRow.item_id)
            .where(ClusterMemberRow.cluster_id.in_(list(members)))
            .order_by(ClusterMemberRow.id)
        ):
            members[cluster].append(item)
    views = []
    for row in rows:
        others = [m for m in members[row.id] if m != row.representative_item_id]
        views.append(
            ClusterView(
                id=row.id,
                kind=row.kind,
                key=row.key,
                representative=row.representative_item_id,
                members=(row.representative_item_id, *others),
                created_at=_aware(row.created_at),
                updated_at=_aware(row.updated_at),
                merged_into=row.merged_into_id,
            )
        )
    return views


def _aware(when: dt.datetime) -> dt.datetime:
    """SQLite gives naive datetimes back; every time stored is UTC."""
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
