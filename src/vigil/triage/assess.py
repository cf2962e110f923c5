"""Recording a decision: observations checked, every scheme derived through the
current mapping tables, the item's earlier assessment superseded, and, when asked,
the decision applied to the clusters the item represents."""

import dataclasses
import typing as t

from vigil.review.mappings import derive
from vigil.review.taxonomy import Observations, check
from vigil.store.base import Store
from vigil.store.records import (
    AssessmentSource,
    AssessmentView,
    ClusterView,
    NewAssessment,
    PropagationView,
)
from vigil.store.triage import TriageError
from vigil.triage.clusters import ClusterKind


@dataclasses.dataclass(frozen=True)
class Decision:
    assessment: AssessmentView
    propagations: tuple[PropagationView, ...] = ()

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "assessment": self.assessment.as_dict(),
            "propagations": [p.as_dict() for p in self.propagations],
        }


def assess(
    store: Store,
    sha256: str,
    observations: Observations,
    *,
    analyst: str,
    seconds: float | None = None,
    cluster: bool = False,
    second_opinion_of: int | None = None,
    mapping_version: str | None = None,
) -> Decision:
    """Record an analyst's assessment of one item.

    A new assessment supersedes the item's current one (a correction); a second
    opinion supersedes nothing. With `cluster`, it is applied to every
    near-duplicate or generation-batch cluster the item represents.

    Raises:
        ObservationError: inconsistent observations.
        MappingError: unknown mapping version.
        TriageError: unknown item; `cluster` for an item that represents none;
            a second opinion with `cluster`.
    """
    check(observations)
    derived = derive(observations, mapping_version)
    view = store.item(sha256.lower())
    if view is None:
        raise TriageError(f"no item with SHA-256 {sha256}")
    represented = represented_clusters(store, view.item_id) if cluster else []
    if cluster and second_opinion_of is not None:
        raise TriageError("a second opinion is never applied to a cluster")
    if cluster and not represented:
        raise TriageError(
            f"{view.sha256} represents no near-duplicate or generation-batch "
            "cluster: assess it without --cluster, or assess its cluster's "
            "representative (vigil cluster show)"
        )
    current = store.triage.current([view.item_id]).get(view.item_id)
    recorded = store.triage.add_assessment(
        NewAssessment(
            item_id=view.item_id,
            analyst=analyst,
            observations=dict(observations.as_dict()),
            derived=dict(derived.as_dict()),
            mapping_version=derived.mapping_version,
            source=AssessmentSource.ANALYST,
            seconds=seconds,
            supersedes=(
                current.id
                if current is not None and second_opinion_of is None
                else None
            ),
            second_opinion_of=second_opinion_of,
        )
    )
    return Decision(recorded, tuple(_carry(store, recorded, represented, analyst)))


def _carry(
    store: Store,
    recorded: AssessmentView,
    represented: list[ClusterView],
    analyst: str,
) -> list[PropagationView]:
    """Propagate to the clusters the item represents, then on from each member that
    received the decision to the clusters it represents (a near-duplicate of a
    batch member is settled too), each cluster once."""
    made: list[PropagationView] = []
    seen: set[int] = set()
    pending = [(recorded.id, c) for c in represented]
    while pending:
        source, found = pending.pop(0)
        if found.id in seen:
            continue
        seen.add(found.id)
        propagation = store.triage.propagate(found.id, source, analyst)
        made.append(propagation)
        if not propagation.items:
            continue
        copies = store.triage.assessments(item_ids=propagation.items, active_only=True)
        for copy in copies:
            if copy.propagation != propagation.id:
                continue
            pending.extend(
                (copy.id, c)
                for c in represented_clusters(store, copy.item_id)
                if c.id not in seen
            )
    return made


def represented_clusters(store: Store, item_id: int) -> list[ClusterView]:
    """The near-duplicate and generation-batch clusters this item stands for: those
    it represents, and those whose representative is decided already (assessed, or
    labelled from a hash list), where the queue shows another member in its place."""
    found = []
    for cluster in store.triage.clusters_of(item_id):
        if cluster.kind == ClusterKind.REPOST:
            continue
        if cluster.representative == item_id or store.triage.current(
            [cluster.representative]
        ):
            found.append(cluster)
    return found


def rederive(
    assessment: AssessmentView, mapping_version: str | None = None
) -> dict[str, t.Any]:
    """An analyst's assessment derived again, under its own mapping version or
    another."""
    if assessment.source == AssessmentSource.HASH_LIST:
        raise TriageError(f"assessment {assessment.id} was labelled from a hash list")
    observations = Observations.from_dict(assessment.observations)
    return dict(
        derive(observations, mapping_version or assessment.mapping_version).as_dict()
    )
