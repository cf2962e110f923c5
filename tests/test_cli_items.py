"""`vigil items`, `vigil scan show` and `vigil scan list`: a scan's results for people,
after the scan has ended (a new user's first question after a scan)."""

import csv
import io
import json
import pathlib

from click.testing import CliRunner

from vigil.cli import cli
from vigil.demo import build_demo, known_list


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def _scan_demo(tmp_path: pathlib.Path) -> dict[str, object]:
    demo = tmp_path / "demo"
    build_demo(demo)
    listing = tmp_path / "known.csv"
    listing.write_text(known_list())
    assert run("hashlist", "import", str(listing), "--list", "demo", "--create")[0] == 0
    code, out = run("scan", "--engine", "inline", "--no-progress", "--json", str(demo))
    assert code == 0
    summary: dict[str, object] = json.loads(out)
    return summary


def test_items_lists_what_the_scan_found(tmp_path: pathlib.Path) -> None:
    summary = _scan_demo(tmp_path)
    assert str(summary["store"]).endswith("vigil.sqlite3")
    code, out = run("items", "--json")
    assert code == 0
    items = [json.loads(line) for line in out.splitlines()]
    assert len(items) == summary["items"]
    assert sum(len(i["locations"]) for i in items) == summary["locations"]
    matched = [i for i in items if any(m["verdict"] == "match" for m in i["matches"])]
    verdicts = summary["matches_by_verdict"]
    assert isinstance(verdicts, dict)
    assert len(matched) == verdicts["match"]
    assert all(m["hash_list"] == "demo" for i in matched for m in i["matches"])
    generated = [i for i in items if i["generation"]]
    assert generated and all(i["ai_evidence"] for i in generated)
    assert all(i["scores"]["prompt_risk"]["level"] == "allow" for i in generated)
    models = [i for i in items if "model_risk" in i["scores"]]
    assert len(models) == 1 and models[0]["kind"] == "safetensors"

    code, out = run("items", "--matched")
    lines = out.splitlines()
    assert code == 0 and len(lines) == len(matched)
    assert all(" match=demo:" in line for line in lines)
    code, out = run("items", "--ai")
    assert all(" ai=yes" in line for line in out.splitlines())
    assert len(out.splitlines()) == sum(1 for i in items if i["ai_evidence"])
    code, out = run("items", "--errors", "--json")
    erred = [json.loads(line) for line in out.splitlines()]
    assert {e["reason"] for i in erred for e in i["errors"]} == {
        "empty_file",
        "truncated",
    }  # the zip-slip member never became an item


def test_items_csv_has_a_header_and_one_row_per_item(tmp_path: pathlib.Path) -> None:
    summary = _scan_demo(tmp_path)
    code, out = run("items", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == summary["items"]
    assert {r["ai_evidence"] for r in rows} == {"yes", "no"}
    assert all(len(r["sha256"]) == 64 for r in rows)


def test_scan_show_and_list(tmp_path: pathlib.Path) -> None:
    summary = _scan_demo(tmp_path)
    code, out = run("scan", "show", str(summary["scan_id"]), "--json")
    assert code == 0
    again = json.loads(out)
    assert again == summary
    code, out = run("scan", "show", str(summary["scan_id"]))
    assert "store" in out and f"scan               {summary['scan_id']} finished" in out
    code, out = run("scan", "list")
    assert out.startswith(f"{summary['scan_id']} finished ")
    assert CliRunner().invoke(cli, ["scan", "show", "99"]).exit_code == 2


def test_items_before_any_scan_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["items"])
    assert result.exit_code == 2
    assert "no scans yet" in result.output


def test_a_name_with_a_newline_cannot_forge_an_item_line(
    tmp_path: pathlib.Path,
) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a\nfffffff png forged.png").write_bytes(b"not an image")
    assert run("scan", "--engine", "inline", "--no-progress", str(folder))[0] == 0
    code, out = run("items")
    assert code == 0 and len(out.splitlines()) == 1
    assert "\\n" in out


def test_a_degenerate_list_entry_is_stored_as_near_review_with_its_reason(
    tmp_path: pathlib.Path,
) -> None:
    """An all-zero PDQ entry (what blank images hash to) never matches a blank
    image in a scan either; the stored result says why."""
    from PIL import Image

    folder = tmp_path / "src"
    folder.mkdir()
    Image.new("RGB", (64, 64), (0, 0, 0)).save(folder / "black.png")
    listing = tmp_path / "zero.csv"
    listing.write_text("pdq," + "0" * 64 + "\n")
    assert run("hashlist", "import", str(listing), "--list", "z", "--create")[0] == 0
    code, out = run(
        "scan", "--engine", "inline", "--no-progress", "--json", str(folder)
    )
    assert code == 0 and "match" not in json.loads(out)["matches_by_verdict"]
    code, out = run("items", "--json")
    (item,) = [json.loads(line) for line in out.splitlines()]
    assert {(m["verdict"], m["reason"]) for m in item["matches"]} <= {
        ("near_review", "entry_degenerate"),
        ("near_review", "query_degenerate"),
        ("near_review", "query_low_quality"),
    }
    assert item["matches"]
