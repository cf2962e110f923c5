"""The console's server time with a large store: the queue page, and a keyboard
decision round trip (POST the decision, then GET the next item's page).

Builds a SQLite store of `--items` synthetic items (default 100,000) in
`--clusters` near-duplicate clusters (default 10,000, five members each; the rest
are singletons), recorded through the store's own `record_file` (1,000 items a
transaction, as archive members), brought up to date with `refresh` (clusters),
then times requests through FastAPI's in-process test client (server time, no
network): the first queue page (the snapshot build) on its own, then `--repeats`
queue pages and decision round trips. Targets (issue 14): round trip p95 under
150 ms, queue page p95 under 300 ms. Reports the figures as measured.

Usage: .venv/bin/python bench/console.py [--items N] [--clusters N] [--repeats N]
"""

import argparse
import json
import pathlib
import random
import re
import statistics
import tempfile
import time

from vigil.config import Settings
from vigil.hashing.base import HashResult
from vigil.pipeline.records import FileOutcome, ItemObservation
from vigil.pipeline.stage import StageResult
from vigil.server.app import create_app
from vigil.server.auth import hash_password
from vigil.store import open_store
from vigil.store.users import Role
from vigil.triage.update import refresh

PASSWORD = "bench password 123"  # noqa: S105 - a throwaway store's account
MEMBERS_PER_FILE = 1_000
CLUSTER_SIZE = 5


def _flip(value: int, rng: random.Random, bits: int) -> int:
    for bit in rng.sample(range(256), bits):
        value ^= 1 << bit
    return value


def build(home: pathlib.Path, items: int, clusters: int, seed: int) -> float:
    rng = random.Random(seed)
    store = open_store(f"sqlite:///{home / 'vigil.sqlite3'}")
    scan = store.create_scan("bench", [str(home)], {}, "bench")
    pdqs: list[int] = []
    for _ in range(clusters):
        base = rng.getrandbits(256)
        pdqs.extend(_flip(base, rng, rng.randint(0, 12)) for _ in range(CLUSTER_SIZE))
    pdqs.extend(rng.getrandbits(256) for _ in range(items - len(pdqs)))
    rng.shuffle(pdqs)
    started = time.perf_counter()
    for start in range(0, items, MEMBERS_PER_FILE):
        members = []
        for n in range(start, min(items, start + MEMBERS_PER_FILE)):
            sha = f"{rng.getrandbits(256):064x}"
            members.append(
                ItemObservation(
                    member_path=f"m{n}.png",
                    size=10_000 + n,
                    mtime=None,
                    sha256=sha,
                    kind="png",
                    digests=(HashResult("sha256", sha, "bytes"),),
                    results=(
                        StageResult(
                            hashes=(HashResult("pdq", f"{pdqs[n]:064x}", "pdq512", 90),)
                        ),
                    ),
                )
            )
        store.record_file(
            scan,
            FileOutcome(str(home / f"a{start}.zip"), tuple(members), (), 0),
        )
    recorded = time.perf_counter() - started
    from vigil.store.records import ScanStatus

    store.end_run(scan, status=ScanStatus.FINISHED, elapsed_seconds=recorded)
    store.users.add("ana", hash_password(PASSWORD), Role.ANALYST)
    started = time.perf_counter()
    refresh(store, scan)
    clustered = time.perf_counter() - started
    store.close()
    print(
        f"store: {items:,} items recorded in {recorded:.1f} s; "
        f"refresh (clusters) {clustered:.1f} s"
    )
    return clustered


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def measure(home: pathlib.Path, repeats: int) -> dict[str, float]:
    from fastapi.testclient import TestClient

    store = open_store(f"sqlite:///{home / 'vigil.sqlite3'}")
    app = create_app(Settings(home=home, dev_mode=True), store)
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": "ana", "password": PASSWORD, "csrf": token})
    started = time.perf_counter()
    first = client.get("/queue")
    build_s = time.perf_counter() - started
    assert first.status_code == 200, first.text[:200]
    queue_times = []
    for _ in range(repeats):
        started = time.perf_counter()
        assert client.get("/queue").status_code == 200
        queue_times.append(time.perf_counter() - started)
    item = re.search(r'href="/items/([0-9a-f]{64})"', first.text).group(1)  # type: ignore[union-attr]
    page = client.get(f"/items/{item}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    round_trips = []
    for _ in range(repeats):
        started = time.perf_counter()
        done = client.post(
            f"/items/{item}/assess",
            data={"csrf": csrf, "decision": "off_remit", "opened": str(time.time())},
        )
        assert done.status_code == 303, done.text[:300]
        following = done.headers["location"]
        assert following.startswith("/items/"), following
        assert client.get(following).status_code == 200
        round_trips.append(time.perf_counter() - started)
        item = following.rsplit("/", 1)[1]
    store.close()
    return {
        "snapshot_build_s": build_s,
        "queue_page_p50_ms": statistics.median(queue_times) * 1000,
        "queue_page_p95_ms": p95(queue_times) * 1000,
        "decision_round_trip_p50_ms": statistics.median(round_trips) * 1000,
        "decision_round_trip_p95_ms": p95(round_trips) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--clusters", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = pathlib.Path(folder)
        clustered = build(home, args.items, args.clusters, args.seed)
        figures = measure(home, args.repeats)
    figures["refresh_s"] = clustered
    print(
        f"first queue page (builds the snapshot): {figures['snapshot_build_s']:.2f} s"
    )
    print(
        f"queue page: p50 {figures['queue_page_p50_ms']:.0f} ms, "
        f"p95 {figures['queue_page_p95_ms']:.0f} ms (target p95 < 300 ms: "
        f"{'met' if figures['queue_page_p95_ms'] < 300 else 'NOT met'})"
    )
    print(
        f"decision round trip: p50 {figures['decision_round_trip_p50_ms']:.0f} ms, "
        f"p95 {figures['decision_round_trip_p95_ms']:.0f} ms (target p95 < 150 ms: "
        f"{'met' if figures['decision_round_trip_p95_ms'] < 150 else 'NOT met'})"
    )
    if args.json:
        print(json.dumps({**figures, "items": args.items, "clusters": args.clusters}))


if __name__ == "__main__":
    main()
