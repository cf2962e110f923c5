"""CyberTipline report files: built in the schema's element order, valid against
the packaged XSD (checked with lxml), hostile text escaped or dropped, entity
tricks refused, and `vigil cybertip` from assessments, audited, never sent."""

import datetime as dt
import hashlib
import json
import pathlib

import pytest
from lxml import etree

from triage_case import Case
from vigil.reports.cybertipline import (
    CyberTipError,
    ReportedFile,
    Reporter,
    build_bundle,
    validate,
)

WHEN = dt.datetime(2026, 11, 30, 14, 5, tzinfo=dt.UTC)
REPORTER = Reporter("Ana", "Grader", "ana@hotline.example", "Example Hotline")
MD5 = "0" * 31 + "1"
SHA1 = "a" * 40


def _tags(document: bytes) -> list[str]:
    return [child.tag for child in etree.fromstring(document)]


def test_a_bundle_validates_and_keeps_the_schema_order() -> None:
    bundle = build_bundle(
        WHEN,
        REPORTER,
        [
            ReportedFile("a.jpg", MD5, SHA1, "A2", True, "dump.zip!/a.jpg"),
            ReportedFile("b.png", MD5, None, "A1", False),
            ReportedFile("c.png", MD5),
        ],
        description="the upload time on the forum",
    )
    assert validate(bundle.report) == []
    assert _tags(bundle.report) == ["incidentSummary", "reporter"]
    summary = etree.fromstring(bundle.report).find("incidentSummary")
    assert [c.tag for c in summary] == [
        "incidentType", "incidentDateTime", "incidentDateTimeDescription",
    ]  # fmt: skip
    first, second, third = bundle.files
    for document in bundle.files:
        assert validate(document) == []
    assert _tags(first) == [
        "reportId", "fileId", "originalFileName", "locationOfFile",
        "fileViewedByEsp", "fileAnnotations", "industryClassification",
        "originalFileHash", "originalFileHash",
    ]  # fmt: skip
    assert etree.fromstring(first).find("fileAnnotations/generativeAi") is not None
    assert "fileAnnotations" not in _tags(second)
    assert "industryClassification" not in _tags(third)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("<incidentSummary>", "<reporter/><incidentSummary>"), "reporter"),
        (("Child Pornography", "Something else"), "incidentType"),
    ],
)
def test_a_broken_report_fails_validation(
    change: tuple[str, str], message: str
) -> None:
    bundle = build_bundle(WHEN, REPORTER, [ReportedFile("a.jpg", MD5)])
    broken = bundle.report.decode().replace(*change, 1).encode()
    problems = validate(broken)
    assert problems and any(message in p for p in problems)


def test_a_bad_class_or_a_missing_hash_fails_validation() -> None:
    bundle = build_bundle(WHEN, REPORTER, [ReportedFile("a.jpg", MD5, None, "A1")])
    bad = bundle.files[0].replace(b">A1<", b">C3<")
    assert any("industryClassification" in p for p in validate(bad))
    swapped = bundle.files[0].replace(b'hashType="MD5"', b'hashType="SHA256"')
    assert validate(swapped)


def test_hostile_text_is_escaped_or_dropped_and_still_valid() -> None:
    name = "a<b>&\"c'\x00\x07\ud800 \U0001f600.jpg"
    bundle = build_bundle(WHEN, REPORTER, [ReportedFile(name, MD5)], note="x</report>")
    assert validate(bundle.files[0]) == [] and validate(bundle.report) == []
    shown = etree.fromstring(bundle.files[0]).findtext("originalFileName")
    assert shown == "a<b>&\"c' \U0001f600.jpg"


def test_entity_expansion_is_refused_without_expanding() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE report [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><report>&b;</report>'
    )
    problems = validate(laughs)
    assert problems and "document type" in problems[0]


@pytest.mark.parametrize(
    "made",
    [
        lambda: ReportedFile("a", "xyz"),
        lambda: ReportedFile("a", MD5, "12"),
        lambda: ReportedFile("a", MD5, None, "C"),
        lambda: build_bundle(
            WHEN.replace(tzinfo=None), REPORTER, [ReportedFile("a", MD5)]
        ),
        lambda: build_bundle(WHEN, REPORTER, []),
        lambda: build_bundle(WHEN, Reporter("", "x", "y"), [ReportedFile("a", MD5)]),
    ],
)
def test_bad_input_is_one_clear_error(made: object) -> None:
    with pytest.raises(CyberTipError):
        made()  # type: ignore[operator]


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
    env = {
        "VIGIL_REPORTER_FIRST_NAME": "Ana",
        "VIGIL_REPORTER_LAST_NAME": "Grader",
        "VIGIL_REPORTER_EMAIL": "ana@hotline.example",
    }
    from click.testing import CliRunner

    from vigil.cli import cli

    done = CliRunner().invoke(
        cli, ["cybertip", sha, "--out", str(out)], env={**case.env, **env}
    )
    assert done.exit_code == 0, done.output
    assert "not sent" in done.output
    details = (out / "file-001.xml").read_bytes()
    assert validate(details) == [] and validate((out / "report.xml").read_bytes()) == []
    tree = etree.fromstring(details)
    assert tree.findtext("industryClassification") == "A2"
    assert tree.find("fileAnnotations/generativeAi") is not None
    data = (case.folder / "forum" / "single0.png").read_bytes()
    hashes = {e.get("hashType"): e.text for e in tree.findall("originalFileHash")}
    assert hashes["MD5"] == hashlib.md5(data).hexdigest()  # noqa: S324 - a file key
    log = [
        json.loads(x) for x in case.run("audit", "list", "--json").output.splitlines()
    ]
    (export,) = [r for r in log if r["target"] == "cybertipline report"]
    assert (
        export["details"]["files"]["report.xml"]
        == hashlib.sha256((out / "report.xml").read_bytes()).hexdigest()
    )
    unassessed = CliRunner().invoke(
        cli,
        ["cybertip", case.sha["single1"], "--out", str(out)],
        env={**case.env, **env},
    )
    assert unassessed.exit_code == 2 and "no analyst's assessment" in unassessed.output
