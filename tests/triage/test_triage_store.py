"""The triage store: clusters only grow and merge into the oldest, assessments are
append-only with supersede and second-opinion links, claims keep two analysts off
one item, and a cluster update over synthetic hashes bridges clusters."""

import dataclasses
import datetime as dt

import pytest

from triage_case import Case
from vigil.store import open_store
from vigil.store.base import Store
from vigil.store.records import ClusterChange, ItemQuery, NewAssessment
from vigil.store.triage import CLAIM_EXPIRY, TriageError
from vigil.triage.clusters import ClusterItem
from vigil.triage.update import update_clusters


@pytest.fixture
def store(case: Case) -> Store:
    case.scan()
    opened = open_store(f"sqlite:///{case.home / 'vigil.sqlite3'}")
    yield opened  # type: ignore[misc]
    opened.close()


def _ids(store: Store) -> list[int]:
    return [v.item_id for v in store.iter_items(ItemQuery())]


def _new(item_id: int, **changes: object) -> NewAssessment:
    base = NewAssessment(item_id, "a", {"outcome": "not_criminal"}, {}, "1")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_clusters_grow_and_a_bridge_merges_into_the_oldest(store: Store) -> None:
    a, b, c, d, *_ = _ids(store)
    first, second = store.triage.save_clusters(
        [
            ClusterChange("near_duplicate", "k", a, (a, b)),
            ClusterChange("near_duplicate", "k", c, (c,)),
        ]
    )
    (survivor,) = store.triage.save_clusters(
        [ClusterChange("near_duplicate", "k", a, (a, b, c, d), first, (second,))]
    )
    assert survivor == first
    (kept,) = store.triage.clusters()
    assert kept.id == first and set(kept.members) == {a, b, c, d}
    merged = store.triage.cluster(second)
    assert merged is not None and merged.merged_into == first


def test_update_clusters_from_synthetic_hashes_bridges_two_clusters(
    store: Store,
) -> None:
    a, b, c, *_ = _ids(store)
    base = int("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22", 16)

    def near(flips: range) -> str:
        value = base
        for bit in flips:
            value ^= 1 << bit
        return f"{value:064x}"

    far_a = ClusterItem(a, "a", 10, near(range(0)), 90)
    far_c = ClusterItem(c, "c", 10, near(range(50)), 90)  # 50 bits from a
    update_clusters(store, [], None)  # nothing yet
    created, _, _ = _update(store, [far_a, dataclasses.replace(far_a, item_id=b)])
    assert created == 1
    bridge = ClusterItem(b, "b", 10, near(range(25)), 90)  # within 31 of both
    _update(store, [far_a, bridge, far_c])
    (cluster,) = store.triage.clusters("near_duplicate")
    assert set(cluster.members) == {a, b, c}


def _update(store: Store, items: list[ClusterItem]) -> tuple[int, int, int]:
    return update_clusters(store, items, None)


def test_assessments_are_append_only_with_supersede_and_second_opinion(
    store: Store,
) -> None:
    a, b, *_ = _ids(store)
    first = store.triage.add_assessment(_new(a))
    opinion = store.triage.add_assessment(
        _new(a, analyst="b", second_opinion_of=first.id)
    )
    assert store.triage.current([a])[a].id == first.id  # an opinion decides nothing
    assert not opinion.active
    fixed = store.triage.add_assessment(_new(a, supersedes=first.id))
    assert store.triage.current([a])[a].id == fixed.id
    every = store.triage.assessments(item_ids=[a])
    assert [x.id for x in every] == [first.id, opinion.id, fixed.id]
    assert [x.active for x in every] == [False, False, True]
    with pytest.raises(TriageError, match="no such assessment of this item"):
        store.triage.add_assessment(_new(b, supersedes=first.id))
    with pytest.raises(TriageError, match="no item"):
        store.triage.add_assessment(_new(10**9))


def test_a_propagation_needs_a_member_and_skips_decided_members(
    store: Store,
) -> None:
    a, b, c, d, *_ = _ids(store)
    (cluster,) = store.triage.save_clusters(
        [ClusterChange("near_duplicate", "k", a, (a, b, c))]
    )
    own = store.triage.add_assessment(_new(c))
    wrong = store.triage.add_assessment(_new(d))
    with pytest.raises(TriageError, match="not of a member"):
        store.triage.propagate(cluster, wrong.id, "x")
    decided = store.triage.add_assessment(_new(a))
    made = store.triage.propagate(cluster, decided.id, "x")
    assert made.items == (b,)  # c had an assessment of its own
    assert store.triage.current([c])[c].id == own.id


def test_claims_keep_colleagues_off_an_item_until_they_expire(store: Store) -> None:
    a, *_ = _ids(store)
    store.triage.claim(a, "ana")
    store.triage.claim(a, "ana")  # again: fine
    with pytest.raises(TriageError, match="open by ana"):
        store.triage.claim(a, "ben")
    assert store.triage.claims()[a].analyst == "ana"
    store.triage.release(a, "ben")  # not ben's: nothing happens
    assert a in store.triage.claims()
    store.triage.release(a, "ana")
    assert a not in store.triage.claims()
    assert CLAIM_EXPIRY >= dt.timedelta(minutes=5)


def test_a_cluster_decision_carries_on_through_members_and_undoes_as_one(
    store: Store,
) -> None:
    from vigil.review.taxonomy import Observations
    from vigil.triage.assess import assess

    views = list(store.iter_items(ItemQuery()))
    a, b, c, d = (v.item_id for v in views[:4])
    sha = {v.item_id: v.sha256 for v in views}
    batch, near = store.triage.save_clusters(
        [
            ClusterChange("generation_batch", "k", a, (a, b)),
            ClusterChange("near_duplicate", "k", b, (b, c, d)),
        ]
    )
    observed = Observations.from_dict(
        {
            "child": "no", "age_band": None, "sex": None, "act": "none",
            "realism": "photographic", "ai_generated": "no",
            "outcome": "not_criminal", "reason": "off_remit",
        }
    )  # fmt: skip
    decision = assess(store, sha[a], observed, analyst="x", cluster=True)
    assert [p.cluster_id for p in decision.propagations] == [batch, near]
    assert set(store.triage.current([b, c, d])) == {b, c, d}
    store.triage.undo_propagation(decision.propagations[0].id, "x")
    assert store.triage.current([b, c, d]) == {}  # the carried-on one is undone too
    (second,) = store.triage.propagations(ids=[decision.propagations[1].id])
    assert second.undone_at is not None
