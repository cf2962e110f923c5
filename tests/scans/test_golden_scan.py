"""The golden scan: what a scan of the fixtures and the demo set finds (items, hashes,
matches, evidence, generation records, scores, errors) never changes by accident."""

import json
import pathlib

import pytest
from golden_scan import run_golden_scan

from paths import DATA, SHARED

CASES = {
    "shared": (SHARED / "fixtures", DATA / "golden" / "shared-fixtures-scan.json"),
    "repo": (DATA / "fixtures", DATA / "golden" / "repo-fixtures-scan.json"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_scan_finds_exactly_the_golden_results(
    case: str, tmp_path: pathlib.Path
) -> None:
    root, golden = CASES[case]
    if case == "shared" and not (root / "MANIFEST.json").is_file():
        pytest.skip("../shared/fixtures is absent; the repository subset still runs")
    expected = json.loads(golden.read_text())
    found = json.loads(json.dumps(run_golden_scan(root, tmp_path)))
    assert found["errors"] == expected["errors"]
    assert sorted(found["items"]) == sorted(expected["items"])
    for sha256, item in expected["items"].items():
        assert found["items"][sha256] == item, sha256
