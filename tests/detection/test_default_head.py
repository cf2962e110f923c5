"""The packaged AI-likelihood head: it loads, it records how it was trained and
measured, and it scores scans by default only when its measured AUC earns it."""

import json
import pathlib

import pytest

from vigil.detection.head import (
    DEFAULT_HEAD_MIN_AUC,
    Head,
    packaged_head_is_trusted,
    packaged_head_path,
    resolve_head,
)


def test_the_packaged_head_loads_and_records_its_training_and_evaluation() -> None:
    head = Head.load(packaged_head_path())
    assert head.features and head.features[0].startswith("spectral.")
    files = head.training["files"]
    assert len(files) >= 40
    assert {f["label"] for f in files} == {0, 1}
    assert all(len(f["sha256"]) == 64 for f in files)
    assert 0.0 <= head.evaluation["cross_validated_auc"] <= 1.0


def test_the_default_is_the_packaged_head_only_when_it_is_trusted() -> None:
    trusted = packaged_head_is_trusted()
    measured = Head.load(packaged_head_path()).evaluation["cross_validated_auc"]
    assert trusted == (measured >= DEFAULT_HEAD_MIN_AUC)
    assert resolve_head(None) == (str(packaged_head_path()) if trusted else None)
    assert resolve_head("default") == str(packaged_head_path())
    assert resolve_head("none") is None
    assert resolve_head("/some/head.json") == "/some/head.json"


@pytest.mark.parametrize(("measured", "trusted"), [(0.74, False), (0.75, True)])
def test_trust_follows_the_recorded_cross_validated_auc(
    tmp_path: pathlib.Path, measured: float, trusted: bool
) -> None:
    data = json.loads(packaged_head_path().read_text())
    data["evaluation"]["cross_validated_auc"] = measured
    path = tmp_path / "head.json"
    path.write_text(json.dumps(data))
    assert packaged_head_is_trusted(path) is trusted


def test_a_broken_head_is_never_trusted(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "head.json"
    path.write_text("{}")
    assert packaged_head_is_trusted(path) is False
