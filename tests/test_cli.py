import hashlib
import io
import json
import pathlib
import zipfile

from click.testing import CliRunner

from helpers import image_bytes
from vigil.cli import cli


def run(*args: str, input: bytes | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout


def test_hash_prints_one_line_per_hash(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a.png"
    data = image_bytes(3)
    path.write_bytes(data)
    code, out = run("hash", str(path))
    assert code == 0
    lines = [line.split(" ") for line in out.splitlines()]
    assert {line[0] for line in lines} == {"md5", "sha1", "sha256", "pdq"}
    assert all(line[2] == str(path) for line in lines)
    values = {line[0]: line[1] for line in lines}
    assert values["sha256"] == hashlib.sha256(data).hexdigest()
    assert values["md5"] == hashlib.md5(data).hexdigest()  # noqa: S324 - test vector
    assert len(values["pdq"]) == 64


def test_hash_json_lines_and_error_records(tmp_path: pathlib.Path) -> None:
    good, bad = tmp_path / "good.png", tmp_path / "bad.jpg"
    good.write_bytes(image_bytes(4))
    bad.write_bytes(image_bytes(5, fmt="JPEG")[:150])
    code, out = run(
        "hash", "--json", str(good), str(bad), str(tmp_path / "missing.png")
    )
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["path"] for r in records] == [
        str(good),
        str(bad),
        str(tmp_path / "missing.png"),
    ]
    assert set(records[0]) == {"path", "md5", "sha1", "sha256", "pdq", "pdq_quality"}
    assert isinstance(records[0]["pdq_quality"], int)
    assert records[1]["error"] == "truncated" and "pdq" not in records[1]
    assert records[1]["sha256"] == hashlib.sha256(bad.read_bytes()).hexdigest()
    assert records[2]["error"] == "file_vanished" and "sha256" not in records[2]


def test_hash_reads_stdin_and_walks_archives() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x/y.png", image_bytes(6))
    code, out = run("hash", "--hasher", "sha256", "-", input=buffer.getvalue())
    assert code == 0
    assert out.splitlines() == [
        f"sha256 {hashlib.sha256(buffer.getvalue()).hexdigest()} <stdin>",
        f"sha256 {hashlib.sha256(image_bytes(6)).hexdigest()} <stdin>!/x/y.png",
    ]


def test_hash_with_an_unknown_hasher_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    (tmp_path / "a.png").write_bytes(image_bytes(1))
    result = CliRunner().invoke(
        cli, ["hash", "--hasher", "nope", str(tmp_path / "a.png")]
    )
    assert result.exit_code == 2
    assert "no hasher named 'nope'" in result.output


def test_scan_json_summary_and_rescan(tmp_path: pathlib.Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(4):
        (tree / f"{i}.png").write_bytes(image_bytes(i))
    (tree / "dup.png").write_bytes(image_bytes(0))
    (tree / "empty.gif").write_bytes(b"")
    code, out = run("scan", "--engine", "inline", "--json", str(tree))
    assert code == 0
    summary = json.loads(out)
    assert summary["status"] == "finished"
    assert (summary["files"], summary["items"], summary["duplicates"]) == (6, 5, 1)
    assert summary["errors_by_reason"] == {"empty_file": 1}
    assert {"mb_per_second", "files_per_second", "elapsed_seconds"} <= set(summary)
    code, out = run("scan", "--engine", "inline", str(tree))
    text = dict(line.split(None, 1) for line in out.splitlines())
    assert text["scan"] == "2 finished"  # a finished scan is not resumed: a new scan
    assert text["errors"] == "1 (empty_file 1)"


def test_scan_usage_errors(tmp_path: pathlib.Path) -> None:
    assert CliRunner().invoke(cli, ["scan"]).exit_code == 2
    assert CliRunner().invoke(cli, ["scan", str(tmp_path / "nope")]).exit_code == 2
    result = CliRunner().invoke(cli, ["scan", "--resume", "42"])
    assert result.exit_code == 2 and "no scan with id 42" in result.output


def test_plugins_lists_builtins() -> None:
    code, out = run("plugins", "--json")
    names = {(r["kind"], r["name"]) for r in map(json.loads, out.splitlines())}
    assert {("hasher", "pdq"), ("hasher", "sha256"), ("engine", "local")} <= names


def test_demo_build_is_deterministic_and_scans(tmp_path: pathlib.Path) -> None:
    code, out = run("demo", "build", str(tmp_path / "one"), "--count", "26")
    assert code == 0 and out.startswith("demo ")
    run("demo", "build", str(tmp_path / "two"), "--count", "26")
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*"))
    assert one == sorted(
        p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*")
    )
    for relative in one:
        if (tmp_path / "one" / relative).is_file():
            assert (tmp_path / "one" / relative).read_bytes() == (
                tmp_path / "two" / relative
            ).read_bytes()
    code, out = run("scan", "--engine", "inline", "--json", str(tmp_path / "one"))
    summary = json.loads(out)
    assert summary["duplicates"] >= 6
    assert {"path_traversal", "truncated", "empty_file"} <= set(
        summary["errors_by_reason"]
    )
    # the renders name the demo LoRA by its AutoV3 hash: all three are linked to it
    assert summary["models"]["model_files"] == 1
    assert summary["models"]["linked_images"] == 3
    assert summary["provenance"]["generation_records"] == 3
    code, out = run("model", "links", "--json")
    links = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(links) == 3
    assert all(
        link["model"].endswith("demo-lighthouse-style.safetensors") for link in links
    )
    assert {link["role"] for link in links} == {"lora"}
