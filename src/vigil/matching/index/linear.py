"""The linear index: brute-force Hamming search over hex hashes of any length.

What a new perceptual hash type is searched with on day one (python-threatexchange's
`TrivialLinearSearchHashIndex`): exact by construction, fine for lists of a few
hundred thousand hashes; a 256-bit type upgrades to `mih` for millions.
"""

import typing as t

from vigil.hashing.types import BUILTIN, HashType
from vigil.matching.base import Index, IndexHit


class LinearIndex(Index):
    """Every stored hash compared with the query; nearest first, then by id."""

    name: t.ClassVar[str] = "linear"

    def __init__(self, hash_type: "str | HashType" = "pdq") -> None:
        known = BUILTIN.get(hash_type) if isinstance(hash_type, str) else hash_type
        if known is None or known.hex_length is None:
            raise ValueError(f"{hash_type!r} is not a fixed-length hex hash type")
        self.hash_type = known.name
        self._type = known
        self._values: dict[int, int] = {}

    def add(self, ids: t.Sequence[int], values: t.Sequence[str]) -> None:
        if len(ids) != len(values):
            raise ValueError(f"{len(ids)} ids for {len(values)} values")
        parsed = [int(self._type.normalise(value), 16) for value in values]
        keys = [int(i) for i in ids]
        if len(set(keys)) != len(keys) or any(k in self._values for k in keys):
            raise ValueError("ids must be new and distinct")
        if any(k < 0 for k in keys):
            raise ValueError("ids must be 0 or more")
        self._values.update(zip(keys, parsed, strict=True))

    def remove(self, ids: t.Sequence[int]) -> None:
        for key in ids:
            self._values.pop(int(key), None)

    def search(self, value: str, radius: int) -> list[IndexHit]:
        if radius < 0:
            raise ValueError(f"radius must be 0 or more bits, not {radius}")
        query = int(self._type.normalise(value), 16)
        hits = [
            IndexHit(key, distance)
            for key, stored in self._values.items()
            if (distance := (stored ^ query).bit_count()) <= radius
        ]
        return sorted(hits, key=lambda hit: (hit.distance, hit.id))

    def __len__(self) -> int:
        return len(self._values)
