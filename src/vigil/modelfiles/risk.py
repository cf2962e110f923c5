"""Model risk: what a model was trained on, judged by the prompt filter.

Design notes:
- Inputs are the trainer's own words: caption tags (`ss_tag_frequency`, booru style),
  dataset folder names (`10_subjectname`), the output name, the training comment and
  modelspec title/description/tags. They go through the same `PromptFilter` as
  prompts, so obfuscation handling and lexicon updates apply to both.
- Co-occurrence matters more than single tags: a dataset whose captions hold a minor
  term and a sexual term is what a model trained on abuse imagery looks like. Each tag
  is checked alone (to find which tags trigger), then each dataset is checked as one
  text made of its folder name, its triggering tags and its most frequent tags, and
  finally all descriptive text together, so the filter's own combination rules see
  terms that occur apart.
- No text means `unknown`, never "safe": most checkpoints carry no training
  metadata, and metadata can be stripped. `score` is then None.
"""

import dataclasses
import enum
import re
import typing as t

from vigil.modelfiles.training import (
    KEY_OUTPUT_NAME,
    KEY_TRAINING_COMMENT,
    MODELSPEC_TEXT_KEYS,
    TrainingInfo,
    read_training,
)
from vigil.prompts.filter import Decision, PromptFilter, PromptVerdict

# Vigil's choices, sized so a 200,000-tag model is judged in seconds.
MAX_TAGS_CHECKED = 20_000  # single-tag checks per model, most frequent tags first
DATASET_CONTEXT_TAGS = 40  # most frequent tags added to each dataset's combined text
MAX_COMBINED_CHARS = 4000  # longest combined text given to the filter at once
MAX_TRIGGERS = 200  # triggers kept in a report
# kohya dataset folders are `<repeats>_<name>` (sd-scripts train_util, "10_subject").
_REPEATS_PREFIX = re.compile(r"^\d+_")


class RiskLevel(enum.StrEnum):
    UNKNOWN = "unknown"  # nothing to judge: no training metadata
    LOW = "low"  # text present, nothing triggered a review or block
    REVIEW = "review"
    HIGH = "high"


_LEVEL_OF = {
    Decision.ALLOW: RiskLevel.LOW,
    Decision.REVIEW: RiskLevel.REVIEW,
    Decision.BLOCK: RiskLevel.HIGH,
}
_LEVEL_ORDER = [RiskLevel.UNKNOWN, RiskLevel.LOW, RiskLevel.REVIEW, RiskLevel.HIGH]


@dataclasses.dataclass(frozen=True)
class RiskTrigger:
    """A term the filter matched, and where in the metadata it was found."""

    source: str  # "tags:10_dataset", "dataset:10_dataset", "ss_output_name", ...
    text: str  # the matched text
    category: str
    tag: str | None = None  # the caption tag, when a single tag triggered

    def as_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ModelRisk:
    """`model_risk`: a score in [0, 1] (None when unknown) with its level and why."""

    level: RiskLevel
    score: float | None
    triggers: tuple[RiskTrigger, ...] = ()
    tags: tuple[str, ...] = ()  # caption tags that triggered on their own
    reasons: tuple[str, ...] = ()
    texts_checked: int = 0

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "level": self.level.value,
            "score": self.score,
            "triggers": [trigger.as_dict() for trigger in self.triggers],
            "tags": list(self.tags),
            "reasons": list(self.reasons),
            "texts_checked": self.texts_checked,
        }


def unknown_risk(reason: str) -> ModelRisk:
    return ModelRisk(level=RiskLevel.UNKNOWN, score=None, reasons=(reason,))


def assess_model(
    training: TrainingInfo | None,
    *,
    shadowed: t.Sequence[tuple[str, str]] = (),
    prompt_filter: PromptFilter | None = None,
) -> ModelRisk:
    """Judge a model's training metadata.

    Args:
        training: what `read_training` found; None when the format has no metadata.
        shadowed: metadata values hidden by duplicate keys; judged as well.
        prompt_filter: default `PromptFilter.default()`.
    """
    infos = [training] if training is not None and training.has_text else []
    if shadowed:
        hidden, _ = read_training(dict(shadowed))
        if hidden.has_text:
            infos.append(hidden)
    if not infos:
        return unknown_risk("no training metadata to judge")
    judge = _Judge(prompt_filter or PromptFilter.default())
    for info in infos:
        judge.training(info)
    return judge.result()


def dataset_name(folder: str) -> str:
    """A kohya folder name without its repeat count: `10_some name` -> `some name`."""
    base = folder.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return _REPEATS_PREFIX.sub("", base)


class _Judge:
    def __init__(self, prompt_filter: PromptFilter) -> None:
        self.filter = prompt_filter
        self.verdicts: list[tuple[str, PromptVerdict]] = []
        self.triggers: dict[tuple[str, str, str], RiskTrigger] = {}
        self.tags: dict[str, None] = {}
        self.tag_checks_left = MAX_TAGS_CHECKED
        self.is_tags_skipped = False

    def check(self, source: str, text: str, tag: str | None = None) -> PromptVerdict:
        verdict = self.filter.check(text)
        self.verdicts.append((source, verdict))
        if _is_signal(verdict):  # adult markers alone (score 0) are not risk triggers
            for trigger in verdict.triggers:
                key = (source, trigger.text, trigger.category)
                if key not in self.triggers and len(self.triggers) < MAX_TRIGGERS:
                    self.triggers[key] = RiskTrigger(
                        source, trigger.text, trigger.category, tag
                    )
        return verdict

    def training(self, info: TrainingInfo) -> None:
        described: list[str] = []
        for key, value in (
            (KEY_OUTPUT_NAME, info.output_name),
            (KEY_TRAINING_COMMENT, info.training_comment),
            *((key, info.modelspec.get(key)) for key in MODELSPEC_TEXT_KEYS),
        ):
            if value:
                text = _readable(value)
                self.check(key, text)
                described.append(text)
        signal_tags: list[str] = []
        folders = {dataset_name(d.name): d for d in info.dataset_dirs}
        for dataset in info.tag_frequency:
            name = dataset_name(dataset.dataset)
            folder = folders.pop(name, None)
            tokens = [folder.class_tokens] if folder and folder.class_tokens else []
            signals = self._single_tags(
                dataset.dataset, [tag for tag, _ in dataset.tags]
            )
            signal_tags.extend(signals)
            context = [_readable(tag) for tag, _ in dataset.tags[:DATASET_CONTEXT_TAGS]]
            parts = [_readable(name), *tokens, *signals, *context]
            self.check(f"dataset:{dataset.dataset}", _join(parts))
            described.extend([_readable(name), *tokens])
        for name, folder in folders.items():  # folders with no tag list
            tokens = [folder.class_tokens] if folder.class_tokens else []
            self.check(f"dataset:{folder.name}", _join([_readable(name), *tokens]))
            described.extend([_readable(name), *tokens])
        if len(described) + len(signal_tags) > 1:
            self.check("combined", _join(described + signal_tags))

    def _single_tags(self, dataset: str, tags: list[str]) -> list[str]:
        """Check tags one by one; return those the filter matched anything in (for
        the dataset text), and remember those that carry risk on their own."""
        matched: list[str] = []
        for tag in tags:
            if self.tag_checks_left <= 0:
                self.is_tags_skipped = True
                break
            self.tag_checks_left -= 1
            text = _readable(tag)
            if not text:
                continue
            verdict = self.check(f"tags:{dataset}", text, tag=tag)
            if verdict.triggers:
                matched.append(text)
            if _is_signal(verdict):
                self.tags[tag] = None
        return matched

    def result(self) -> ModelRisk:
        level = RiskLevel.LOW
        score = 0.0
        reasons: list[str] = []
        for source, verdict in self.verdicts:
            verdict_level = _LEVEL_OF[verdict.decision]
            score = max(score, verdict.score)
            if _LEVEL_ORDER.index(verdict_level) > _LEVEL_ORDER.index(level):
                level = verdict_level
            if verdict.decision is not Decision.ALLOW:
                reasons.extend(f"{source}: {reason}" for reason in verdict.reasons)
        if self.is_tags_skipped:
            reasons.append(
                f"only the {MAX_TAGS_CHECKED} most frequent tags were checked"
            )
        return ModelRisk(
            level=level,
            score=round(score, 4),
            triggers=tuple(self.triggers.values()),
            tags=tuple(self.tags),
            reasons=tuple(dict.fromkeys(reasons)),
            texts_checked=len(self.verdicts),
        )


def _is_signal(verdict: PromptVerdict) -> bool:
    return verdict.score > 0 or verdict.decision is not Decision.ALLOW


def _readable(text: str) -> str:
    """Names and booru tags use `_` for spaces: `long_hair` -> `long hair`."""
    return " ".join(text.replace("_", " ").split())


def _join(parts: list[str]) -> str:
    text = ", ".join(part for part in dict.fromkeys(parts) if part)
    return text[:MAX_COMBINED_CHARS]
