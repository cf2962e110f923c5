"""The trainable head: a regularised logistic model over the pixel detectors'
features, calibrated on a held-aside split, saved as JSON (never pickle).

Design notes:
- An organisation's own assessed images make the strongest detector, so the head
  is trained on its labels (`vigil detect train --ai DIR --real DIR`). The file
  records the features it reads, how each was standardised and imputed, the
  SHA-256 of every training file, and its own evaluation.
- Missing features (NaN: a crop too small, a PNG without quantisation tables) are
  imputed with the training mean, so they pull towards neither class.
- Calibration maps the logistic output to a probability measured on files the fit
  never saw: Platt (a logistic on the logit) or isotonic (pool-adjacent-violators,
  monotone by construction).
"""

import dataclasses
import json
import math
import pathlib
import typing as t

import numpy as np
import numpy.typing as npt

HEAD_FORMAT = "vigil-ai-head"
HEAD_FORMAT_VERSION = 1
MAX_HEAD_BYTES = 16 * 1024 * 1024  # a head is a few KB; a training manifest more
#: Training defaults: full-batch gradient descent on standardised features, enough
#: steps to converge on a few thousand examples of a few dozen features.
DEFAULT_EPOCHS = 2000
DEFAULT_LEARNING_RATE = 0.1
DEFAULT_L2 = 1e-2

FloatArray = npt.NDArray[np.float64]


class HeadError(ValueError):
    """A head file is malformed, over a limit, or made for other features."""

    reason = "bad_ai_head"


@dataclasses.dataclass(frozen=True)
class Calibration:
    """`platt`: p = sigmoid(a * logit + b); `isotonic`: a step function through
    (`xs`, `ys`), both increasing; `none`: the logistic output as it is."""

    method: str = "none"
    a: float = 1.0
    b: float = 0.0
    xs: tuple[float, ...] = ()
    ys: tuple[float, ...] = ()

    def apply(self, raw: FloatArray) -> FloatArray:
        if self.method == "platt":
            return _sigmoid(self.a * _logit(raw) + self.b)
        if self.method == "isotonic":
            xs, ys = np.asarray(self.xs), np.asarray(self.ys)
            index = np.clip(np.searchsorted(xs, raw, side="right") - 1, 0, len(ys) - 1)
            return ys[index]
        return raw


@dataclasses.dataclass(frozen=True)
class Head:
    features: tuple[str, ...]  # "<detector>.<feature>", in the order they are read
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    calibration: Calibration = Calibration()
    training: t.Mapping[str, t.Any] = dataclasses.field(default_factory=dict)
    evaluation: t.Mapping[str, t.Any] = dataclasses.field(default_factory=dict)

    def raw(self, matrix: FloatArray) -> FloatArray:
        """Uncalibrated P(AI) for each row of features (NaN imputed)."""
        x = self._standardised(matrix)
        return _sigmoid(x @ np.asarray(self.weights) + self.bias)

    def predict(self, matrix: FloatArray) -> FloatArray:
        """Calibrated P(AI) for each row."""
        return np.clip(self.calibration.apply(self.raw(matrix)), 0.0, 1.0)

    def contributions(self, row: FloatArray) -> dict[str, float]:
        """Each feature's part of the logit, for the score's reasons."""
        x = self._standardised(row.reshape(1, -1))[0]
        return {
            name: round(float(w * v), 4)
            for name, w, v in zip(self.features, self.weights, x, strict=True)
        }

    def _standardised(self, matrix: FloatArray) -> FloatArray:
        if matrix.shape[1] != len(self.features):
            raise HeadError(
                f"the head reads {len(self.features)} features, got {matrix.shape[1]}"
            )
        mean, scale = np.asarray(self.mean), np.asarray(self.scale)
        filled = np.where(np.isfinite(matrix), matrix, mean)
        return np.asarray((filled - mean) / scale, dtype=np.float64)

    def as_dict(self) -> dict[str, t.Any]:
        data = dataclasses.asdict(self)
        data["calibration"] = dataclasses.asdict(self.calibration)
        return {"format": HEAD_FORMAT, "version": HEAD_FORMAT_VERSION, **data}

    def save(self, path: pathlib.Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: pathlib.Path) -> "Head":
        """Raises:
        HeadError: not a head file, another version, or inconsistent."""
        from vigil.media.errors import NotRegularFileError
        from vigil.media.files import read_regular

        try:
            raw = read_regular(path, MAX_HEAD_BYTES)
            if len(raw) > MAX_HEAD_BYTES:
                raise HeadError(f"{path}: over {MAX_HEAD_BYTES} bytes")
            data = json.loads(raw.decode("utf-8"))
        except NotRegularFileError as exc:
            raise HeadError(f"{path}: {exc}") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HeadError(f"{path}: cannot read the head: {exc}") from exc
        if not isinstance(data, dict) or data.get("format") != HEAD_FORMAT:
            raise HeadError(f"{path}: not a Vigil AI-likelihood head")
        if data.get("version") != HEAD_FORMAT_VERSION:
            raise HeadError(f"{path}: head version {data.get('version')!r} unknown")
        try:
            features = tuple(str(f) for f in data["features"])
            head = cls(
                features=features,
                mean=_floats(data["mean"], len(features)),
                scale=_floats(data["scale"], len(features)),
                weights=_floats(data["weights"], len(features)),
                bias=float(data["bias"]),
                calibration=_calibration(data.get("calibration") or {}),
                training=dict(data.get("training") or {}),
                evaluation=dict(data.get("evaluation") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise HeadError(f"{path}: malformed head: {exc}") from exc
        if any(s <= 0 for s in head.scale):
            raise HeadError(f"{path}: feature scales must be positive")
        return head


#: The head that ships, trained on a few dozen public fixtures only (see the README
#: for how small that is and how to train your own): `make default-head`.
PACKAGED_HEAD = "default-head.json"
#: The packaged head scores scans by default only when its cross-validated AUC
#: (folds by source folder, recorded in the file) reaches this; below it, a head
#: would put numbers on items that carry no information.
DEFAULT_HEAD_MIN_AUC = 0.75
#: What `--head` takes besides a path.
HEAD_DEFAULT_NAME = "default"
HEAD_NONE_NAME = "none"


def packaged_head_path() -> pathlib.Path:
    from importlib.resources import files

    return pathlib.Path(str(files("vigil.detection") / "data" / PACKAGED_HEAD))


def packaged_head_is_trusted(path: pathlib.Path | None = None) -> bool:
    """Whether the packaged head is good enough to score scans by default."""
    try:
        head = Head.load(path or packaged_head_path())
    except HeadError:
        return False
    measured = head.evaluation.get("cross_validated_auc")
    return isinstance(measured, int | float) and measured >= DEFAULT_HEAD_MIN_AUC


def resolve_head(given: str | None) -> str | None:
    """The head file a scan uses: a path as given, `default` for the packaged
    head, `none` for no head; not given, the packaged head when it is trusted."""
    if given == HEAD_NONE_NAME:
        return None
    if given == HEAD_DEFAULT_NAME:
        return str(packaged_head_path())
    if given is not None:
        return given
    return str(packaged_head_path()) if packaged_head_is_trusted() else None


def fit(
    matrix: FloatArray,
    labels: npt.NDArray[np.int_],
    features: t.Sequence[str],
    *,
    l2: float = DEFAULT_L2,
    epochs: int = DEFAULT_EPOCHS,
    learning_rate: float = DEFAULT_LEARNING_RATE,
) -> Head:
    """A class-balanced, L2-regularised logistic fit (1 = AI-generated)."""
    if matrix.ndim != 2 or matrix.shape[0] != labels.shape[0]:
        raise ValueError("one row of features per label")
    if set(np.unique(labels).tolist()) != {0, 1}:
        raise ValueError("training needs both AI-generated and real images")
    finite = np.isfinite(matrix)
    counts = finite.sum(axis=0)
    totals = np.where(finite, matrix, 0.0).sum(axis=0)
    # a feature never measured in training (no JPEG among the images) is 0 and
    # weighs nothing
    mean = np.divide(totals, counts, out=np.zeros(matrix.shape[1]), where=counts > 0)
    filled = np.where(finite, matrix, mean)
    scale = filled.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    x = (filled - mean) / scale
    y = labels.astype(np.float64)
    positives = max(1.0, float(y.sum()))
    negatives = max(1.0, float(len(y) - y.sum()))
    weight = np.where(y == 1, len(y) / (2 * positives), len(y) / (2 * negatives))
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(epochs):
        p = _sigmoid(x @ w + b)
        error = (p - y) * weight
        w -= learning_rate * (x.T @ error / len(y) + l2 * w)
        b -= learning_rate * float(error.mean())
    return Head(
        features=tuple(features),
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        weights=tuple(float(v) for v in w),
        bias=float(b),
    )


def calibrate(
    head: Head, matrix: FloatArray, labels: npt.NDArray[np.int_], method: str
) -> Head:
    """The head with a calibration fitted on (held-aside) labelled rows."""
    raw = head.raw(matrix)
    y = labels.astype(np.float64)
    if method == "platt":
        logit = _logit(raw)
        a, b = 1.0, 0.0
        for _ in range(DEFAULT_EPOCHS):
            p = _sigmoid(a * logit + b)
            a -= DEFAULT_LEARNING_RATE * float(((p - y) * logit).mean())
            b -= DEFAULT_LEARNING_RATE * float((p - y).mean())
        calibration = Calibration("platt", a=a, b=b)
    elif method == "isotonic":
        xs, ys = _isotonic(raw, y)
        calibration = Calibration("isotonic", xs=xs, ys=ys)
    else:
        raise ValueError(f"calibration must be platt or isotonic, not {method!r}")
    return dataclasses.replace(head, calibration=calibration)


def _isotonic(
    raw: FloatArray, y: FloatArray
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Pool-adjacent-violators: the increasing step function nearest the labels."""
    order = np.argsort(raw, kind="stable")
    blocks: list[list[float]] = []  # [start x, sum y, count]
    for i in order:
        blocks.append([float(raw[i]), float(y[i]), 1.0])
        while (
            len(blocks) > 1
            and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]
        ):
            start, total, count = blocks.pop()
            blocks[-1][1] += total
            blocks[-1][2] += count
    xs = tuple([0.0] + [b[0] for b in blocks[1:]])
    ys = tuple(b[1] / b[2] for b in blocks)
    return xs, ys


def _floats(values: t.Any, length: int) -> tuple[float, ...]:
    found = tuple(float(v) for v in values)
    if len(found) != length or not all(math.isfinite(v) for v in found):
        raise ValueError(f"expected {length} finite numbers")
    return found


def _calibration(data: t.Mapping[str, t.Any]) -> Calibration:
    method = str(data.get("method", "none"))
    if method not in ("none", "platt", "isotonic"):
        raise ValueError(f"unknown calibration {method!r}")
    xs = tuple(float(v) for v in data.get("xs", ()))
    ys = tuple(float(v) for v in data.get("ys", ()))
    if method == "isotonic" and (
        not xs or len(xs) != len(ys) or list(ys) != sorted(ys)
    ):
        raise ValueError("an isotonic calibration needs increasing steps")
    return Calibration(
        method, float(data.get("a", 1.0)), float(data.get("b", 0.0)), xs, ys
    )


def _sigmoid(z: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))), dtype=np.float64)


def _logit(p: FloatArray) -> FloatArray:
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(clipped / (1 - clipped)), dtype=np.float64)
