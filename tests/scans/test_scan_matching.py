import pathlib

import sqlalchemy as sa

from helpers import work_config
from vigil.demo import pattern_image
from vigil.matching.base import HashEntry
from vigil.pipeline.engines.inline import InlineEngine
from vigil.scans.run import run_scan
from vigil.store.matches import load_matcher
from vigil.store.store import SQLStore as Store

FLOOD_LIMIT = 3


def test_a_flooding_entry_is_quarantined_and_its_matches_held(
    tmp_path: pathlib.Path, store: Store
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    base = pattern_image("shapes", (320, 240), 0)
    base.save(tree / "0.png")
    for quality in range(60, 95, 5):  # seven re-encodings: new bytes, near-same PDQ
        base.save(tree / f"q{quality}.jpg", quality=quality)
    outcome_pdq = _pdq(tree / "0.png")
    store.hashlists.create("wide")
    store.hashlists.import_entries("wide", [HashEntry("pdq", outcome_pdq)])
    matcher = load_matcher(store.engine)
    summary = run_scan(
        store,
        [str(tree)],
        config=work_config(),
        engine=InlineEngine(),
        matcher=matcher,
        flood_limit=FLOOD_LIMIT,
    )
    assert store.hashlists.get("wide").quarantined == 1
    assert summary.matches_by_verdict.get("match", 0) <= FLOOD_LIMIT
    assert summary.matches_by_verdict["held"] >= FLOOD_LIMIT + 1
    with store.engine.connect() as c:
        verdicts = {v for (v,) in c.execute(sa.text("select verdict from matches"))}
    assert "match" not in verdicts  # every earlier match of the entry is held too


def _pdq(path: pathlib.Path) -> str:
    from vigil.hashing.pdq import PDQHasher
    from vigil.media.base import Limits, MediaKind
    from vigil.media.image import decode_image

    image = decode_image(path.read_bytes(), MediaKind.PNG, Limits(), target_px=512)
    return PDQHasher().hash_image(image).value
