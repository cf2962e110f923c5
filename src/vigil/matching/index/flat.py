"""Brute-force Hamming search with FAISS `IndexBinaryFlat`: the reference and fallback.

Every query is compared with every stored hash, so the answer is exact by construction;
the multi-index hashing index is tested against this one.
"""

import pathlib
import typing as t

import faiss
import numpy as np
import numpy.typing as npt

from vigil.hashing.types import HashType
from vigil.matching.base import Index, IndexHit
from vigil.matching.index import _bits, persist
from vigil.matching.index._contract import (
    check_hash_type,
    check_new_ids,
    check_radius,
    hits_by_query,
)

FLAT_FORMAT_VERSION = 1
FAISS_FILE_NAME = "index.faiss"


class FlatIndex(Index):
    """FAISS `IndexBinaryIDMap(IndexBinaryFlat(256))`; ids are the caller's ids.

    `add` checks new ids against every stored id and `remove` compacts FAISS's arrays,
    both linear in the index size: this index is the reference, not the fast path.
    """

    name: t.ClassVar[str] = "faiss_flat"

    def __init__(self, hash_type: "str | HashType" = "pdq") -> None:
        check_hash_type(hash_type)
        hash_type = hash_type if isinstance(hash_type, str) else hash_type.name
        self.hash_type = hash_type
        self._index = faiss.IndexBinaryIDMap(faiss.IndexBinaryFlat(_bits.HASH_BITS))

    def add(
        self, ids: t.Sequence[int] | npt.NDArray[np.int64], values: t.Sequence[str]
    ) -> None:
        """Add hashes under new ids (a numpy array of ids is taken as is).

        Raises:
            ValueError: lengths differ, an id repeats or is already present, or a value
                is not 64 hex digits. Nothing is added then.
        """
        packed = _bits.hex_to_packed(values)
        keys = check_new_ids(ids, len(packed))
        if len(keys) == 0:
            return
        present = keys[np.isin(keys, self._stored_ids())]
        if present.size:
            raise ValueError(f"ids already in the index: {present[:5].tolist()}")
        self._index.add_with_ids(packed, keys)

    def remove(self, ids: t.Sequence[int]) -> None:
        keys = np.asarray(ids, dtype=np.int64).reshape(-1)
        if keys.size and self._index.ntotal:
            self._index.remove_ids(faiss.IDSelectorBatch(keys))

    def search(self, value: str, radius: int) -> list[IndexHit]:
        return self.search_many([value], radius)[0]

    def search_many(self, values: t.Sequence[str], radius: int) -> list[list[IndexHit]]:
        """One FAISS range search for all queries.

        FAISS returns distances strictly below its radius, so it is asked for
        `radius + 1` to give "within `radius` bits".
        """
        radius = check_radius(radius)
        queries = _bits.hex_to_packed(values)
        if len(queries) == 0 or self._index.ntotal == 0:
            return [[] for _ in range(len(queries))]
        limits, distances, labels = self._index.range_search(queries, radius + 1)
        query_rows = np.repeat(
            np.arange(len(queries), dtype=np.int64), np.diff(limits).astype(np.int64)
        )
        return hits_by_query(
            query_rows, labels.astype(np.int64), distances, len(queries)
        )

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def nbytes(self) -> int:
        """Bytes held for hashes and ids (FAISS's own arrays)."""
        return len(self) * (_bits.HASH_BYTES + np.dtype(np.int64).itemsize)

    def _stored_ids(self) -> npt.NDArray[np.int64]:
        stored: npt.NDArray[np.int64] = faiss.vector_to_array(self._index.id_map)
        return stored

    def save(self, path: pathlib.Path) -> None:
        """Write the index to folder `path` with FAISS's own serialiser."""
        persist.prepare_folder(path)
        faiss.write_index_binary(self._index, str(path / FAISS_FILE_NAME))
        persist.write_header(
            path,
            index=self.name,
            version=FLAT_FORMAT_VERSION,
            count=len(self),
            hash_type=self.hash_type,
        )

    @classmethod
    def load(cls, path: pathlib.Path) -> "FlatIndex":
        """Read an index written by `save`.

        Raises:
            IndexFormatError: not a flat index of this format version, or damaged.
        """
        header = persist.check_header(path, index=cls.name, version=FLAT_FORMAT_VERSION)
        file = path / FAISS_FILE_NAME
        if not file.is_file():
            raise persist.IndexFormatError(f"{path} is incomplete: {file.name} missing")
        try:
            loaded = faiss.read_index_binary(str(file))
        except RuntimeError as exc:
            raise persist.IndexFormatError(f"{file}: {exc}") from exc
        if (
            not isinstance(loaded, faiss.IndexBinaryIDMap)
            or loaded.d != _bits.HASH_BITS
            or loaded.ntotal != header["count"]
        ):
            raise persist.IndexFormatError(
                f"{file} is not a {_bits.HASH_BITS}-bit FAISS binary ID map holding "
                f"{header['count']} hashes"
            )
        index = cls(header["hash_type"])
        index._index = loaded
        return index
