"""Exact lookup for cryptographic and opaque hashes: a dictionary from value to ids.

Any hash type works, including ones Vigil cannot parse (PhotoDNA, video hashes): values
are compared as normalised strings, so the only radius is 0.
"""

import pathlib
import typing as t

import numpy as np

from vigil.hashing.types import BUILTIN, HashType
from vigil.matching.base import Index, IndexHit
from vigil.matching.index import persist

EXACT_FORMAT_VERSION = 1


class ExactIndex(Index):
    """Value -> ids; several ids may share a value, an id holds one value.

    Values are normalised by their hash type (`HashType.normalise`), so upper-case hex
    matches lower-case and a malformed hash of a known type raises ValueError.
    """

    name: t.ClassVar[str] = "exact"

    def __init__(self, hash_type: "str | HashType" = "sha256") -> None:
        known = BUILTIN.get(hash_type) if isinstance(hash_type, str) else hash_type
        self.hash_type = hash_type if isinstance(hash_type, str) else hash_type.name
        # unknown types are opaque strings: stripped, compared as given
        self._type = known or HashType(name=self.hash_type, hex_length=None)
        self._ids_by_value: dict[str, list[int]] = {}
        self._value_by_id: dict[int, str] = {}

    def add(self, ids: t.Sequence[int], values: t.Sequence[str]) -> None:
        """Add hashes under new ids.

        Raises:
            ValueError: lengths differ, an id is repeated or already present, or a
                value is malformed. Nothing is added then.
        """
        if len(ids) != len(values):
            raise ValueError(f"{len(ids)} ids but {len(values)} values")
        keys = [int(key) for key in ids]
        normalised = [self._type.normalise(value) for value in values]
        if len(set(keys)) != len(keys):
            raise ValueError("ids repeat within one add")
        present = [key for key in keys if key in self._value_by_id]
        if present:
            raise ValueError(f"ids already in the index: {present[:5]}")
        for key, value in zip(keys, normalised, strict=True):
            self._value_by_id[key] = value
            self._ids_by_value.setdefault(value, []).append(key)

    def remove(self, ids: t.Sequence[int]) -> None:
        for key in ids:
            value = self._value_by_id.pop(int(key), None)
            if value is None:
                continue
            holders = self._ids_by_value[value]
            holders.remove(int(key))
            if not holders:
                del self._ids_by_value[value]

    def search(self, value: str, radius: int) -> list[IndexHit]:
        """Ids stored under exactly this value, by id.

        Raises:
            ValueError: `radius` is not 0, or `value` is malformed for the hash type.
        """
        if radius != 0:
            raise ValueError(
                f"the exact index only answers radius 0, not {radius}; "
                "near-duplicate search needs a perceptual hash index"
            )
        holders = self._ids_by_value.get(self._type.normalise(value), [])
        return [IndexHit(id=key, distance=0) for key in sorted(holders)]

    def __len__(self) -> int:
        return len(self._value_by_id)

    def save(self, path: pathlib.Path) -> None:
        """Write the index to folder `path`: ids, and values as one UTF-8 buffer."""
        persist.prepare_folder(path)
        keys = list(self._value_by_id)
        encoded = [self._value_by_id[key].encode() for key in keys]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        persist.save_array(path, "ids", np.array(keys, dtype=np.int64))
        persist.save_array(path, "value_lengths", lengths)
        persist.save_array(
            path, "value_bytes", np.frombuffer(b"".join(encoded), dtype=np.uint8)
        )
        persist.write_header(
            path,
            index=self.name,
            version=EXACT_FORMAT_VERSION,
            count=len(keys),
            hash_type=self.hash_type,
        )

    @classmethod
    def load(cls, path: pathlib.Path) -> "ExactIndex":
        """Read an index written by `save`.

        Raises:
            IndexFormatError: not an exact index of this format version, or damaged.
        """
        header = persist.check_header(
            path, index=cls.name, version=EXACT_FORMAT_VERSION
        )
        count = header["count"]
        ids = persist.load_array(path, "ids", dtype=np.int64, shape=(count,))
        lengths = persist.load_array(
            path, "value_lengths", dtype=np.int64, shape=(count,)
        )
        data = persist.load_array(path, "value_bytes", dtype=np.uint8, shape=(None,))
        if (lengths < 0).any() or int(lengths.sum()) != data.size:
            raise persist.IndexFormatError(f"{path}: value lengths do not match bytes")
        ends = np.cumsum(lengths).tolist()
        raw = data.tobytes()
        starts = [0, *ends][:-1]
        try:
            values = [raw[a:b].decode() for a, b in zip(starts, ends, strict=True)]
        except UnicodeDecodeError as exc:
            raise persist.IndexFormatError(f"{path}: a value is not UTF-8") from exc
        index = cls(header["hash_type"])
        try:
            index.add(ids.tolist(), values)
        except ValueError as exc:
            raise persist.IndexFormatError(f"{path}: {exc}") from exc
        return index
