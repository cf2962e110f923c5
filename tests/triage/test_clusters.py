"""Clusters: near-duplicates are exactly the connected components of "within the
threshold" (checked against brute force), batches share a generation record,
reposts are one item in many places; degenerate hashes never join."""

import json
import pathlib
import random
import typing as t

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.cli import cli
from vigil.demo import build_demo
from vigil.triage.clusters import (
    ClusterItem,
    ClusterKind,
    batch_key,
    clusters,
    near_duplicates,
)


def _flip(value: str, bits: list[int]) -> str:
    number = int(value, 16)
    for bit in bits:
        number ^= 1 << bit
    return f"{number:064x}"


def _brute_force_components(
    items: list[ClusterItem], radius: int
) -> set[frozenset[int]]:
    parent = {i.item_id: i.item_id for i in items}

    def root(n: int) -> int:
        while parent[n] != n:
            n = parent[n]
        return n

    for a in items:
        for b in items:
            distance = (int(a.pdq or "0", 16) ^ int(b.pdq or "0", 16)).bit_count()
            if a.item_id < b.item_id and distance <= radius:
                parent[root(b.item_id)] = root(a.item_id)
    groups: dict[int, set[int]] = {}
    for i in items:
        groups.setdefault(root(i.item_id), set()).add(i.item_id)
    return {frozenset(g) for g in groups.values() if len(g) > 1}


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_near_duplicate_clusters_equal_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    bases = [f"{rng.getrandbits(256):064x}" for _ in range(4)]
    items = []
    for item_id in range(30):
        base = rng.choice(bases)
        bits = rng.sample(range(256), rng.choice([0, 5, 20, 40, 90]))
        items.append(ClusterItem(item_id, f"{item_id:064x}", 10, _flip(base, bits), 90))
    found = {frozenset(c.members) for c in near_duplicates(items, 31)}
    assert found == _brute_force_components(items, 31)


def _numpy_components(items: list[ClusterItem], radius: int) -> set[frozenset[int]]:
    """Every pair's Hamming distance, by numpy in blocks: brute force at 5,000."""
    import numpy as np

    bits = np.array(
        [np.frombuffer(bytes.fromhex(t.cast(str, i.pdq)), np.uint8) for i in items]
    )
    popcount = np.array([bin(n).count("1") for n in range(256)], np.uint8)
    parent = list(range(len(items)))

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for start in range(0, len(items), 250):
        block = bits[start : start + 250]
        distance = popcount[block[:, None, :] ^ bits[None, :, :]].sum(axis=2)
        for a, b in zip(*np.nonzero(distance <= radius), strict=True):
            ra, rb = root(start + int(a)), root(int(b))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, set[int]] = {}
    for n, item in enumerate(items):
        groups.setdefault(root(n), set()).add(item.item_id)
    return {frozenset(g) for g in groups.values() if len(g) > 1}


@settings(max_examples=3, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_near_duplicate_clusters_equal_brute_force_on_5000_hashes(seed: int) -> None:
    rng = random.Random(seed)
    bases = [f"{rng.getrandbits(256):064x}" for _ in range(400)]
    items = []
    for item_id in range(5000):
        base = rng.choice(bases)
        # near the threshold too, so that chains join and near misses do not
        flips = rng.choice([0, 3, 10, 16, 28, 31, 32, 40, 120])
        items.append(
            ClusterItem(
                item_id,
                f"{item_id:064x}",
                10,
                _flip(base, rng.sample(range(256), flips)),
                90,
            )
        )
    found = {frozenset(c.members) for c in near_duplicates(items, 31)}
    assert found == _numpy_components(items, 31)


def test_degenerate_and_low_quality_hashes_never_join() -> None:
    blank = [ClusterItem(i, f"{i:064x}", 10, "0" * 64, 90) for i in range(5)]
    weak = [ClusterItem(10 + i, f"{i:064x}", 10, "ab" * 32, 10) for i in range(3)]
    assert near_duplicates([*blank, *weak]) == []


def test_the_representative_has_the_best_quality_then_size() -> None:
    base = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
    items = [
        ClusterItem(1, "a", 100, base, 70),
        ClusterItem(2, "b", 900, _flip(base, [1, 2]), 95),
        ClusterItem(3, "c", 50, _flip(base, [3]), 95),
    ]
    (cluster,) = near_duplicates(items)
    assert cluster.representative == 2 and cluster.members == (2, 3, 1)


def test_batches_and_reposts() -> None:
    key = batch_key("AUTOMATIC1111", "6ce0161689", "a Lighthouse  at dusk", ["x"])
    same = batch_key("AUTOMATIC1111", "6ce0161689", "a lighthouse at dusk", ["x"])
    assert key == same  # whitespace and case do not split a batch
    items = [
        ClusterItem(1, "a", 10, batch_key=key),
        ClusterItem(2, "b", 10, batch_key=same),
        ClusterItem(3, "c", 10, batch_key=batch_key("A", None, "other", [])),
        ClusterItem(4, "d", 10, locations=3),
    ]
    found = {(c.kind, c.members, c.size) for c in clusters(items)}
    assert found == {
        (ClusterKind.GENERATION_BATCH, (1, 2), 2),
        (ClusterKind.REPOST, (4,), 3),
    }
    assert batch_key("A", None, "  ", []) is None


def test_vigil_clusters_on_the_demo_set(tmp_path: pathlib.Path) -> None:
    build_demo(tmp_path / "demo")
    env = {"VIGIL_HOME": str(tmp_path / "home")}
    runner = CliRunner()
    scanned = runner.invoke(
        cli,
        ["scan", "--engine", "inline", "--no-progress", str(tmp_path / "demo")],
        env=env,
    )
    assert scanned.exit_code == 0, scanned.output
    out = runner.invoke(cli, ["cluster", "list", "--json"], env=env).output
    found = [json.loads(line) for line in out.splitlines()]
    kinds = {c["kind"] for c in found}
    assert {"near_duplicate", "repost"} <= kinds
    sizes = [c["size"] for c in found]
    assert sizes == sorted(sizes, reverse=True)
    assert all(c["representative_sha256"] == c["members_sha256"][0] for c in found)
