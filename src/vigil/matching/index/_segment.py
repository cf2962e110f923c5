"""One immutable block of a multi-index hashing index: hashes, ids and chunk tables.

Separate from `mih.py` so that the search kernel (table lookups, candidate gathering,
exact verification) can be read on its own; `mih.py` only decides which segments exist.

A segment's rows are sorted by id, so an id is found with a binary search. Each of the
m chunks (the hash cut into m pieces of `chunk_bits` bits) has a table in CSR form:
`rows[starts[c, v] : starts[c, v + 1]]` are the rows whose chunk c equals v. Rows are
never deleted, only marked dead in `alive`; the index compacts segments.
"""

import dataclasses
import functools
import typing as t

import faiss
import numpy as np
import numpy.typing as npt

from vigil.matching.index import _bits
from vigil.matching.index._contract import first_of_each

Int64s = npt.NDArray[np.int64]
# (query row, segment row, distance) for every hit, each array the same length.
Hits = tuple[Int64s, Int64s, _bits.Distances]

# Upper bound on the candidates verified in one pass: at about 140 bytes of temporaries
# per candidate this keeps a pass near 70 MiB, whatever the radius or the skew.
CANDIDATE_BLOCK = 1 << 19
# Rows are numbered in the low 32 bits of the sort keys that build the tables.
MAX_SEGMENT_ROWS = 1 << 32
# Past this many bucket lookups per query, enumerating neighbourhoods costs more than a
# scan at any realistic size (16-bit chunks reach it at radius 96).
MAX_LOOKUPS_PER_QUERY = 1 << 16


@dataclasses.dataclass(frozen=True)
class LookupGroup:
    """Chunks probed with every value within `radius` bits of the query's chunk."""

    chunks: Int64s
    masks: Int64s  # XOR masks: every chunk value with at most `radius` bits set


@functools.lru_cache(maxsize=64)
def chunk_masks(chunk_bits: int, radius: int) -> Int64s:
    """Every `chunk_bits`-bit value with at most `radius` bits set, fewest first."""
    values = np.arange(1 << chunk_bits, dtype=np.int64)
    as_bytes = values.astype(">u2").view(np.uint8)  # chunks are at most 16 bits
    weights = np.unpackbits(as_bytes).reshape(-1, 16).sum(axis=1)
    masks = values[np.argsort(weights, kind="stable")][: int((weights <= radius).sum())]
    masks.setflags(write=False)
    return masks


def lookup_plan(radius: int, chunk_bits: int) -> list[LookupGroup] | None:
    """Which chunks to probe, and how far, so that no hash within `radius` is missed.

    With m chunks and radius = a*m + b (0 <= b < m), a hash within `radius` bits has a
    chunk among the first b+1 within a bits, or a chunk among the others within a-1
    bits; otherwise the distance would be at least (b+1)(a+1) + (m-b-1)a = radius + 1
    (Norouzi, Punjani and Fleet, "Fast Exact Search in Hamming Space with Multi-Index
    Hashing", 2014). None when the lookups would exceed MAX_LOOKUPS_PER_QUERY.
    """
    chunk_count = _bits.HASH_BITS // chunk_bits
    a, b = divmod(radius, chunk_count)
    groups = [LookupGroup(np.arange(b + 1), chunk_masks(chunk_bits, a))]
    if a >= 1 and b + 1 < chunk_count:
        rest = np.arange(b + 1, chunk_count)
        groups.append(LookupGroup(rest, chunk_masks(chunk_bits, a - 1)))
    lookups = sum(group.chunks.size * group.masks.size for group in groups)
    return groups if lookups <= MAX_LOOKUPS_PER_QUERY else None


def chunk_values(packed: _bits.Packed, chunk_bits: int) -> npt.NDArray[t.Any]:
    """(n, m) chunk values; a 16-bit chunk is two adjacent bytes in native order."""
    dtype = np.uint8 if chunk_bits == 8 else np.uint16
    return np.ascontiguousarray(packed).view(dtype)


@dataclasses.dataclass(frozen=True)
class Tables:
    """Per-chunk CSR tables, flattened: chunk c's offsets start at c * (2**bits + 1)."""

    starts: npt.NDArray[t.Any]  # offsets into `rows`, shifted by chunk * segment size
    rows: npt.NDArray[t.Any]  # int32 rows (int64 past 2**31 entries), by chunk value


class Segment:
    """Hashes and ids sorted by id, with optional chunk tables (else scanned)."""

    def __init__(
        self,
        ids: Int64s,
        packed: _bits.Packed,
        *,
        chunk_bits: int,
        has_tables: bool,
    ) -> None:
        if len(ids) > 1 and not (ids[1:] > ids[:-1]).all():
            order = np.argsort(ids)
            ids, packed = ids[order], packed[order]
        self.ids: Int64s = np.ascontiguousarray(ids, dtype=np.int64)
        self.packed: _bits.Packed = np.ascontiguousarray(packed, dtype=np.uint8)
        self.words: _bits.Words = _bits.as_words(self.packed)
        self.alive = np.ones(len(self.ids), dtype=bool)
        self.dead_count = 0
        self.chunk_bits = chunk_bits
        self.tables = self._build_tables() if has_tables else None

    @property
    def has_tables(self) -> bool:
        return self.tables is not None

    def __len__(self) -> int:
        """Live rows."""
        return len(self.ids) - self.dead_count

    @property
    def nbytes(self) -> int:
        arrays: list[npt.NDArray[t.Any]] = [self.ids, self.packed, self.alive]
        if self.tables is not None:
            arrays += [self.tables.starts, self.tables.rows]
        return sum(array.nbytes for array in arrays)

    def _build_tables(self) -> "Tables":
        values = chunk_values(self.packed, self.chunk_bits)
        size, chunk_count = values.shape
        bucket_count = 1 << self.chunk_bits
        row_type = np.int32 if size * chunk_count < 2**31 else np.int64
        starts = np.empty((chunk_count, bucket_count + 1), dtype=row_type)
        rows = np.empty((chunk_count, size), dtype=row_type)
        if size >= MAX_SEGMENT_ROWS:
            raise ValueError(f"a segment holds fewer than {MAX_SEGMENT_ROWS} hashes")
        row_numbers = np.arange(size, dtype=np.int64)
        # Sorting keys (value << 32 | row) as int64 is a stable argsort by value, and
        # numpy's SIMD int64 sort beats its radix argsort of 16-bit keys. The first
        # key of each value, found by binary search, gives the CSR offsets.
        bucket_edges = np.arange(bucket_count + 1, dtype=np.int64) << 32
        keys = np.empty(size, dtype=np.int64)  # one buffer reused: no page faults
        for chunk in range(chunk_count):
            np.copyto(keys, values[:, chunk])
            keys <<= 32
            keys |= row_numbers
            keys.sort()
            starts[chunk] = np.searchsorted(keys, bucket_edges)
            starts[chunk] += chunk * size  # offsets into the flattened rows
            keys &= 0xFFFFFFFF
            rows[chunk] = keys
        return Tables(starts=starts.reshape(-1), rows=rows.reshape(-1))

    def live(self) -> tuple[Int64s, _bits.Packed]:
        """Ids and hashes of the live rows."""
        return self.ids[self.alive], self.packed[self.alive]

    def locate(self, keys: Int64s) -> Int64s:
        """Rows of live ids among `keys`."""
        if len(self.ids) == 0 or len(keys) == 0:
            return np.zeros(0, dtype=np.int64)
        positions = np.searchsorted(self.ids, keys).clip(0, len(self.ids) - 1)
        rows: Int64s = positions[self.ids[positions] == keys]
        return rows[self.alive[rows]]

    def kill(self, rows: Int64s) -> None:
        """Mark rows dead; `rows` are live rows, each once (as `locate` returns)."""
        self.alive[rows] = False
        self.dead_count += len(rows)

    def search(
        self,
        queries: _bits.Packed,
        radius: int,
        plan: list[LookupGroup] | None,
        max_candidate_fraction: float,
    ) -> Hits:
        """Live rows within `radius` of each query; exact, whichever path is taken.

        Queries whose buckets hold more than `max_candidate_fraction` of the segment
        are scanned instead: past that point a linear scan is cheaper than gathering.
        """
        everyone = np.arange(len(queries), dtype=np.int64)
        tables = self.tables
        if tables is None or plan is None:
            return self._scan(queries, everyone, radius)
        lows, lengths = self._buckets(tables, queries, plan)
        totals = lengths.sum(axis=1)
        is_scanned = totals > max_candidate_fraction * len(self.ids)
        parts = [self._scan(queries, everyone[is_scanned], radius)]
        probed = everyone[~is_scanned]
        probed_totals = totals[probed]
        passes = (np.cumsum(probed_totals) - probed_totals) // CANDIDATE_BLOCK
        for number in np.unique(passes):
            chosen = probed[passes == number]
            parts.append(self._verify(tables, queries, chosen, (lows, lengths), radius))
        return _concatenate(parts)

    def _buckets(
        self, tables: "Tables", queries: _bits.Packed, plan: list[LookupGroup]
    ) -> tuple[Int64s, Int64s]:
        """(queries, lookups) first positions and lengths of every probed bucket."""
        values = chunk_values(queries, self.chunk_bits).astype(np.int64)
        stride = (1 << self.chunk_bits) + 1
        keys = [
            (values[:, group.chunks, None] ^ group.masks)
            + (group.chunks * stride)[None, :, None]
            for group in plan
        ]
        flat = np.concatenate([key.reshape(len(queries), -1) for key in keys], axis=1)
        lows = np.take(tables.starts, flat).astype(np.int64)
        return lows, np.take(tables.starts, flat + 1) - lows

    def _verify(
        self,
        tables: "Tables",
        queries: _bits.Packed,
        chosen: Int64s,
        buckets: tuple[Int64s, Int64s],
        radius: int,
    ) -> Hits:
        """Gather every row in the chosen queries' buckets and keep those in range."""
        lows, lengths = buckets
        low = lows[chosen].reshape(-1)
        length = lengths[chosen].reshape(-1)
        owner = np.repeat(chosen, lengths.shape[1])
        is_used = length > 0
        low, length, owner = low[is_used], length[is_used], owner[is_used]
        ends = np.cumsum(length)
        if len(ends) == 0:
            return _empty()
        # Concatenate the bucket ranges: position i of bucket j is low[j] + i.
        positions = np.repeat(low - (ends - length), length)
        positions += np.arange(int(ends[-1]))
        # np.take: several times faster than fancy indexing on these sizes.
        rows = np.take(tables.rows, positions).astype(np.int64)
        candidates = np.take(self.words, rows, axis=0)
        query_words = _bits.as_words(queries)
        if len(chosen) == 1:
            candidates ^= query_words[chosen[0]]
            distances = _bits.popcount_rows(candidates)
            is_hit = np.flatnonzero(distances <= radius)
            query_rows = np.full(len(is_hit), chosen[0], dtype=np.int64)
        else:
            query_rows = np.repeat(owner, length)
            candidates ^= np.take(query_words, query_rows, axis=0)
            distances = _bits.popcount_rows(candidates)
            is_hit = np.flatnonzero(distances <= radius)
            query_rows = query_rows[is_hit]
        rows, distances = rows[is_hit], distances[is_hit]
        # A hash close in several chunks is found once per chunk: keep one of each.
        first = first_of_each(query_rows * len(self.ids) + rows)
        return self._live((query_rows[first], rows[first], distances[first]))

    def _scan(self, queries: _bits.Packed, chosen: Int64s, radius: int) -> Hits:
        """FAISS's brute-force range search over this segment's packed hashes."""
        if len(chosen) == 0 or len(self.ids) == 0:
            return _empty()
        subset = np.ascontiguousarray(queries[chosen])
        result = faiss.RangeSearchResult(len(subset))
        # FAISS keeps distances strictly below its radius, hence radius + 1.
        # Missing from the stubs bundled with faiss-cpu 1.15, present in the module.
        faiss.hamming_range_search(  # type: ignore[attr-defined]
            faiss.swig_ptr(subset),
            faiss.swig_ptr(self.packed),
            len(subset),
            len(self.packed),
            radius + 1,
            _bits.HASH_BYTES,
            result,
        )
        limits = faiss.rev_swig_ptr(result.lims, len(subset) + 1).astype(np.int64)
        count = int(limits[-1])
        if count == 0:
            return _empty()
        distances = faiss.rev_swig_ptr(result.distances, count).astype(np.int16)
        rows = faiss.rev_swig_ptr(result.labels, count).astype(np.int64)
        return self._live((np.repeat(chosen, np.diff(limits)), rows, distances))

    def _live(self, hits: Hits) -> Hits:
        if self.dead_count == 0:
            return hits
        is_live = self.alive[hits[1]]
        return hits[0][is_live], hits[1][is_live], hits[2][is_live]


def _empty() -> Hits:
    none = np.zeros(0, dtype=np.int64)
    return none, none, np.zeros(0, dtype=np.int16)


def _concatenate(parts: list[Hits]) -> Hits:
    return (
        np.concatenate([part[0] for part in parts]),
        np.concatenate([part[1] for part in parts]),
        np.concatenate([part[2] for part in parts]),
    )
