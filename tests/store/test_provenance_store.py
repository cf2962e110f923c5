"""Evidence and generation records in the store: per item, never duplicated, counted
per scan."""

import dataclasses
import json
import typing as t

import sqlalchemy as sa

from helpers import observation
from vigil.hashing.model import ModelHash, ModelHashKind
from vigil.pipeline.records import FileOutcome, ItemObservation
from vigil.provenance.base import (
    Evidence,
    EvidenceKind,
    GenerationRecord,
    LoRA,
    Strength,
)
from vigil.store.provenance import item_evidence
from vigil.store.store import SQLStore as Store

RECORD = GenerationRecord(
    tool="AUTOMATIC1111",
    source="png:parameters",
    prompt="a lighthouse at dusk",
    negative_prompt="blurry",
    seed=2**64 - 1,
    steps=20,
    model_hash=ModelHash(ModelHashKind.AUTOV2, "6ce0161689"),
    loras=(LoRA("detail", 0.5),),
)
AI = Evidence(
    EvidenceKind.AI_GENERATED,
    "png:parameters",
    Strength.STRONG,
    "AUTOMATIC1111 parameters",
    extractor="a1111",
    details={"tool": "AUTOMATIC1111"},
)
CAMERA = Evidence(
    EvidenceKind.CAPTURED,
    "exif",
    Strength.WEAK,
    "camera EXIF: Nikon",
    extractor="camera_exif",
)


def _item(sha: str, **facts: t.Any) -> ItemObservation:
    return observation(sha, size=5, **facts)


def test_evidence_and_record_are_stored_once_per_item(store: Store) -> None:
    scan = store.create_scan("k", ["/r"], {}, "test")
    ai_item = _item("a" * 64, evidence=(AI,), generation=RECORD)
    store.record_file(scan, FileOutcome("/r/a.png", (ai_item,), (), 5))
    store.record_file(scan, FileOutcome("/r/copy.png", (ai_item,), (), 5))
    camera_item = _item("b" * 64, evidence=(CAMERA,))
    store.record_file(scan, FileOutcome("/r/b.jpg", (camera_item,), (), 5))

    summary = store.summary(scan)
    assert summary.provenance.ai_items == 1
    assert summary.provenance.generation_records == 1
    assert summary.provenance.prompts_by_decision == {}
    with store.engine.connect() as c:
        rows = c.execute(
            sa.text(
                "select tool, seed, model_hash, model_hash_kind, loras "
                "from generation_records"
            )
        ).all()
        evidence_rows = c.execute(sa.text("select count(*) from evidence")).scalar()
    assert evidence_rows == 2
    assert len(rows) == 1
    tool, seed, model_hash, kind, loras = rows[0]
    assert (tool, seed, model_hash, kind) == (
        "AUTOMATIC1111",
        str(2**64 - 1),
        "6ce0161689",
        "autov2",
    )
    assert json.loads(loras)[0]["name"] == "detail"
    with store.engine.connect() as c:
        item_id = c.execute(
            sa.text("select id from items where sha256 = :s"), {"s": "a" * 64}
        ).scalar_one()
    assert item_evidence(store.engine, item_id)[0]["details"] == {
        "tool": "AUTOMATIC1111"
    }


def test_a_new_extractor_adds_evidence_to_a_known_item(store: Store) -> None:
    scan = store.create_scan("k", ["/r"], {}, "test")
    store.record_file(
        scan, FileOutcome("/r/a", (_item("c" * 64, evidence=(AI,)),), (), 5)
    )
    both = _item("c" * 64, evidence=(AI, CAMERA))
    store.record_file(scan, FileOutcome("/r/b", (both,), (), 5))
    with store.engine.connect() as c:
        extractors = sorted(
            c.execute(sa.text("select extractor from evidence")).scalars()
        )
    assert extractors == ["a1111", "camera_exif"]


def test_untrusted_text_is_clipped_to_its_column(store: Store) -> None:
    scan = store.create_scan("k", ["/r"], {}, "test")
    hostile = dataclasses.replace(
        RECORD,
        tool_version="v" * 5000,
        sampler="s" * 500,
        seed=10**40,
        prompt="a light\x00house",
    )
    item = _item("d" * 64, evidence=(AI,), generation=hostile)
    store.record_file(scan, FileOutcome("/r/h.png", (item,), (), 5))
    with store.engine.connect() as c:
        version, sampler, seed = c.execute(
            sa.text("select tool_version, sampler, seed from generation_records")
        ).one()
    assert (len(version), len(sampler), len(seed)) == (128, 128, 32)
    assert version.endswith("\u2026")
    with store.engine.connect() as c:
        prompt = c.execute(sa.text("select prompt from generation_records")).scalar()
    assert prompt == "a light\ufffdhouse"  # PostgreSQL text refuses NUL
