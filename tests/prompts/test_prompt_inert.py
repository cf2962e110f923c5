"""The fast path of `PromptFilter.check`: a prompt whose words all are inert
or only reported (`Lexicon.inert_reading`) is allowed without the full analysis.
The verdict must be the one the full analysis gives, triggers, score and the
semantic stage's say included, on every prompt the test data holds and on
prompts built at random from words of every kind."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paths import DATA
from vigil.prompts import PromptFilter, syntax

PROMPTS = DATA / "prompts"


def lexical() -> PromptFilter:
    return PromptFilter.default(semantic=False)


def full_verdict(f: PromptFilter, prompt: str):  # type: ignore[no-untyped-def]
    return f._check_fully(prompt, "", syntax.mask(prompt), False)


def data_prompts() -> list[str]:
    texts: list[str] = []
    for path in sorted(PROMPTS.rglob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["prompt"])
    for path in sorted((PROMPTS / "benign").glob("*.txt")):
        texts += [line for line in path.read_text("utf-8").splitlines() if line]
    return texts


@pytest.mark.parametrize("semantic", [False, True], ids=["lexicon", "semantic"])
def test_the_fast_path_agrees_with_the_full_analysis_on_the_test_data(
    semantic: bool,
) -> None:
    f = PromptFilter.default(semantic=semantic)
    texts = data_prompts()
    readings = {p: f.lexicon.inert_reading(syntax.mask(p).text) for p in texts}
    inert = [p for p, reading in readings.items() if reading is not None]
    assert len(inert) > 200  # the fast path is taken
    assert sum(1 for p in inert if readings[p].reported) > 10  # adults listed
    assert [p for p in inert if f.check(p) != full_verdict(f, p)] == []


@pytest.mark.parametrize(
    "prompt",
    [
        "a dog on a red sofa",
        "two dogs by the road",  # a count with no person: not an age
        "a small house with a blue door",
        "a person walking in the rain",
        "a shirt on a hanger",
        "a cat under a table",  # `under a` begins `underage`, no word follows
        "a field covered in snow",  # a censoring word: negative prompts only
        "no cars",  # a negation alone (the semantic stage is then not asked)
    ],
)
def test_inert_prompts(prompt: str) -> None:
    assert lexical().lexicon.is_inert(syntax.mask(prompt).text)


@pytest.mark.parametrize(
    ("prompt", "reported"),
    [
        ("a woman walking", [("adult", "woman", "woman")]),
        ("two men and a dog", None),  # a count with a person: maybe an age
        ("men and women", [("adult", "men", "men"), ("adult", "women", "women")]),
        ("a girl with a kite", [("ambiguous_person", "girl", "girl")]),
        ("a young tree", [("youthful", "young", "young")]),
        ("a young woman", None),  # a phrase
        ("a young girl", None),  # youth + person: a minor
        ("a man without a shirt", None),  # negation + garment: exposure
        ("there is no man here", [("adult", "man", "man")]),
    ],
)
def test_words_an_allowed_verdict_lists(
    prompt: str, reported: list[tuple[str, str, str]] | None
) -> None:
    f = lexical()
    reading = f.lexicon.inert_reading(syntax.mask(prompt).text)
    if reported is None:
        assert reading is None
        return
    assert reading is not None
    assert [(c, prompt[s:e], term) for s, e, c, term in reading.reported] == reported
    verdict = f.check(prompt)
    assert [(tr.category, tr.text, tr.term) for tr in verdict.triggers] == reported
    assert verdict == full_verdict(f, prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "in her birthday suit",  # a phrase of inert-looking words
        "two people on a bench",  # a count with a person: maybe an age
        "a small person",  # young + person: youthful
        "shirt off",  # a garment with a removal word
        "12yo skateboarding",  # a glued age is reported alone
        "nu de",  # fragments
        "n u d e",  # spelt out
        "dekan",  # reversed
        "nakedLittleGirl",  # camel case
        "n.u.d.e",  # separators inside a word
        "ñude",  # not ASCII
    ],
)
def test_prompts_that_take_the_full_analysis(prompt: str) -> None:
    assert not lexical().lexicon.is_inert(syntax.mask(prompt).text)


#: Words of every kind the fast path must tell apart: inert, needing a person or
#: a garment, persons, garments, phrase words, signal words, numbers, pieces.
WORDS = [
    "a", "the", "dog", "sofa", "red", "on", "in", "with", "two", "3", "12",
    "small", "young", "little", "old", "years", "year", "by", "down", "off",
    "person", "people", "someone", "shirt", "dress", "clothes", "birthday", "suit",
    "state", "of", "undress", "girl", "boy", "woman", "nude", "naked", "no",
    "without", "nu", "de", "ki", "d", "n", "u", "e", "dekan", "edun", "is",
    "aged", "looks", "like", "tot", "rum", "baby", "goat", "bath", "pool",
    "born", "2016", "over", "under", "around", "ish", "months", "grade", "4th",
    "class", "school", "teen", "cub", "furry", "shower", "take", "strip", "her",
    "his", "she", "11", "9yo", "by", "than", "older", "and", "half", "cute",
    "man", "men", "women", "lady", "adult", "covered", "under", "ge", "age",
    "un", "der", "not", "hat", "top", "mature", "grown", "elderly", "kid",
    "toddler", "ler", "tod", "dl", "it's", "close-up", "gentleman", "mom", "son",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=8),
    st.sampled_from([" ", ", ", " ", "  "]),
)
def test_the_fast_path_agrees_on_random_prompts(words: list[str], sep: str) -> None:
    f = lexical()
    prompt = sep.join(words)
    if f.lexicon.inert_reading(syntax.mask(prompt).text) is not None:
        assert f.check(prompt) == full_verdict(f, prompt), prompt


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8))
def test_the_fast_path_agrees_with_the_semantic_stage_on_random_prompts(
    words: list[str],
) -> None:
    f = PromptFilter.default()
    prompt = " ".join(words)
    if f.lexicon.inert_reading(syntax.mask(prompt).text) is not None:
        assert f.check(prompt) == full_verdict(f, prompt), prompt
