"""A canonical, schema-independent dump of what a scan of the fixture folder found,
compared with a golden file so that refactoring the pipeline never changes results.

Run as a script to rewrite the golden file (only when a change of results is meant):
    .venv/bin/python tests/scans/golden_scan.py ROOT OUT.json
"""

import json
import pathlib
import sys
import typing as t

from click.testing import CliRunner

#: What the golden scan matches against: the PDQ of ThreatExchange's benign
#: `bridge-mods/aaa-orig.jpg` (its edited copies are near-duplicates) and the MD5 of
#: the C2PA `none/no_manifest.jpg` fixture. Neither is the hash of harmful material.
GOLDEN_LIST = (
    "pdq,d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22,"
    "category=golden\n"
    "md5,0a65d6c862edd275190437a61e684835,category=golden\n"
)


def run_golden_scan(root: pathlib.Path, work: pathlib.Path) -> dict[str, t.Any]:
    """Import the golden list, scan `root` and the demo set (which has model files)
    inline through the CLI, and dump the store."""
    from vigil.cli import cli
    from vigil.demo import build_demo

    work.mkdir(parents=True, exist_ok=True)
    demo = work / "demo"
    build_demo(demo)
    listing = work / "golden-list.csv"
    listing.write_text(GOLDEN_LIST)
    env = {"VIGIL_HOME": str(work / "home")}
    runner = CliRunner()
    imported = runner.invoke(
        cli,
        ["hashlist", "import", str(listing), "--list", "golden", "--create"],
        env=env,
    )
    assert imported.exit_code == 0, imported.output
    scanned = runner.invoke(
        cli,
        ["scan", "--engine", "inline", "--no-progress", str(root), str(demo)],
        env=env,
    )
    assert scanned.exit_code == 0, scanned.output
    roots = {"fixtures": root.resolve(), "demo": demo.resolve()}
    return dump_store(work / "home" / "vigil.sqlite3", roots)


def dump_store(db: pathlib.Path, roots: dict[str, pathlib.Path]) -> dict[str, t.Any]:
    """Every item by SHA-256 with its places, hashes, matches, evidence, generation
    record and scores; errors by place. Paths are `<label>/<path under the root>`."""
    import sqlite3

    def relative(path: str) -> str:
        for label, root in roots.items():
            if path.startswith(f"{root}/"):
                return f"{label}/{path[len(str(root)) + 1 :]}"
        return path

    connection = sqlite3.connect(db)
    rows = connection.execute
    items: dict[int, dict[str, t.Any]] = {}
    for item_id, sha256, size, kind, width, height in rows(
        "select id, sha256, size, kind, width, height from items"
    ):
        items[item_id] = {
            "sha256": sha256,
            "size": size,
            "kind": kind,
            "width": width,
            "height": height,
            "locations": [],
            "hashes": {},
            "matches": [],
            "evidence": [],
            "generation": None,
            "scores": {},
        }
    for item_id, path, member in rows(
        "select item_id, path, member_path from locations"
    ):
        items[item_id]["locations"].append([relative(path), member])
    for item_id, hasher, value, quality in rows(
        "select item_id, hasher, value, quality from hashes"
    ):
        items[item_id]["hashes"][hasher] = [value, quality]
    for item_id, hash_type, variant, distance, verdict in rows(
        "select m.item_id, e.hash_type, m.variant, m.distance, m.verdict "
        "from matches m join hash_entries e on e.id = m.entry_id"
    ):
        items[item_id]["matches"].append([hash_type, variant, distance, verdict])
    for item_id, extractor, kind, source, strength, summary in rows(
        "select item_id, extractor, kind, source, strength, summary from evidence"
    ):
        items[item_id]["evidence"].append([extractor, kind, source, strength, summary])
    for item_id, tool, source, prompt, seed, model_hash in rows(
        "select item_id, tool, source, prompt, seed, model_hash from generation_records"
    ):
        items[item_id]["generation"] = {
            "tool": tool,
            "source": source,
            "prompt": prompt,
            "seed": seed,
            "model_hash": model_hash,
        }
    for item_id, name, value, level in _scores(connection):
        items[item_id]["scores"][name] = [round(value, 6), level]
    errors = sorted(
        [relative(path), member, reason]
        for path, member, reason in rows("select path, member_path, reason from errors")
    )
    for item in items.values():
        item["locations"].sort()
        item["matches"].sort()
        item["evidence"].sort()
    by_sha = {item.pop("sha256"): item for item in items.values()}
    return {"items": dict(sorted(by_sha.items())), "errors": errors}


def _scores(connection: t.Any) -> list[tuple[int, str, float, str]]:
    tables = {
        name
        for (name,) in connection.execute(
            "select name from sqlite_master where type = 'table'"
        )
    }
    if "scores" in tables:
        return list(
            connection.execute("select item_id, name, value, level from scores")
        )
    # the schema before the scores table: prompt_risk and model_risk in their rows
    found = list(
        connection.execute(
            "select item_id, 'prompt_risk', prompt_risk, prompt_decision "
            "from generation_records where prompt_risk is not null"
        )
    )
    found += list(
        connection.execute(
            "select item_id, 'model_risk', model_risk, risk_level "
            "from model_files where model_risk is not null"
        )
    )
    return found


if __name__ == "__main__":
    import tempfile

    source, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp:
        dump = run_golden_scan(source, pathlib.Path(tmp))
    out.write_text(
        json.dumps(dump, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    )
    print(f"{len(dump['items'])} items, {len(dump['errors'])} errors -> {out}")
