"""The PDQ indexes against a plain numpy brute force: same hits, same distances, same
order, on uniform and clustered lists, at the radius edges, through add/remove."""

import typing as t

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.matching.base import Index, IndexHit
from vigil.matching.index import (
    ExactIndex,
    FlatIndex,
    MIHIndex,
    _bits,
    _segment,
    make_index,
)
from vigil.matching.index.mih import MAX_SMALL_SEGMENTS

RADII = [0, 1, 15, 16, 17, 31, 32, 47, 52, 64, 100, 256]

# Each configuration forces a different search path; all must agree with brute force.
MIH_CONFIGS: dict[str, dict[str, t.Any]] = {
    "tables": {"min_table_rows": 0, "max_candidate_fraction": float("inf")},
    "scan": {"min_table_rows": 0, "max_candidate_fraction": 0.0},
    "mixed": {"min_table_rows": 0, "max_candidate_fraction": 1 / 16},
    "bytes": {"chunk_bits": 8, "min_table_rows": 0},
    "default": {},
}


def brute_force(
    stored: dict[int, np.ndarray], query: np.ndarray, radius: int
) -> list[IndexHit]:
    """Every stored hash within `radius`, nearest first then by id: the definition."""
    if not stored:
        return []
    ids = np.array(list(stored), dtype=np.int64)
    packed = np.stack(list(stored.values()))
    distances = np.unpackbits(packed ^ query, axis=1).sum(axis=1)
    keep = distances <= radius
    hits = sorted(zip(distances[keep].tolist(), ids[keep].tolist(), strict=True))
    return [IndexHit(id=key, distance=distance) for distance, key in hits]


def flip_bits(row: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """A copy of `row` with exactly `count` distinct bits flipped."""
    flipped = row.copy()
    for bit in rng.choice(256, size=count, replace=False):
        flipped[bit >> 3] ^= np.uint8(1 << (bit & 7))
    return flipped


def make_list(size: int, shape: str, rng: np.random.Generator) -> np.ndarray:
    """Uniform hashes, or clusters: few centres with members 0-40 bits away and exact
    duplicates, which crowd a handful of chunk buckets."""
    if shape == "uniform":
        return rng.integers(0, 256, size=(size, 32), dtype=np.uint8)
    centres = rng.integers(0, 256, size=(max(1, size // 12), 32), dtype=np.uint8)
    members = [
        flip_bits(centres[rng.integers(len(centres))], int(rng.integers(0, 41)), rng)
        for _ in range(size)
    ]
    return np.stack(members) if members else np.zeros((0, 32), np.uint8)


def make_queries(
    packed: np.ndarray, radius: int, rng: np.random.Generator
) -> np.ndarray:
    """Random hashes, and stored hashes moved exactly 0, r-1, r, r+1, 31, 32 bits."""
    queries = [rng.integers(0, 256, size=32, dtype=np.uint8) for _ in range(3)]
    if len(packed):
        for bits in {0, radius - 1, radius, radius + 1, 31, 32, 52, 53}:
            if 0 <= bits <= 256:
                queries.append(flip_bits(packed[rng.integers(len(packed))], bits, rng))
    return np.stack(queries)


def check_against_brute_force(
    index: Index, stored: dict[int, np.ndarray], radius: int, rng: np.random.Generator
) -> None:
    packed = np.stack(list(stored.values())) if stored else np.zeros((0, 32), np.uint8)
    queries = make_queries(packed, radius, rng)
    expected = [brute_force(stored, query, radius) for query in queries]
    assert index.search_many(_bits.packed_to_hex(queries), radius) == expected
    assert index.search(_bits.packed_to_hex(queries[-1:])[0], radius) == expected[-1]


@pytest.mark.parametrize("config", MIH_CONFIGS, ids=str)
@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(0, 400),
    shape=st.sampled_from(["uniform", "clustered"]),
    radius=st.sampled_from(RADII),
)
def test_mih_equals_brute_force(
    config: str, seed: int, size: int, shape: str, radius: int
) -> None:
    rng = np.random.default_rng(seed)
    packed = make_list(size, shape, rng)
    ids = rng.permutation(10 * size + 1)[:size]  # not in insertion order
    index = MIHIndex(**MIH_CONFIGS[config])
    index.add(ids.tolist(), _bits.packed_to_hex(packed))
    stored = dict(zip(ids.tolist(), packed, strict=True))
    check_against_brute_force(index, stored, radius, rng)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(0, 300),
    shape=st.sampled_from(["uniform", "clustered"]),
    radius=st.sampled_from(RADII),
)
def test_faiss_flat_equals_brute_force(
    seed: int, size: int, shape: str, radius: int
) -> None:
    rng = np.random.default_rng(seed)
    packed = make_list(size, shape, rng)
    index = FlatIndex()
    index.add(list(range(size)), _bits.packed_to_hex(packed))
    stored = dict(enumerate(packed))
    check_against_brute_force(index, stored, radius, rng)


OPERATION = st.tuples(
    st.sampled_from(["add", "remove", "search"]), st.integers(1, 90), st.integers()
)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    operations=st.lists(OPERATION, min_size=1, max_size=16),
    chunk_bits=st.sampled_from([8, 16]),
)
def test_interleaved_add_remove_matches_brute_force(
    seed: int, operations: list[tuple[str, int, int]], chunk_bits: int
) -> None:
    """Small `min_table_rows` so that segments are tabled, merged and compacted."""
    rng = np.random.default_rng(seed)
    mih = MIHIndex(chunk_bits=chunk_bits, min_table_rows=24, max_candidate_fraction=1)
    flat = FlatIndex()
    stored: dict[int, np.ndarray] = {}
    next_id = 0
    for kind, amount, salt in operations:
        if kind == "add":
            packed = make_list(amount, ["uniform", "clustered"][salt % 2], rng)
            ids = list(range(next_id, next_id + amount))
            next_id += amount
            for index in (mih, flat):
                index.add(ids, _bits.packed_to_hex(packed))
            stored.update(zip(ids, packed, strict=True))
        elif kind == "remove":
            # Some stored ids, some never stored, one repeated.
            present = list(stored)
            chosen = rng.choice(present, size=min(amount, len(present)), replace=False)
            doomed = [*chosen.tolist(), next_id + 5, *chosen[:1].tolist()]
            for index in (mih, flat):
                index.remove(doomed)
            for key in doomed:
                stored.pop(key, None)
        else:
            check_against_brute_force(mih, stored, RADII[salt % len(RADII)], rng)
        assert len(mih) == len(flat) == len(stored)
    for radius in (0, 31, 32, 64):
        check_against_brute_force(mih, stored, radius, rng)
        check_against_brute_force(flat, stored, radius, rng)


def test_radius_is_inclusive_at_31_and_32() -> None:
    """FAISS's own range search is strict; the indexes are not."""
    rng = np.random.default_rng(7)
    base = rng.integers(0, 256, size=32, dtype=np.uint8)
    stored = [flip_bits(base, bits, rng) for bits in (30, 31, 32, 33)]
    for index in (MIHIndex(min_table_rows=0), FlatIndex()):
        index.add([30, 31, 32, 33], _bits.packed_to_hex(np.stack(stored)))
        [query] = _bits.packed_to_hex(base[None, :])
        assert [hit.distance for hit in index.search(query, 31)] == [30, 31]
        assert [hit.id for hit in index.search(query, 32)] == [30, 31, 32]
        assert [hit.id for hit in index.search(query, 29)] == []


def test_hits_are_nearest_first_then_by_id() -> None:
    rng = np.random.default_rng(3)
    base = rng.integers(0, 256, size=32, dtype=np.uint8)
    rows = [flip_bits(base, 5, rng), base, flip_bits(base, 5, rng), base]
    index = MIHIndex(min_table_rows=0)
    index.add([9, 8, 2, 4], _bits.packed_to_hex(np.stack(rows)))
    [query] = _bits.packed_to_hex(base[None, :])
    assert index.search(query, 31) == [
        IndexHit(4, 0),
        IndexHit(8, 0),
        IndexHit(2, 5),
        IndexHit(9, 5),
    ]


@pytest.mark.parametrize("index_class", [MIHIndex, FlatIndex])
def test_bad_input_is_refused(index_class: type[MIHIndex] | type[FlatIndex]) -> None:
    index = index_class()
    good = "0" * 64
    index.add([1], [good])
    with pytest.raises(ValueError, match="value 1 is not a 64-digit hex"):
        index.add([2, 3], [good, "g" * 64])
    with pytest.raises(ValueError, match="already in the index"):
        index.add([1], [good])
    with pytest.raises(ValueError, match="repeat"):
        index.add([5, 5], [good, good])
    with pytest.raises(ValueError, match="2 ids but 1 values"):
        index.add([6, 7], [good])
    with pytest.raises(ValueError, match="radius"):
        index.search(good, -1)
    with pytest.raises(ValueError, match="64-digit hex"):
        index.search(good[:-1], 31)
    assert len(index) == 1 and index.search(good.upper(), 0) == [IndexHit(1, 0)]
    with pytest.raises(ValueError, match="not a 256-bit"):
        index_class("md5")


def test_segments_stay_few_and_removal_compacts() -> None:
    rng = np.random.default_rng(11)
    hexes = _bits.packed_to_hex(rng.integers(0, 256, size=(600, 32), dtype=np.uint8))
    tabled = MIHIndex(min_table_rows=16)
    for key, value in enumerate(hexes):
        tabled.add([key], [value])
    # Small segments are merged past MAX_SMALL_SEGMENTS; tabled ones halve in size.
    assert len(tabled.segment_sizes) <= MAX_SMALL_SEGMENTS + 7
    assert sum(tabled.segment_sizes) == len(tabled) == 600

    scanned = MIHIndex()  # no tables at this size: nbytes is the rows held
    for key, value in enumerate(hexes):
        scanned.add([key], [value])
    before = scanned.nbytes
    for index in (tabled, scanned):
        index.remove(list(range(580)))
        assert sum(index.segment_sizes) == len(index) == 20
        assert [hit.id for hit in index.search(hexes[590], 0)] == [590]
        assert index.search(hexes[10], 0) == []
    assert scanned.nbytes < before / 10  # removed rows are dropped, not only marked


@pytest.mark.parametrize(("radius", "lookups"), [(0, 1), (15, 16), (16, 32), (31, 272)])
def test_lookup_plan_probes_the_pigeonhole_minimum(radius: int, lookups: int) -> None:
    plan = _segment.lookup_plan(radius, 16)
    assert plan is not None
    assert sum(group.chunks.size * group.masks.size for group in plan) == lookups
    assert _segment.lookup_plan(128, 16) is None  # too many lookups: scanned


def test_make_index_picks_by_hash_type() -> None:
    assert isinstance(make_index("pdq"), MIHIndex)
    for hash_type in ("md5", "sha1", "sha256", "photodna"):
        index = make_index(hash_type)
        assert isinstance(index, ExactIndex) and index.hash_type == hash_type
