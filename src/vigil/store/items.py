"""Reading items back: a page of items with everything recorded about them.

Each page loads its items' locations, hashes, matches, evidence, generation records,
scores and errors in one query per table (never one per item), so listing a scan of
a million items costs a few thousand queries, not millions.
"""

import json
import typing as t

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from vigil.hashing.base import HashResult
from vigil.hashing.model import ModelHash, ModelHashKind
from vigil.media.names import from_text, to_text
from vigil.provenance.base import (
    Evidence,
    EvidenceKind,
    GenerationRecord,
    LoRA,
    Strength,
)
from vigil.store.models import (
    ErrorRow,
    EvidenceRow,
    GenerationRow,
    HashEntryRow,
    HashListRow,
    HashRow,
    ItemRow,
    LocationRow,
    MatchRow,
)
from vigil.store.records import (
    ErrorView,
    ItemQuery,
    ItemView,
    Location,
    MatchView,
    Page,
)
from vigil.store.scores import item_scores

MAX_PAGE_ITEMS = 5_000  # a page is loaded whole; bigger requests are capped


def item_page(session: Session, query: ItemQuery) -> Page:
    limit = max(1, min(query.limit, MAX_PAGE_ITEMS))
    ids: list[int] = list(
        session.scalars(_selected(query).order_by(ItemRow.id).limit(limit + 1)).all()
    )
    more = len(ids) > limit
    ids = ids[:limit]
    views = load_items(session, ids, query.scan_id)
    return Page(items=tuple(views), next_after_id=ids[-1] if more else None)


def _selected(query: ItemQuery) -> Select[t.Any]:
    chosen = select(ItemRow.id).where(ItemRow.id > query.after_id)
    if query.item_ids is not None:
        chosen = chosen.where(ItemRow.id.in_(sorted(query.item_ids)))
    if query.scan_id is not None:
        chosen = chosen.where(
            exists().where(
                LocationRow.item_id == ItemRow.id, LocationRow.scan_id == query.scan_id
            )
        )
    if query.matched:
        matched = exists().where(
            MatchRow.item_id == ItemRow.id, MatchRow.verdict == "match"
        )
        if query.scan_id is not None:
            matched = matched.where(MatchRow.scan_id == query.scan_id)
        chosen = chosen.where(matched)
    if query.ai:
        chosen = chosen.where(
            exists().where(
                EvidenceRow.item_id == ItemRow.id,
                EvidenceRow.kind == EvidenceKind.AI_GENERATED.value,
            )
        )
    if query.errors:
        erred = exists().where(
            LocationRow.item_id == ItemRow.id,
            ErrorRow.scan_id == LocationRow.scan_id,
            ErrorRow.path == LocationRow.path,
            ErrorRow.member_path == LocationRow.member_path,
        )
        if query.scan_id is not None:
            erred = erred.where(LocationRow.scan_id == query.scan_id)
        chosen = chosen.where(erred)
    return chosen


def load_items(
    session: Session, ids: t.Sequence[int], scan_id: int | None
) -> list[ItemView]:
    """Full views of the given items (locations, matches and errors of one scan, or of
    every scan when `scan_id` is None)."""
    if not ids:
        return []
    rows = {
        row.id: row
        for row in session.scalars(select(ItemRow).where(ItemRow.id.in_(ids)))
    }
    places = _places(session, ids, scan_id)
    hashes = _hashes(session, ids)
    matches = _matches(session, ids, scan_id)
    evidence = _evidence(session, ids)
    records = _generation(session, ids)
    scores = item_scores(session, ids)
    errors = _errors(session, places)
    views = []
    for item_id in ids:
        row = rows[item_id]
        item_places = places.get(item_id, [])
        views.append(
            ItemView(
                item_id=item_id,
                sha256=row.sha256,
                size=row.size,
                kind=row.kind,
                width=row.width,
                height=row.height,
                locations=tuple(item_places),
                hashes=tuple(hashes.get(item_id, [])),
                matches=tuple(matches.get(item_id, [])),
                evidence=tuple(evidence.get(item_id, [])),
                generation=records.get(item_id),
                scores=tuple(scores.get(item_id, [])),
                errors=tuple(
                    e
                    for p in item_places
                    for e in errors.get((p.scan_id, p.path, p.member_path), [])
                ),
            )
        )
    return views


def _places(
    session: Session, ids: t.Sequence[int], scan_id: int | None
) -> dict[int, list[Location]]:
    query = select(
        LocationRow.item_id,
        LocationRow.scan_id,
        LocationRow.path,
        LocationRow.member_path,
    ).where(LocationRow.item_id.in_(ids))
    if scan_id is not None:
        query = query.where(LocationRow.scan_id == scan_id)
    found: dict[int, list[Location]] = {}
    for item_id, scan, path, member in session.execute(
        query.order_by(LocationRow.path, LocationRow.member_path, LocationRow.scan_id)
    ):
        found.setdefault(item_id, []).append(
            Location(scan, from_text(path), from_text(member))
        )
    return found


def _hashes(session: Session, ids: t.Sequence[int]) -> dict[int, list[HashResult]]:
    found: dict[int, list[HashResult]] = {}
    rows = session.scalars(
        select(HashRow)
        .where(HashRow.item_id.in_(ids))
        .order_by(HashRow.item_id, HashRow.hasher, HashRow.pipeline)
    )
    for row in rows:
        found.setdefault(row.item_id, []).append(
            HashResult(
                row.hasher, row.value, row.pipeline, row.quality, row.is_reliable
            )
        )
    return found


def _matches(
    session: Session, ids: t.Sequence[int], scan_id: int | None
) -> dict[int, list[MatchView]]:
    query = (
        select(MatchRow, HashEntryRow, HashListRow.name)
        .join(HashEntryRow, HashEntryRow.id == MatchRow.entry_id)
        .join(HashListRow, HashListRow.id == MatchRow.list_id)
        .where(MatchRow.item_id.in_(ids))
    )
    if scan_id is not None:
        query = query.where(MatchRow.scan_id == scan_id)
    found: dict[int, list[MatchView]] = {}
    order = {"match": 0, "held": 1, "near_review": 2}
    for match, entry, list_name in session.execute(query):
        found.setdefault(match.item_id, []).append(
            MatchView(
                scan_id=match.scan_id,
                hash_list=list_name,
                list_version=match.list_version,
                hash_type=entry.hash_type,
                entry=entry.value,
                variant=match.variant,
                distance=match.distance,
                threshold_bits=match.threshold_bits,
                verdict=match.verdict,
                category=entry.category,
                ai_generated=entry.ai_generated,
                reason=match.reason,
            )
        )
    for views in found.values():
        views.sort(
            key=lambda m: (order.get(m.verdict, 3), m.distance, m.hash_list, m.entry)
        )
    return found


def _evidence(session: Session, ids: t.Sequence[int]) -> dict[int, list[Evidence]]:
    found: dict[int, list[Evidence]] = {}
    rows = session.scalars(
        select(EvidenceRow).where(EvidenceRow.item_id.in_(ids)).order_by(EvidenceRow.id)
    )
    for row in rows:
        found.setdefault(row.item_id, []).append(
            Evidence(
                kind=EvidenceKind(row.kind),
                source=row.source,
                strength=Strength(row.strength),
                summary=row.summary,
                extractor=row.extractor,
                details=json.loads(row.details),
            )
        )
    return found


def _generation(session: Session, ids: t.Sequence[int]) -> dict[int, GenerationRecord]:
    found: dict[int, GenerationRecord] = {}
    for row in session.scalars(
        select(GenerationRow).where(GenerationRow.item_id.in_(ids))
    ):
        found[row.item_id] = generation_record(row)
    return found


def generation_record(row: GenerationRow) -> GenerationRecord:
    """The stored record as the extractors made it (text as clipped for storage)."""
    model_hash = None
    kinds = {kind.value for kind in ModelHashKind}
    if row.model_hash and row.model_hash_kind and row.model_hash_kind in kinds:
        model_hash = ModelHash(ModelHashKind(row.model_hash_kind), row.model_hash)
    return GenerationRecord(
        tool=row.tool,
        source=row.source,
        tool_version=row.tool_version,
        prompt=row.prompt,
        negative_prompt=row.negative_prompt,
        seed=int(row.seed) if row.seed and row.seed.isdigit() else None,
        steps=row.steps,
        sampler=row.sampler,
        cfg_scale=row.cfg_scale,
        width=row.width,
        height=row.height,
        model_name=row.model_name,
        model_hash=model_hash,
        loras=tuple(
            _lora(data)
            for data in json.loads(row.loras or "[]")
            if isinstance(data, dict)
        ),
        other_models=tuple(str(name) for name in json.loads(row.other_models or "[]")),
        extra=json.loads(row.extra or "{}"),
    )


def _lora(data: dict[str, t.Any]) -> LoRA:
    digest = data.get("hash")
    model_hash = None
    if (
        isinstance(digest, dict)
        and digest.get("kind") in ModelHashKind.__members__.values()
    ):
        model_hash = ModelHash(ModelHashKind(digest["kind"]), str(digest.get("value")))
    weight = data.get("weight")
    return LoRA(
        name=str(data.get("name")),
        weight=float(weight) if isinstance(weight, int | float) else None,
        hash=model_hash,
        kind=str(data.get("kind") or "lora"),
    )


def _errors(
    session: Session, places: dict[int, list[Location]]
) -> dict[tuple[int, str, str], list[ErrorView]]:
    scans_paths = {(p.scan_id, p.path) for ps in places.values() for p in ps}
    if not scans_paths:
        return {}
    found: dict[tuple[int, str, str], list[ErrorView]] = {}
    paths = sorted({to_text(path) for _scan, path in scans_paths})
    for row in session.scalars(
        select(ErrorRow).where(ErrorRow.path.in_(paths)).order_by(ErrorRow.id)
    ):
        path, member = from_text(row.path), from_text(row.member_path)
        if (row.scan_id, path) not in scans_paths:
            continue
        found.setdefault((row.scan_id, path, member), []).append(
            ErrorView(row.scan_id, path, member, row.reason, row.message)
        )
    return found


def scan_errors(session: Session, scan_id: int) -> list[ErrorView]:
    rows = session.scalars(
        select(ErrorRow)
        .where(ErrorRow.scan_id == scan_id)
        .order_by(ErrorRow.path, ErrorRow.member_path, ErrorRow.id)
    )
    return [
        ErrorView(
            row.scan_id,
            from_text(row.path),
            from_text(row.member_path),
            row.reason,
            row.message,
        )
        for row in rows
    ]
