"""The packaged semantic stage: a character-n-gram logistic model, trained here.

No text-embedding model can be fetched at run time, and no well-kept package ships a
small multilingual one inside its wheel (sentence-transformers needs PyTorch and
a model download; the one wheel that bundles all-MiniLM-L6-v2 is English-only and
also needs PyTorch). So Vigil trains its own: a logistic model over hashed
character n-grams of the folded text and of its Latin transliteration, plus word
unigrams and bigrams, from the labelled prompts in `training/prompt-semantic/`
(written for this repository; its README says how). `make prompt-model` trains the
packaged model again, reproducibly (fixed order, full-batch gradient descent).

Character n-grams see through spelling (misspelt, glued, split and transliterated
words share most of their n-grams) and need no word segmentation, so the same model
reads Japanese and Turkish. A few hundred hand-written prompts cannot carry a
refusal, so the stage may only raise a decision: `allow` to `review` from
`NGRAM_REVIEW_THRESHOLD`; it never lowers one and never blocks on its own.

The model file is NumPy `.npz` read with `allow_pickle=False`: the non-zero weights
(indices and values), the bias, the feature settings and a format version; the
features are recomputed from these settings, so a file made with other settings
is refused rather than misread.
"""

import dataclasses
import functools
import hashlib
import importlib.resources
import io
import pathlib
import typing as t
import zipfile
import zlib

import numpy as np
import numpy.typing as npt

from vigil.media.errors import NotRegularFileError
from vigil.media.files import read_regular
from vigil.prompts import views
from vigil.prompts.normalise import fold_text

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

MODEL_FORMAT_VERSION = 1
PACKAGED_MODEL = "semantic-ngram.npz"
#: Hash buckets: 2^18 keeps collisions rare for ~100k distinct n-grams.
DEFAULT_BUCKETS = 1 << 18
#: Character n-gram lengths over each word padded with spaces.
DEFAULT_NGRAM_RANGE = (2, 5)
#: Probability from which the stage asks for review: the lowest of 0.5, 0.6, 0.7
#: at which none of the held-out lines of the benign corpora (the lines training
#: leaves out, 1,057 prompts in 17 languages) is flagged (measured: 179 at 0.5,
#: 1 at 0.6, 0 at 0.7).
NGRAM_REVIEW_THRESHOLD = 0.7
#: The prompt_risk a semantic review gets (above REVIEW_SCORE, below every
#: lexicon rule that reviews).
NGRAM_REVIEW_LEVEL = 0.45
#: Training defaults (full batch; a few thousand prompts converge well before).
DEFAULT_EPOCHS = 300
DEFAULT_LEARNING_RATE = 2.0
DEFAULT_L2 = 1e-4
#: Only this much of a prompt is read (n-grams of a 64 KiB field cost ~10 ms).
MAX_TEXT_CHARS = 4096
#: Limits on a model file (the packaged one is well under 1 MB).
MAX_MODEL_BYTES = 32 * 1024 * 1024
MAX_BUCKETS = 1 << 24


class NgramModelError(ValueError):
    """A model file is malformed, over a limit or made with other settings."""

    reason = "bad_ngram_model"


@dataclasses.dataclass(frozen=True)
class Features:
    """How a text becomes hashed features (recorded in the model file)."""

    buckets: int = DEFAULT_BUCKETS
    ngram_min: int = DEFAULT_NGRAM_RANGE[0]
    ngram_max: int = DEFAULT_NGRAM_RANGE[1]

    def of(self, text: str) -> IntArray:
        """The distinct feature indices of `text` (presence, not counts)."""
        folded = fold_text(text[:MAX_TEXT_CHARS])[0]
        grams: set[str] = set()
        self._add(folded, grams)
        view = views.transliterated(folded)
        if view.text != folded:
            self._add(view.text, grams)
        buckets = self.buckets
        return np.fromiter(
            sorted({zlib.crc32(g.encode("utf-8")) % buckets for g in grams}),
            dtype=np.int64,
        )

    def _add(self, folded: str, grams: set[str]) -> None:
        words = [w for w in _WORD_SPLIT(folded) if w]
        low, high = self.ngram_min, self.ngram_max
        for word in words:
            padded = f" {word} "
            size = len(padded)
            for n in range(low, min(high, size) + 1):
                for i in range(size - n + 1):
                    grams.add(padded[i : i + n])
            grams.add("w:" + word)
        for first, second in zip(words, words[1:], strict=False):
            grams.add(f"b:{first} {second}")


def _split_words(text: str) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    for char in text:
        if char.isalnum():
            current.append(char)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


_WORD_SPLIT = _split_words


@dataclasses.dataclass(frozen=True)
class NgramModel:
    """p(needs review or block | text) = sigmoid(sum of the text's weights + bias)."""

    weights: FloatArray  # dense, one per bucket
    bias: float
    features: Features = Features()
    trained_on: str = ""  # SHA-256 of the training file

    def probability(self, text: str) -> float:
        indices = self.features.of(text)
        logit = float(self.weights[indices].sum()) / _norm(len(indices)) + self.bias
        return float(1.0 / (1.0 + np.exp(-np.clip(logit, -60.0, 60.0))))

    def save(self, path: pathlib.Path) -> None:
        nonzero = np.flatnonzero(self.weights).astype(np.int32)
        with open(path, "wb") as stream:
            np.savez_compressed(
                stream,
                version=np.array(MODEL_FORMAT_VERSION),
                indices=nonzero,
                values=self.weights[nonzero].astype(np.float32),
                bias=np.array(self.bias, dtype=np.float64),
                buckets=np.array(self.features.buckets),
                ngram_range=np.array(
                    [self.features.ngram_min, self.features.ngram_max]
                ),
                trained_on=np.array(self.trained_on),
            )

    @classmethod
    def load(cls, path: pathlib.Path) -> "NgramModel":
        try:
            raw = read_regular(path, MAX_MODEL_BYTES)
        except (OSError, ValueError, NotRegularFileError) as exc:
            raise NgramModelError(f"{path}: cannot read: {exc}") from exc
        if len(raw) > MAX_MODEL_BYTES:
            raise NgramModelError(f"{path}: larger than {MAX_MODEL_BYTES} bytes")
        return cls.from_bytes(raw, str(path))

    @classmethod
    def from_bytes(cls, raw: bytes, name: str) -> "NgramModel":
        try:
            with np.load(io.BytesIO(raw), allow_pickle=False) as data:
                version = int(data["version"])
                indices = np.asarray(data["indices"], dtype=np.int64)
                values = np.asarray(data["values"], dtype=np.float32)
                bias = float(data["bias"])
                buckets = int(data["buckets"])
                low, high = (int(v) for v in data["ngram_range"])
                trained_on = str(data["trained_on"])
        except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
            raise NgramModelError(f"{name}: not an n-gram model file: {exc}") from exc
        if version != MODEL_FORMAT_VERSION:
            raise NgramModelError(f"{name}: model format {version} is not supported")
        if not 0 < buckets <= MAX_BUCKETS or not 1 <= low <= high <= 8:
            raise NgramModelError(f"{name}: bad feature settings")
        if indices.shape != values.shape or indices.ndim != 1:
            raise NgramModelError(f"{name}: weights have mismatched shapes")
        if indices.size and (indices.min() < 0 or indices.max() >= buckets):
            raise NgramModelError(f"{name}: a weight index is out of range")
        if not (np.all(np.isfinite(values)) and np.isfinite(bias)):
            raise NgramModelError(f"{name}: weights are not finite")
        weights = np.zeros(buckets, dtype=np.float32)
        weights[indices] = values
        return cls(weights, bias, Features(buckets, low, high), trained_on)


def _norm(count: int) -> float:
    return float(np.sqrt(max(count, 1)))


def train(
    texts: t.Sequence[str],
    labels: t.Sequence[bool],
    *,
    features: Features = Features(),
    epochs: int = DEFAULT_EPOCHS,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    l2: float = DEFAULT_L2,
    trained_on: str = "",
) -> NgramModel:
    """Fit the model: `labels[i]` is True when text i needs review or block.
    Class-balanced (each class weighs half of the loss), L2-regularised, full
    batch: the same data always gives the same model."""
    if len(texts) != len(labels) or not texts:
        raise ValueError("need as many labels as texts, and at least one text")
    target = np.asarray(labels, dtype=np.float64)
    if target.min() == target.max():
        raise ValueError("training needs both positive and negative examples")
    rows = [features.of(text) for text in texts]
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
    return NgramModel(weights.astype(np.float32), bias, features, trained_on)


#: A training file of benign lines is read up to this size.
MAX_TRAINING_BYTES = 64 * 1024 * 1024


def files_digest(paths: t.Sequence[pathlib.Path]) -> str:
    """SHA-256 over the training files, in order (recorded in the model)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def training_lines(path: pathlib.Path) -> list[str]:
    """The 1st, 3rd, 5th... non-empty lines of a benign text file (the others are
    held out, for measuring the stage on text it was not trained on)."""
    raw = read_regular(path, MAX_TRAINING_BYTES)
    if len(raw) > MAX_TRAINING_BYTES:
        raise ValueError(f"{path}: larger than {MAX_TRAINING_BYTES} bytes")
    lines = [line for line in raw.decode("utf-8").splitlines() if line.strip()]
    return lines[0::2]


def held_out_lines(path: pathlib.Path) -> list[str]:
    """The lines `training_lines` leaves out."""
    lines = [line for line in path.read_text("utf-8").splitlines() if line.strip()]
    return lines[1::2]


@functools.lru_cache(maxsize=1)
def packaged() -> NgramModel | None:
    """The model shipped in `vigil/prompts/data/` (None if it is missing)."""
    resource = importlib.resources.files("vigil.prompts") / "data" / PACKAGED_MODEL
    try:
        raw = resource.read_bytes()
    except FileNotFoundError:
        return None
    return NgramModel.from_bytes(raw, PACKAGED_MODEL)


@dataclasses.dataclass(frozen=True)
class NgramStage:
    """The filter's semantic stage over an `NgramModel`."""

    model: NgramModel
    threshold: float = NGRAM_REVIEW_THRESHOLD
    review_level: float = NGRAM_REVIEW_LEVEL
    name: str = "n-gram model"

    def probability(self, text: str) -> float:
        return self.model.probability(text)


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
