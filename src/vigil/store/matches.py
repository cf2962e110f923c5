"""Matches in the store: load the Matcher from the lists, record results, stop floods.

Flood rule (hash-lists issue): an entry that suddenly matches many distinct items is
quarantined for review and its matches are held. "Suddenly" is one scan: more than
`FLOOD_MAX_DISTINCT_ITEMS` distinct items matched by one entry in one scan.
"""

import typing as t

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from vigil.hashing.types import BUILTIN, HashTypes
from vigil.matching.index import make_index
from vigil.matching.matcher import (
    EntryRef,
    IndexFactory,
    ListRef,
    Matcher,
    MatchReason,
    MatchResult,
    Verdict,
)
from vigil.store.hashlists import list_thresholds
from vigil.store.models import HashEntryRow, HashListRow, MatchRow, utcnow

# One entry matching dozens of distinct items in one scan is far more likely a colliding
# or poisoned entry than dozens of near-copies of one image; 50 keeps real mass
# distribution (which shares exact bytes, hence one item) well clear of it.
FLOOD_MAX_DISTINCT_ITEMS = 50
LOAD_BATCH_ROWS = 10_000  # rows fetched at a time when loading lists


def load_matcher(
    engine: Engine,
    list_names: t.Sequence[str] | None = None,
    *,
    hash_types: HashTypes = BUILTIN,
    index_factory: IndexFactory = make_index,
) -> Matcher:
    """A Matcher over the named lists (default: every list that is not a suppression
    list), with every suppression list's hashes suppressed. `hash_types` and
    `index_factory` come from the registry, so registered hash types are matched."""
    with Session(engine) as session:
        rows = session.scalars(select(HashListRow)).all()
        known = {row.name for row in rows}
        missing = sorted(set(list_names or ()) - known)
        if missing:
            raise LookupError(f"no hash list named {', '.join(map(repr, missing))}")
        chosen = [
            row
            for row in rows
            if not row.is_suppression and (list_names is None or row.name in list_names)
        ]
        suppression_ids = [row.id for row in rows if row.is_suppression]
        suppressed = session.execute(
            select(HashEntryRow.hash_type, HashEntryRow.value).where(
                HashEntryRow.list_id.in_(suppression_ids)
            )
        ).all()
        entries = session.execute(
            select(
                HashEntryRow.id,
                HashEntryRow.list_id,
                HashEntryRow.hash_type,
                HashEntryRow.value,
                HashEntryRow.category,
                HashEntryRow.ai_generated,
                HashEntryRow.source,
                HashEntryRow.status,
            )
            .where(HashEntryRow.list_id.in_([row.id for row in chosen]))
            .execution_options(yield_per=LOAD_BATCH_ROWS)
        )
        return Matcher(
            lists=[
                ListRef(r.id, r.name, r.version, list_thresholds(r), r.pdq_pipeline)
                for r in chosen
            ],
            entries=(
                EntryRef(
                    id=entry_id,
                    list_id=list_id,
                    hash_type=hash_type,
                    value=value,
                    category=category,
                    ai_generated=ai_generated,
                    source=source,
                    is_quarantined=status == "quarantined",
                )
                for (
                    entry_id,
                    list_id,
                    hash_type,
                    value,
                    category,
                    ai_generated,
                    source,
                    status,
                ) in entries
            ),
            suppressed=[(hash_type, value) for hash_type, value in suppressed],
            hash_types=hash_types,
            index_factory=index_factory,
        )


def add_matches(
    session: Session, scan_id: int, item_id: int, results: t.Iterable[MatchResult]
) -> None:
    """Record results for one item inside the caller's transaction, once per scan
    (an item seen in several places is matched once)."""
    now = utcnow()
    recorded = {
        (entry_id, hasher, variant)
        for entry_id, hasher, variant in session.execute(
            select(MatchRow.entry_id, MatchRow.query_hasher, MatchRow.variant).where(
                MatchRow.scan_id == scan_id, MatchRow.item_id == item_id
            )
        )
    }
    for result in results:
        key = (result.entry.id, result.query.hasher, result.query.variant)
        if key in recorded:
            continue
        recorded.add(key)
        session.add(
            MatchRow(
                scan_id=scan_id,
                item_id=item_id,
                entry_id=result.entry.id,
                list_id=result.hash_list.id,
                list_version=result.hash_list.version,
                query_hasher=result.query.hasher,
                query_pipeline=result.query.pipeline,
                variant=result.query.variant,
                distance=result.distance,
                threshold_bits=result.threshold_bits,
                query_quality=result.query.quality,
                verdict=result.verdict.value,
                reason=None if result.reason is None else result.reason.value,
                recorded_at=now,
            )
        )


def quarantine_floods(
    engine: Engine,
    scan_id: int,
    entry_ids: t.Iterable[int],
    limit: int = FLOOD_MAX_DISTINCT_ITEMS,
) -> list[int]:
    """Quarantine entries past the flood limit in this scan; hold their matches."""
    ids = sorted(set(entry_ids))
    if not ids:
        return []
    with Session(engine) as session, session.begin():
        flooding = [
            entry_id
            for entry_id, distinct in session.execute(
                select(MatchRow.entry_id, func.count(func.distinct(MatchRow.item_id)))
                .where(MatchRow.scan_id == scan_id, MatchRow.entry_id.in_(ids))
                .where(MatchRow.verdict != Verdict.NEAR_REVIEW.value)
                .group_by(MatchRow.entry_id)
            ).all()
            if distinct > limit
        ]
        if flooding:
            session.execute(
                update(HashEntryRow)
                .where(HashEntryRow.id.in_(flooding))
                .values(status="quarantined")
            )
            session.execute(
                update(MatchRow)
                .where(
                    MatchRow.entry_id.in_(flooding),
                    MatchRow.verdict == Verdict.MATCH.value,
                )
                .values(
                    verdict=Verdict.HELD.value, reason=MatchReason.QUARANTINED.value
                )
            )
        return flooding


def scan_match_counts(engine: Engine, scan_id: int) -> dict[str, int]:
    with Session(engine) as session:
        return dict(
            session.execute(
                select(MatchRow.verdict, func.count(func.distinct(MatchRow.item_id)))
                .where(MatchRow.scan_id == scan_id)
                .group_by(MatchRow.verdict)
            ).all()
        )
