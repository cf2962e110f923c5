"""Training metadata of fine-tuned models: kohya sd-scripts `ss_*`, `sshs_*` and
`modelspec.*` keys of a safetensors `__metadata__`.

Separate from the header reader: the header is a format, this is what trainers chose
to write into it. Values are untrusted strings; several hold JSON (tag frequencies,
dataset folders) and are parsed here with bounds. A value that does not parse becomes
a finding, never an error: the rest of the metadata still counts.
"""

import dataclasses
import json
import math
import re
import typing as t

from vigil.modelfiles.base import Finding, ModelLimits, Severity

# kohya sd-scripts (train_network.py) metadata keys read here.
KEY_TAG_FREQUENCY = "ss_tag_frequency"
KEY_DATASET_DIRS = "ss_dataset_dirs"
KEY_DATASETS = "ss_datasets"
KEY_OUTPUT_NAME = "ss_output_name"
KEY_TRAINING_COMMENT = "ss_training_comment"
KEY_BASE_MODEL_VERSION = "ss_base_model_version"
KEY_BASE_MODEL_NAME = "ss_sd_model_name"
KEY_BASE_MODEL_HASH = "ss_sd_model_hash"
KEY_NEW_BASE_MODEL_HASH = "ss_new_sd_model_hash"
KEY_NETWORK_MODULE = "ss_network_module"
KEY_NUM_TRAIN_IMAGES = "ss_num_train_images"
KEY_TRAINING_STARTED_AT = "ss_training_started_at"
KEY_SSHS_MODEL_HASH = "sshs_model_hash"  # SHA-256 of the tensor data (AutoV3, full)
KEY_SSHS_LEGACY_HASH = "sshs_legacy_hash"  # AutoV1 of the file as kohya wrote it
MODELSPEC_PREFIX = "modelspec."
MODELSPEC_THUMBNAIL = "modelspec.thumbnail"
#: modelspec keys whose text describes the model (Stability AI's ModelSpec 1.0).
MODELSPEC_TEXT_KEYS = (
    "modelspec.title",
    "modelspec.description",
    "modelspec.tags",
    "modelspec.trigger_phrase",
    "modelspec.usage_hint",
)
# A tag or folder name longer than this is not a caption tag; it is cut.
MAX_TAG_CHARS = 1024
_INTEGER = re.compile(r"-?[0-9]{1,18}")


@dataclasses.dataclass(frozen=True)
class DatasetTags:
    """Caption tags of one dataset folder, most frequent first."""

    dataset: str
    tags: tuple[tuple[str, int], ...]

    def as_dict(self) -> dict[str, t.Any]:
        return {"dataset": self.dataset, "tags": dict(self.tags)}


@dataclasses.dataclass(frozen=True)
class DatasetDir:
    """A training image folder (kohya names them `<repeats>_<name>`)."""

    name: str
    repeats: int | None = None
    images: int | None = None
    class_tokens: str | None = None

    def as_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class TrainingInfo:
    """What a trainer recorded about how the model was made."""

    output_name: str | None = None
    training_comment: str | None = None
    base_model_version: str | None = None
    base_model_name: str | None = None
    base_model_hash: str | None = None
    new_base_model_hash: str | None = None
    network_module: str | None = None
    num_train_images: int | None = None
    training_started_at: float | None = None
    dataset_dirs: tuple[DatasetDir, ...] = ()
    tag_frequency: tuple[DatasetTags, ...] = ()
    modelspec: t.Mapping[str, str] = dataclasses.field(default_factory=dict)
    sshs_model_hash: str | None = None
    sshs_legacy_hash: str | None = None
    is_tags_truncated: bool = False

    @property
    def has_text(self) -> bool:
        """Whether anything here describes the training content (for risk)."""
        return bool(
            self.output_name
            or self.training_comment
            or self.dataset_dirs
            or self.tag_frequency
            or any(self.modelspec.get(key) for key in MODELSPEC_TEXT_KEYS)
        )

    def as_dict(self) -> dict[str, t.Any]:
        out = dataclasses.asdict(self)
        out["dataset_dirs"] = [d.as_dict() for d in self.dataset_dirs]
        out["tag_frequency"] = [d.as_dict() for d in self.tag_frequency]
        out["modelspec"] = dict(self.modelspec)
        return out


def read_training(
    metadata: t.Mapping[str, str], limits: ModelLimits | None = None
) -> tuple[TrainingInfo, tuple[Finding, ...]]:
    """Interpret kohya and modelspec keys; malformed values become findings."""
    limits = limits or ModelLimits()
    findings: list[Finding] = []
    budget = _TagBudget(limits.max_tags)
    tag_sets = _tag_frequency(metadata.get(KEY_TAG_FREQUENCY), budget, findings)
    dirs = _dataset_dirs(metadata.get(KEY_DATASET_DIRS), findings)
    more_tags, more_dirs = _datasets(metadata.get(KEY_DATASETS), budget, findings)
    known = {d.dataset for d in tag_sets}
    tag_sets += [d for d in more_tags if d.dataset not in known]
    known_dirs = {d.name for d in dirs}
    dirs += [d for d in more_dirs if d.name not in known_dirs]
    info = TrainingInfo(
        output_name=metadata.get(KEY_OUTPUT_NAME) or None,
        training_comment=metadata.get(KEY_TRAINING_COMMENT) or None,
        base_model_version=metadata.get(KEY_BASE_MODEL_VERSION) or None,
        base_model_name=metadata.get(KEY_BASE_MODEL_NAME) or None,
        base_model_hash=metadata.get(KEY_BASE_MODEL_HASH) or None,
        new_base_model_hash=metadata.get(KEY_NEW_BASE_MODEL_HASH) or None,
        network_module=metadata.get(KEY_NETWORK_MODULE) or None,
        num_train_images=_int(metadata.get(KEY_NUM_TRAIN_IMAGES)),
        training_started_at=_float(metadata.get(KEY_TRAINING_STARTED_AT)),
        dataset_dirs=tuple(dirs),
        tag_frequency=tuple(tag_sets),
        modelspec={
            key: value
            for key, value in sorted(metadata.items())
            if key.startswith(MODELSPEC_PREFIX) and key != MODELSPEC_THUMBNAIL
        },
        sshs_model_hash=_hex(metadata.get(KEY_SSHS_MODEL_HASH)),
        sshs_legacy_hash=_hex(metadata.get(KEY_SSHS_LEGACY_HASH)),
        is_tags_truncated=budget.is_exhausted,
    )
    if budget.is_exhausted:
        findings.append(
            Finding(
                "tags_truncated",
                Severity.INFO,
                f"more than {limits.max_tags} caption tags; the rest were not read",
                KEY_TAG_FREQUENCY,
            )
        )
    return info, tuple(findings)


class _TagBudget:
    def __init__(self, total: int) -> None:
        self.left = total
        self.is_exhausted = False

    def take(self) -> bool:
        if self.left <= 0:
            self.is_exhausted = True
            return False
        self.left -= 1
        return True


def _json(value: str | None, key: str, findings: list[Finding]) -> t.Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        findings.append(
            Finding("malformed_training_metadata", Severity.INFO, "not JSON", key)
        )
        return None


def _tag_frequency(
    value: str | None, budget: _TagBudget, findings: list[Finding]
) -> list[DatasetTags]:
    document = _json(value, KEY_TAG_FREQUENCY, findings)
    if document is None:
        return []
    if not isinstance(document, dict):
        findings.append(
            Finding(
                "malformed_training_metadata",
                Severity.INFO,
                "not an object",
                KEY_TAG_FREQUENCY,
            )
        )
        return []
    return [
        DatasetTags(_cut(str(name)), _tags(tags, budget))
        for name, tags in document.items()
        if isinstance(tags, dict)
    ]


def _tags(tags: dict[str, t.Any], budget: _TagBudget) -> tuple[tuple[str, int], ...]:
    kept: list[tuple[str, int]] = []
    for tag, count in tags.items():
        if not budget.take():
            break
        kept.append((_cut(str(tag).strip()), _int(count) or 0))
    kept.sort(key=lambda pair: (-pair[1], pair[0]))
    return tuple(kept)


def _dataset_dirs(value: str | None, findings: list[Finding]) -> list[DatasetDir]:
    document = _json(value, KEY_DATASET_DIRS, findings)
    if not isinstance(document, dict):
        return []
    dirs = []
    for name, info in document.items():
        info = info if isinstance(info, dict) else {}
        dirs.append(
            DatasetDir(
                _cut(str(name)),
                _int(info.get("n_repeats")),
                _int(info.get("img_count")),
            )
        )
    return dirs


def _datasets(
    value: str | None, budget: _TagBudget, findings: list[Finding]
) -> tuple[list[DatasetTags], list[DatasetDir]]:
    """`ss_datasets` (kohya's config-file datasets): subsets and tag frequencies."""
    document = _json(value, KEY_DATASETS, findings)
    tag_sets: list[DatasetTags] = []
    dirs: list[DatasetDir] = []
    if not isinstance(document, list):
        return tag_sets, dirs
    for dataset in document:
        if not isinstance(dataset, dict):
            continue
        frequency = dataset.get("tag_frequency")
        if isinstance(frequency, dict):
            for name, tags in frequency.items():
                if isinstance(tags, dict):
                    tag_sets.append(DatasetTags(_cut(str(name)), _tags(tags, budget)))
        subsets = dataset.get("subsets")
        for subset in subsets if isinstance(subsets, list) else []:
            if isinstance(subset, dict) and subset.get("image_dir"):
                tokens = subset.get("class_tokens")
                dirs.append(
                    DatasetDir(
                        _cut(str(subset["image_dir"])),
                        _int(subset.get("num_repeats")),
                        _int(subset.get("img_count")),
                        _cut(str(tokens)) if tokens else None,
                    )
                )
    return tag_sets, dirs


def _cut(text: str) -> str:
    return text[:MAX_TAG_CHARS]


def _int(value: t.Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    return None


def _float(value: str | None) -> float | None:
    if not value or len(value) > 40:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _hex(value: str | None) -> str | None:
    if not value:
        return None
    lowered = value.strip().lower().removeprefix("0x")
    if lowered and all(c in "0123456789abcdef" for c in lowered):
        return lowered
    return None
