"""The public library API: open a store, check a file or bytes (nothing stored), scan
paths, check a prompt, inspect a model file."""

import pathlib

import vigil
from helpers import image_bytes
from vigil.demo import build_demo, known_list
from vigil.matching.formats.plain import PlainFormat
from vigil.store.base import Store
from vigil.store.records import ItemQuery


def _store_with_demo_list(tmp_path: pathlib.Path) -> Store:
    store = vigil.open_store(f"sqlite:///{tmp_path / 'api.sqlite3'}")
    store.hashlists.create("demo")
    listing = tmp_path / "known.csv"
    listing.write_text(known_list())
    with listing.open("rb") as stream:
        store.hashlists.import_entries("demo", PlainFormat().read(stream))
    return store


def test_check_file_matches_and_stores_nothing(tmp_path: pathlib.Path) -> None:
    demo = tmp_path / "demo"
    build_demo(demo)
    with _store_with_demo_list(tmp_path) as store:
        checker = vigil.Checker(store)
        known = next(demo.glob("patterns/*-000.png"))
        result = checker.check_file(known)
        (item,) = result.items
        assert item.is_matched and item.matches[0].hash_list.name == "demo"
        assert set(item.hashes) == {"md5", "sha1", "sha256", "pdq"}
        rendered = next(demo.glob("generated/*.png"))
        generated = checker.check_file(rendered).items[0]
        assert generated.is_ai and generated.generation is not None
        assert [s.name for s in generated.scores] == ["prompt_risk", "ai_likelihood"]
        assert generated.scores[1].value == 0.95  # strong generator metadata
        assert store.list_scans() == []  # nothing stored
        assert list(store.iter_items(ItemQuery())) == []


def test_check_bytes_without_a_store(tmp_path: pathlib.Path) -> None:  # noqa: ARG001
    result = vigil.check_bytes(image_bytes(1), label="upload")
    (item,) = result.items
    assert result.path == "upload" and item.location == "upload"
    assert item.matches == () and item.kind == "png"
    assert result.as_dict()["items"][0]["hashes"]["pdq"] == item.hashes["pdq"]
    broken = vigil.check_bytes(image_bytes(2, fmt="JPEG")[:100])
    assert [e.reason for e in broken.errors] == ["truncated"]


def test_scan_then_read_the_items(tmp_path: pathlib.Path) -> None:
    demo = tmp_path / "demo"
    build_demo(demo)
    with _store_with_demo_list(tmp_path) as store:
        summary = vigil.scan([demo], store=store, engine="inline")
        assert summary.status == "finished"
        matched = list(store.iter_items(ItemQuery(summary.scan_id, matched=True)))
        assert len(matched) == summary.matches_by_verdict["match"]


def test_check_prompt_and_inspect_model(tmp_path: pathlib.Path) -> None:
    assert vigil.check_prompt("a lighthouse at dusk").decision.value == "allow"
    demo = tmp_path / "demo"
    build_demo(demo)
    model = next(demo.glob("models/*.safetensors"))
    report = vigil.inspect_model(model)
    assert report.format.value == "safetensors"
    assert not report.is_dangerous_to_load
