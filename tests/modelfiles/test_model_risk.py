"""Model risk from training metadata, judged by the prompt filter.

Captions are short and clinical, like ../shared/eval/prompts-dev.jsonl.
"""

import io
import json
import struct

import pytest
from model_builders import kohya_metadata, safetensors_bytes

from vigil.modelfiles.risk import ModelRisk, RiskLevel, assess_model, dataset_name
from vigil.modelfiles.scan import inspect_model
from vigil.modelfiles.training import read_training


def risk_of(metadata: dict[str, str]) -> ModelRisk:
    info, _ = read_training(metadata)
    return assess_model(info)


def test_benign_training_is_low() -> None:
    risk = risk_of(
        kohya_metadata(
            {"10_landscapes": {"mountain": 12, "lake": 9, "forest": 4}},
            output_name="scenery_style",
            comment="public domain landscape photos",
        )
    )
    assert risk.level is RiskLevel.LOW
    assert risk.score is not None and risk.score < 0.5
    assert risk.tags == ()
    assert risk.texts_checked >= 5


def test_minor_and_sexual_captions_in_one_dataset_are_high() -> None:
    risk = risk_of(kohya_metadata({"10_set": {"child": 12, "nude": 8, "indoors": 20}}))
    assert risk.level is RiskLevel.HIGH
    assert risk.score is not None and risk.score >= 0.8
    triggered = {trigger.text.lower() for trigger in risk.triggers}
    assert {"child", "nude"} <= triggered
    assert set(risk.tags) <= {"child", "nude"} and risk.tags
    assert any(reason.startswith("dataset:10_set") for reason in risk.reasons)


def test_terms_apart_in_one_dataset_are_combined() -> None:
    # Neither tag blocks alone; the dataset holds both.
    alone = [risk_of(kohya_metadata({"10_a": {tag: 5}})) for tag in ("child", "nude")]
    assert all(risk.level is not RiskLevel.HIGH for risk in alone)
    together = risk_of(kohya_metadata({"10_a": {"child": 5, "beach": 40, "nude": 1}}))
    assert together.level is RiskLevel.HIGH


def test_rare_tags_are_not_lost_among_many() -> None:
    common = {f"scenery{i}": 1000 - i for i in range(200)}
    risk = risk_of(kohya_metadata({"10_a": {**common, "child": 1, "nude": 1}}))
    assert risk.level is RiskLevel.HIGH


def test_dataset_folder_name_counts() -> None:
    assert dataset_name("10_little girl") == "little girl"
    assert dataset_name("/train/img/5_subject_name") == "subject_name"
    risk = risk_of(kohya_metadata({"10_child": {"nude": 3, "outdoors": 2}}))
    assert risk.level is RiskLevel.HIGH


def test_output_name_and_comment_count() -> None:
    metadata = {"ss_output_name": "nude_child_v2"}
    assert risk_of(metadata).level is RiskLevel.HIGH
    risk = risk_of(
        {"ss_output_name": "portrait_v1", "ss_training_comment": "nude child photos"}
    )
    assert risk.level is RiskLevel.HIGH
    assert any(t.source == "ss_training_comment" for t in risk.triggers)


def test_modelspec_description_counts() -> None:
    risk = risk_of(
        {
            "modelspec.title": "Style",
            "modelspec.description": "explicit photo of a 10yo",
        }
    )
    assert risk.level is RiskLevel.HIGH


def test_adult_content_is_not_high() -> None:
    risk = risk_of(kohya_metadata({"10_set": {"nude": 8, "adult woman": 8}}))
    assert risk.level is not RiskLevel.HIGH


@pytest.mark.parametrize(
    "metadata", [{}, {"ss_network_dim": "32", "ss_base_model_version": "sdxl_base_v1"}]
)
def test_no_training_text_is_unknown_never_safe(metadata: dict[str, str]) -> None:
    risk = risk_of(metadata)
    assert risk.level is RiskLevel.UNKNOWN
    assert risk.score is None
    assert assess_model(None).level is RiskLevel.UNKNOWN


def test_value_hidden_by_a_duplicate_key_is_judged() -> None:
    header = (
        b'{"__metadata__": {"ss_output_name": "nude child", '
        b'"ss_output_name": "landscape"}, '
        b'"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}'
    )
    data = struct.pack("<Q", len(header)) + header + b"\x00"
    report = inspect_model(io.BytesIO(data))
    assert report.metadata["ss_output_name"] == "landscape"
    assert report.risk.level is RiskLevel.HIGH


def test_inspected_file_carries_its_risk() -> None:
    data = safetensors_bytes(
        {"lora_unet_x.lora_down.weight": ("F16", [2, 2])},
        kohya_metadata({"10_set": {"nude": 3, "toddler": 3}}),
    )
    report = inspect_model(io.BytesIO(data), label="lora.safetensors")
    assert report.risk.level is RiskLevel.HIGH
    assert report.tensors is not None and report.tensors.kind_hint == "lora"
    record = json.loads(json.dumps(report.as_dict()))
    assert record["risk"]["level"] == "high"
