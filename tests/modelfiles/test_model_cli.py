"""`vigil model scan` through click's CliRunner."""

import json
import os
import pathlib
import struct
import typing as t

import pytest
from click.testing import CliRunner
from model_builders import (
    kohya_metadata,
    reducer_pickle,
    safetensors_bytes,
    state_dict_pickle,
    torch_zip_bytes,
)

from vigil import _cli_models
from vigil._cli_models import model


def run(*args: str) -> tuple[str, str]:
    result = CliRunner().invoke(model, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def evidence(root: pathlib.Path) -> pathlib.Path:
    """A folder as an examiner might find it."""
    root.mkdir()
    (root / "scenery.safetensors").write_bytes(
        safetensors_bytes(metadata=kohya_metadata({"10_a": {"lake": 3}}))
    )
    (root / "sub").mkdir()
    (root / "sub" / "subject.safetensors").write_bytes(
        safetensors_bytes(metadata=kohya_metadata({"10_a": {"child": 3, "nude": 3}}))
    )
    (root / "sub" / "lora.safetensors.png").write_bytes(
        reducer_pickle(os.system, 4, "true")  # a pickle hiding behind two extensions
    )
    (root / "old.ckpt").write_bytes(torch_zip_bytes(state_dict_pickle(["w"])))
    (root / "notes.txt").write_text("not a model\n")
    pipeline = root / "pipeline"
    (pipeline / "unet").mkdir(parents=True)
    (pipeline / "model_index.json").write_text('{"_class_name": "P", "unet": [1, 2]}')
    (pipeline / "unet" / "w.safetensors").write_bytes(safetensors_bytes(seed=9))
    return root


def test_scan_folder_text(tmp_path: pathlib.Path) -> None:
    root = evidence(tmp_path / "evidence")
    out, err = run("scan", str(root))
    lines = out.splitlines()
    formats = {
        line.rsplit(" ", 1)[1]: line.split()[1]
        for line in lines
        if line.startswith("model ")
    }
    assert formats == {
        str(root / "old.ckpt"): "pytorch_zip",
        str(root / "pipeline"): "diffusers",
        str(root / "pipeline" / "unet" / "w.safetensors"): "safetensors",
        str(root / "scenery.safetensors"): "safetensors",
        str(root / "sub" / "lora.safetensors.png"): "pickle",
        str(root / "sub" / "subject.safetensors"): "safetensors",
    }
    assert "risk high" in next(
        line for line in lines if line.startswith("risk ") and "subject" in line
    )
    assert f"pickle dangerous {root / 'sub' / 'lora.safetensors.png'}" in lines
    assert f"pickle safe {root / 'old.ckpt'}" in lines
    assert (
        f"global dangerous posix.system {root / 'sub' / 'lora.safetensors.png'}"
        in lines
    )
    assert any(
        line.startswith("autov3 ") and line.endswith("scenery.safetensors")
        for line in lines
    )
    assert "5 model(s): 1 high risk, 1 with dangerous pickles, 0 with errors" in err


def test_scan_json_lines(tmp_path: pathlib.Path) -> None:
    root = evidence(tmp_path / "evidence")
    out, _ = run("scan", "--json", str(root / "sub"), str(root / "notes.txt"))
    records = [json.loads(line) for line in out.splitlines()]
    by_path = {pathlib.Path(r["path"]).name: r for r in records}
    assert set(by_path) == {"subject.safetensors", "lora.safetensors.png", "notes.txt"}
    assert by_path["subject.safetensors"]["risk"]["level"] == "high"
    assert by_path["lora.safetensors.png"]["pickle"]["verdict"] == "dangerous"
    assert by_path["notes.txt"]["format"] == "unknown"  # named, so reported
    assert by_path["notes.txt"]["risk"]["level"] == "unknown"


def test_errors_are_reported_and_the_scan_goes_on(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(struct.pack("<Q", 5000) + b"{}")  # a header longer than the file
    good = tmp_path / "good.safetensors"
    good.write_bytes(safetensors_bytes())
    out, err = run("scan", str(bad), str(good))
    assert f"error safetensors_header_out_of_bounds {bad}" in out.splitlines()
    assert f"model safetensors {good}" in out.splitlines()
    assert "1 with errors" in err


def test_missing_path_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    result = CliRunner().invoke(model, ["scan", str(tmp_path / "gone")])
    assert result.exit_code == 2


def test_a_bug_on_one_file_does_not_end_the_scan(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    first.write_bytes(safetensors_bytes(seed=1))
    second.write_bytes(safetensors_bytes(seed=2))
    real = _cli_models.inspect_model

    def flaky(target: pathlib.Path, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if target == first:
            raise RuntimeError("simulated bug")
        return real(target, *args, **kwargs)

    monkeypatch.setattr(_cli_models, "inspect_model", flaky)
    out, err = run("scan", str(first), str(second))
    assert f"error internal_error {first}" in out.splitlines()
    assert f"model safetensors {second}" in out.splitlines()
    assert "simulated bug" in err
