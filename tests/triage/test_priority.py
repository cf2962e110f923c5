"""The priority policy: rules in order, conditions over named facts, missing facts,
ordering within a rule, QC sampling, and refusals of a bad policy file."""

import dataclasses
import pathlib

import pytest

from vigil.triage.facts import FACT_NAMES, ItemFacts
from vigil.triage.priority import PolicyError, default_policy, parse_policy


def facts(**changes: object) -> ItemFacts:
    base = ItemFacts(
        item_id=1,
        sha256="a" * 64,
        kind="png",
        is_visual=True,
        matched=False,
        match_categories=(),
        ai_evidence=False,
        ai_likelihood=None,
        claimed_ai_contradiction=None,
        sensitivity=None,
        prompt_decision=None,
        prompt_risk=None,
        model_risk=None,
        linked_model_flagged=False,
        cluster_id=None,
        cluster_kind=None,
        cluster_size=1,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("item", "rule"),
    [
        (facts(claimed_ai_contradiction=0.9, matched=True), "claimed_ai_contradiction"),
        (facts(), "likely_real_unknown"),  # nothing says AI
        (facts(ai_likelihood=0.2), "likely_real_unknown"),
        (facts(ai_likelihood=0.7), "everything_else"),
        (facts(ai_evidence=True, prompt_decision="block"), "ai_risky_generation"),
        (facts(ai_evidence=True, prompt_decision="review"), "ai_risky_generation"),
        (facts(ai_evidence=True, model_risk=0.8), "ai_risky_generation"),
        (facts(ai_evidence=True, linked_model_flagged=True), "ai_risky_generation"),
        (facts(ai_evidence=True, prompt_decision="allow"), "everything_else"),
        (facts(matched=True, qc_sample=True), "quality_control"),
    ],
)
def test_the_default_policy_places_items_as_design_says(
    item: ItemFacts, rule: str
) -> None:
    placement = default_policy().place(item)
    assert placement is not None and placement.rule.name == rule
    assert placement.reasons  # every placement is explained


def test_reasons_name_the_facts_that_placed_the_item() -> None:
    placement = default_policy().place(facts(ai_evidence=True, prompt_decision="block"))
    assert placement is not None
    assert "ai_evidence: true" in placement.reasons
    assert "prompt_decision: block" in placement.reasons
    unknown = default_policy().place(facts(ai_likelihood=0.12))
    assert unknown is not None and "ai_likelihood 0.12 < 0.50" in unknown.reasons


def test_within_a_rule_larger_clusters_and_present_facts_come_first() -> None:
    rule = default_policy().rules[1]  # likely real: -sensitivity, ai_likelihood, ...
    sensitive = facts(sensitivity=0.9)
    plain = facts(ai_likelihood=0.1)
    unknown = facts()
    ordered = sorted([unknown, plain, sensitive], key=rule.sort_key)
    assert ordered == [sensitive, plain, unknown]


def test_qc_sampling_is_stable_and_near_its_rate() -> None:
    policy = default_policy()
    shas = [f"{n:064x}" for n in range(20_000)]
    drawn = [s for s in shas if policy.is_qc_sample(s)]
    assert drawn == [s for s in shas if policy.is_qc_sample(s)]
    assert 0.015 < len(drawn) / len(shas) < 0.025


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version = 1", "no [[rule]]"),
        ("[[rule]]\nwhen = []", "needs a name"),
        ('[[rule]]\nname = "a"\n[[rule]]\nname = "a"', "repeat"),
        ('[[rule]]\nname = "a"\norder = ["-size"]', "unknown fact 'size'"),
        ('[[rule]]\nname = "a"\nwhen = [{fact = "matched", op = "~"}]', "unknown op"),
        ('[[rule]]\nname = "a"\nwhen = [{fact = "matched"}]', "needs a value"),
        (
            '[[rule]]\nname = "a"\nwhen = [{fact = "kind", op = "in", value = 1}]',
            "list",
        ),
        ('qc_sample_rate = 2\n[[rule]]\nname = "a"', "qc_sample_rate"),
        ('[[rule]]\nname = "a"\nwhenever = []', "unknown keys"),
        ("[[rule", "not a TOML policy"),
    ],
)
def test_a_bad_policy_is_refused_naming_what(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match="test.toml") as raised:
        parse_policy(text.encode(), source="test.toml")
    assert message in str(raised.value)


def test_every_fact_the_default_policy_names_exists() -> None:
    policy = default_policy()
    for rule in policy.rules:
        for condition in (*rule.when, *rule.any):
            assert condition.fact in FACT_NAMES
        assert all(o.lstrip("-") in FACT_NAMES for o in rule.order)


def test_a_policy_path_that_is_a_fifo_is_refused_without_blocking(
    tmp_path: pathlib.Path,
) -> None:
    import os

    from vigil.triage.priority import load_policy

    fifo = tmp_path / "policy.toml"
    os.mkfifo(fifo)
    with pytest.raises(PolicyError, match="not a regular file"):
        load_policy(fifo)
