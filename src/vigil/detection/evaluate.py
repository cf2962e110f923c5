"""Training and evaluation data for the AI-likelihood head: labelled folders, the
pixel-only variants, feature matrices, and the metrics (AUC, TPR at low FPR).

Pixel-only means metadata stripped and both classes re-encoded the same way (PNG,
or the variant's JPEG quality, size or crop), so neither format nor size can decide.
"""

import dataclasses
import hashlib
import io
import pathlib
import typing as t
import warnings

import numpy as np
import numpy.typing as npt
from PIL import Image

from vigil.detection.base import DetectionInput, FeatureDetector
from vigil.media.base import Limits, MediaKind
from vigil.media.errors import MediaError
from vigil.media.sniff import SNIFF_BYTES, sniff_bytes
from vigil.media.subject import Subject

#: The variants `vigil detect eval` reports, each applied to both classes.
VARIANTS = ("none", "jpeg85", "jpeg75", "resize50", "crop90")
#: Low false-positive rates the field reports TPR at (a hotline's queue).
FPR_POINTS = (0.01, 0.05)
MAX_TRAINING_FILE_BYTES = 64 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Example:
    path: pathlib.Path
    label: int  # 1 = AI-generated, 0 = real
    group: str  # the folder it came from: folds never split a group
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


#: Smaller images (the 1x1 metadata-only crops parsers are tested on) carry no
#: pixel statistics to learn from: left out of training and evaluation.
MIN_EXAMPLE_SIDE_PX = 32


def labelled_examples(
    ai: pathlib.Path | t.Sequence[pathlib.Path],
    real: pathlib.Path | t.Sequence[pathlib.Path],
) -> list[Example]:
    """Every image (by content) under the folders of each class, sorted, with its
    group (the class and the folder it lies in)."""
    found: list[Example] = []
    roots = [(r, 1) for r in _folders(ai)] + [(r, 0) for r in _folders(real)]
    for root, label in roots:
        for path in sorted(
            p for p in root.rglob("*") if p.is_file() and not p.is_symlink()
        ):
            if path.stat().st_size > MAX_TRAINING_FILE_BYTES:
                continue
            data = path.read_bytes()
            if not sniff_bytes(data[:SNIFF_BYTES]).is_image:
                continue
            group = f"{label}:{root.name}/{path.parent.relative_to(root)}"
            found.append(Example(path, label, group, data))
    return found


def _folders(
    given: pathlib.Path | t.Sequence[pathlib.Path],
) -> list[pathlib.Path]:
    return [given] if isinstance(given, pathlib.Path) else list(given)


def pixel_variant(data: bytes, variant: str) -> bytes | None:
    """The image's pixels re-encoded as `variant` says, no metadata; None when it
    cannot be decoded."""
    try:
        with warnings.catch_warnings(), Image.open(io.BytesIO(data)) as opened:
            warnings.simplefilter("ignore")  # odd palettes and headers warn
            opened.seek(0)
            # a fresh image: none of the file's info (transparency, ICC, EXIF)
            # travels into the re-encoding
            image = Image.fromarray(np.asarray(opened.convert("RGB")))
    except Exception:  # noqa: BLE001 - undecodable training file: left out
        return None
    if min(image.size) < MIN_EXAMPLE_SIDE_PX:
        return None
    if variant == "resize50":
        image = image.resize((max(1, image.width // 2), max(1, image.height // 2)))
    elif variant == "crop90":
        dx, dy = image.width // 20, image.height // 20
        image = image.crop((dx, dy, image.width - dx, image.height - dy))
    buffer = io.BytesIO()
    if variant.startswith("jpeg"):
        image.save(buffer, "JPEG", quality=int(variant[4:]))
    elif variant in ("none", "resize50", "crop90"):
        image.save(buffer, "PNG")
    else:
        raise ValueError(f"unknown variant {variant!r} (known: {', '.join(VARIANTS)})")
    return buffer.getvalue()


def feature_matrix(
    blobs: t.Sequence[bytes],
    detectors: t.Sequence[FeatureDetector],
    limits: Limits | None = None,
) -> tuple[npt.NDArray[np.float64], tuple[str, ...]]:
    """One row of pixel features per image (NaN where unmeasurable or unreadable)
    and the column names `<detector>.<feature>`."""
    names = tuple(f"{d.name}.{f}" for d in detectors for f in d.feature_names)
    rows: list[list[float]] = []
    for data in blobs:
        subject = Subject(data, sniff_bytes(data[:SNIFF_BYTES]), limits or Limits())
        row: list[float] = []
        for detector in detectors:
            try:
                values = detector.features(subject, DetectionInput())
            except MediaError:
                values = (float("nan"),) * len(detector.feature_names)
            row.extend(float(v) for v in values)
        rows.append(row)
    return np.asarray(rows, dtype=np.float64).reshape(len(blobs), len(names)), names


def auc(scores: npt.NDArray[np.float64], labels: npt.NDArray[np.int_]) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    positive, negative = scores[labels == 1], scores[labels == 0]
    if not len(positive) or not len(negative):
        return float("nan")
    order = np.argsort(np.concatenate([positive, negative]), kind="stable")
    ranks = np.empty(len(order))
    values = np.concatenate([positive, negative])[order]
    ranks[order] = _tied_ranks(values)
    return float(
        (ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2)
        / (len(positive) * len(negative))
    )


def tpr_at_fpr(
    scores: npt.NDArray[np.float64], labels: npt.NDArray[np.int_], fpr: float
) -> float:
    """The share of AI images found when at most `fpr` of real ones are flagged."""
    negative = np.sort(scores[labels == 0])[::-1]
    positive = scores[labels == 1]
    if not len(negative) or not len(positive):
        return float("nan")
    allowed = int(np.floor(fpr * len(negative)))
    threshold = negative[allowed] if allowed < len(negative) else -np.inf
    return float((positive > threshold).mean())


def group_folds(groups: t.Sequence[str], folds: int) -> list[npt.NDArray[np.int_]]:
    """Indices of each test fold; a group is never in two folds."""
    names = sorted(set(groups))
    assignment = {name: i % folds for i, name in enumerate(names)}
    return [
        np.asarray(
            [i for i, g in enumerate(groups) if assignment[g] == k], dtype=np.int_
        )
        for k in range(folds)
    ]


def _tied_ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    ranks = np.arange(1, len(values) + 1, dtype=np.float64)
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and values[end + 1] == values[start]:
            end += 1
        ranks[start : end + 1] = (start + end + 2) / 2
        start = end + 1
    return ranks


IMAGE_KINDS = frozenset(kind for kind in MediaKind if kind.is_image)


#: Cross-validation folds by source group (no source in both train and test).
CROSS_VALIDATION_FOLDS = 5


def cross_validated_scores(
    matrix: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int_],
    names: t.Sequence[str],
    groups: t.Sequence[str],
    folds: int = CROSS_VALIDATION_FOLDS,
) -> npt.NDArray[np.float64]:
    """Each example scored by a head fitted without its source group; 0.5 where a
    fold's training part lacks one class."""
    from vigil.detection.head import fit

    scores = np.full(len(labels), np.nan)
    for test in group_folds(groups, folds):
        train = np.setdiff1d(np.arange(len(labels)), test)
        if len(test) == 0 or len(set(labels[train].tolist())) < 2:
            continue
        scores[test] = fit(matrix[train], labels[train], names).predict(matrix[test])
    return np.where(np.isnan(scores), 0.5, scores)
