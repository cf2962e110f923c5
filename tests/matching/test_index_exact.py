"""ExactIndex semantics and the hex <-> packed conversion every PDQ index relies on."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.matching.base import IndexHit
from vigil.matching.index import ExactIndex, _bits

MD5_A = "0cc175b9c0f1b6a831c399e269772661"  # md5("a"), RFC 1321 test suite
MD5_ABC = "900150983cd24fb0d6963f7d28e17f72"  # md5("abc"), RFC 1321 test suite


def test_many_ids_per_value_and_removal() -> None:
    index = ExactIndex("md5")
    index.add([7, 3, 5], [MD5_A, MD5_A.upper(), MD5_ABC])
    assert index.search(MD5_A, 0) == [IndexHit(3, 0), IndexHit(7, 0)]
    assert index.search(f"  {MD5_ABC.upper()}\n", 0) == [IndexHit(5, 0)]
    index.remove([7, 99, 7])
    assert index.search(MD5_A, 0) == [IndexHit(3, 0)]
    index.remove([3])
    assert index.search(MD5_A, 0) == [] and len(index) == 1
    index.add([3], [MD5_ABC])  # a removed id may come back
    assert index.search_many([MD5_ABC, MD5_A], 0) == [
        [IndexHit(3, 0), IndexHit(5, 0)],
        [],
    ]


def test_exact_index_refuses_bad_input() -> None:
    index = ExactIndex("md5")
    index.add([1], [MD5_A])
    with pytest.raises(ValueError, match="radius 0"):
        index.search(MD5_A, 1)
    with pytest.raises(ValueError, match="32 hex digits"):
        index.search("z" * 32, 0)
    with pytest.raises(ValueError, match="32 hex digits"):
        index.add([2], [MD5_A[:-1]])
    with pytest.raises(ValueError, match="already in the index"):
        index.add([1], [MD5_ABC])
    with pytest.raises(ValueError, match="repeat"):
        index.add([4, 4], [MD5_ABC, MD5_ABC])
    with pytest.raises(ValueError, match="2 ids but 1 values"):
        index.add([5, 6], [MD5_ABC])
    assert len(index) == 1  # a refused add adds nothing


def test_opaque_types_match_as_given() -> None:
    index = ExactIndex("photodna")
    index.add([1, 2], ["AbC+/=", "abc+/="])
    assert index.search("AbC+/=", 0) == [IndexHit(1, 0)]
    assert index.search(" abc+/= ", 0) == [IndexHit(2, 0)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), max_size=20))
def test_hex_round_trip(rows: list[bytes]) -> None:
    values = [row.hex() for row in rows]
    packed = _bits.hex_to_packed(values)
    assert packed.shape == (len(rows), 32) and packed.dtype == np.uint8
    assert packed.tobytes() == b"".join(rows)
    assert _bits.packed_to_hex(packed) == values
    assert _bits.hex_to_packed([value.upper() for value in values]).tobytes() == (
        packed.tobytes()
    )


@pytest.mark.parametrize(
    "bad",
    [
        "0" * 63,
        "0" * 65,
        "g" + "0" * 63,
        "0" * 31 + " " + "0" * 32,
        "0" * 30 + "  " + "0" * 32,
        "é" + "0" * 63,
        "",
    ],
)
def test_bad_hex_is_refused_with_its_position(bad: str) -> None:
    with pytest.raises(ValueError, match="value 1 is not a 64-digit hex hash"):
        _bits.hex_to_packed(["f" * 64, bad, "0" * 64])


def test_non_strings_are_refused() -> None:
    with pytest.raises(ValueError, match="value 0"):
        _bits.hex_to_packed([12345])  # type: ignore[list-item]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40))
def test_popcount_paths_agree(rows: list[bytes]) -> None:
    raw = b"".join(rows)  # whole 256-bit rows, generated as such (no filtering)
    words = np.frombuffer(raw, dtype=np.uint64).reshape(-1, 4)
    expected = np.unpackbits(np.frombuffer(raw, np.uint8).reshape(-1, 32), axis=1)
    assert _bits.popcount_rows(words).tolist() == expected.sum(axis=1).tolist()
    assert _bits.popcount_rows_by_table(words).tolist() == expected.sum(axis=1).tolist()


def test_popcount_holds_256() -> None:
    ones = np.full((1, 4), np.iinfo(np.uint64).max, dtype=np.uint64)
    assert _bits.popcount_rows(ones).tolist() == [256]
    assert _bits.popcount_rows_by_table(ones).tolist() == [256]
