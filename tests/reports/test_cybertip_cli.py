"""`vigil cybertip`: CyberTipline files from analysts' assessments, valid against
the packaged schema, audited, never sent."""

import hashlib
import json
import pathlib

from click.testing import CliRunner
from lxml import etree

from triage_case import Case
from vigil.cli import cli
from vigil.reports.cybertip import validate

REPORTER = {
    "VIGIL_REPORTER_FIRST_NAME": "Ana",
    "VIGIL_REPORTER_LAST_NAME": "Grader",
    "VIGIL_REPORTER_EMAIL": "ana@hotline.example",
    "VIGIL_REPORTER_ORGANISATION": "Example Hotline",
}


def test_vigil_cybertip_from_assessments(case: Case, tmp_path: pathlib.Path) -> None:
    case.scan()
    sha = case.sha["single0"]
    made = case.run(
        "assess", sha, "--child", "yes", "--age", "7-10", "--sex", "unclear",
        "--act", "C", "--realism", "photorealistic_synthetic", "--ai", "yes",
        "--ai-evidence", "C2PA", "--outcome", "criminal",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    out = tmp_path / "tip"
    refused = case.run("cybertip", sha, "--out", str(out))
    assert refused.exit_code == 2 and "VIGIL_REPORTER_FIRST_NAME" in refused.output
    env = {**case.env, **REPORTER}
    done = CliRunner().invoke(cli, ["cybertip", sha, "--out", str(out)], env=env)
    assert done.exit_code == 0, done.output
    assert "not sent" in done.output
    report = (out / "report.xml").read_bytes()
    details = (out / "file-001.xml").read_bytes()
    assert validate(report, "report") == [] and validate(details, "fileDetails") == []
    tree = etree.fromstring(details)
    assert tree.findtext("industryClassification") == "A2"
    assert tree.find("fileAnnotations/generativeAi") is not None
    data = (case.folder / "forum" / "single0.png").read_bytes()
    hashes = {e.get("hashType"): e.text for e in tree.findall("originalFileHash")}
    assert hashes["MD5"] == hashlib.md5(data).hexdigest()  # noqa: S324 - a file key
    assert hashes["SHA256"] == sha
    assert b"<fileAnnotations" not in report and len(details) < 4096  # no image bytes
    log = [
        json.loads(x) for x in case.run("audit", "list", "--json").output.splitlines()
    ]
    (export,) = [r for r in log if r["target"] == "cybertipline report"]
    assert (
        export["details"]["files"]["report.xml"] == hashlib.sha256(report).hexdigest()
    )
    unassessed = CliRunner().invoke(
        cli, ["cybertip", case.sha["single1"], "--out", str(tmp_path / "t2")], env=env
    )
    assert unassessed.exit_code == 2 and "no analyst's assessment" in unassessed.output
