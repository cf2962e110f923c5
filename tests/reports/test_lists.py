"""Hash lists from assessments: every hash of each assessed item with the derived
labels and the assessment behind it; a correction relabels on the next run; every
exchange format re-imports to the same entries; exports are audited with the
SHA-256 of what was written."""

import hashlib
import json
import pathlib

import pytest

from triage_case import Case


def _assess(case: Case, sha: str, *extra: str) -> None:
    done = case.run("assess", sha, *extra)
    assert done.exit_code == 0, done.output


CRIMINAL = (
    "--child", "yes", "--age", "7-10", "--sex", "unclear", "--act", "C",
    "--realism", "photorealistic_synthetic", "--ai", "yes", "--ai-evidence", "C2PA",
    "--outcome", "criminal",
)  # fmt: skip
NOT_CRIMINAL = (
    "--child", "no", "--realism", "photographic", "--ai", "no",
    "--outcome", "not_criminal", "--reason", "off_remit",
)  # fmt: skip


@pytest.fixture
def assessed(case: Case) -> Case:
    case.scan()
    case.run("queue")
    _assess(case, case.sha["single0"], *CRIMINAL)
    _assess(case, case.sha["single1"], *NOT_CRIMINAL)
    return case


def _entries(case: Case, name: str) -> list[dict]:
    done = case.run("hashlist", "export", name, "--format", "plain")
    assert done.exit_code == 0, done.output
    rows = []
    for line in done.output.splitlines():
        if line.startswith("#") or not line.startswith(
            ("md5", "sha1", "sha256", "pdq")
        ):
            continue
        kind, value, *labels = line.split(",")
        rows.append(
            {"type": kind, "value": value, **dict(x.split("=", 1) for x in labels)}
        )
    return rows


def test_criminal_assessments_become_labelled_entries(assessed: Case) -> None:
    done = assessed.run(
        "hashlist", "from-assessments", "--list", "ours", "--create", "--json"
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["added"] == 4  # md5, sha1, sha256, pdq of one item
    entries = _entries(assessed, "ours")
    data = (assessed.folder / "forum" / "single0.png").read_bytes()
    assert {e["type"]: e["value"] for e in entries} == {
        "md5": hashlib.md5(data).hexdigest(),  # noqa: S324 - a list key
        "sha1": hashlib.sha1(data).hexdigest(),  # noqa: S324 - a list key
        "sha256": hashlib.sha256(data).hexdigest(),
        "pdq": entries[-1]["value"],
    }
    first = entries[0]
    assert first["category"] == "vics_1" and first["ai_generated"] == "true"
    assert first["uk_category"] == "C"
    assert first["legal_route"] == "poca_1978_pseudo_photograph"
    assert first["ncmec_class"] == "A2" and first["interpol_baseline"] == "false"
    assert first["assessment"].isdigit()


def test_a_correction_relabels_the_entries_on_the_next_run(assessed: Case) -> None:
    assessed.run("hashlist", "from-assessments", "--list", "ours", "--create")
    _assess(assessed, assessed.sha["single0"], *NOT_CRIMINAL)  # supersedes
    again = assessed.run(
        "hashlist", "from-assessments", "--list", "ours", "--outcome", "any", "--json"
    )
    result = json.loads(again.output)
    assert result["updated"] == 4 and result["added"] == 4  # single1 joins too
    labels = {e["value"]: e for e in _entries(assessed, "ours")}
    data = (assessed.folder / "forum" / "single0.png").read_bytes()
    relabelled = labels[hashlib.sha256(data).hexdigest()]
    assert (
        relabelled["outcome"] == "not_criminal" and relabelled["category"] == "vics_0"
    )


@pytest.mark.parametrize("fmt", ["plain", "vics", "hma_csv", "md5_list"])
def test_exported_lists_reimport_to_the_same_entries(
    assessed: Case, fmt: str, tmp_path: pathlib.Path
) -> None:
    assessed.run(
        "hashlist", "from-assessments", "--list", "ours", "--create", "--outcome", "any"
    )
    out = tmp_path / f"ours.{fmt}"
    done = assessed.run("hashlist", "export", "ours", "--format", fmt, "-o", str(out))
    assert done.exit_code == 0, done.output
    back = assessed.run(
        "hashlist", "import", str(out), "--format", fmt, "--list", "back", "--create"
    )
    assert back.exit_code == 0, back.output
    original = {(e["type"], e["value"]) for e in _entries(assessed, "ours")}
    returned = {(e["type"], e["value"]) for e in _entries(assessed, "back")}
    carried = {k for k in original if fmt != "md5_list" or k[0] == "md5"}
    assert returned == carried
    log = [
        json.loads(x)
        for x in assessed.run("audit", "list", "--json").output.splitlines()
    ]
    (export,) = [
        r
        for r in log
        if r["action"] == "export" and r["details"].get("file") == str(out)
    ]
    assert export["details"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
