"""Argument checks and result ordering shared by the 256-bit Hamming indexes.

One place for the parts of the `Index` contract that must not differ between the
reference index and the fast one: which ids are accepted, what a radius means, and the
order of hits (nearest first, then by id).
"""

import typing as t

import numpy as np
import numpy.typing as npt

from vigil.hashing.types import BUILTIN, HashType
from vigil.matching.base import IndexHit
from vigil.matching.index import _bits


def check_hash_type(hash_type: str | HashType) -> None:
    """Refuse hash types that are not 256-bit perceptual hex (BLAKE3 and SHA-256 are
    also 256-bit hex, but a near miss of a cryptographic hash is no match)."""
    known = BUILTIN.get(hash_type) if isinstance(hash_type, str) else hash_type
    if known is None or not known.is_perceptual or known.bits != _bits.HASH_BITS:
        name = hash_type if isinstance(hash_type, str) else hash_type.name
        raise ValueError(
            f"{name!r} is not a {_bits.HASH_BITS}-bit perceptual hex hash type; "
            "use the exact index for it"
        )


def check_radius(radius: int) -> int:
    """The radius to search with: refused below 0, capped at the hash length."""
    if radius < 0:
        raise ValueError(f"radius must be 0 or more bits, not {radius}")
    return min(int(radius), _bits.HASH_BITS)


def check_new_ids(
    ids: t.Sequence[int] | npt.NDArray[np.int64], count: int
) -> npt.NDArray[np.int64]:
    """The ids as a new int64 array, after checking there is one per value and none
    repeats."""
    if len(ids) != count:
        raise ValueError(f"{len(ids)} ids but {count} values")
    keys = np.array(ids, dtype=np.int64).reshape(-1)  # a copy: the caller's may change
    if len(first_of_each(keys)) != len(keys):
        raise ValueError("ids repeat within one add")
    return keys


def first_of_each(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Positions of the first occurrence of each distinct key, in key order.

    Sort-based: np.unique is many times slower on millions of keys (numpy 2.4).
    """
    order = np.argsort(keys, kind="stable")
    in_order = keys[order]
    is_first = np.ones(len(keys), dtype=bool)
    is_first[1:] = in_order[1:] != in_order[:-1]
    return order[is_first]


def hits_by_query(
    query_rows: npt.NDArray[np.int64],
    ids: npt.NDArray[np.int64],
    distances: npt.NDArray[t.Any],
    query_count: int,
) -> list[list[IndexHit]]:
    """Group (query, id, distance) triples per query, nearest first, then by id."""
    order = np.lexsort((ids, distances, query_rows))
    rows = query_rows[order]
    bounds = np.searchsorted(rows, np.arange(query_count + 1)).tolist()
    id_list = ids[order].tolist()
    distance_list = distances[order].astype(np.int64).tolist()
    return [
        [
            IndexHit(id=key, distance=distance)
            for key, distance in zip(
                id_list[bounds[q] : bounds[q + 1]],
                distance_list[bounds[q] : bounds[q + 1]],
                strict=True,
            )
        ]
        for q in range(query_count)
    ]
