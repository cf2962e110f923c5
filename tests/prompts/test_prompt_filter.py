import json
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paths import DATA
from vigil.prompts import Decision, PromptFilter, PromptVerdict
from vigil.prompts.filter import (
    BLOCK_SCORE,
    MAX_FIELD_CHARS,
    MAX_TRIGGERS,
    REVIEW_SCORE,
)

PROMPTS = DATA / "prompts"


def labelled(name: str) -> list[tuple[str, str, str]]:
    rows = [json.loads(line) for line in (PROMPTS / name).read_text().splitlines()]
    return [(r["prompt"], r.get("negative_prompt", ""), r["label"]) for r in rows]


def check(prompt: str, negative: str = "") -> PromptVerdict:
    return PromptFilter.default().check(prompt, negative)


def categories(verdict: PromptVerdict) -> set[str]:
    return {trigger.category for trigger in verdict.triggers}


@pytest.mark.parametrize(
    ("prompt", "negative", "label"),
    labelled("dev-subset.jsonl") + labelled("heldout.jsonl"),
)
def test_labelled_prompts(prompt: str, negative: str, label: str) -> None:
    verdict = check(prompt, negative)
    assert verdict.decision.value == label, verdict.as_dict()


def test_block_has_triggers_reasons_and_spans() -> None:
    text = "naked little girl on a bed"
    verdict = check(text)
    assert verdict.decision is Decision.BLOCK
    assert verdict.score >= BLOCK_SCORE
    found = {(t.category, t.text, t.span, t.field) for t in verdict.triggers}
    assert ("nudity", "naked", (0, 5), "prompt") in found
    assert ("minor", "little girl", (6, 17), "prompt") in found
    assert any("minor" in reason for reason in verdict.reasons)


def test_adult_sexual_content_alone_is_allowed() -> None:
    verdict = check("nude woman, erotic, photorealistic")
    assert verdict.decision is Decision.ALLOW
    assert 0 < verdict.score < REVIEW_SCORE
    assert {"nudity", "sexual", "adult"} <= categories(verdict)
    assert check("landscape, mountains").score == 0.0


@pytest.mark.parametrize(
    ("prompt", "years"),
    [
        ("sexy 12 year old girl", 12),
        ("girl, 11 years old, nude", 11),
        ("aged 9, nude", 9),
        ("photorealistic nude 14yo", 14),
        ("nude nine-year-old", 9),
        ("nude girl (13)", 13),
        ("4th grader, nude", 9),
        ("girl 12 nude", 12),
        ("teen 15 topless", 15),
    ],
)
def test_ages_bound_to_a_person(prompt: str, years: int) -> None:
    verdict = check(prompt)
    assert verdict.decision is Decision.BLOCK, verdict.as_dict()
    assert any(t.category == "age" for t in verdict.triggers), years


@pytest.mark.parametrize(
    "prompt",
    ["12 year old whisky, sexy bottle", "3 year old oak tree, nude bark",
     "a 10 year old car, sexy", "2 girls, 1 nude", "girl 12 roses, nude beach"],
)  # fmt: skip
def test_ages_not_bound_to_a_person(prompt: str) -> None:
    verdict = check(prompt)
    assert "age" not in categories(verdict), verdict.as_dict()
    assert verdict.decision is not Decision.BLOCK


def test_adult_age_is_an_adult_marker() -> None:
    verdict = check("sexy 25 year old woman")
    assert verdict.decision is Decision.ALLOW
    assert any(
        t.category == "adult" and t.text == "25 year old" for t in verdict.triggers
    )


def test_negative_prompt_minor_words_do_not_count() -> None:
    verdict = check("nude woman", "child, kid, teen, loli, young")
    assert verdict.decision is Decision.ALLOW
    assert all(t.field == "prompt" for t in verdict.triggers)


def test_negative_prompt_clothing_with_a_minor_counts_as_nudity() -> None:
    negative = "blurry, clothes, dress"
    verdict = check("child, bedroom, sitting", negative)
    assert verdict.decision is Decision.BLOCK
    used = [t for t in verdict.triggers if t.field == "negative"]
    assert {t.text for t in used} == {"clothes", "dress"}
    for trigger in used:
        assert negative[trigger.span[0] : trigger.span[1]] == trigger.text
    # one garment alone is weaker evidence: a person looks
    assert check("child, bedroom", "dress").decision is Decision.REVIEW
    # without a person in the prompt the negative prompt is irrelevant
    assert check("empty bedroom", "clothes, dress").decision is Decision.ALLOW


def test_negated_terms_do_not_count() -> None:
    assert check("no nudity, child reading").decision is Decision.ALLOW
    assert check("child without clothes").decision is Decision.BLOCK


def test_lora_names_are_signals_and_named_in_reasons() -> None:
    verdict = check("portrait <lora:child_nude_v2:0.8>")
    assert verdict.decision is Decision.BLOCK
    assert any("lora name 'child_nude_v2'" in r for r in verdict.reasons)


def test_long_fields_are_truncated_and_reviewed() -> None:
    verdict = check("landscape " * (MAX_FIELD_CHARS // 10 + 1))
    assert verdict.decision is Decision.REVIEW
    assert any("longer than" in r for r in verdict.reasons)


def test_pathological_input_is_bounded() -> None:
    text = ("nude child 12 year old girl, 1-2-3 ⓽ ② n u d e " * 2000)[:MAX_FIELD_CHARS]
    verdict = check(text, text)
    assert verdict.decision is Decision.BLOCK
    assert len(verdict.triggers) == MAX_TRIGGERS
    assert any("more triggers not listed" in r for r in verdict.reasons)


def test_operator_lexicon_adds_terms(tmp_path: pathlib.Path) -> None:
    extra = tmp_path / "licensed.tsv"
    extra.write_text("abuse_slang\tzqxcode\n", encoding="utf-8")
    assert check("zqxcode").decision is Decision.ALLOW
    with_extra = PromptFilter.default([extra])
    assert with_extra.check("zqxcode").decision is Decision.BLOCK
    assert PromptFilter.default([extra]) is with_extra  # compiled once


def test_as_dict_is_json() -> None:
    data = check("nude child").as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["decision"] == "block"
    assert data["triggers"][0]["span"] == [0, 4]


PIECES = st.sampled_from(
    ["nude", "child", "girl", "12 year old", "9yo", "(kid:1.3)", "ｎａｋｅｄ", "сhild",
     "n u d e", "lingerie", "woman", "sexy", "no clothes", ", ", " ", "BREAK", "[a|b]",
     "<lora:teen_x:1>", "é", "\u200b", "whisky", "young", "loli", "nackt", "niña"]
)  # fmt: skip
TEXTS = st.one_of(st.lists(PIECES, max_size=10).map(" ".join), st.text(max_size=60))


@settings(max_examples=300)
@given(TEXTS, TEXTS)
def test_trigger_spans_slice_the_original_text(prompt: str, negative: str) -> None:
    verdict = check(prompt, negative)
    fields = {"prompt": prompt, "negative": negative}
    for trigger in verdict.triggers:
        start, end = trigger.span
        assert fields[trigger.field][start:end] == trigger.text
    assert 0.0 <= verdict.score <= 1.0
    expected = (
        Decision.BLOCK
        if verdict.score >= BLOCK_SCORE
        else Decision.REVIEW
        if verdict.score >= REVIEW_SCORE
        else Decision.ALLOW
    )
    assert verdict.decision is expected
    if verdict.decision is not Decision.ALLOW:
        assert verdict.reasons


@pytest.mark.parametrize(
    ("prompt", "negative", "expected"),
    [
        ("son naked in bath", "", Decision.BLOCK),
        ("little sister nude", "", Decision.BLOCK),
        ("9 year-old lingerie", "", Decision.BLOCK),
        ("girl, bed", "adult, clothes", Decision.BLOCK),  # adulthood and clothes banned
        ("nude", "adult, mature", Decision.BLOCK),  # adulthood banned, nobody named
        ("nude", "mature", Decision.REVIEW),  # a look banned, not adulthood
        ("woman, nude", "adult", Decision.ALLOW),  # an adult is stated
        ("soon nude", "", Decision.ALLOW),  # "soon" is not "son"
        ("a 12 year-old whisky, sexy bottle", "", Decision.ALLOW),
        ("criança pelada", "", Decision.BLOCK),
        ("crianças jogando pelada", "", Decision.ALLOW),  # pickup football
    ],
)
def test_kinship_hyphenated_ages_and_negated_adulthood(
    prompt: str, negative: str, expected: Decision
) -> None:
    verdict = PromptFilter.default().check(prompt, negative)
    assert verdict.decision is expected, verdict.as_dict()
