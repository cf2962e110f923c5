"""Index folders: save -> load gives the same answers; foreign, damaged or future
folders are refused with a clear error; nothing is pickled."""

import json
import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.matching.base import Index
from vigil.matching.index import (
    ExactIndex,
    FlatIndex,
    IndexFormatError,
    MIHIndex,
    _bits,
    load_index,
    persist,
)

PDQ_CLASSES = [MIHIndex, FlatIndex]


def random_hexes(count: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return _bits.packed_to_hex(rng.integers(0, 256, (count, 32), dtype=np.uint8))


def near(value: str, bits: int, seed: int) -> str:
    """`value` with exactly `bits` distinct bits flipped."""
    number = int(value, 16)
    for bit in np.random.default_rng(seed).choice(256, size=bits, replace=False):
        number ^= 1 << int(bit)
    return f"{number:064x}"


def loaded_copy(index: Index, folder: pathlib.Path) -> Index:
    assert isinstance(index, ExactIndex | FlatIndex | MIHIndex)
    index.save(folder)
    return load_index(folder)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(0, 150),
    removed=st.integers(0, 150),
    index_class=st.sampled_from(PDQ_CLASSES),
)
def test_pdq_round_trip_gives_identical_results(
    tmp_path: pathlib.Path,
    seed: int,
    size: int,
    removed: int,
    index_class: type[MIHIndex] | type[FlatIndex],
) -> None:
    values = random_hexes(size, seed)
    index = MIHIndex(min_table_rows=8) if index_class is MIHIndex else index_class()
    index.add(list(range(100, 100 + size)), values)
    index.remove(list(range(100, 100 + min(removed, size), 2)))
    queries = [near(value, bits, seed) for value in values[:6] for bits in (0, 31, 32)]
    queries += random_hexes(3, seed + 1)
    folder = tmp_path / f"index-{seed}-{size}"
    copy = loaded_copy(index, folder)
    assert type(copy) is index_class and len(copy) == len(index)
    for radius in (0, 31, 52, 256):
        assert copy.search_many(queries, radius) == index.search_many(queries, radius)
    header = json.loads((folder / "index.json").read_text())
    assert header["count"] == len(index) and header["hash_type"] == "pdq"
    assert header["format"] == "vigil-index" and header["index"] == index.name


def test_exact_round_trip(tmp_path: pathlib.Path) -> None:
    index = ExactIndex("photodna")
    index.add([1, 2, 3], ["a,b\nc", "ünïcode", "a,b\nc"])
    index.remove([2])
    copy = loaded_copy(index, tmp_path / "exact")
    assert isinstance(copy, ExactIndex) and copy.hash_type == "photodna"
    assert copy.search("a,b\nc", 0) == index.search("a,b\nc", 0)
    assert [hit.id for hit in copy.search("a,b\nc", 0)] == [1, 3]
    assert copy.search("ünïcode", 0) == [] and len(copy) == 2


def test_mih_keeps_its_chunking(tmp_path: pathlib.Path) -> None:
    index = MIHIndex(chunk_bits=8)
    index.add([1], random_hexes(1, 0))
    copy = loaded_copy(index, tmp_path / "mih")
    assert isinstance(copy, MIHIndex) and copy.chunk_bits == 8


def test_saving_over_an_old_index_replaces_it(tmp_path: pathlib.Path) -> None:
    first, second = MIHIndex(), MIHIndex()
    first.add([1, 2], random_hexes(2, 1))
    second.add([3], random_hexes(1, 2))
    first.save(tmp_path)
    second.save(tmp_path)
    assert [
        hit.id for hit in load_index(tmp_path).search(random_hexes(1, 2)[0], 0)
    ] == [3]


@pytest.mark.parametrize("index_class", [ExactIndex, FlatIndex, MIHIndex])
def test_wrong_version_kind_or_format_is_refused(
    tmp_path: pathlib.Path, index_class: type[ExactIndex | FlatIndex | MIHIndex]
) -> None:
    index = index_class()
    index.save(tmp_path)
    header_path = tmp_path / "index.json"
    header = json.loads(header_path.read_text())

    header_path.write_text(json.dumps({**header, "version": 99}))
    with pytest.raises(IndexFormatError, match="version 99.*Rebuild"):
        index_class.load(tmp_path)
    with pytest.raises(IndexFormatError, match="version 99"):
        load_index(tmp_path)

    other = next(c for c in (ExactIndex, FlatIndex, MIHIndex) if c is not index_class)
    header_path.write_text(json.dumps(header))
    with pytest.raises(IndexFormatError, match=f"holds a '{index.name}' index"):
        other.load(tmp_path)

    header_path.write_text(json.dumps({**header, "index": "hnsw"}))
    with pytest.raises(IndexFormatError, match="unknown kind of index: 'hnsw'"):
        load_index(tmp_path)

    header_path.write_text(json.dumps({**header, "format": "something-else"}))
    with pytest.raises(IndexFormatError, match="not a 'vigil-index' header"):
        load_index(tmp_path)

    header_path.write_text("{not json")
    with pytest.raises(IndexFormatError, match="not valid JSON"):
        load_index(tmp_path)

    header_path.unlink()
    with pytest.raises(IndexFormatError, match="no index.json"):
        load_index(tmp_path)


def test_damaged_arrays_are_refused(tmp_path: pathlib.Path) -> None:
    index = MIHIndex()
    index.add([1, 2], random_hexes(2, 5))
    index.save(tmp_path)
    # An object array can only be read by unpickling: it must be refused, not run.
    np.save(tmp_path / "ids.npy", np.array([1, "x"], dtype=object), allow_pickle=True)
    with pytest.raises(IndexFormatError, match="not a plain .npy array"):
        load_index(tmp_path)
    np.save(tmp_path / "ids.npy", np.array([1, 2, 3], dtype=np.int64))
    with pytest.raises(IndexFormatError, match=r"expected int64 \(2,\)"):
        load_index(tmp_path)
    np.save(tmp_path / "ids.npy", np.array([1, 1], dtype=np.int64))
    with pytest.raises(IndexFormatError, match="repeat"):
        load_index(tmp_path)
    (tmp_path / "ids.npy").unlink()
    with pytest.raises(IndexFormatError, match="ids.npy is missing"):
        load_index(tmp_path)


def test_damaged_faiss_file_is_refused(tmp_path: pathlib.Path) -> None:
    index = FlatIndex()
    index.add([1], random_hexes(1, 3))
    index.save(tmp_path)
    (tmp_path / "index.faiss").write_bytes(b"not a faiss index")
    with pytest.raises(IndexFormatError, match="index.faiss"):
        load_index(tmp_path)


def test_empty_indexes_round_trip_and_no_file_is_a_pickle(
    tmp_path: pathlib.Path,
) -> None:
    for index in (ExactIndex(), FlatIndex(), MIHIndex()):
        folder = tmp_path / index.name
        index.save(folder)
        for path in folder.iterdir():
            # Protocol 2+ pickles start with b"\x80"; .npy files with b"\x93NUMPY".
            assert not path.read_bytes().startswith(b"\x80"), path
        assert persist.read_header(folder)["count"] == 0
        assert len(load_index(folder)) == 0
