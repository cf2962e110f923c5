"""Hex strings to packed bit arrays and back, and row-wise popcount.

Kept apart from the indexes so that every one of them parses and validates hashes the
same way: hashes are strings at the boundary and packed arrays only inside an index.
"""

import typing as t

import numpy as np
import numpy.typing as npt

HASH_BITS = 256  # PDQ hash length, Meta pdq/README.md
HASH_BYTES = HASH_BITS // 8
HASH_WORDS = HASH_BITS // 64
HASH_HEX_LENGTH = HASH_BITS // 4

Packed = npt.NDArray[np.uint8]  # (n, HASH_BYTES)
Words = npt.NDArray[np.uint64]  # (n, HASH_WORDS), the same bytes seen as 64-bit words
Distances = npt.NDArray[np.int16]

# np.bitwise_count arrived in numpy 2.0; older numpy counts bytes through a table.
HAS_BITWISE_COUNT = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def hex_to_packed(values: t.Sequence[str]) -> Packed:
    """Parse 64-character hex strings (either case) into an (n, 32) uint8 array.

    Raises:
        ValueError: naming the first value that is not 64 hex digits.
    """
    count = len(values)
    if count == 0:
        return np.zeros((0, HASH_BYTES), dtype=np.uint8)
    try:
        # fromhex skips whitespace, so a value with a space decodes short.
        is_sized = set(map(len, values)) == {HASH_HEX_LENGTH}
        raw = bytes.fromhex("".join(values)) if is_sized else b""
    except (TypeError, ValueError):
        raw = b""
    if len(raw) == count * HASH_BYTES:
        return np.frombuffer(raw, dtype=np.uint8).reshape(count, HASH_BYTES).copy()
    _raise_first_bad(values)
    raise AssertionError("unreachable: a bad value was detected but not found")


def _raise_first_bad(values: t.Sequence[str]) -> None:
    for position, value in enumerate(values):
        ok = isinstance(value, str) and len(value) == HASH_HEX_LENGTH
        if ok:
            try:
                ok = len(bytes.fromhex(value)) == HASH_BYTES
            except ValueError:
                ok = False
        if not ok:
            raise ValueError(
                f"value {position} is not a {HASH_HEX_LENGTH}-digit hex hash: "
                f"{value!r:.80}"
            )


def packed_to_hex(packed: Packed) -> list[str]:
    """The lower-case hex strings of an (n, 32) uint8 array."""
    text = np.ascontiguousarray(packed, dtype=np.uint8).tobytes().hex()
    return [
        text[start : start + HASH_HEX_LENGTH]
        for start in range(0, len(text), HASH_HEX_LENGTH)
    ]


def as_words(packed: Packed) -> Words:
    """View (n, 32) uint8 as (n, 4) uint64; copies only if not contiguous."""
    return np.ascontiguousarray(packed, dtype=np.uint8).view(np.uint64)


def popcount_rows(xored: Words) -> Distances:
    """Bits set in each row of an (n, 4) uint64 array: the Hamming distance of XORs."""
    if HAS_BITWISE_COUNT:
        counts = np.bitwise_count(xored)
        # Explicit adds: a reduction over an axis of length 4 is several times slower,
        # and int16 holds 256, which uint8 does not.
        total = counts[:, 0].astype(np.int16)
        for word in range(1, HASH_WORDS):
            total += counts[:, word]
        return total
    return popcount_rows_by_table(xored)


def popcount_rows_by_table(xored: Words) -> Distances:
    """`popcount_rows` for numpy < 2.0: a 256-entry table over the bytes."""
    as_bytes = np.ascontiguousarray(xored).view(np.uint8)
    total: Distances = _BYTE_POPCOUNT[as_bytes].sum(axis=1, dtype=np.int16)
    return total


def hamming(packed: Packed, query: Packed) -> Distances:
    """Distances from every row of `packed` to one (32,) or (1, 32) query."""
    return popcount_rows(as_words(packed) ^ as_words(query.reshape(1, HASH_BYTES)))
