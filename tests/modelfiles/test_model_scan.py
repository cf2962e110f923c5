"""`inspect_model`: one report per file or folder, never an exception for bad input."""

import base64
import hashlib
import io
import json
import os
import pathlib
import struct

import pytest
from model_builders import (
    kohya_metadata,
    legacy_torch_stream,
    reducer_pickle,
    safetensors_bytes,
    state_dict_pickle,
    torch_zip_bytes,
)

from helpers import image_bytes
from vigil.hashing.model import ModelHashKind
from vigil.modelfiles.base import ModelFormat, ModelLimits
from vigil.modelfiles.scan import inspect_model


def write(path: pathlib.Path, data: bytes) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_safetensors_report(tmp_path: pathlib.Path) -> None:
    png = image_bytes(3, size=(32, 32))
    metadata = kohya_metadata(
        {"10_scenery": {"lake": 2}},
        sshs_model_hash="0" * 64,
        **{
            "modelspec.thumbnail": "data:image/png;base64,"
            + base64.b64encode(png).decode()
        },
    )
    data = safetensors_bytes({"a": ("F32", [4])}, metadata)
    path = write(tmp_path / "model.safetensors", data)
    report = inspect_model(path)
    assert report.format is ModelFormat.SAFETENSORS
    assert report.size == len(data)
    assert report.path == str(path)
    assert report.fingerprints["sha256"] == hashlib.sha256(data).hexdigest()
    assert "autov3" in report.fingerprints
    assert report.training is not None and report.training.output_name == "test_model"
    assert report.thumbnail is not None
    assert report.thumbnail.hashes["sha256"] == hashlib.sha256(png).hexdigest()
    assert report.tensors is not None and report.tensors.parameters == 4
    assert {f.code for f in report.findings} == {"sshs_hash_mismatch"}
    assert report.errors == ()
    kinds = {h.kind for h in report.model_hashes()}
    assert kinds == set(ModelHashKind)
    # JSON-ready, and the preview's bytes never leave the scanner.
    text = json.dumps(report.as_dict())
    assert base64.b64encode(png).decode()[:40] not in text
    assert "see thumbnail" in report.metadata["modelspec.thumbnail"]


def test_pickle_renamed_safetensors(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path / "lora.safetensors", reducer_pickle(os.system, 2, "true"))
    report = inspect_model(path)
    assert report.format is ModelFormat.PICKLE
    assert report.is_dangerous_to_load
    assert "dangerous_global" in {f.code for f in report.findings}
    assert report.risk.level == "unknown"
    assert "autov3" not in report.fingerprints and "autov2" in report.fingerprints


@pytest.mark.parametrize(
    ("data", "model_format", "dangerous"),
    [
        (torch_zip_bytes(state_dict_pickle(["w"])), ModelFormat.PYTORCH_ZIP, False),
        (
            torch_zip_bytes(reducer_pickle(os.system, 2, "true")),
            ModelFormat.PYTORCH_ZIP,
            True,
        ),
        (legacy_torch_stream(state_dict_pickle(["w"])), ModelFormat.PICKLE, False),
        (b"GGUF" + struct.pack("<IQQ", 3, 5, 7) + bytes(64), ModelFormat.GGUF, False),
    ],
)
def test_other_formats(data: bytes, model_format: ModelFormat, dangerous: bool) -> None:
    report = inspect_model(io.BytesIO(data), label="x.ckpt")
    assert report.format is model_format
    assert report.is_dangerous_to_load is dangerous
    assert report.fingerprints["sha256"] == hashlib.sha256(data).hexdigest()
    assert report.path == "x.ckpt"
    if model_format is ModelFormat.GGUF:
        assert report.details == {
            "gguf_version": 3,
            "gguf_tensors": 5,
            "gguf_metadata_entries": 7,
        }


def test_broken_header_still_fingerprints() -> None:
    header = b'{"a": [1, 2, }' + b" " * 2  # sniffs as safetensors, is not JSON
    data = struct.pack("<Q", len(header)) + header + bytes(32)
    report = inspect_model(io.BytesIO(data))
    assert report.format is ModelFormat.SAFETENSORS
    assert [e.reason for e in report.errors] == ["safetensors_invalid_header"]
    assert report.fingerprints["sha256"] == hashlib.sha256(data).hexdigest()
    assert "autov3" not in report.fingerprints
    assert report.risk.level == "unknown"


def test_truncated_zip_is_an_error_record() -> None:
    data = torch_zip_bytes(state_dict_pickle(["w"]))
    report = inspect_model(io.BytesIO(data[: len(data) - 30]))
    assert report.format is ModelFormat.PYTORCH_ZIP
    assert [e.reason for e in report.errors] == ["model_archive_error"]
    assert report.pickle is None
    assert "sha256" in report.fingerprints


def test_file_over_the_limit(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path / "m.safetensors", safetensors_bytes())
    report = inspect_model(path, ModelLimits(max_model_bytes=10))
    assert [e.reason for e in report.errors] == ["file_too_large"]
    assert report.fingerprints == {}


def test_missing_and_special_paths(tmp_path: pathlib.Path) -> None:
    assert inspect_model(tmp_path / "gone").errors[0].reason == "file_vanished"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert inspect_model(fifo).errors[0].reason == "file_vanished"
    assert inspect_model(tmp_path).errors[0].reason == "not_a_model_folder"


def test_diffusers_folder(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "pipeline"
    write(
        root / "model_index.json",
        json.dumps(
            {
                "_class_name": "StableDiffusionPipeline",
                "_diffusers_version": "0.27.0",
                "unet": ["diffusers", "UNet2DConditionModel"],
                "vae": ["diffusers", "AutoencoderKL"],
            }
        ).encode(),
    )
    write(root / "unet" / "config.json", b'{"sample_size": 64}')
    write(root / "unet" / "diffusion_pytorch_model.safetensors", safetensors_bytes())
    write(
        root / "vae" / "diffusion_pytorch_model.bin", reducer_pickle(os.system, 2, "x")
    )
    report = inspect_model(root)
    assert report.format is ModelFormat.DIFFUSERS
    assert report.details["class_name"] == "StableDiffusionPipeline"
    assert report.details["declared_components"] == ["unet", "vae"]
    assert [c.path for c in report.components] == [
        f"{root}/unet/diffusion_pytorch_model.safetensors",
        f"{root}/vae/diffusion_pytorch_model.bin",
    ]
    assert report.is_dangerous_to_load
    assert report.size == sum(c.size for c in report.components)
    assert len(report.model_hashes()) == 5 + 4  # AutoV3 only for the safetensors


def test_folder_file_cap(tmp_path: pathlib.Path) -> None:
    write(tmp_path / "model_index.json", b'{"_class_name": "P"}')
    for index in range(5):
        write(tmp_path / f"c{index}" / "w.safetensors", safetensors_bytes(seed=index))
    report = inspect_model(tmp_path, ModelLimits(max_folder_files=3))
    assert len(report.components) == 3
    assert [f.code for f in report.findings] == ["folder_truncated"]
