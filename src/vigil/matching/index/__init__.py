"""Indexes over hash lists: exact lookup, FAISS brute force and multi-index hashing.

`make_index(hash_type)` picks the default for a hash type; `load_index(path)` reads any
index folder written by an index's `save`. See docs/index.md.
"""

import pathlib
import typing as t

from vigil.hashing.types import BUILTIN, HashType
from vigil.matching.base import Index
from vigil.matching.index.exact import ExactIndex
from vigil.matching.index.flat import FlatIndex
from vigil.matching.index.linear import LinearIndex
from vigil.matching.index.mih import MIHIndex
from vigil.matching.index.persist import IndexFormatError, read_header

__all__ = [
    "ExactIndex",
    "FlatIndex",
    "IndexFormatError",
    "LinearIndex",
    "MIHIndex",
    "load_index",
    "make_index",
]

#: The built-in indexes by plugin name (scans get theirs from the registry).
BUILTIN_INDEXES: dict[str, type[Index]] = {
    index.name: index for index in (ExactIndex, FlatIndex, LinearIndex, MIHIndex)
}
#: Indexes that can be saved to and loaded from a folder.
_INDEX_CLASSES: dict[str, type[ExactIndex] | type[FlatIndex] | type[MIHIndex]] = {
    index.name: index for index in (ExactIndex, FlatIndex, MIHIndex)
}


def make_index(
    hash_type: str | HashType,
    indexes: t.Mapping[str, type[Index]] = BUILTIN_INDEXES,
) -> Index:
    """The index a hash type names (`HashType.index`): multi-index hashing for PDQ
    (benchmarked faster than brute force with identical results,
    bench/matching.py), exact lookup for cryptographic types. Unknown names are
    opaque types, matched exactly."""
    if isinstance(hash_type, str):
        hash_type = BUILTIN.get(hash_type) or HashType(name=hash_type, hex_length=None)
    index_class = indexes.get(hash_type.index)
    if index_class is None:
        known = ", ".join(sorted(indexes))
        raise LookupError(
            f"hash type {hash_type.name} names index {hash_type.index!r}, which is "
            f"not registered (known: {known})"
        )
    return index_class.for_type(hash_type)


def load_index(path: pathlib.Path) -> Index:
    """Load whichever kind of index folder `path` holds.

    Raises:
        IndexFormatError: not an index folder, an unknown kind, or an unknown version.
    """
    kind = read_header(path)["index"]
    index_class = _INDEX_CLASSES.get(kind)
    if index_class is None:
        raise IndexFormatError(f"{path} holds an unknown kind of index: {kind!r}")
    return index_class.load(path)
