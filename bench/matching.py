"""PDQ radius search on one core: Vigil's MIH index against FAISS brute force.

Builds synthetic PDQ hash lists shaped like real ones (clusters of near-duplicates about
0-40 bits from a random centre, plus unrelated hashes), then for each size measures the
multi-index hashing index (`MIHIndex`) and FAISS `IndexBinaryFlat`:

- build time (MIH from hex strings, as `add` receives them; FAISS from packed bytes),
- index bytes and process RSS growth,
- queries/s at the radius (half the queries 0-40 bits from a stored hash, half random),
  on the same queries, batched and (MIH) one query at a time,
- recall against brute force on those queries: must be 1.0 with no extra hits.

Usage: .venv/bin/python bench/matching.py [--sizes 1000000,10000000] [--queries N]
       [--brute-queries N] [--radius BITS]
"""

import os

# One core, set before numpy and FAISS load their thread pools.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import gc  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import faiss  # noqa: E402
import numpy as np  # noqa: E402

from vigil.matching.index import MIHIndex, _bits  # noqa: E402

PDQ_MATCH_RADIUS_BITS = 31  # ThreatExchange PDQ docs: distance <= 31 is a match
DEFAULT_SIZES = (1_000_000, 10_000_000)
DEFAULT_QUERIES = 2000
DEFAULT_BRUTE_QUERIES = 200  # FAISS does about 40-95 queries/s at 10M on one core
SINGLE_QUERIES = 300  # MIH one query at a time, for latency
MAX_NEAR_BITS = 40  # near-duplicates and near queries are 0-40 bits from their source
CLUSTERED_FRACTION = 0.8  # share of a list in near-duplicate clusters; rest unrelated
MEAN_CLUSTER_SIZE = 8  # geometric cluster sizes, 1 to MAX_CLUSTER_SIZE
MAX_CLUSTER_SIZE = 200
TARGET_SPEEDUP = 5.0  # issue target at 10M: >= 5x brute-force queries/s
FLIP_BLOCK_ROWS = 1 << 20
TIMING_SLICE = 50  # queries per alternation between the two indexes


def flip_random_bits(
    packed: np.ndarray, counts: np.ndarray, rng: np.random.Generator
) -> None:
    """Flip about `counts[i]` random bits of row i in place (repeats rarely collide)."""
    for start in range(0, len(packed), FLIP_BLOCK_ROWS):
        block = packed[start : start + FLIP_BLOCK_ROWS]
        block_counts = counts[start : start + FLIP_BLOCK_ROWS]
        positions = rng.integers(0, 256, size=(len(block), MAX_NEAR_BITS))
        for step in range(MAX_NEAR_BITS):
            rows = np.flatnonzero(block_counts > step)
            bits = positions[rows, step]
            block[rows, bits >> 3] ^= (1 << (bits & 7)).astype(np.uint8)


def flip_exact_bits(row: np.ndarray, count: int, rng: np.random.Generator) -> None:
    for bit in rng.choice(256, size=count, replace=False):
        row[bit >> 3] ^= np.uint8(1 << (bit & 7))


def synthetic_list(size: int, rng: np.random.Generator) -> np.ndarray:
    """(size, 32) uint8: near-duplicate clusters around random centres, and noise."""
    clustered = int(size * CLUSTERED_FRACTION)
    sizes = rng.geometric(1 / MEAN_CLUSTER_SIZE, size=clustered).clip(
        1, MAX_CLUSTER_SIZE
    )
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), clustered)) + 1]
    sizes[-1] -= int(sizes.sum()) - clustered
    centres = rng.integers(0, 256, size=(len(sizes), 32), dtype=np.uint8)
    packed = np.empty((size, 32), dtype=np.uint8)
    packed[:clustered] = np.repeat(centres, sizes, axis=0)
    flip_random_bits(
        packed[:clustered], rng.integers(0, MAX_NEAR_BITS + 1, clustered), rng
    )
    packed[clustered:] = rng.integers(
        0, 256, size=(size - clustered, 32), dtype=np.uint8
    )
    return packed[rng.permutation(size)]


def synthetic_queries(
    packed: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Alternately a stored hash with 0-40 bits flipped, and a random hash."""
    queries = rng.integers(0, 256, size=(count, 32), dtype=np.uint8)
    for row in range(0, count, 2):
        queries[row] = packed[rng.integers(len(packed))]
        flip_exact_bits(queries[row], int(rng.integers(0, MAX_NEAR_BITS + 1)), rng)
    return queries


def rss_bytes() -> int:
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclasses.dataclass
class Row:
    index: str
    build_s: float
    index_mb: float
    rss_mb: float
    same_qps: float  # on the brute-force queries, batched
    all_qps: float | None = None  # on every query, batched
    single_qps: float | None = None  # one `search` call per query
    load_s: float | None = None  # load from disk, tables rebuilt


def faiss_results(
    index: faiss.IndexBinaryFlat, queries: np.ndarray, radius: int
) -> list[set[tuple[int, int]]]:
    limits, distances, labels = index.range_search(queries, radius + 1)
    return [
        set(zip(labels[a:b].tolist(), distances[a:b].astype(int).tolist(), strict=True))
        for a, b in zip(limits[:-1], limits[1:], strict=True)
    ]


def run_size(size: int, args: argparse.Namespace, rng: np.random.Generator) -> None:
    started = time.perf_counter()
    packed = synthetic_list(size, rng)
    hexes = _bits.packed_to_hex(packed)
    ids = np.arange(size, dtype=np.int64)
    queries = synthetic_queries(packed, args.queries, rng)
    query_hexes = _bits.packed_to_hex(queries)
    brute = min(args.brute_queries, args.queries)
    print(
        f"\n{size:,} hashes ({CLUSTERED_FRACTION:.0%} in clusters), "
        f"{args.queries} queries, radius {args.radius}; "
        f"generated in {time.perf_counter() - started:.1f} s"
    )

    gc.collect()
    rss = rss_bytes()
    started = time.perf_counter()
    flat = faiss.IndexBinaryFlat(256)
    flat.add(packed)
    flat_row = Row("faiss_flat", time.perf_counter() - started, size * 32 / 1e6, 0, 0)
    flat_row.rss_mb = (rss_bytes() - rss) / 1e6

    gc.collect()
    rss = rss_bytes()
    started = time.perf_counter()
    mih = MIHIndex()
    mih.add(ids, hexes)
    mih_row = Row("mih", time.perf_counter() - started, mih.nbytes / 1e6, 0, 0)
    gc.collect()
    mih_row.rss_mb = (rss_bytes() - rss) / 1e6

    # Warm up (first-touch of the arrays, cached masks), then time the same queries,
    # alternating FAISS and MIH slice by slice so a busy neighbour slows both alike.
    faiss_results(flat, queries[-10:], args.radius)
    mih.search_many(query_hexes[-10:], args.radius)
    flat_s = mih_s = 0.0
    expected: list[set[tuple[int, int]]] = []
    found: list[set[tuple[int, int]]] = []
    for start in range(0, brute, TIMING_SLICE):
        block = queries[start : min(start + TIMING_SLICE, brute)]
        began = time.perf_counter()
        expected += faiss_results(flat, block, args.radius)
        flat_s += time.perf_counter() - began
        began = time.perf_counter()
        hits = mih.search_many(_bits.packed_to_hex(block), args.radius)
        mih_s += time.perf_counter() - began
        found += [{(hit.id, hit.distance) for hit in row} for row in hits]
    flat_row.same_qps = brute / flat_s
    mih_row.same_qps = brute / mih_s

    began = time.perf_counter()
    mih.search_many(query_hexes, args.radius)
    mih_row.all_qps = args.queries / (time.perf_counter() - began)
    single = query_hexes[:SINGLE_QUERIES]
    began = time.perf_counter()
    for value in single:
        mih.search(value, args.radius)
    mih_row.single_qps = len(single) / (time.perf_counter() - began)

    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as folder:
        mih.save(pathlib.Path(folder))
        del mih
        gc.collect()
        began = time.perf_counter()
        MIHIndex.load(pathlib.Path(folder))
        mih_row.load_s = time.perf_counter() - began

    true_hits = sum(map(len, expected))
    recalled = sum(len(e & f) for e, f in zip(expected, found, strict=True))
    extra = sum(len(f - e) for e, f in zip(expected, found, strict=True))
    recall = recalled / true_hits if true_hits else 1.0
    print(
        f"{'index':11s} {'build s':>8s} {'index MB':>9s} {'RSS +MB':>8s} "
        f"{'q/s same':>9s} {'q/s all':>8s} {'q/s 1by1':>9s} {'load s':>7s}"
    )
    for row in (flat_row, mih_row):
        print(
            f"{row.index:11s} {row.build_s:8.1f} {row.index_mb:9.0f} "
            f"{row.rss_mb:8.0f} {row.same_qps:9.1f} "
            + " ".join(
                f"{value:{width}.1f}" if value is not None else f"{'-':>{width}s}"
                for value, width in (
                    (row.all_qps, 8),
                    (row.single_qps, 9),
                    (row.load_s, 7),
                )
            )
        )
    ratio = mih_row.same_qps / flat_row.same_qps
    print(
        f"recall vs brute force on {brute} queries: {recall:.4f} "
        f"({recalled}/{true_hits} hits, {extra} extra); identical: "
        f"{'yes' if recalled == true_hits and extra == 0 else 'NO'}"
    )
    print(f"throughput ratio mih / faiss_flat (same queries, batched): {ratio:.1f}x")
    if size >= 10_000_000:
        verdict = "met" if ratio >= TARGET_SPEEDUP else "NOT met"
        print(f"target >= {TARGET_SPEEDUP:.0f}x at 10M: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="comma-separated list sizes",
    )
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES)
    parser.add_argument(
        "--brute-queries",
        type=int,
        default=DEFAULT_BRUTE_QUERIES,
        help="queries timed on both indexes and used for recall",
    )
    parser.add_argument("--radius", type=int, default=PDQ_MATCH_RADIUS_BITS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    if sys.platform == "linux":  # pin to one core
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    faiss.omp_set_num_threads(1)
    print(
        f"one core; faiss {faiss.__version__}, numpy {np.__version__}, "
        f"popcount: {'np.bitwise_count' if _bits.HAS_BITWISE_COUNT else 'table'}"
    )
    rng = np.random.default_rng(args.seed)
    for size in (int(value) for value in args.sizes.split(",")):
        run_size(size, args, rng)


if __name__ == "__main__":
    main()
