import hashlib
import json
import pathlib

from click.testing import CliRunner
from PIL import Image, ImageOps

from helpers import image_bytes
from vigil.cli import cli
from vigil.demo import pattern_image


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.stdout


def pdq_of(path: pathlib.Path) -> str:
    record = json.loads(run("hash", "--json", "--hasher", "pdq", str(path)))
    return str(record["pdq"])


def photo(seed: int) -> Image.Image:
    """A benign test pattern with structure in both directions (PDQ needs some)."""
    return pattern_image("shapes", (320, 240), seed)


def test_import_list_show_export_delete(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "list.csv"
    source.write_text(
        "md5," + "a" * 32 + ",category=csam,source=test\n"
        "sha1," + "b" * 40 + "\n"
        "# a comment\n"
    )
    out = run(
        "hashlist", "import", str(source), "--list", "known", "--create", "--json"
    )
    result = json.loads(out)
    assert (result["added"], result["read"], result["format"]) == (2, 2, "plain")
    out = run("hashlist", "import", str(source), "--list", "known")
    assert out.startswith("imported 0 new of 2 read (2 already present)")
    listed = json.loads(run("hashlist", "list", "--json"))
    assert (listed["name"], listed["entries"], listed["version"]) == ("known", 2, 2)
    shown = json.loads(run("hashlist", "show", "known", "--json"))
    assert shown["entries_by_type"] == {"md5": 1, "sha1": 1}
    exported = tmp_path / "out.csv"
    run("hashlist", "export", "known", "--format", "plain", "-o", str(exported))
    run("hashlist", "import", str(exported), "--list", "copy", "--create")
    assert json.loads(run("hashlist", "show", "copy", "--json"))["entries"] == 2
    run("hashlist", "delete", "known", "--yes")
    assert "known" not in run("hashlist", "list")


def test_a_bad_line_imports_nothing_and_says_where(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("md5," + "a" * 32 + "\nmd5,1234\n")
    run("hashlist", "create", "known")
    result = CliRunner().invoke(
        cli, ["hashlist", "import", str(source), "--list", "known"]
    )
    assert result.exit_code == 1
    assert "line 2" in result.output and "nothing imported" in result.output
    assert json.loads(run("hashlist", "show", "known", "--json"))["entries"] == 0


def test_match_files_and_hashes_with_variants(tmp_path: pathlib.Path) -> None:
    original = tmp_path / "original.png"
    photo(1).save(original)
    mirrored = tmp_path / "mirrored.png"
    ImageOps.mirror(photo(1)).save(mirrored)
    other = tmp_path / "other.png"
    photo(2).save(other)
    listed = tmp_path / "list.csv"
    sha = hashlib.sha256(original.read_bytes()).hexdigest()
    listed.write_text(f"pdq,{pdq_of(original)},category=test\nsha256,{sha}\n")
    run("hashlist", "import", str(listed), "--list", "known", "--create")

    out = run("match", "--json", str(original), str(mirrored), str(other))
    results = [json.loads(line) for line in out.splitlines()]
    by_path = {}
    for r in results:
        by_path.setdefault(pathlib.Path(r["path"]).name, []).append(r)
    assert {(r["hash_type"], r["verdict"]) for r in by_path["original.png"]} == {
        ("sha256", "match"),
        ("pdq", "match"),
    }
    mirror = [r for r in by_path["mirrored.png"] if r["verdict"] == "match"]
    assert len(mirror) == 1 and mirror[0]["variant"] != "original"
    assert "other.png" not in by_path or all(
        r["verdict"] != "match" for r in by_path["other.png"]
    )
    run("match", "--exit-code", str(original), code=10)
    run("match", "--exit-code", str(other))
    out = run("match", "--hash", f"sha256:{sha.upper()}")
    assert out.split()[:4] == ["match", "0", "known", "sha256"]


def test_scan_records_matches_and_suppression(tmp_path: pathlib.Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for seed in range(4):
        photo(seed).save(tree / f"{seed}.png")
    ImageOps.mirror(photo(0)).save(tree / "mirrored.png")
    listed = tmp_path / "list.csv"
    listed.write_text(f"pdq,{pdq_of(tree / '0.png')}\npdq,{pdq_of(tree / '1.png')}\n")
    run("hashlist", "import", str(listed), "--list", "known", "--create")
    summary = json.loads(run("scan", "--engine", "inline", "--json", str(tree)))
    assert summary["matches_by_verdict"]["match"] == 3  # 0, mirrored 0, and 1

    suppress = tmp_path / "suppress.csv"
    suppress.write_text(f"pdq,{pdq_of(tree / '1.png')}\n")
    run("hashlist", "create", "collisions", "--suppression")
    run("hashlist", "import", str(suppress), "--list", "collisions")
    summary = json.loads(run("scan", "--engine", "inline", "--json", str(tree)))
    assert summary["matches_by_verdict"]["match"] == 2
    text = run("scan", "--engine", "inline", "--no-match", str(tree))
    assert "matched_items      0" in text


def test_unknown_list_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    (tmp_path / "a.png").write_bytes(image_bytes(1))
    result = CliRunner().invoke(cli, ["match", "--hash-list", "nope", str(tmp_path)])
    assert result.exit_code == 2 and "no hash list named 'nope'" in result.output


def test_set_threshold_and_release(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "list.csv"
    source.write_text("pdq," + "f" * 64 + "\n")
    run("hashlist", "import", str(source), "--list", "known", "--create")
    assert run("hashlist", "set-threshold", "known", "20").startswith(
        "known threshold 20 version 3"
    )
    assert (
        CliRunner().invoke(cli, ["hashlist", "set-threshold", "known", "65"]).exit_code
    )
    result = CliRunner().invoke(cli, ["hashlist", "release", "known", "0" * 64])
    assert result.exit_code == 1 and "no entry" in result.output
    assert run("hashlist", "release", "known", "F" * 64).startswith("released 1")


MD5_ABC = "900150983cd24fb0d6963f7d28e17f72"  # RFC 1321: MD5("abc")
SHA1_ABC = "a9993e364706816aba3e25717850c26c9cd0d89d"  # FIPS 180: SHA-1("abc")
VICS_CONTEXT = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
)


def test_blank_images_never_match_a_degenerate_entry(tmp_path: pathlib.Path) -> None:
    black = tmp_path / "black.png"
    Image.new("RGB", (64, 64)).save(black)
    dot = tmp_path / "dot.png"
    Image.new("RGB", (1, 1), (255, 255, 255)).save(dot)
    listed = tmp_path / "list.csv"
    listed.write_text(f"pdq,{'0' * 64}\n")
    result = CliRunner().invoke(
        cli, ["hashlist", "import", str(listed), "--list", "known", "--create"]
    )
    assert result.exit_code == 0, result.output
    assert "1 degenerate" in result.stderr
    out = run("match", "--json", str(black), str(dot))
    results = [json.loads(line) for line in out.splitlines()]
    pdq = [r for r in results if r["hash_type"] == "pdq"]
    assert pdq and all(r["verdict"] == "near_review" for r in pdq)
    assert all(r["reason"] for r in pdq)


def test_vics_round_trip_export(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "vics.json"
    media = [
        {"MediaID": 1, "Category": 1, "MD5": MD5_ABC, "SHA1": SHA1_ABC},
        {"MediaID": 2, "Category": 2, "MD5": "b" * 32, "SHA1": "c" * 40},
        {"MediaID": 3, "Category": 1, "MD5": MD5_ABC},  # the same file again
    ]
    source.write_text(json.dumps({"@odata.context": VICS_CONTEXT, "value": media}))
    out = run("hashlist", "import", str(source), "--list", "pv", "--create", "--json")
    assert json.loads(out)["repeated"] == 1
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "out.json"
    run("hashlist", "export", "pv", "--format", "vics", "-o", str(target))
    records = json.loads(target.read_text())["value"]
    hashes = {h for r in records for h in (r.get("MD5"), r.get("SHA1")) if h}
    assert hashes == {MD5_ABC, SHA1_ABC, "b" * 32, "c" * 40}
    assert [p.name for p in folder.iterdir()] == ["out.json"]  # no temporary left
    run("hashlist", "import", str(target), "--list", "back", "--create")
    assert json.loads(run("hashlist", "show", "back", "--json"))["entries"] == 4


def test_export_skips_or_chooses_types(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "mixed.csv"
    source.write_text(f"md5,{MD5_ABC}\nsha1,{SHA1_ABC}\npdq,{'58f8' * 16}\n")
    run("hashlist", "import", str(source), "--list", "mixed", "--create")
    target = tmp_path / "out.txt"
    result = CliRunner().invoke(
        cli, ["hashlist", "export", "mixed", "--format", "md5_list", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert target.read_text() == MD5_ABC + "\n"
    assert "skipped 1 pdq, 1 sha1" in result.stderr
    run(
        "hashlist",
        "export",
        "mixed",
        "--format",
        "stopncii",
        "--type",
        "pdq",
        "-o",
        str(target),
    )
    assert [r["signalType"] for r in json.loads(target.read_text())["hashRecords"]] == [
        "ImagePDQ"
    ]


def test_a_failed_export_leaves_no_file(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "list.csv"
    source.write_text(f"md5,{MD5_ABC}\n")
    run("hashlist", "import", str(source), "--list", "known", "--create")
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "out.json"
    result = CliRunner().invoke(
        cli,
        [
            "hashlist",
            "export",
            "known",
            "--format",
            "stopncii",
            "--type",
            "md5",
            "-o",
            str(target),
        ],
    )
    assert result.exit_code == 1 and "cannot carry md5" in result.output
    assert list(folder.iterdir()) == []


def test_hma_csv_with_urls_imports_media_or_refuses_strict(
    tmp_path: pathlib.Path,
) -> None:
    source = tmp_path / "hma.csv"
    source.write_text(
        "signal_type,signal_str,collab,category,tags\n"
        f"pdq,{'58f8' * 16},Sample,,\n"
        "url,https://example.com/,Sample,,\n"
        "raw_text,hello,Sample,,\n"
    )
    result = CliRunner().invoke(
        cli, ["hashlist", "import", str(source), "--list", "hma", "--create", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["added"], data["skipped"]) == (1, {"raw_text": 1, "url": 1})
    result = CliRunner().invoke(
        cli,
        ["hashlist", "import", str(source), "--list", "strict", "--create", "--strict"],
    )
    assert result.exit_code == 1 and "line 3" in result.output
    names = [
        json.loads(line)["name"]
        for line in run("hashlist", "list", "--json").splitlines()
    ]
    assert names == ["hma"]  # the failed --create left no empty list


def test_a_failed_create_import_leaves_no_list(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(f"md5,{MD5_ABC}\nmd5,1234\n")
    result = CliRunner().invoke(
        cli, ["hashlist", "import", str(source), "--list", "new", "--create"]
    )
    assert result.exit_code == 1
    assert run("hashlist", "list") == ""
