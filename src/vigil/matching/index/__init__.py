"""Indexes over hash lists: exact lookup, FAISS brute force and multi-index hashing.

`make_index(hash_type)` picks the default for a hash type; `load_index(path)` reads any
index folder written by an index's `save`. See docs/index.md.
"""

import pathlib

from vigil.matching.base import Index
from vigil.matching.index.exact import ExactIndex
from vigil.matching.index.flat import FlatIndex
from vigil.matching.index.mih import MIHIndex
from vigil.matching.index.persist import IndexFormatError, read_header

__all__ = [
    "ExactIndex",
    "FlatIndex",
    "IndexFormatError",
    "MIHIndex",
    "load_index",
    "make_index",
]

# Hash types searched by Hamming radius; every other type is matched exactly.
PERCEPTUAL_HASH_TYPES = frozenset({"pdq"})
_INDEX_CLASSES: dict[str, type[ExactIndex] | type[FlatIndex] | type[MIHIndex]] = {
    index.name: index for index in (ExactIndex, FlatIndex, MIHIndex)
}


def make_index(hash_type: str) -> Index:
    """The default index for a hash type: multi-index hashing for PDQ (benchmarked
    faster than brute force with identical results, bench/matching.py), exact lookup
    for everything else."""
    if hash_type in PERCEPTUAL_HASH_TYPES:
        return MIHIndex(hash_type)
    return ExactIndex(hash_type)


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
