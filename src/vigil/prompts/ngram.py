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

The model file is a small binary format read with the standard library (checking a
prompt needs no numpy; training, in `ngram_train`, does): a magic line, one JSON
header line (format version, feature settings, bias, training digest, weight count),
then the non-zero weights as little-endian int32 indices and float32 values. Every
field is checked on load; nothing in it is ever executed.
"""

import array
import dataclasses
import functools
import hashlib
import importlib.resources
import json
import math
import pathlib
import sys
import typing as t
import zlib

from vigil.media.errors import NotRegularFileError
from vigil.media.files import read_regular
from vigil.prompts import views
from vigil.prompts.normalise import fold_text

MODEL_FORMAT_VERSION = 1
PACKAGED_MODEL = "semantic-ngram.bin"
MAGIC = b"VIGIL-NGRAM\n"
MAX_HEADER_BYTES = 4096
#: Hash buckets: 2^18 keeps collisions rare for ~100k distinct n-grams.
DEFAULT_BUCKETS = 1 << 18
#: Character n-gram lengths over each word padded with spaces.
DEFAULT_NGRAM_RANGE = (2, 5)
#: Probability from which the stage asks for review: the lowest of 0.5, 0.6, 0.7
#: at which none of the held-out lines of the benign corpora (the lines training
#: leaves out, 1,057 prompts in 17 languages) is flagged (measured: 179 at 0.5,
#: 1 at 0.6, 0 at 0.7).
NGRAM_REVIEW_THRESHOLD = 0.7
#: Lower thresholds where the lexicon found half of a block and allowed it: a
#: minor-side and a sexual-side word both ("boy" + "undressed" below review) and a
#: sexual-side word alone. Measured over every labelled and benign set here, on
#: the prompts the lexicon allows (docs/prompts.md): with both halves, 5 of 8
#: missed requests at 0.5 and none of 6 benign ones; with the sexual half, 11 of
#: 16 at 0.65 and 4 of 97 benign (10 and 2 at 0.7).
NGRAM_BOTH_HALVES_THRESHOLD = 0.5
NGRAM_SEXUAL_HALF_THRESHOLD = 0.65
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

    def of(self, text: str) -> list[int]:
        """The distinct feature indices of `text` (presence, not counts), sorted."""
        folded = fold_text(text[:MAX_TEXT_CHARS])[0]
        grams: set[str] = set()
        self._add(folded, grams)
        view = views.transliterated(folded)
        if view.text != folded:
            self._add(view.text, grams)
        buckets = self.buckets
        return sorted({zlib.crc32(g.encode("utf-8")) % buckets for g in grams})

    def _add(self, folded: str, grams: set[str]) -> None:
        words = _split_words(folded)
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


@dataclasses.dataclass(frozen=True)
class NgramModel:
    """p(needs review or block | text) = sigmoid(sum of the text's weights / sqrt(n)
    + bias), n the number of its features."""

    weights: "array.array[float]"  # dense float32, one per bucket
    bias: float
    features: Features = Features()
    trained_on: str = ""  # SHA-256 over the training files

    def probability(self, text: str) -> float:
        indices = self.features.of(text)
        weights = self.weights
        total = sum(weights[i] for i in indices)
        logit = total / math.sqrt(max(len(indices), 1)) + self.bias
        return 1.0 / (1.0 + math.exp(-min(60.0, max(-60.0, logit))))

    def to_bytes(self) -> bytes:
        nonzero = [i for i, w in enumerate(self.weights) if w != 0.0]
        indices = array.array("i", nonzero)
        values = array.array("f", (self.weights[i] for i in nonzero))
        if sys.byteorder == "big":  # pragma: no cover - the format is little-endian
            indices.byteswap()
            values.byteswap()
        header = {
            "version": MODEL_FORMAT_VERSION,
            "buckets": self.features.buckets,
            "ngram_range": [self.features.ngram_min, self.features.ngram_max],
            "bias": self.bias,
            "trained_on": self.trained_on,
            "count": len(nonzero),
        }
        line = json.dumps(header, sort_keys=True).encode("ascii") + b"\n"
        return MAGIC + line + indices.tobytes() + values.tobytes()

    def save(self, path: pathlib.Path) -> None:
        path.write_bytes(self.to_bytes())

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
        if not raw.startswith(MAGIC):
            raise NgramModelError(f"{name}: not an n-gram model file")
        end = raw.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER_BYTES)
        if end < 0:
            raise NgramModelError(f"{name}: not an n-gram model file (no header)")
        try:
            header = json.loads(raw[len(MAGIC) : end].decode("ascii"))
            version = int(header["version"])
            buckets = int(header["buckets"])
            low, high = (int(v) for v in header["ngram_range"])
            bias = float(header["bias"])
            trained_on = str(header["trained_on"])
            count = int(header["count"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise NgramModelError(f"{name}: bad model header: {exc}") from exc
        if version != MODEL_FORMAT_VERSION:
            raise NgramModelError(f"{name}: model format {version} is not supported")
        if not 0 < buckets <= MAX_BUCKETS or not 1 <= low <= high <= 8:
            raise NgramModelError(f"{name}: bad feature settings")
        body = raw[end + 1 :]
        if count < 0 or len(body) != 8 * count:
            raise NgramModelError(
                f"{name}: {len(body)} bytes of weights, not {8 * count}"
            )
        indices = array.array("i", body[: 4 * count])
        values = array.array("f", body[4 * count :])
        if sys.byteorder == "big":  # pragma: no cover
            indices.byteswap()
            values.byteswap()
        if count and (min(indices) < 0 or max(indices) >= buckets):
            raise NgramModelError(f"{name}: a weight index is out of range")
        if not (math.isfinite(bias) and all(math.isfinite(v) for v in values)):
            raise NgramModelError(f"{name}: weights are not finite")
        weights = array.array("f", bytes(4 * buckets))
        for index, value in zip(indices, values, strict=True):
            weights[index] = value
        return cls(weights, bias, Features(buckets, low, high), trained_on)


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

    def threshold_for(self, *, minor: bool, sexual: bool) -> float:
        """Lower where the lexicon found half of a block (see the constants)."""
        if minor and sexual:
            return min(self.threshold, NGRAM_BOTH_HALVES_THRESHOLD)
        if sexual:
            return min(self.threshold, NGRAM_SEXUAL_HALF_THRESHOLD)
        return self.threshold
