"""`vigil report`: every figure checked against values computed here from the
assessments the test makes; the files it writes; the page in headless Chromium."""

import collections
import json
import pathlib
import shutil

import pytest

from triage_case import Case

# (role in the case, the observations given to `vigil assess`, propagated copies)
DECISIONS = [
    ("single0", {"child": "yes", "age": "7-10", "sex": "female", "act": "C",
                 "realism": "photorealistic_synthetic", "ai": "yes",
                 "outcome": "criminal"}, 0),
    ("single1", {"child": "yes", "age": "3-6", "sex": "male", "act": "A",
                 "realism": "photographic", "ai": "no", "outcome": "criminal"}, 0),
    ("single2", {"child": "yes", "age": "14-15", "sex": "unclear", "act": "none",
                 "realism": "photographic", "ai": "suspected",
                 "outcome": "not_criminal", "reason": "child_no_sexual_activity"}, 0),
    ("dup_png", {"child": "no", "realism": "photographic", "ai": "no",
                 "outcome": "not_criminal", "reason": "off_remit"}, 2),
    ("contradiction", {"child": "no", "realism": "photographic", "ai": "no",
                       "outcome": "not_criminal", "reason": "suspected_adult"}, 0),
]  # fmt: skip


def _args(observed: dict[str, str]) -> list[str]:
    args = []
    for key, value in observed.items():
        args += [f"--{key}", value]
    if observed["ai"] != "no":
        args += ["--ai-evidence", "analyst"]
    return args


@pytest.fixture
def reported(case: Case, tmp_path: pathlib.Path) -> tuple[Case, dict, pathlib.Path]:
    case.scan()
    case.run("queue")
    clusters = [
        json.loads(x) for x in case.run("cluster", "list", "--json").output.splitlines()
    ]
    (near,) = [c for c in clusters if c["kind"] == "near_duplicate"]
    for role, observed, _ in DECISIONS:
        sha = near["representative_sha256"] if role == "dup_png" else case.sha[role]
        extra = ["--cluster"] if role == "dup_png" else []
        done = case.run("assess", sha, *_args(observed), "--seconds", "20", *extra)
        assert done.exit_code == 0, done.output
    out = tmp_path / "report"
    done = case.run("report", "--out", str(out))
    assert done.exit_code == 0, done.output
    return case, json.loads((out / "report.json").read_text())["figures"], out


def test_every_figure_matches_the_assessments_made(
    reported: tuple[Case, dict, pathlib.Path],
) -> None:
    _, figures, _ = reported
    # every decision counts once, and once more per propagated copy
    counted = [obs for _, obs, copies in DECISIONS for _ in range(1 + copies)]
    criminal = [o for o in counted if o["outcome"] == "criminal"]
    children = [o for o in counted if o["child"] == "yes"]
    route = {"photographic": "poca_1978_indecent_photograph",
             "photorealistic_synthetic": "poca_1978_pseudo_photograph"}  # fmt: skip
    assert figures["items"] == 8 and figures["matched"] == 2
    assert figures["assessed"] == len(counted) == 7
    assert figures["assessed_by_propagation"] == 2
    assert figures["assessed_by_analyst"] == 5
    assert (
        figures["list_labelled"] == 1
    )  # the known item; the contradiction was assessed
    assert figures["criminal"] == len(criminal)
    assert figures["criminal_share"] == round(len(criminal) / len(counted), 4)
    assert figures["uk_category"] == dict(
        collections.Counter(o["act"] for o in criminal)
    )
    assert figures["legal_route"] == dict(
        collections.Counter(route[o["realism"]] for o in criminal)
    )
    assert figures["age_band"] == dict(collections.Counter(o["age"] for o in children))
    assert figures["sex"] == dict(collections.Counter(o["sex"] for o in children))
    assert figures["ai_generated"] == dict(
        collections.Counter(o["ai"] for o in counted)
    )
    assert figures["ai_generated_share"] == round(
        sum(o["ai"] == "yes" for o in counted) / len(counted), 4
    )
    assert figures["ai_generated_share_of_criminal"] == round(
        sum(o["ai"] == "yes" for o in criminal) / len(criminal), 4
    )
    assert figures["not_criminal_reasons"] == dict(
        collections.Counter(o["reason"] for o in counted if o["outcome"] != "criminal")
    )
    assert figures["ncmec_class"] == {"A1": 1, "A2": 1}  # 3-6 act A; 7-10 act C
    assert figures["interpol_baseline"] == 1  # the real photograph, 3-6, act A
    assert figures["project_vic"] == {"0": 4, "1": 2, "2": 1}
    assert figures["analyst_seconds"]["tester"]["decisions"] == 5
    assert figures["analyst_seconds"]["tester"]["median_seconds"] == 20.0
    assert figures["largest_clusters"][0]["size"] == 3


def test_the_report_files_and_the_audit_record(
    reported: tuple[Case, dict, pathlib.Path],
) -> None:
    case, _, out = reported
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"report.html", "report.json", "figures.csv", "case.csv"} <= names
    assert {
        f"charts/{n}.png" for n in ("uk_category", "age_band", "legal_route")
    } <= names
    for chart in out.glob("charts/*.png"):
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "report.html").read_text()
    assert "28.6%" in page  # criminal share, 2 of 7
    assert "<b>8</b>items" in page and "built-in method" not in page
    csv_text = (out / "figures.csv").read_text()
    assert "uk_category,A,1" in csv_text and "uk_category,C,1" in csv_text
    assert "matched" in (out / "case.csv").read_text()
    log = [
        json.loads(x) for x in case.run("audit", "list", "--json").output.splitlines()
    ]
    (export,) = [r for r in log if r["target"].startswith("report scan")]
    assert set(export["details"]["files"]) == names


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium")
def test_the_report_page_in_headless_chromium(
    reported: tuple[Case, dict, pathlib.Path],
) -> None:
    import os

    from playwright.sync_api import sync_playwright

    _, _, out = reported
    shots = pathlib.Path(os.environ.get("VIGIL_ARTIFACTS", "artifacts")) / "report"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.goto((out / "report.html").as_uri())
        loaded = page.evaluate(
            "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
        )
        assert loaded, "a chart did not load"
        page.screenshot(path=shots / "report.png", full_page=True)
        browser.close()
