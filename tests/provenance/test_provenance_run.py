"""The runner: every extractor bounded, failures become error records, at most one
generation record per item."""

import json
import time
import typing as t

from vigil.hashing.model import ModelHash, ModelHashKind
from vigil.media.base import Limits, MediaKind
from vigil.media.errors import MetadataError
from vigil.media.subject import Subject
from vigil.provenance.base import (
    Evidence,
    EvidenceKind,
    Extraction,
    Extractor,
    GenerationRecord,
    LoRA,
    Strength,
    merge_records,
)
from vigil.provenance.run import EXTRACTOR_FAILED_REASON, extract_all

PNG_ONLY = frozenset({MediaKind.PNG})


def _evidence(summary: str) -> Evidence:
    return Evidence(EvidenceKind.AI_GENERATED, "test", Strength.STRONG, summary)


class Finds(Extractor):
    name = "finds"
    media_kinds = PNG_ONLY

    def extract(self, _subject: Subject) -> Extraction:
        record = GenerationRecord(tool="ToolA", source="test", prompt="a lighthouse")
        return Extraction(evidence=(_evidence("found"),), records=(record,))


class Malformed(Extractor):
    name = "malformed"
    media_kinds = PNG_ONLY

    def extract(self, _subject: Subject) -> Extraction:
        raise MetadataError("bad chunk")


class Buggy(Extractor):
    name = "buggy"
    media_kinds = PNG_ONLY

    def extract(self, _subject: Subject) -> Extraction:
        return t.cast(Extraction, {}["missing"])


class Slow(Extractor):
    name = "slow"
    media_kinds = PNG_ONLY
    max_seconds = 0.2

    def extract(self, _subject: Subject) -> Extraction:
        time.sleep(5)
        return Extraction(evidence=(_evidence("too late"),))


class JpegOnly(Extractor):
    name = "jpeg_only"
    media_kinds = frozenset({MediaKind.JPEG})

    def extract(self, _subject: Subject) -> Extraction:
        raise AssertionError("must not run on a PNG")


def test_failures_become_error_records_and_the_others_still_run() -> None:
    extractors = [Malformed(), Buggy(), Slow(), JpegOnly(), Finds()]
    started = time.monotonic()
    found = extract_all(b"\x89PNG", MediaKind.PNG, extractors, Limits())
    assert time.monotonic() - started < 3  # the slow one was interrupted
    reasons = {e.message.split(":")[0]: e.reason for e in found.errors}
    assert reasons == {
        "malformed": "malformed_metadata",
        "buggy": EXTRACTOR_FAILED_REASON,
        "slow": "extractor_timeout",
    }
    assert [e.summary for e in found.evidence] == ["found"]
    assert found.evidence[0].extractor == "finds"
    assert found.generation is not None and found.generation.tool == "ToolA"
    assert found.is_ai


def test_the_most_complete_record_wins_and_ties_keep_the_first() -> None:
    sparse = GenerationRecord(tool="A", source="s", prompt="p")
    full = GenerationRecord(tool="B", source="s", prompt="p", seed=1, steps=20)
    same = GenerationRecord(tool="C", source="s", prompt="p")
    assert merge_records([sparse, full, same]) is full
    assert merge_records([sparse, same]) is sparse
    assert merge_records([]) is None


def test_records_and_evidence_are_json_ready() -> None:
    record = GenerationRecord(
        tool="AUTOMATIC1111",
        source="png:parameters",
        seed=2**64 - 1,
        model_hash=ModelHash(ModelHashKind.AUTOV2, "6ce0161689"),
        loras=(LoRA("detail", 0.8, ModelHash(ModelHashKind.AUTOV3, "a" * 12)),),
        other_models=("vae.safetensors",),
        extra={"Clip skip": "2"},
    )
    data = json.loads(json.dumps(record.as_dict()))
    assert data["model_hash"] == {"kind": "autov2", "value": "6ce0161689"}
    assert data["loras"][0]["hash"]["kind"] == "autov3"
    assert data["seed"] == 2**64 - 1
    evidence = _evidence("x").as_dict()
    assert evidence["strength"] == "strong" and evidence["kind"] == "ai_generated"


def test_subject_decodes_no_pixels_over_the_pixel_limit() -> None:
    import io

    from PIL import Image

    from vigil.media.errors import TooManyPixelsError

    buffer = io.BytesIO()
    Image.new("RGB", (200, 200)).save(buffer, format="PNG")
    subject = Subject(buffer.getvalue(), MediaKind.PNG, Limits(max_pixels=100))
    assert subject.image().size == (200, 200)  # headers and metadata are still read
    try:
        subject.pixels()
    except TooManyPixelsError:
        return
    raise AssertionError("a 40,000-pixel image was decoded under a 100-pixel limit")
