"""Training for the n-gram semantic stage (`vigil.prompts.ngram`): numpy, imported
only by `vigil prompt train-model` and the tests, never when checking a prompt."""

import array
import typing as t

import numpy as np
import numpy.typing as npt

from vigil.prompts.ngram import (
    DEFAULT_EPOCHS,
    DEFAULT_L2,
    DEFAULT_LEARNING_RATE,
    NGRAM_REVIEW_THRESHOLD,
    Features,
    NgramModel,
)


def train(
    texts: t.Sequence[str],
    labels: t.Sequence[bool],
    *,
    features: Features | None = None,
    epochs: int = DEFAULT_EPOCHS,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    l2: float = DEFAULT_L2,
    trained_on: str = "",
) -> NgramModel:
    """Fit the model: `labels[i]` is True when text i needs review or block.
    Class-balanced (each class weighs half of the loss), L2-regularised, full
    batch: the same data always gives the same model."""
    features = features if features is not None else Features()
    if len(texts) != len(labels) or not texts:
        raise ValueError("need as many labels as texts, and at least one text")
    target = np.asarray(labels, dtype=np.float64)
    if target.min() == target.max():
        raise ValueError("training needs both positive and negative examples")
    rows = [np.asarray(features.of(text), dtype=np.int64) for text in texts]
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    indices = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    row_of = np.repeat(np.arange(len(rows)), lengths)
    scale = 1.0 / np.sqrt(np.maximum(lengths, 1))
    positives = float(target.sum())
    weight = np.where(target > 0, 0.5 / positives, 0.5 / (len(target) - positives))
    weights = np.zeros(features.buckets, dtype=np.float64)
    bias = 0.0
    for _ in range(epochs):
        logits = np.bincount(row_of, weights[indices], len(rows)) * scale + bias
        error = (1.0 / (1.0 + np.exp(-np.clip(logits, -60, 60))) - target) * weight
        gradient = np.bincount(indices, (error * scale)[row_of], features.buckets)
        weights -= learning_rate * (gradient + l2 * weights)
        bias -= learning_rate * float(error.sum())
    dense = array.array("f", weights.astype(np.float32).tobytes())
    return NgramModel(dense, bias, features, trained_on)


def cross_validate(
    texts: t.Sequence[str],
    labels: t.Sequence[bool],
    folds: int,
    threshold: float = NGRAM_REVIEW_THRESHOLD,
) -> dict[str, float]:
    """Out-of-fold figures: AUC, the share of positives at or above `threshold`
    (recall) and of negatives (allow items flagged). Folds are fixed by position
    (item i is in fold i mod `folds`), so a run is reproducible."""
    scores = np.zeros(len(texts))
    for fold in range(folds):
        test = [i for i in range(len(texts)) if i % folds == fold]
        train_idx = [i for i in range(len(texts)) if i % folds != fold]
        model = train([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        for i in test:
            scores[i] = model.probability(texts[i])
    truth = np.asarray(labels, dtype=bool)
    return {
        "auc": _auc(scores, truth),
        "threshold": threshold,
        "recall": float((scores[truth] >= threshold).mean()),
        "allow_flagged": float((scores[~truth] >= threshold).mean()),
    }


def _auc(scores: npt.NDArray[np.float64], truth: npt.NDArray[np.bool_]) -> float:
    """Mann-Whitney AUC with ties counted half."""
    positives, negatives = scores[truth], scores[~truth]
    if not positives.size or not negatives.size:
        return float("nan")
    order = np.argsort(np.concatenate([positives, negatives]), kind="mergesort")
    ranks = np.empty(order.size)
    values = np.concatenate([positives, negatives])[order]
    ranks[order] = np.arange(1, order.size + 1)
    # average ranks over ties
    unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, ranks[order])
    ranks[order] = (sums / counts)[inverse]
    rank_sum = ranks[: positives.size].sum()
    return float(
        (rank_sum - positives.size * (positives.size + 1) / 2)
        / (positives.size * negatives.size)
    )
