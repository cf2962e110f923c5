"""ai_likelihood from evidence, fusion, and the claimed-AI contradiction."""

import json
import pathlib
import shutil

import pytest
from click.testing import CliRunner

from paths import DATA
from vigil.cli import cli
from vigil.detection.base import Decisiveness, Detection, DetectionInput
from vigil.detection.evidence import EvidenceDetector
from vigil.detection.fusion import fuse
from vigil.media.base import Limits, MediaKind
from vigil.media.subject import Subject
from vigil.provenance.base import Evidence, EvidenceKind, Strength

SUBJECT = Subject(b"", MediaKind.PNG, Limits())


def _evidence(kind: EvidenceKind, strength: Strength) -> Evidence:
    return Evidence(kind, "test", strength, f"{strength} {kind}", extractor="x")


@pytest.mark.parametrize(
    ("evidence", "probability"),
    [
        ([(EvidenceKind.AI_GENERATED, Strength.PROOF)], 0.99),
        ([(EvidenceKind.AI_GENERATED, Strength.STRONG)], 0.95),
        ([(EvidenceKind.CAPTURED, Strength.PROOF)], 0.05),
        # an AI claim beside a capture claim: the AI claim decides
        (
            [
                (EvidenceKind.CAPTURED, Strength.PROOF),
                (EvidenceKind.AI_GENERATED, Strength.STRONG),
            ],
            0.95,
        ),
        ([(EvidenceKind.AI_GENERATED, Strength.WEAK)], None),  # a reason, no verdict
        ([(EvidenceKind.CAPTURED, Strength.WEAK)], None),  # camera EXIF is typed
        ([], None),
    ],
)
def test_evidence_decides_only_when_it_is_proof_or_strong(
    evidence: list[tuple[EvidenceKind, Strength]], probability: float | None
) -> None:
    facts = DetectionInput(evidence=tuple(_evidence(k, s) for k, s in evidence))
    found = EvidenceDetector().detect(SUBJECT, facts)
    assert found.probability == probability
    score = fuse([found])
    if probability is None:
        assert score is None  # unknown is no score, never a made-up 0.5
        if evidence:
            assert all(r.startswith("weak, not a verdict") for r in found.reasons)
    else:
        assert score is not None and score.value == probability
        assert score.reasons and score.details["decided_by"] == "evidence"


def test_fusion_averages_contributions_in_log_odds_and_keeps_each() -> None:
    views = [Detection("a", 0.8), Detection("b", 0.2), Detection("c", None)]
    assert fuse(views) is None  # untrained views alone give no likelihood
    score = fuse(views, untrained=True)
    assert score is not None and score.value == pytest.approx(0.5)
    assert score.details["contributions"] == {"a": 0.8, "b": 0.2}
    calibrated = fuse([*views, Detection("m", 0.9, is_calibrated=True)])
    assert calibrated is not None and calibrated.value == pytest.approx(0.9)
    decided = fuse([*views, Detection("e", 0.99, Decisiveness.DECIDES)])
    assert decided is not None and decided.value == 0.99


def _scan_with_list(
    tmp_path: pathlib.Path, folder: pathlib.Path, entries: str
) -> list[dict[str, object]]:
    env = {"VIGIL_HOME": str(tmp_path / "home")}
    runner = CliRunner()
    listing = tmp_path / "real.csv"
    listing.write_text(entries)
    imported = runner.invoke(
        cli, ["hashlist", "import", str(listing), "--list", "real", "--create"], env=env
    )
    assert imported.exit_code == 0, imported.output
    scanned = runner.invoke(
        cli, ["scan", "--engine", "inline", "--no-progress", str(folder)], env=env
    )
    assert scanned.exit_code == 0, scanned.output
    out = runner.invoke(cli, ["items", "--json"], env=env).output
    return [json.loads(line) for line in out.splitlines()]


def _md5(path: pathlib.Path) -> str:
    import hashlib

    return hashlib.md5(path.read_bytes()).hexdigest()  # noqa: S324 - list key


CAMERA = DATA / "fixtures" / "camera" / "exif-samples" / "Nikon_D70.jpg"
C2PA_AI = (
    DATA / "fixtures" / "c2pa" / "ai" / "bing-image-creator-cloud_surfing_puppy.jpg"
)


@pytest.mark.parametrize(
    ("place", "label", "fires"),
    [
        ("ai-generated/photo.jpg", "false", True),  # named AI, listed as real
        ("holiday/photo.jpg", "false", False),  # no claim
        ("ai-generated/photo.jpg", None, False),  # the list says nothing of AI
        ("ai-generated/photo.jpg", "true", False),  # listed as AI: consistent
    ],
)
def test_a_camera_photo_named_as_ai_but_listed_as_real_is_flagged(
    tmp_path: pathlib.Path, place: str, label: str | None, fires: bool
) -> None:
    folder = tmp_path / "case"
    (folder / place).parent.mkdir(parents=True)
    shutil.copy(CAMERA, folder / place)
    entry = f"md5,{_md5(CAMERA)}" + (f",ai_generated={label}" if label else "")
    (item,) = _scan_with_list(tmp_path, folder, entry + "\n")
    scores = item["scores"]
    assert isinstance(scores, dict)
    assert ("claimed_ai_contradiction" in scores) is fires
    if fires:
        reasons = scores["claimed_ai_contradiction"]["reasons"]
        assert any("named as AI: ai-generated/photo.jpg" in r for r in reasons)
        assert any("labelled real imagery" in r for r in reasons)


def test_ai_evidence_on_an_image_listed_as_real_is_flagged(
    tmp_path: pathlib.Path,
) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    shutil.copy(C2PA_AI, folder / "upload.jpg")
    (item,) = _scan_with_list(
        tmp_path, folder, f"md5,{_md5(C2PA_AI)},ai_generated=false\n"
    )
    scores = item["scores"]
    assert isinstance(scores, dict)
    assert any(
        r.startswith("AI evidence:")
        for r in scores["claimed_ai_contradiction"]["reasons"]
    )
