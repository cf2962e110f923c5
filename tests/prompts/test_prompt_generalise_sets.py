"""The evaluation sets written for issue 16, apart from the code (README of
`tests/data/prompts/generalise/`), and the benign corpora in 21 languages.

The figures asserted are the ones measured when this was written, as a floor: a
change that loses recall fails here. The issue's target (block recall 0.95, no
block returned as allow) is not met yet; docs/prompts.md has the figures."""

import pathlib

import pytest

from paths import DATA
from vigil.prompts import Decision, PromptFilter
from vigil.prompts.evaluate import evaluate, load_jsonl

SETS = DATA / "prompts" / "generalise"
BENIGN = DATA / "prompts" / "benign"
#: (set, minimum block recall, most blocks returned as allow, most false blocks)
FLOORS = [
    ("set-b.jsonl", 0.965, 1, 0),
    ("multilingual.jsonl", 0.99, 1, 0),
    ("set-e.jsonl", 0.965, 1, 0),
    ("set-f.jsonl", 0.98, 2, 0),
    ("set-g.jsonl", 0.98, 2, 0),
    ("set-a.jsonl", None, 0, 0),
    ("set-c.jsonl", None, 0, 0),
    ("set-d.jsonl", None, 0, 0),
]


@pytest.mark.parametrize(("name", "recall", "as_allow", "false_blocks"), FLOORS)
def test_generalisation_sets_hold_their_floor(
    name: str, recall: float | None, as_allow: int, false_blocks: int
) -> None:
    report = evaluate(PromptFilter.default(), load_jsonl(SETS / name))
    if recall is not None:
        assert report.block_recall is not None
        assert report.block_recall >= recall, report.as_dict()
    assert report.block_as_allow <= as_allow, report.as_dict()
    assert report.counts.get((Decision.ALLOW, Decision.BLOCK), 0) <= false_blocks


def test_the_eighth_round_benign_set_reviews_what_it_should() -> None:
    """set-d's review items (children at the beach, teens in swimwear) are all
    flagged; it has no block items to check (its writer declined to write any)."""
    report = evaluate(PromptFilter.default(), load_jsonl(SETS / "set-d.jsonl"))
    assert report.counts.get((Decision.REVIEW, Decision.ALLOW), 0) <= 1, (
        report.as_dict()
    )


def benign_files() -> list[pathlib.Path]:
    return sorted(BENIGN.glob("*.txt"))


def test_there_is_a_benign_corpus_for_every_lexicon_language() -> None:
    lexicons = {
        p.stem
        for p in (
            pathlib.Path(__file__).resolve().parents[2] / "src/vigil/prompts/lexicon"
        ).glob("*.tsv")
        if len(p.stem) == 2
    }
    corpora = {p.stem for p in benign_files()}
    assert lexicons - {"en"} <= corpora


@pytest.mark.parametrize("path", benign_files(), ids=lambda p: p.stem)
def test_benign_corpus_is_allowed(path: pathlib.Path) -> None:
    """Every line of every language's benign corpus is allowed by the lexicon (no
    block, no review), and never blocked with the semantic stage on."""
    lexical = PromptFilter.default(semantic=False)
    full = PromptFilter.default()
    lines = [line for line in path.read_text("utf-8").splitlines() if line.strip()]
    assert len(lines) >= 100
    flagged = [
        (lexical.check(line).decision.value, line)
        for line in lines
        if lexical.check(line).decision is not Decision.ALLOW
    ]
    assert flagged == []
    assert all(full.check(line).decision is not Decision.BLOCK for line in lines)
