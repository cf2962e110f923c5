"""The packaged semantic stage: a character-n-gram model trained in the repository."""

import array
import json
import os
import pathlib

import pytest
from click.testing import CliRunner

from paths import DATA, REPO
from vigil._cli_prompts import prompt as main_prompt
from vigil.prompts import Decision, PromptFilter
from vigil.prompts.lexicon import builtin
from vigil.prompts.ngram import (
    MAGIC,
    NGRAM_REVIEW_THRESHOLD,
    Features,
    NgramModel,
    NgramModelError,
    NgramStage,
    files_digest,
    held_out_lines,
    packaged,
    training_lines,
)
from vigil.prompts.ngram_train import train

BENIGN = DATA / "prompts" / "benign"
TEXTS = [
    "nude photo of a child",
    "explicit picture, little girl",
    "a child flying a kite",
    "a bowl of fruit on a table",
    "mountain lake at dawn",
    "undressed toddler",
]
LABELS = [True, True, False, False, False, True]


def test_same_data_same_model_and_round_trip(tmp_path: pathlib.Path) -> None:
    small = Features(buckets=1 << 12)
    first = train(TEXTS, LABELS, features=small, epochs=50)
    second = train(TEXTS, LABELS, features=small, epochs=50)
    assert first.weights == second.weights
    path = tmp_path / "model.bin"
    first.save(path)
    loaded = NgramModel.load(path)
    for text in TEXTS:
        assert loaded.probability(text) == pytest.approx(first.probability(text))
    assert first.probability(TEXTS[0]) > first.probability(TEXTS[3])


def test_features_see_through_spelling() -> None:
    features = Features()
    plain = set(features.of("naked child"))
    misspelt = set(features.of("nakkid chiild"))
    assert len(plain & misspelt) > len(plain) / 3
    # a transliterated view: Cyrillic text shares n-grams with its Latin form
    assert set(features.of("голая")) & set(features.of("golaya"))


def test_training_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both"):
        train(["a", "b"], [True, True])


def _corrupt(raw: bytes, change: str) -> bytes:
    head, _, body = raw[len(MAGIC) :].partition(b"\n")
    header = json.loads(head)
    if change == "magic":
        return b"PK\x03\x04" + raw[4:]
    if change == "truncated":
        return raw[: len(raw) - 3]
    if change == "header":
        return MAGIC + b"{not json\n" + body
    if change == "version":
        header["version"] = 99
    elif change == "buckets":
        header["buckets"] = 1 << 30
    elif change == "index":
        indices = array.array("i", body[: 4 * header["count"]])
        indices[0] = header["buckets"] + 5
        body = indices.tobytes() + body[4 * header["count"] :]
    elif change == "finite":
        values = array.array("f", body[4 * header["count"] :])
        values[0] = float("inf")
        body = body[: 4 * header["count"]] + values.tobytes()
    return MAGIC + json.dumps(header).encode() + b"\n" + body


@pytest.mark.parametrize(
    "change", ["magic", "truncated", "header", "version", "buckets", "index", "finite"]
)
def test_bad_model_files_are_refused(tmp_path: pathlib.Path, change: str) -> None:
    path = tmp_path / "model.bin"
    model = train(TEXTS, LABELS, features=Features(buckets=1 << 10), epochs=5)
    path.write_bytes(_corrupt(model.to_bytes(), change))
    with pytest.raises(NgramModelError):
        NgramModel.load(path)


def test_a_fifo_is_refused_without_blocking(tmp_path: pathlib.Path) -> None:
    fifo = tmp_path / "model.bin"
    os.mkfifo(fifo)
    with pytest.raises(NgramModelError):
        NgramModel.load(fifo)


class Always:
    """A stage that rates every prompt as needing review."""

    threshold = 0.5
    review_level = 0.45

    def probability(self, text: str) -> float:
        del text
        return 1.0

    def threshold_for(self, *, minor: bool, sexual: bool) -> float:
        del minor, sexual
        return self.threshold


def test_the_stage_only_raises_allow_to_review() -> None:
    prompt_filter = PromptFilter(builtin(), Always())
    assert prompt_filter.check("a bowl of fruit").decision is Decision.REVIEW
    assert prompt_filter.check("nude toddler").decision is Decision.BLOCK
    # what the lexicon has read itself is left alone: an adult, an idiom
    assert prompt_filter.check("30 year old model, boudoir photo").decision is (
        Decision.ALLOW
    )
    assert prompt_filter.check("the naked eye cannot see it").decision is (
        Decision.ALLOW
    )


def test_packaged_model_flags_no_held_out_benign_line() -> None:
    """The threshold's own claim: none of the benign corpora's held-out lines (the
    ones training leaves out, 21 languages) reaches it."""
    model = packaged()
    assert model is not None
    flagged = [
        line
        for path in sorted(BENIGN.glob("*.txt"))
        for line in held_out_lines(path)
        if model.probability(line) >= NGRAM_REVIEW_THRESHOLD
    ]
    assert flagged == []


def test_packaged_model_records_its_training_files() -> None:
    model = packaged()
    assert model is not None
    files = [REPO / "training" / "prompt-semantic" / "train.jsonl"]
    files += sorted(BENIGN.glob("*.txt"))
    assert model.trained_on == files_digest(files), "run make prompt-model"


def test_training_lines_and_held_out_lines_split_a_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "benign.txt"
    path.write_text("a\n\nb\nc\nd\n", encoding="utf-8")
    assert training_lines(path) == ["a", "c"]
    assert held_out_lines(path) == ["b", "d"]


def test_stage_reasons_name_the_model() -> None:
    model = train(TEXTS, LABELS, features=Features(buckets=1 << 12), epochs=50)
    stage = NgramStage(model, threshold=0.0)
    verdict = PromptFilter(builtin(), stage).check("a quiet harbour")
    assert verdict.decision is Decision.REVIEW
    assert any("semantic model" in reason for reason in verdict.reasons)


def test_train_model_cli(tmp_path: pathlib.Path) -> None:
    labelled = tmp_path / "train.jsonl"
    labelled.write_text(
        "".join(
            f'{{"prompt": "{text}", "label": "{"block" if label else "allow"}"}}\n'
            for text, label in zip(TEXTS, LABELS, strict=True)
        ),
        encoding="utf-8",
    )
    benign = tmp_path / "benign.txt"
    benign.write_text("a red bicycle\na green door\n", encoding="utf-8")
    out = tmp_path / "m.bin"
    result = CliRunner().invoke(
        main_prompt,
        ["train-model", str(labelled), "--allow-lines", str(benign),
         "--folds", "2", "-o", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"examples": 7' in result.output
    assert NgramModel.load(out).trained_on == files_digest([labelled, benign])
    check = CliRunner().invoke(
        main_prompt, ["check", "a quiet harbour", "--model", str(out), "--json"]
    )
    assert check.exit_code == 0, check.output
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"not a model")
    refused = CliRunner().invoke(main_prompt, ["check", "x", "--model", str(bad)])
    assert refused.exit_code == 1
    assert "not an n-gram model" in refused.output
    assert "Traceback" not in refused.output
