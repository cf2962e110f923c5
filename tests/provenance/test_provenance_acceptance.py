"""Issue acceptance with every registered extractor together, as `vigil scan` runs
them: C2PA AI files give AI evidence with their listed digitalSourceType; non-AI
manifests and camera photos give none; invalid manifests are never proof; malformed
files become error records. Runs over ../shared/fixtures when present, else over the
subset in tests/data/fixtures."""

import json
import pathlib

import pytest

from vigil.media.base import Limits
from vigil.media.sniff import SNIFF_BYTES, sniff_bytes
from vigil.plugins import build_registry
from vigil.provenance.base import Strength
from vigil.provenance.run import Provenance, extract_all

EXTRACTORS = build_registry().extractors()
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".tif", ".tiff", ".gif"}


def _files(root: pathlib.Path, folder: str) -> list[pathlib.Path]:
    base = root / folder
    if not base.is_dir():
        pytest.skip(f"{folder} is absent from the fixtures")
    return sorted(
        p for p in base.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def _extract(path: pathlib.Path) -> Provenance:
    data = path.read_bytes()
    return extract_all(data, sniff_bytes(data[:SNIFF_BYTES]), EXTRACTORS, Limits())


def _last_segment(term: str) -> str:
    return term.rstrip("/").rsplit("/", 1)[-1]


def test_c2pa_ai_files_give_ai_evidence_with_their_source_type(
    shared_fixtures: pathlib.Path,
) -> None:
    summary = json.loads(
        (shared_fixtures / "c2pa" / "c2pa_manifest_summary.json").read_text()
    )["files"]
    files = _files(shared_fixtures, "c2pa/ai")
    assert files
    for path in files:
        found = _extract(path)
        relative = str(path.relative_to(shared_fixtures))
        listed = {
            _last_segment(term)
            for term in summary[relative]["digital_source_types_any_manifest"]
        }
        ai = [e for e in found.evidence if e.is_ai]
        assert ai, relative
        seen = {
            _last_segment(term)
            for e in ai
            for term in e.details.get("source_types", [])
        }
        assert listed <= seen, (relative, listed, seen)


@pytest.mark.parametrize("folder", ["c2pa/nonai", "c2pa/none", "c2pa/iptc", "camera"])
def test_no_ai_evidence_on_captures_and_edits(
    shared_fixtures: pathlib.Path, folder: str
) -> None:
    for path in _files(shared_fixtures, folder):
        found = _extract(path)
        assert not found.is_ai, (path, [e.summary for e in found.evidence if e.is_ai])


def test_invalid_manifests_are_reported_and_never_proof(
    shared_fixtures: pathlib.Path,
) -> None:
    files = _files(shared_fixtures, "c2pa/invalid")
    assert files
    for path in files:
        found = _extract(path)
        c2pa = [e for e in found.evidence if e.source == "c2pa"]
        assert c2pa, path
        assert all(e.strength is not Strength.PROOF for e in found.evidence)
        states = {e.details.get("validation") for e in c2pa}
        assert "invalid" in states, (path, states)


def test_malformed_files_become_error_records(shared_fixtures: pathlib.Path) -> None:
    folder = shared_fixtures / "generated" / "malformed"
    for path in sorted(folder.iterdir()):
        found = _extract(path)  # must not raise
        assert all(e.reason != "extractor_failed" for e in found.errors), path
