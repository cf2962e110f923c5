"""Bring the stored triage state up to date after a scan: clusters across every
scan (a new scan adds to existing clusters), and items matched to a hash list
labelled from it."""

import dataclasses
import typing as t

from vigil.hashing.types import PDQ_MATCH_THRESHOLD_BITS
from vigil.store.base import Store
from vigil.store.records import (
    AssessmentSource,
    ClusterChange,
    ItemQuery,
    ItemView,
    NewAssessment,
)
from vigil.triage.clusters import Cluster, ClusterItem, clusters, from_item_view, rank

#: Who a list-derived label is recorded as made by, and its "mapping version".
HASH_LIST_ANALYST = "hash-list"
HASH_LIST_MAPPING = "hash_list"


@dataclasses.dataclass(frozen=True)
class Update:
    created: int
    grown: int
    merged: int
    clusters: int  # stored clusters now (not merged into another)
    labelled: int  # items newly labelled from hash lists

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def refresh(
    store: Store,
    scan_id: int | None = None,
    threshold_bits: int = PDQ_MATCH_THRESHOLD_BITS,
) -> Update:
    """Clusters over every stored item, folded into the stored ones (the members a
    scan adds are recorded with `scan_id`), then list labels for matched items."""
    with store.triage.exclusive():  # one refresh at a time, across processes
        views = list(store.iter_items(ItemQuery(scan_id=None)))
        created, grown, merged = update_clusters(
            store, [from_item_view(v) for v in views], scan_id, threshold_bits
        )
        labelled = label_from_lists(store, views)
    return Update(created, grown, merged, len(store.triage.clusters()), labelled)


def update_clusters(
    store: Store,
    found_items: t.Sequence[ClusterItem],
    scan_id: int | None = None,
    threshold_bits: int = PDQ_MATCH_THRESHOLD_BITS,
) -> tuple[int, int, int]:
    """Cluster every stored item and fold the result into the stored clusters:
    a found cluster that overlaps stored ones keeps the oldest one's id, gains the
    new members and absorbs the others. Members are never removed. Returns how many
    clusters were created, grown and merged away."""
    items = {i.item_id: i for i in found_items}
    stored = store.triage.clusters()
    owner = {(c.kind, m): c.id for c in stored for m in c.members}
    members = {c.id: set(c.members) for c in stored}
    reps = {c.id: c.representative for c in stored}
    keys = {c.id: c.key for c in stored}
    changes: list[ClusterChange] = []
    created = grown = merged = 0
    for found in clusters(list(items.values()), threshold_bits):
        hits = sorted(
            {owner[(found.kind, m)] for m in found.members if (found.kind, m) in owner}
        )
        if not hits:
            changes.append(_change(found, None, (), items, set(found.members)))
            created += 1
            continue
        union = set(found.members).union(*(members[h] for h in hits))
        change = _change(found, hits[0], tuple(hits[1:]), items, union)
        if (
            union == members[hits[0]]
            and not change.absorbs
            and change.representative == reps[hits[0]]
            and change.key == keys[hits[0]]
        ):
            continue  # nothing new
        changes.append(change)
        grown += 1
        merged += len(change.absorbs)
    if changes:
        store.triage.save_clusters(changes, scan_id)
    return created, grown, merged


def _change(
    found: Cluster,
    cluster_id: int | None,
    absorbs: tuple[int, ...],
    items: t.Mapping[int, ClusterItem],
    member_ids: set[int],
) -> ClusterChange:
    ranked = rank([items[m] for m in member_ids if m in items])
    ordered = tuple(i.item_id for i in ranked)
    return ClusterChange(
        kind=found.kind.value,
        key=found.key,
        representative=ordered[0],
        members=ordered,
        cluster_id=cluster_id,
        absorbs=absorbs,
    )


def label_from_lists(store: Store, views: t.Sequence[ItemView]) -> int:
    """Label every matched item that has no assessment yet from the hash-list
    entry it matched (recorded as list-derived); how many were labelled."""
    matched = [v for v in views if v.is_matched]
    if not matched:
        return 0
    held = store.triage.current(v.item_id for v in matched)
    labelled = 0
    for view in matched:
        if view.item_id in held:
            continue
        match = min(
            (m for m in view.matches if m.verdict == "match"),
            key=lambda m: (m.distance, m.hash_list, m.entry),
        )
        store.triage.add_assessment(
            NewAssessment(
                item_id=view.item_id,
                analyst=f"{HASH_LIST_ANALYST}:{match.hash_list}",
                observations={},
                derived={
                    "hash_list": match.hash_list,
                    "list_version": match.list_version,
                    "hash_type": match.hash_type,
                    "entry": match.entry,
                    "distance": match.distance,
                    "category": match.category,
                    "ai_generated": match.ai_generated,
                },
                mapping_version=HASH_LIST_MAPPING,
                source=AssessmentSource.HASH_LIST,
                note=f"labelled from hash list {match.hash_list}",
            )
        )
        labelled += 1
    return labelled
