"""A third-party hash type and a stage that adds a score work in scans end to end,
with no edit to matching/, the store or the CLI: the recipes of
docs/architecture.md, done."""

import importlib.metadata
import pathlib

from helpers import image_bytes
from toy_plugins import TOY_HASH, ToyAverageHasher
from vigil.demo import pattern_image
from vigil.matching.base import HashEntry
from vigil.media.base import Limits, MediaKind
from vigil.media.image import decode_image
from vigil.pipeline.config import ScanOptions, build_config
from vigil.pipeline.engines.inline import InlineEngine
from vigil.plugins import ENTRY_POINT_GROUP, build_registry
from vigil.scans.run import run_scan
from vigil.store.base import Store
from vigil.store.records import ItemQuery

ENTRY_POINTS = [
    importlib.metadata.EntryPoint(
        "builtin", "vigil.plugins:builtin_plugins", ENTRY_POINT_GROUP
    ),
    importlib.metadata.EntryPoint("toy", "toy_plugins:toy_plugins", ENTRY_POINT_GROUP),
]


def test_a_toy_hash_type_and_score_stage_work_end_to_end(
    tmp_path: pathlib.Path, store: Store
) -> None:
    registry = build_registry(ENTRY_POINTS)
    assert registry.hash_types()["toy_ahash"] == TOY_HASH
    config = build_config(registry, ScanOptions(pdq_variants=True))
    assert [s.name for s in config.stages][-1] == "toy_brightness"

    tree = tmp_path / "tree"
    tree.mkdir()
    pattern_image("shapes", (128, 96), 1).save(tree / "known.png")
    known = (tree / "known.png").read_bytes()
    pattern_image("rings", (128, 96), 2).save(tree / "other.png")
    toy = ToyAverageHasher().hash_image(
        decode_image(known, MediaKind.PNG, Limits(), target_px=64)
    )
    assert not TOY_HASH.is_degenerate(toy.value)  # a constant hash never matches
    flipped = f"{int(toy.value, 16) ^ 0b111:016x}"  # 3 bits away: within 6
    store.hashlists.create(
        "toys", thresholds={"toy_ahash": 6}, hash_types=registry.hash_types()
    )
    store.hashlists.import_entries("toys", [HashEntry("toy_ahash", flipped)])
    matcher = store.matcher(
        hash_types=registry.hash_types(), index_factory=registry.index_for
    )
    summary = run_scan(
        store, [str(tree)], config=config, engine=InlineEngine(), matcher=matcher
    )
    assert summary.matches_by_verdict == {"match": 1}
    items = {
        pathlib.Path(i.locations[0].path).name: i
        for i in store.iter_items(ItemQuery(scan_id=summary.scan_id))
    }
    hit = items["known.png"]
    assert [(m.hash_type, m.distance, m.verdict) for m in hit.matches] == [
        ("toy_ahash", 3, "match")
    ]
    assert {h.hasher for h in hit.hashes} >= {"pdq", "toy_ahash", "sha256"}
    brightness = hit.score("brightness")
    assert brightness is not None and brightness.detector == "toy_brightness"
    assert 0.0 < brightness.value < 1.0
    assert items["other.png"].matches == ()


def test_a_toy_stage_that_fails_keeps_every_other_stage_result(
    tmp_path: pathlib.Path, store: Store, monkeypatch: object
) -> None:
    import pytest

    from toy_plugins import BrightnessStage

    assert isinstance(monkeypatch, pytest.MonkeyPatch)

    def broken(*_args: object) -> None:
        raise RuntimeError("a bug in a plugin")

    monkeypatch.setattr(BrightnessStage, "run", broken)
    registry = build_registry(ENTRY_POINTS)
    (tmp_path / "a.png").write_bytes(image_bytes(3))
    summary = run_scan(
        store,
        [str(tmp_path / "a.png")],
        config=build_config(registry, ScanOptions()),
        engine=InlineEngine(),
    )
    assert summary.errors_by_reason == {"stage_failed": 1}
    (item,) = store.iter_items(ItemQuery(scan_id=summary.scan_id))
    assert {h.hasher for h in item.hashes} >= {"pdq", "toy_ahash"}
    assert item.errors[0].message.startswith("toy_brightness: RuntimeError")
