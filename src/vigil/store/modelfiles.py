"""Model files in the store, and links from images to the models that made them.

An image's generation record names its checkpoint (`Model hash`, AutoV2 in A1111) and
LoRAs (`Lora hashes`, AutoV3). `link_models` ties each named hash to model files seen
in the store (any scan) and to active entries of model hash lists; an AutoV2 hash is
also a prefix of the file's SHA-256, so it is looked up among `sha256` entries too.
Links are rebuilt for a scan's images at the end of each run of the scan, so a resumed
scan never double-counts.
"""

import dataclasses
import datetime as dt
import json
import typing as t

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from vigil.hashing.model import ModelHashKind
from vigil.media.names import from_text
from vigil.pipeline.records import location_label
from vigil.store.models import (
    GenerationRow,
    HashEntryRow,
    HashListRow,
    ItemRow,
    LocationRow,
    ModelFileRow,
    ModelLinkRow,
)
from vigil.store.provenance import clip, json_text, text
from vigil.store.records import ModelCounts, ModelLinkInfo

if t.TYPE_CHECKING:
    from vigil.modelfiles.report import ModelReport

#: Largest JSON report kept per model file. kohya `ss_tag_frequency` can list tens of
#: thousands of tags; past the cap the raw metadata is dropped from the stored copy
#: (the fingerprints, findings, risk and its triggers are always kept).
MAX_STORED_REPORT_BYTES = 2 * 1024 * 1024
ACTIVE = "active"
#: Columns of `model_files` that a generation-record hash of each kind is compared to.
_FILE_COLUMNS = {
    ModelHashKind.AUTOV1.value: ModelFileRow.autov1,
    ModelHashKind.AUTOV2.value: ModelFileRow.autov2,
    ModelHashKind.AUTOV3.value: ModelFileRow.autov3,
    ModelHashKind.BLAKE3.value: ModelFileRow.blake3,
}


def add_model_file(
    session: Session, item_id: int, report: "ModelReport", now: dt.datetime
) -> None:
    """Record a model file once per item (content)."""
    exists = session.scalar(
        select(ModelFileRow.id).where(ModelFileRow.item_id == item_id)
    )
    if exists is not None:
        return
    prints = report.fingerprints
    session.add(
        ModelFileRow(
            item_id=item_id,
            format=report.format.value,
            autov1=prints.get(ModelHashKind.AUTOV1.value),
            autov2=prints.get(ModelHashKind.AUTOV2.value),
            autov3=prints.get(ModelHashKind.AUTOV3.value),
            blake3=prints.get(ModelHashKind.BLAKE3.value),
            crc32=prints.get("crc32"),
            dangerous=report.is_dangerous_to_load,
            risk_level=report.risk.level.value,
            report=_report_json(report),
            recorded_at=now,
        )
    )


def _report_json(report: "ModelReport") -> str:
    data = report.as_dict()
    text = json_text(data)
    if len(text.encode()) <= MAX_STORED_REPORT_BYTES:
        return text
    data["metadata"] = {}
    data["training"] = None
    data["stored_copy_truncated"] = True
    return json_text(data)


@dataclasses.dataclass(frozen=True)
class NamedHash:
    role: str  # checkpoint | lora | embedding
    name: str | None
    kind: str
    value: str


def named_hashes(row: GenerationRow) -> list[NamedHash]:
    """The model and LoRA hashes a stored generation record names."""
    found: list[NamedHash] = []
    if row.model_hash and row.model_hash_kind:
        found.append(
            NamedHash("checkpoint", row.model_name, row.model_hash_kind, row.model_hash)
        )
    for lora in json.loads(row.loras or "[]"):
        digest = lora.get("hash") if isinstance(lora, dict) else None
        if isinstance(digest, dict) and digest.get("value") and digest.get("kind"):
            role = str(lora.get("kind") or "lora")
            found.append(
                NamedHash(role, lora.get("name"), digest["kind"], digest["value"])
            )
    return found


def link_models(engine: Engine, scan_id: int) -> int:
    """Rebuild the scan's image-to-model links; returns how many there are."""
    items_in_scan = (
        select(LocationRow.item_id).where(LocationRow.scan_id == scan_id).distinct()
    )
    with Session(engine) as session, session.begin():
        session.execute(delete(ModelLinkRow).where(ModelLinkRow.scan_id == scan_id))
        records = session.scalars(
            select(GenerationRow).where(GenerationRow.item_id.in_(items_in_scan))
        ).all()
        count = 0
        for record in records:
            for named in named_hashes(record):
                for model_item_id, entry_id in _targets(session, named):
                    session.add(
                        ModelLinkRow(
                            scan_id=scan_id,
                            item_id=record.item_id,
                            role=clip(named.role, 16),
                            name=text(named.name),
                            hash_kind=clip(named.kind, 16),
                            hash_value=clip(named.value, 64),
                            model_item_id=model_item_id,
                            entry_id=entry_id,
                        )
                    )
                    count += 1
    return count


def _targets(session: Session, named: NamedHash) -> list[tuple[int | None, int | None]]:
    """(model item, hash-list entry) pairs a named hash points to."""
    targets: list[tuple[int | None, int | None]] = []
    value = named.value.lower()
    if named.kind == ModelHashKind.SHA256.value:
        file_items = session.scalars(
            select(ItemRow.id)
            .join(ModelFileRow, ModelFileRow.item_id == ItemRow.id)
            .where(ItemRow.sha256 == value)
        ).all()
    elif named.kind in _FILE_COLUMNS:
        file_items = session.scalars(
            select(ModelFileRow.item_id).where(_FILE_COLUMNS[named.kind] == value)
        ).all()
    else:
        file_items = []
    targets.extend((item_id, None) for item_id in file_items)
    entries = select(HashEntryRow.id).where(HashEntryRow.status == ACTIVE)
    exact = entries.where(
        HashEntryRow.hash_type == named.kind, HashEntryRow.value == value
    )
    entry_ids = list(session.scalars(exact).all())
    if named.kind == ModelHashKind.AUTOV2.value:  # the first 10 hex of the SHA-256
        prefix = entries.where(
            HashEntryRow.hash_type == ModelHashKind.SHA256.value,
            HashEntryRow.value.startswith(value, autoescape=True),
        )
        entry_ids.extend(session.scalars(prefix).all())
    targets.extend((None, entry_id) for entry_id in entry_ids)
    return targets


def scan_model_counts(engine: Engine, scan_id: int) -> ModelCounts:
    items_in_scan = (
        select(LocationRow.item_id).where(LocationRow.scan_id == scan_id).distinct()
    )
    in_scan = ModelFileRow.item_id.in_(items_in_scan)
    with Session(engine) as session:
        by_risk = {
            str(level): int(n)
            for level, n in session.execute(
                select(ModelFileRow.risk_level, func.count())
                .where(in_scan)
                .group_by(ModelFileRow.risk_level)
            ).all()
        }
        dangerous = session.scalar(
            select(func.count()).where(in_scan, ModelFileRow.dangerous.is_(True))
        )
        linked = session.scalar(
            select(func.count(func.distinct(ModelLinkRow.item_id))).where(
                ModelLinkRow.scan_id == scan_id
            )
        )
    return ModelCounts(
        model_files=sum(by_risk.values()),
        by_risk=by_risk,
        dangerous=int(dangerous or 0),
        linked_images=int(linked or 0),
    )


def scan_links(engine: Engine, scan_id: int) -> list[ModelLinkInfo]:
    """The scan's image-to-model links, images in path order."""

    def first_place(session: Session, item_id: int, scan: int | None) -> str | None:
        query = select(LocationRow.path, LocationRow.member_path).where(
            LocationRow.item_id == item_id
        )
        if scan is not None:
            query = query.where(LocationRow.scan_id == scan)
        row = session.execute(
            query.order_by(LocationRow.path, LocationRow.member_path).limit(1)
        ).first()
        return location_label(from_text(row[0]), from_text(row[1])) if row else None

    found: list[ModelLinkInfo] = []
    with Session(engine) as session:
        links = session.scalars(
            select(ModelLinkRow).where(ModelLinkRow.scan_id == scan_id)
        ).all()
        for link in links:
            list_name = None
            if link.entry_id is not None:
                list_name = session.scalar(
                    select(HashListRow.name)
                    .join(HashEntryRow, HashEntryRow.list_id == HashListRow.id)
                    .where(HashEntryRow.id == link.entry_id)
                )
            model_place = (
                first_place(session, link.model_item_id, None)
                if link.model_item_id is not None
                else None
            )
            found.append(
                ModelLinkInfo(
                    image=first_place(session, link.item_id, scan_id) or "?",
                    role=link.role,
                    name=link.name,
                    hash_kind=link.hash_kind,
                    hash_value=link.hash_value,
                    model=model_place,
                    hash_list=list_name,
                )
            )
    return sorted(found, key=lambda info: (info.image, info.role, info.hash_value))
