"""Exact PDQ radius search by multi-index hashing, the default index for PDQ.

The hash is cut into m chunks; by the pigeonhole principle a stored hash within the
radius is close to the query in at least one chunk, so only the few buckets near the
query's chunks are read, and every candidate is verified with an exact popcount. The
answer is what brute force returns, always. See docs/index.md for the argument and the
measurements behind the defaults.
"""

import pathlib
import typing as t

import numpy as np
import numpy.typing as npt

from vigil.hashing.types import HashType
from vigil.matching.base import Index, IndexHit
from vigil.matching.index import _bits, persist
from vigil.matching.index._contract import (
    check_hash_type,
    check_new_ids,
    check_radius,
    first_of_each,
    hits_by_query,
)
from vigil.matching.index._segment import Segment, lookup_plan

MIH_FORMAT_VERSION = 1
# 16 chunks of 16 bits: at PDQ's usual radius of 31 bits every chunk is probed within
# 1 bit (17 buckets each), and a 16-bit chunk indexes a dense table of 65,536 buckets.
# Norouzi et al. (2014) suggest chunks of about log2(n) bits: 20-24 at 1-10M hashes,
# whose tables would not fit in memory as dense arrays.
DEFAULT_CHUNK_BITS = 16
CHUNK_BITS_CHOICES = (8, 16)
# A segment smaller than this is scanned, not tabled: its tables (m x 65,537 offsets)
# would outweigh a scan that takes well under a millisecond.
MIN_TABLE_ROWS = 1 << 16
# Queries whose buckets hold more than this share of a segment are scanned with FAISS:
# a gathered candidate costs 10-15 times a scanned row, and the crossover measured
# with bench/matching.py's lists is near radius 50 (see docs/index.md).
MAX_CANDIDATE_FRACTION = 1 / 16
# Untabled segments are merged once there are more than this many.
MAX_SMALL_SEGMENTS = 8
# A tabled segment is merged into the next older one once it holds at least half as
# many hashes, which keeps O(log n) segments and re-indexes each hash O(log n) times.
MERGE_RATIO = 2
# A segment is rebuilt without its removed rows once more than half are removed.
MAX_DEAD_FRACTION = 0.5
# Queries answered per pass, bounding the bucket-offset arrays (m x 17 per query at
# radius 31, m x 697 at radius 52).
QUERY_BLOCK = 1024


class MIHIndex(Index):
    """Multi-index hashing over 256-bit hashes, exact at every radius.

    Updates never rebuild the whole index: `add` makes a new segment and merges
    segments of similar size (log-structured); `remove` marks rows dead and rebuilds a
    segment only once most of it is dead.
    """

    name: t.ClassVar[str] = "mih"

    def __init__(
        self,
        hash_type: "str | HashType" = "pdq",
        *,
        chunk_bits: int = DEFAULT_CHUNK_BITS,
        min_table_rows: int = MIN_TABLE_ROWS,
        max_candidate_fraction: float = MAX_CANDIDATE_FRACTION,
    ) -> None:
        """
        Args:
            chunk_bits: 16 (16 chunks, the default) or 8 (32 chunks).
            min_table_rows: segments smaller than this are scanned, not tabled.
            max_candidate_fraction: above this share of a segment in its buckets, a
                query scans the segment instead.
        """
        check_hash_type(hash_type)
        hash_type = hash_type if isinstance(hash_type, str) else hash_type.name
        if chunk_bits not in CHUNK_BITS_CHOICES:
            raise ValueError(f"chunk_bits must be one of {CHUNK_BITS_CHOICES}")
        self.hash_type = hash_type
        self.chunk_bits = chunk_bits
        self.min_table_rows = min_table_rows
        self.max_candidate_fraction = max_candidate_fraction
        self._segments: list[Segment] = []

    def add(
        self, ids: t.Sequence[int] | npt.NDArray[np.int64], values: t.Sequence[str]
    ) -> None:
        """Add hashes under new ids (a numpy array of ids is taken as is).

        Raises:
            ValueError: lengths differ, an id repeats or is already present, or a value
                is not 64 hex digits. Nothing is added then.
        """
        packed = _bits.hex_to_packed(values)
        self._add_packed(check_new_ids(ids, len(packed)), packed)

    def _add_packed(self, keys: npt.NDArray[np.int64], packed: _bits.Packed) -> None:
        if len(keys) == 0:
            return
        present = [segment.ids[segment.locate(keys)] for segment in self._segments]
        if present and (taken := np.concatenate(present)).size:
            raise ValueError(f"ids already in the index: {taken[:5].tolist()}")
        self._segments.append(self._segment(keys, packed))
        self._rebalance()

    def remove(self, ids: t.Sequence[int]) -> None:
        keys = np.asarray(ids, dtype=np.int64).reshape(-1)
        keys = keys[first_of_each(keys)]
        for position, segment in enumerate(self._segments):
            rows = segment.locate(keys)
            if len(rows):
                segment.kill(rows)
                if segment.dead_count > MAX_DEAD_FRACTION * len(segment.ids):
                    self._segments[position] = self._segment(*segment.live())
        self._segments = [segment for segment in self._segments if len(segment)]
        self._rebalance()

    def search(self, value: str, radius: int) -> list[IndexHit]:
        return self.search_many([value], radius)[0]

    def search_many(self, values: t.Sequence[str], radius: int) -> list[list[IndexHit]]:
        """All queries at once: bucket lookups and verification are batched."""
        radius = check_radius(radius)
        queries = _bits.hex_to_packed(values)
        plan = lookup_plan(radius, self.chunk_bits)
        if not self._segments:
            return [[] for _ in range(len(queries))]
        results: list[list[IndexHit]] = []
        for start in range(0, len(queries), QUERY_BLOCK):
            block = queries[start : start + QUERY_BLOCK]
            query_rows, ids, distances = [], [], []
            for segment in self._segments:
                rows, found, found_distances = segment.search(
                    block, radius, plan, self.max_candidate_fraction
                )
                query_rows.append(rows)
                ids.append(segment.ids[found])
                distances.append(found_distances)
            results.extend(
                hits_by_query(
                    np.concatenate(query_rows),
                    np.concatenate(ids),
                    np.concatenate(distances),
                    len(block),
                )
            )
        return results

    def __len__(self) -> int:
        return sum(len(segment) for segment in self._segments)

    @property
    def nbytes(self) -> int:
        """Bytes held in arrays: hashes, ids, liveness flags and chunk tables."""
        return sum(segment.nbytes for segment in self._segments)

    @property
    def segment_sizes(self) -> list[int]:
        """Live hashes per segment, oldest first (for tests and diagnostics)."""
        return [len(segment) for segment in self._segments]

    def _segment(self, keys: npt.NDArray[np.int64], packed: _bits.Packed) -> Segment:
        return Segment(
            keys,
            packed,
            chunk_bits=self.chunk_bits,
            has_tables=len(keys) >= self.min_table_rows,
        )

    def _merged(self, segments: list[Segment]) -> Segment:
        live = [segment.live() for segment in segments]
        return self._segment(
            np.concatenate([keys for keys, _ in live]),
            np.concatenate([packed for _, packed in live]),
        )

    def _rebalance(self) -> None:
        small = [segment for segment in self._segments if not segment.has_tables]
        large = [segment for segment in self._segments if segment.has_tables]
        small_total = sum(len(segment) for segment in small)
        if len(small) > MAX_SMALL_SEGMENTS or (
            len(small) > 1 and small_total >= self.min_table_rows
        ):
            merged = self._merged(small)
            small = [] if merged.has_tables else [merged]
            large += [merged] if merged.has_tables else []
        large.sort(key=len, reverse=True)
        while len(large) >= 2 and len(large[-1]) * MERGE_RATIO >= len(large[-2]):
            large = [*large[:-2], self._merged(large[-2:])]
            large.sort(key=len, reverse=True)
        self._segments = large + small

    def save(self, path: pathlib.Path) -> None:
        """Write folder `path`: ids and hashes as .npy; tables are rebuilt on load."""
        live = [segment.live() for segment in self._segments]
        ids = np.concatenate([np.zeros(0, np.int64), *(keys for keys, _ in live)])
        packed = np.concatenate(
            [np.zeros((0, _bits.HASH_BYTES), np.uint8), *(rows for _, rows in live)]
        )
        persist.prepare_folder(path)
        persist.save_array(path, "ids", ids)
        persist.save_array(path, "hashes", packed)
        persist.write_header(
            path,
            index=self.name,
            version=MIH_FORMAT_VERSION,
            count=len(ids),
            hash_type=self.hash_type,
            extra={"chunk_bits": self.chunk_bits},
        )

    @classmethod
    def load(cls, path: pathlib.Path) -> "MIHIndex":
        """Read an index written by `save` and rebuild its tables.

        Raises:
            IndexFormatError: not an MIH index of this format version, or damaged.
        """
        header = persist.check_header(path, index=cls.name, version=MIH_FORMAT_VERSION)
        count = header["count"]
        ids = persist.load_array(path, "ids", dtype=np.int64, shape=(count,))
        packed = persist.load_array(
            path, "hashes", dtype=np.uint8, shape=(count, _bits.HASH_BYTES)
        )
        try:
            index = cls(header["hash_type"], chunk_bits=header.get("chunk_bits", 0))
            index._add_packed(check_new_ids(ids, count), packed)
        except ValueError as exc:
            raise persist.IndexFormatError(f"{path}: {exc}") from exc
        return index
