"""The console's queue, built once and kept: the queue page and the next item after
a decision read it without rebuilding it from every item.

A snapshot is rebuilt when a scan starts or ends (clusters and list labels are
brought up to date first) or when it is `SNAPSHOT_SECONDS` old, so that decisions
made elsewhere (the CLI, another server) show within that time. Between rebuilds,
items decided through this server leave it at once, and items a colleague has open
are left out of each analyst's view.
"""

import dataclasses
import threading
import time
import typing as t

from vigil.store.base import Store
from vigil.triage.queue import QueueEntry, build_queue

#: How long a snapshot is used before it is built again.
SNAPSHOT_SECONDS = 30.0


@dataclasses.dataclass
class _Snapshot:
    built: float
    scans: tuple[t.Any, ...]
    entries: list[QueueEntry]
    ids: frozenset[int] = frozenset()
    rules: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.ids = frozenset(e.facts.item_id for e in self.entries)
        self.rules = tuple(sorted({e.rule for e in self.entries}))


class QueueCache:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._snapshots: dict[int | None, _Snapshot] = {}
        self._decided: set[int] = set()

    def entries(self, scan_id: int | None, analyst: str) -> list[QueueEntry]:
        """The queue as `analyst` sees it now."""
        snapshot = self._snapshot(scan_id)
        claims = self.store.triage.claims()
        decided = self._decided
        return [
            e
            for e in snapshot.entries
            if e.facts.item_id not in decided
            and (
                e.facts.item_id not in claims
                or claims[e.facts.item_id].analyst == analyst
            )
        ]

    def page(
        self,
        scan_id: int | None,
        analyst: str,
        limit: int,
        keep: t.Callable[[QueueEntry], bool] | None = None,
    ) -> tuple[list[QueueEntry], int, tuple[str, ...]]:
        """The first `limit` entries `analyst` sees (those `keep` accepts), how many
        there are in all, and the rules present. Without `keep` the count comes
        from sets, not from a pass over every entry."""
        snapshot = self._snapshot(scan_id)
        claims = self.store.triage.claims()
        hidden = (self._decided & snapshot.ids) | {
            i for i, c in claims.items() if c.analyst != analyst and i in snapshot.ids
        }
        shown: list[QueueEntry] = []
        total = 0 if keep is not None else len(snapshot.ids) - len(hidden)
        for entry in snapshot.entries:
            if entry.facts.item_id in hidden or (keep is not None and not keep(entry)):
                continue
            if len(shown) < limit:
                shown.append(entry)
            elif keep is None:
                break
            if keep is not None:
                total += 1
        return shown, total, snapshot.rules

    def decided(self, item_ids: t.Iterable[int]) -> None:
        """Items just decided here: out of every snapshot at once."""
        with self._lock:
            self._decided.update(item_ids)

    def next_item(self, analyst: str, after: str) -> QueueEntry | None:
        """The first entry still waiting, other than `after` (checked against the
        store, so a decision made elsewhere is skipped)."""
        for entry in self.entries(None, analyst):
            if entry.sha256 == after:
                continue
            if self.store.triage.current([entry.facts.item_id]):
                self.decided([entry.facts.item_id])  # decided elsewhere
                continue
            return entry
        return None

    def _snapshot(self, scan_id: int | None) -> _Snapshot:
        scans = tuple(
            (s.id, s.status, s.runs, s.elapsed_seconds) for s in self.store.list_scans()
        )
        with self._lock:
            found = self._snapshots.get(scan_id)
            fresh = (
                found is not None
                and found.scans == scans
                and (time.monotonic() - found.built < SNAPSHOT_SECONDS)
            )
            if fresh and found is not None:
                return found
            if found is None or found.scans != scans:
                from vigil.triage.update import refresh

                refresh(self.store)
            snapshot = _Snapshot(
                time.monotonic(), scans, build_queue(self.store, scan_id=scan_id)
            )
            # `_decided` is kept: a decision made while this was building is not in
            # it yet, and it is a few ids a decision (thousands a day at most)
            self._snapshots[scan_id] = snapshot
            return snapshot
