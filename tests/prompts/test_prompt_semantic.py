"""The optional semantic stage, with a deterministic fake embedder (the packaged
model is not installed in CI)."""

import hashlib
import pathlib
import typing as t

import numpy as np
import pytest

from vigil.prompts import Decision, PromptFilter
from vigil.prompts.semantic import (
    Embedder,
    HeadError,
    LogisticHead,
    SemanticStage,
    embedder_available,
    train_head,
)

DIMENSIONS = 64


class HashingEmbedder:
    """Bag of words hashed into 64 dimensions, L2-normalised: deterministic."""

    name = "test-hashing-64"

    def embed(self, texts: t.Sequence[str]) -> np.ndarray:  # type: ignore[type-arg]
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                digest = hashlib.sha256(word.encode()).digest()
                out[row, digest[0] % DIMENSIONS] += 1.0 if digest[1] & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


# Paraphrases that use no lexicon word (clinical placeholders) against benign text.
POSITIVE = ["forbidden youngling scene", "forbidden youngling picture",
            "youngling forbidden pose", "forbidden scene youngling"]  # fmt: skip
NEGATIVE = ["mountain lake at dawn", "bowl of fruit painting", "city street at night",
            "portrait of an old fisherman", "a red bicycle"]  # fmt: skip


def trained() -> LogisticHead:
    texts = POSITIVE + NEGATIVE
    labels = [True] * len(POSITIVE) + [False] * len(NEGATIVE)
    return train_head(HashingEmbedder(), texts, labels)


def test_fake_embedder_satisfies_the_protocol() -> None:
    assert isinstance(HashingEmbedder(), Embedder)


def test_head_separates_its_training_data() -> None:
    head = trained()
    embedder = HashingEmbedder()
    positive = head.probability(embedder.embed(POSITIVE))
    negative = head.probability(embedder.embed(NEGATIVE))
    assert positive.min() > 0.5 > negative.max()


def test_head_round_trips_without_pickle(tmp_path: pathlib.Path) -> None:
    head = trained()
    path = tmp_path / "head.npz"
    head.save(path)
    loaded = LogisticHead.load(path)
    np.testing.assert_array_equal(loaded.weights, head.weights)
    assert loaded.bias == pytest.approx(head.bias)
    assert loaded.embedder == "test-hashing-64"
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == {"version", "weights", "bias", "embedder"}


def test_bad_head_files(tmp_path: pathlib.Path) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(HeadError, match="not a semantic head"):
        LogisticHead.load(junk)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, version=np.array(99), weights=np.zeros(4), bias=np.array(0.0),
             embedder=np.array("x"))  # fmt: skip
    with pytest.raises(HeadError, match="format 99"):
        LogisticHead.load(wrong)
    nan = tmp_path / "nan.npz"
    np.savez(nan, version=np.array(1), weights=np.full(4, np.nan),
             bias=np.array(0.0), embedder=np.array("x"))  # fmt: skip
    with pytest.raises(HeadError, match="not finite"):
        LogisticHead.load(nan)


def test_head_refuses_another_embedder() -> None:
    head = LogisticHead(np.zeros(DIMENSIONS, dtype=np.float32), 0.0, "other-model")
    with pytest.raises(HeadError, match="trained with 'other-model'"):
        SemanticStage(HashingEmbedder(), head)


def test_training_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both positive and negative"):
        train_head(HashingEmbedder(), ["a", "b"], [True, True])


def test_filter_raises_a_paraphrase_to_review_never_block() -> None:
    stage = SemanticStage(HashingEmbedder(), trained())
    plain = PromptFilter.default()
    with_stage = plain.with_semantic(stage)
    text = "forbidden youngling picture"
    assert plain.check(text).decision is Decision.ALLOW
    verdict = with_stage.check(text)
    assert verdict.decision is Decision.REVIEW
    assert any("semantic model" in r for r in verdict.reasons)
    assert with_stage.check("mountain lake at dawn").decision is Decision.ALLOW
    assert with_stage.check("nude child").decision is Decision.BLOCK


def test_packaged_embedder_is_optional() -> None:
    # Not a dependency: the check must not raise whether or not it is installed.
    assert embedder_available() in (True, False)
