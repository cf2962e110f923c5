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
