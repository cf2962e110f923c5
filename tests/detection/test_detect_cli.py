"""`vigil detect train | calibrate | eval` with a toy pixel detector registered the
way a third party would."""

import importlib.metadata
import json
import pathlib

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import vigil.plugins
from vigil.cli import cli

ENTRY_POINTS = [
    importlib.metadata.EntryPoint(
        "builtin", "vigil.plugins:builtin_plugins", vigil.plugins.ENTRY_POINT_GROUP
    ),
    importlib.metadata.EntryPoint(
        "toy", "toy_plugins:toy_detectors", vigil.plugins.ENTRY_POINT_GROUP
    ),
]


@pytest.fixture
def folders(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    real_build = vigil.plugins.build_registry
    monkeypatch.setattr(
        vigil.plugins, "build_registry", lambda: real_build(ENTRY_POINTS)
    )
    rng = np.random.default_rng(5)
    for label in ("ai", "real"):
        for group in range(4):
            folder = tmp_path / label / f"source{group}"
            folder.mkdir(parents=True)
            for i in range(6):
                base = np.linspace(0, 255, 128)[None, :, None] * np.ones((96, 1, 3))
                noise = rng.normal(0, 3 if label == "ai" else 25, base.shape)
                pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    return tmp_path


def test_train_calibrate_and_eval(folders: pathlib.Path) -> None:
    runner = CliRunner()
    env = {"VIGIL_HOME": str(folders / "home")}
    head = folders / "head.json"
    ai, real = str(folders / "ai"), str(folders / "real")
    trained = runner.invoke(
        cli,
        ["detect", "train", "--ai", ai, "--real", real, "--out", str(head)],
        env=env,
    )
    assert trained.exit_code == 0, trained.output
    saved = json.loads(head.read_text())
    assert "toy_noise.noise" in saved["features"]  # with the built-in detectors'
    assert saved["features"][0].startswith("spectral.")
    assert len(saved["training"]["files"]) == 48
    assert saved["evaluation"]["auc"] > 0.9
    calibrated = runner.invoke(
        cli,
        [
            "detect",
            "calibrate",
            str(head),
            "--ai",
            ai,
            "--real",
            real,
            "--method",
            "isotonic",
        ],
        env=env,
    )
    assert calibrated.exit_code == 0, calibrated.output
    plot = folders / "roc.png"
    evaluated = runner.invoke(
        cli,
        [
            "detect", "eval", "--ai", ai, "--real", real, "--head", str(head),
            "--variants", "none,jpeg85,resize50", "--json", "--plot", str(plot),
        ],
        env=env,
    )  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.output
    last = json.loads(evaluated.output.splitlines()[-1])
    assert set(last["variants"]) == {"none", "jpeg85", "resize50"}
    assert last["auc"] == last["variants"]["none"]["auc"] > 0.9
    assert plot.read_bytes().startswith(b"\x89PNG")
    cross = runner.invoke(cli, ["detect", "eval", "--ai", ai, "--real", real], env=env)
    assert cross.exit_code == 0 and cross.output.startswith("none ")


def test_training_on_folders_without_images_is_a_usage_error(
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / "a").mkdir()
    result = CliRunner().invoke(
        cli,
        ["detect", "train", "--ai", str(tmp_path / "a"), "--real", str(tmp_path / "a"),
         "--out", str(tmp_path / "h.json")],
        env={"VIGIL_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert result.exit_code == 2 and "no readable images" in result.output


def test_a_scan_with_a_trained_head_scores_pixels(folders: pathlib.Path) -> None:
    runner = CliRunner()
    env = {"VIGIL_HOME": str(folders / "home")}
    head = folders / "head.json"
    ai, real = str(folders / "ai"), str(folders / "real")
    command = ["detect", "train", "--ai", ai, "--real", real, "--out", str(head)]
    assert runner.invoke(cli, command, env=env).exit_code == 0
    (folders / "ai" / "notes.txt").write_text("not an image: the head never scores it")
    scan = ["scan", "--engine", "inline", "--no-progress", "--head", str(head), ai]
    scanned = runner.invoke(cli, scan, env=env)
    assert scanned.exit_code == 0, scanned.output
    every = [
        json.loads(line)
        for line in runner.invoke(cli, ["items", "--json"], env=env).output.splitlines()
    ]
    text = [i for i in every if i["locations"][0].endswith("notes.txt")]
    assert len(text) == 1 and "ai_likelihood" not in text[0]["scores"]
    items = [i for i in every if i not in text]
    assert len(items) == 24
    likelihoods = [i["scores"]["ai_likelihood"] for i in items]
    assert all(s["details"]["decided_by"] == "head" for s in likelihoods)
    assert np.mean([s["value"] for s in likelihoods]) > 0.5  # the AI folder
    assert any(r.startswith("head: toy_noise.noise") for r in likelihoods[0]["reasons"])


def test_train_takes_several_folders_per_class_and_records_cross_validation(
    folders: pathlib.Path,
) -> None:
    head = folders / "head.json"
    trained = CliRunner().invoke(
        cli,
        [
            "detect", "train",
            "--ai", str(folders / "ai" / "source0"),
            "--ai", str(folders / "ai" / "source1"),
            "--real", str(folders / "real" / "source0"),
            "--real", str(folders / "real" / "source1"),
            "--out", str(head),
        ],
        env={"VIGIL_HOME": str(folders / "home")},
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    saved = json.loads(head.read_text())
    assert len(saved["training"]["files"]) == 24
    assert len(saved["training"]["ai"]) == 2
    # four source folders, each its own group: cross-validation holds each out
    assert saved["evaluation"]["cross_validation_folds"] == 5
    assert saved["evaluation"]["cross_validated_auc"] > 0.9
    assert "cross-validated AUC" in trained.output


def test_tiny_images_are_left_out_of_training() -> None:
    import io

    from vigil.detection.evaluate import MIN_EXAMPLE_SIDE_PX, pixel_variant

    small = io.BytesIO()
    Image.new("RGB", (MIN_EXAMPLE_SIDE_PX - 1, 64)).save(small, "PNG")
    enough = io.BytesIO()
    Image.new("RGB", (MIN_EXAMPLE_SIDE_PX, 64)).save(enough, "PNG")
    assert pixel_variant(small.getvalue(), "none") is None
    assert pixel_variant(enough.getvalue(), "none") is not None
