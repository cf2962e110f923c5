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

from vigil.media.names import display_surrogates
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
    becomes U+FFFD, and lone surrogates (undecodable bytes of a name, which no
    UTF-8 column takes) are written as `\\xNN`."""
    if value is None:
        return None
    value = value.replace("\x00", "\ufffd")
    return display_surrogates(value) if _has_surrogates(value) else value


def json_text(data: t.Any) -> str:
    """JSON for a text column: non-ASCII kept readable, but lone surrogates (which
    UTF-8 cannot carry) escaped, as `json.loads` reads them back exactly."""
    dumped = json.dumps(data, ensure_ascii=False)
    return json.dumps(data) if _has_surrogates(dumped) else dumped


def _has_surrogates(value: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in value)


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
                    details=json_text(evidence.details),
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
            loras=json_text([lora.as_dict() for lora in record.loras]),
            other_models=json_text(list(record.other_models)),
            extra=json_text(dict(record.extra)),
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
