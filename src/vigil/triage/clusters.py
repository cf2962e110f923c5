"""Clusters: items that belong together, so that one decision settles many.

- near-duplicates: PDQ within the threshold, as connected components found by a
  self-join through the multi-index-hashing index (exact: every pair within the
  threshold is found, never pairwise Python loops);
- generation batches: one tool, model hash, prompt and LoRA set (a seed run);
- repost groups: one SHA-256 seen in many places.

Each cluster's representative is the member with the highest PDQ quality, then the
largest file. Computed from what a scan recorded; degenerate (constant) PDQ hashes
never join a cluster, as they would join every blank image.
"""

import dataclasses
import enum
import typing as t

from vigil.hashing.types import PDQ, PDQ_MATCH_THRESHOLD_BITS

#: Below this PDQ quality a hash is noise (Meta PDQ docs: discard <= 49).
MIN_CLUSTER_QUALITY = 50


class ClusterKind(enum.StrEnum):
    NEAR_DUPLICATE = "near_duplicate"
    GENERATION_BATCH = "generation_batch"
    REPOST = "repost"


@dataclasses.dataclass(frozen=True)
class ClusterItem:
    """What clustering reads of one item."""

    item_id: int
    sha256: str
    size: int
    pdq: str | None = None
    pdq_quality: int | None = None
    locations: int = 1
    batch_key: tuple[str, ...] | None = None  # tool, model hash, prompt, LoRAs


@dataclasses.dataclass(frozen=True)
class Cluster:
    kind: ClusterKind
    key: str  # what the members share, for people
    members: tuple[int, ...]  # item ids, representative first
    representative: int
    places: int = 0  # a repost: the places its one item was seen

    @property
    def size(self) -> int:
        """Items settled by one decision on the representative (for a repost,
        the places it was seen)."""
        return max(len(self.members), self.places)

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "kind": self.kind.value,
            "key": self.key,
            "size": self.size,
            "representative": self.representative,
            "members": list(self.members),
        }


def clusters(
    items: t.Sequence[ClusterItem], threshold_bits: int = PDQ_MATCH_THRESHOLD_BITS
) -> list[Cluster]:
    """Every cluster of two or more items, largest first."""
    found = [
        *near_duplicates(items, threshold_bits),
        *generation_batches(items),
        *reposts(items),
    ]
    return sorted(found, key=lambda c: (-c.size, c.kind.value, c.representative))


def near_duplicates(
    items: t.Sequence[ClusterItem], threshold_bits: int = PDQ_MATCH_THRESHOLD_BITS
) -> list[Cluster]:
    from vigil.matching.index import MIHIndex

    hashed = [
        i
        for i in items
        if i.pdq is not None
        and (i.pdq_quality or 0) >= MIN_CLUSTER_QUALITY
        and not PDQ.is_degenerate(i.pdq)
    ]
    if len(hashed) < 2:
        return []
    index = MIHIndex()
    index.add([i.item_id for i in hashed], [t.cast(str, i.pdq) for i in hashed])
    parent = {i.item_id: i.item_id for i in hashed}

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    values = [t.cast(str, i.pdq) for i in hashed]
    for item, hits in zip(
        hashed, index.search_many(values, threshold_bits), strict=True
    ):
        for hit in hits:
            a, b = root(item.item_id), root(hit.id)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[ClusterItem]] = {}
    for item in hashed:
        groups.setdefault(root(item.item_id), []).append(item)
    return [
        _cluster(ClusterKind.NEAR_DUPLICATE, f"pdq within {threshold_bits} bits", g)
        for g in groups.values()
        if len(g) > 1
    ]


def generation_batches(items: t.Sequence[ClusterItem]) -> list[Cluster]:
    groups: dict[tuple[str, ...], list[ClusterItem]] = {}
    for item in items:
        if item.batch_key is not None:
            groups.setdefault(item.batch_key, []).append(item)
    return [
        _cluster(ClusterKind.GENERATION_BATCH, " | ".join(key), g)
        for key, g in groups.items()
        if len(g) > 1
    ]


def reposts(items: t.Sequence[ClusterItem]) -> list[Cluster]:
    return [
        Cluster(
            ClusterKind.REPOST,
            f"seen in {i.locations} places",
            (i.item_id,),
            i.item_id,
            places=i.locations,
        )
        for i in items
        if i.locations > 1
    ]


def batch_key(
    tool: str, model_hash: str | None, prompt: str | None, loras: t.Sequence[str]
) -> tuple[str, ...] | None:
    """What one generation batch shares; None without a prompt (nothing to tie)."""
    if not prompt or not prompt.strip():
        return None
    text = " ".join(prompt.split()).lower()
    return (tool, model_hash or "-", text, ",".join(sorted(loras)) or "-")


def rank(members: t.Iterable[ClusterItem]) -> list[ClusterItem]:
    """Members in representative order: highest PDQ quality, then largest."""
    return sorted(members, key=lambda i: (-(i.pdq_quality or -1), -i.size, i.item_id))


def _cluster(kind: ClusterKind, key: str, members: list[ClusterItem]) -> Cluster:
    ranked = rank(members)
    return Cluster(kind, key, tuple(i.item_id for i in ranked), ranked[0].item_id)


def from_item_view(view: t.Any) -> ClusterItem:
    """What clustering reads of a stored item (`vigil.store.records.ItemView`)."""
    pdq = next((h for h in view.hashes if h.hasher == PDQ.name), None)
    record = view.generation
    key = None
    if record is not None:
        loras = [lora.hash.value if lora.hash else lora.name for lora in record.loras]
        model = record.model_hash.value if record.model_hash else record.model_name
        key = batch_key(record.tool, model, record.prompt, loras)
    return ClusterItem(
        item_id=view.item_id,
        sha256=view.sha256,
        size=view.size,
        pdq=pdq.value if pdq else None,
        pdq_quality=pdq.quality if pdq else None,
        locations=len(view.locations),
        batch_key=key,
    )
