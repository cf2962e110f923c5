"""The queue: what an analyst should look at next, in the policy's order, each
entry with the rule and the facts that placed it.

- Items already assessed (by an analyst, or by propagation from their cluster's
  representative) never come back.
- Items matched to a hash list are known: labelled from the list and left out,
  except a sample for quality control and any claimed-AI contradiction, which is
  always queued, and first, whatever the policy says.
- One entry stands for each near-duplicate or generation-batch cluster: the member
  the policy ranks first (its representative, among members the policy places
  alike), with how many members are still waiting. A decision on it
  can be applied to the whole cluster (`vigil assess --cluster`).
- Items another analyst has open are left out of that analyst's colleagues' queues.
"""

import dataclasses
import typing as t

from vigil.store.base import Store
from vigil.store.records import AssessmentSource, ClusterView, ItemQuery, ItemView
from vigil.triage.clusters import ClusterKind
from vigil.triage.facts import ItemFacts, facts_of
from vigil.triage.priority import Placement, Policy, default_policy


@dataclasses.dataclass(frozen=True)
class QueueEntry:
    position: int
    facts: ItemFacts
    placement: Placement
    pending: int  # items this entry stands for that wait for a decision (itself too)

    @property
    def sha256(self) -> str:
        return self.facts.sha256

    @property
    def rule(self) -> str:
        return self.placement.rule.name

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "position": self.position,
            "item": self.facts.sha256,
            "rule": self.rule,
            "title": self.placement.rule.title,
            "reasons": list(self.placement.reasons),
            "cluster": self.facts.cluster_id,
            "cluster_kind": self.facts.cluster_kind,
            "cluster_size": self.facts.cluster_size,
            "pending": self.pending,
            "facts": self.facts.as_dict(),
        }


def build_queue(
    store: Store,
    *,
    scan_id: int | None = None,
    policy: Policy | None = None,
    analyst: str | None = None,
) -> list[QueueEntry]:
    """The queue over one scan's items (None: every scan)."""
    policy = policy or default_policy()
    views = list(store.iter_items(ItemQuery(scan_id=scan_id)))
    primary = _primary_clusters(store.triage.clusters())
    representatives = {c.representative for c in primary.values()}
    held = store.triage.current(v.item_id for v in views)
    claims = store.triage.claims()
    flagged = _linked_to_listed_models(store, scan_id)
    placed: list[tuple[ItemFacts, Placement]] = []
    for view in views:
        assessment = held.get(view.item_id)
        if assessment is not None and assessment.source != AssessmentSource.HASH_LIST:
            continue  # decided: never shown again
        claim = claims.get(view.item_id)
        if analyst is not None and claim is not None and claim.analyst != analyst:
            continue  # open by a colleague
        facts = _facts(view, primary.get(view.item_id), flagged, policy)
        if not facts.is_visual:
            continue
        known = facts.matched or assessment is not None
        if known and not facts.qc_sample and not _contradiction(facts):
            continue
        placement = policy.place(facts)
        if placement is not None:
            placed.append((facts, placement))
    return _entries(placed, representatives)


def _facts(
    view: ItemView,
    cluster: ClusterView | None,
    flagged: set[int],
    policy: Policy,
) -> ItemFacts:
    known = any(m.verdict == "match" for m in view.matches)
    return facts_of(
        view,
        cluster_id=cluster.id if cluster else None,
        cluster_kind=cluster.kind if cluster else None,
        cluster_size=max(cluster.size if cluster else 1, len(view.locations)),
        linked_model_flagged=view.item_id in flagged,
        qc_sample=known and policy.is_qc_sample(view.sha256),
    )


def _contradiction(facts: ItemFacts) -> bool:
    """Presented as AI but listed as real imagery: always queued, and first,
    whatever the policy (a real child may be behind it)."""
    return facts.claimed_ai_contradiction is not None


def _entries(
    placed: list[tuple[ItemFacts, Placement]], representatives: set[int]
) -> list[QueueEntry]:
    def order(pair: tuple[ItemFacts, Placement]) -> tuple[t.Any, ...]:
        facts, placement = pair
        return (
            not _contradiction(facts),
            placement.rank,
            placement.rule.sort_key(facts),
            facts.sha256,
        )

    def head_of(pair: tuple[ItemFacts, Placement]) -> tuple[t.Any, ...]:
        facts, placement = pair
        # within a cluster, its representative stands for it when the policy
        # places it as high as any member
        return (
            not _contradiction(facts),
            placement.rank,
            facts.item_id not in representatives,
            placement.rule.sort_key(facts),
            facts.sha256,
        )

    groups: dict[t.Any, list[tuple[ItemFacts, Placement]]] = {}
    for pair in placed:
        facts = pair[0]
        key = (
            facts.cluster_id if facts.cluster_id is not None else ("item", facts.sha256)
        )
        groups.setdefault(key, []).append(pair)
    heads = [(min(group, key=head_of), len(group)) for group in groups.values()]
    heads.sort(key=lambda head: order(head[0]))
    return [
        QueueEntry(position, facts, placement, pending)
        for position, ((facts, placement), pending) in enumerate(heads, 1)
    ]


def _primary_clusters(stored: t.Sequence[ClusterView]) -> dict[int, ClusterView]:
    """Each item's cluster for the queue: the largest near-duplicate or
    generation-batch cluster it is in (a repost is one item: not a group)."""
    found: dict[int, ClusterView] = {}
    for cluster in stored:
        if cluster.kind == ClusterKind.REPOST:
            continue
        for member in cluster.members:
            have = found.get(member)
            if have is None or (cluster.size, -cluster.id) > (have.size, -have.id):
                found[member] = cluster
    return found


def _linked_to_listed_models(store: Store, scan_id: int | None) -> set[int]:
    """Items whose generation record names a model or LoRA on a hash list."""
    scans = [scan_id] if scan_id is not None else [s.id for s in store.list_scans()]
    labels = {
        link.image for s in scans for link in store.model_links(s) if link.hash_list
    }
    if not labels:
        return set()
    return {
        view.item_id
        for view in store.iter_items(ItemQuery(scan_id=scan_id))
        if any(place.label in labels for place in view.locations)
    }
