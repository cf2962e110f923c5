"""Writing and reading provenance evidence and generation records.

Evidence belongs to an item (its content), not to a place or a scan: the same bytes
seen twice keep the evidence recorded the first time, unless an extractor that had
not run on them before adds its own.
"""

import datetime as dt
import json
import typing as t

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from vigil.pipeline.records import ItemObservation
from vigil.pipeline.stages.prompt import PROMPT_RISK
from vigil.provenance.base import EvidenceKind
from vigil.store.models import EvidenceRow, GenerationRow, LocationRow, ScoreRow
from vigil.store.records import ProvenanceCounts


@t.overload
def clip(value: str, length: int) -> str: ...
@t.overload
def clip(value: None, length: int) -> None: ...
def clip(value: str | None, length: int) -> str | None:
    """Fit untrusted text into a bounded column (PostgreSQL refuses longer values,
    which would abort the file's transaction); a clipped value ends with an
    ellipsis so it is never mistaken for the original."""
    if value is None:
        return None
    value = text(value)
    if len(value) <= length:
        return value
    return value[: length - 1] + "\u2026"


@t.overload
def text(value: str) -> str: ...
@t.overload
def text(value: None) -> None: ...
def text(value: str | None) -> str | None:
    """Untrusted text fit for any database: NUL (which PostgreSQL text refuses)
    becomes U+FFFD."""
    return None if value is None else value.replace("\x00", "\ufffd")


def add_provenance(
    session: Session, item_id: int, observation: ItemObservation, now: dt.datetime
) -> None:
    """Add evidence from extractors not yet recorded for the item, and its
    generation record if it has none."""
    if observation.evidence:
        done = set(
            session.scalars(
                select(EvidenceRow.extractor).where(EvidenceRow.item_id == item_id)
            )
        )
        for evidence in observation.evidence:
            if evidence.extractor in done:
                continue
            session.add(
                EvidenceRow(
                    item_id=item_id,
                    extractor=clip(evidence.extractor, 64),
                    kind=evidence.kind.value,
                    source=clip(evidence.source, 128),
                    strength=evidence.strength.value,
                    summary=text(evidence.summary),
                    details=json.dumps(evidence.details, ensure_ascii=False),
                    recorded_at=now,
                )
            )
    record = observation.generation
    if record is None:
        return
    exists = session.scalar(
        select(GenerationRow.id).where(GenerationRow.item_id == item_id)
    )
    if exists is not None:
        return
    session.add(
        GenerationRow(
            item_id=item_id,
            tool=clip(record.tool, 64),
            tool_version=clip(record.tool_version, 128),
            source=clip(record.source, 128),
            prompt=text(record.prompt),
            negative_prompt=text(record.negative_prompt),
            seed=None if record.seed is None else clip(str(record.seed), 32),
            steps=record.steps,
            sampler=clip(record.sampler, 128),
            cfg_scale=record.cfg_scale,
            width=record.width,
            height=record.height,
            model_name=text(record.model_name),
            model_hash=clip(record.model_hash.value, 64) if record.model_hash else None,
            model_hash_kind=record.model_hash.kind.value if record.model_hash else None,
            loras=json.dumps([lora.as_dict() for lora in record.loras]),
            other_models=json.dumps(list(record.other_models), ensure_ascii=False),
            extra=json.dumps(dict(record.extra), ensure_ascii=False),
            recorded_at=now,
        )
    )


def scan_provenance_counts(engine: Engine, scan_id: int) -> ProvenanceCounts:
    items_in_scan = (
        select(LocationRow.item_id).where(LocationRow.scan_id == scan_id).distinct()
    )
    with Session(engine) as session:
        ai_items = session.scalar(
            select(func.count(func.distinct(EvidenceRow.item_id))).where(
                EvidenceRow.item_id.in_(items_in_scan),
                EvidenceRow.kind == EvidenceKind.AI_GENERATED.value,
            )
        )
        records = session.scalar(
            select(func.count()).where(GenerationRow.item_id.in_(items_in_scan))
        )
        by_decision = dict(
            session.execute(
                select(ScoreRow.level, func.count())
                .where(
                    ScoreRow.item_id.in_(items_in_scan),
                    ScoreRow.name == PROMPT_RISK,
                )
                .group_by(ScoreRow.level)
            ).all()
        )
    return ProvenanceCounts(
        ai_items=int(ai_items or 0),
        generation_records=int(records or 0),
        prompts_by_decision={str(k): int(v) for k, v in by_decision.items()},
    )


def item_evidence(engine: Engine, item_id: int) -> list[dict[str, t.Any]]:
    with Session(engine) as session:
        rows = session.scalars(
            select(EvidenceRow)
            .where(EvidenceRow.item_id == item_id)
            .order_by(EvidenceRow.id)
        ).all()
        return [
            {
                "extractor": row.extractor,
                "kind": row.kind,
                "source": row.source,
                "strength": row.strength,
                "summary": row.summary,
                "details": json.loads(row.details),
            }
            for row in rows
        ]
