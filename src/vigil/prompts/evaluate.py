"""Evaluate a PromptFilter on labelled prompts: confusion matrix and the figures the
acceptance criteria name (block recall, false-block rate on `allow`, blocks let
through as `allow`).

Inputs are untrusted files: JSON Lines (`prompt`, optional `negative_prompt`,
`label`, optional `why`) or a CSV/TSV column of prompts that all carry one expected
label (a benign set). Size and line limits apply; a bad line is an `EvalDataError`
naming it.
"""

import csv
import dataclasses
import io
import json
import pathlib
import typing as t

from vigil.prompts import mutate
from vigil.prompts.filter import Decision, PromptFilter, PromptVerdict

#: Limits for evaluation files (the shared sets are < 1 MB).
MAX_EVAL_BYTES = 64 * 1024 * 1024
MAX_LINE_CHARS = 1024 * 1024
LABELS: tuple[Decision, ...] = (Decision.BLOCK, Decision.REVIEW, Decision.ALLOW)


class EvalDataError(ValueError):
    """An evaluation file could not be read."""

    reason = "bad_eval_data"


@dataclasses.dataclass(frozen=True)
class Example:
    prompt: str
    label: Decision
    negative: str = ""
    why: str = ""


def _read(path: pathlib.Path) -> str:
    try:
        if path.stat().st_size > MAX_EVAL_BYTES:
            raise EvalDataError(f"{path}: larger than {MAX_EVAL_BYTES} bytes")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalDataError(f"{path}: cannot read: {exc}") from exc


def load_jsonl(path: pathlib.Path) -> list[Example]:
    """Labelled examples from a JSON Lines file."""
    examples: list[Example] = []
    for number, line in enumerate(_read(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        if len(line) > MAX_LINE_CHARS:
            raise EvalDataError(f"{where}: line longer than {MAX_LINE_CHARS}")
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalDataError(f"{where}: not JSON: {exc.msg}") from exc
        if not isinstance(record, dict):
            raise EvalDataError(f"{where}: expected a JSON object")
        prompt, label = record.get("prompt"), record.get("label")
        negative = record.get("negative_prompt") or ""
        if not isinstance(prompt, str) or not isinstance(negative, str):
            raise EvalDataError(f"{where}: prompt and negative_prompt must be text")
        try:
            decision = Decision(str(label))
        except ValueError as exc:
            raise EvalDataError(
                f"{where}: label must be block, review or allow"
            ) from exc
        examples.append(Example(prompt, decision, negative, str(record.get("why", ""))))
    return examples


def load_table(path: pathlib.Path, column: str, label: Decision) -> list[Example]:
    """Every prompt in `column` of a CSV (or, for .tsv, tab-separated) file."""
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    reader = csv.DictReader(io.StringIO(_read(path)), delimiter=delimiter)
    if reader.fieldnames is None or column not in reader.fieldnames:
        raise EvalDataError(f"{path}: no column {column!r}")
    examples = []
    for row in reader:
        text = row.get(column) or ""
        if len(text) > MAX_LINE_CHARS:
            raise EvalDataError(f"{path}: a {column} value is too long")
        examples.append(Example(text, label))
    return examples


@dataclasses.dataclass(frozen=True)
class EvalReport:
    """Counts by (expected, predicted) and the derived rates (None: no such items)."""

    counts: t.Mapping[tuple[Decision, Decision], int]
    errors: tuple[tuple[Example, PromptVerdict], ...]
    #: The same counts per `why` class (empty when no example has one).
    by_class: t.Mapping[str, t.Mapping[tuple[Decision, Decision], int]] = (
        dataclasses.field(default_factory=dict)
    )

    def total(self, expected: Decision) -> int:
        return sum(self.counts.get((expected, got), 0) for got in LABELS)

    def rate(self, expected: Decision, got: Decision) -> float | None:
        total = self.total(expected)
        return self.counts.get((expected, got), 0) / total if total else None

    @property
    def block_recall(self) -> float | None:
        return self.rate(Decision.BLOCK, Decision.BLOCK)

    @property
    def allow_false_block_rate(self) -> float | None:
        return self.rate(Decision.ALLOW, Decision.BLOCK)

    @property
    def block_as_allow(self) -> int:
        return self.counts.get((Decision.BLOCK, Decision.ALLOW), 0)

    @property
    def accuracy(self) -> float | None:
        total = sum(self.counts.values())
        right = sum(self.counts.get((label, label), 0) for label in LABELS)
        return right / total if total else None

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "confusion": {
                expected.value: {
                    got.value: self.counts.get((expected, got), 0) for got in LABELS
                }
                for expected in LABELS
            },
            "total": sum(self.counts.values()),
            "accuracy": self.accuracy,
            "block_recall": self.block_recall,
            "allow_false_block_rate": self.allow_false_block_rate,
            "block_as_allow": self.block_as_allow,
            "classes": {name: row.as_dict() for name, row in self.classes().items()},
        }

    def classes(self) -> dict[str, "ClassFigures"]:
        """Per `why` class: items, block recall, blocks allowed, false blocks."""
        return {
            name: ClassFigures.of(counts)
            for name, counts in sorted(self.by_class.items())
        }

    def matrix_lines(self) -> list[str]:
        """The confusion matrix as text: rows expected, columns predicted."""
        header = "expected \\ got " + "".join(f"{g.value:>8}" for g in LABELS)
        rows = [header]
        for expected in LABELS:
            cells = "".join(
                f"{self.counts.get((expected, got), 0):>8}" for got in LABELS
            )
            rows.append(f"{expected.value:<15}{cells}")
        return rows


@dataclasses.dataclass(frozen=True)
class ClassFigures:
    """One `why` class: how many items of each label, and what became of them."""

    items: int
    blocks: int
    block_recall: float | None
    block_as_allow: int
    allows: int
    allow_false_blocks: int
    reviews: int
    review_as_allow: int

    @classmethod
    def of(cls, counts: t.Mapping[tuple[Decision, Decision], int]) -> "ClassFigures":
        def total(expected: Decision) -> int:
            return sum(counts.get((expected, got), 0) for got in LABELS)

        blocks = total(Decision.BLOCK)
        blocked = counts.get((Decision.BLOCK, Decision.BLOCK), 0)
        return cls(
            items=sum(counts.values()),
            blocks=blocks,
            block_recall=blocked / blocks if blocks else None,
            block_as_allow=counts.get((Decision.BLOCK, Decision.ALLOW), 0),
            allows=total(Decision.ALLOW),
            allow_false_blocks=counts.get((Decision.ALLOW, Decision.BLOCK), 0),
            reviews=total(Decision.REVIEW),
            review_as_allow=counts.get((Decision.REVIEW, Decision.ALLOW), 0),
        )

    def as_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


def evaluate(prompt_filter: PromptFilter, examples: t.Iterable[Example]) -> EvalReport:
    counts: dict[tuple[Decision, Decision], int] = {}
    by_class: dict[str, dict[tuple[Decision, Decision], int]] = {}
    errors: list[tuple[Example, PromptVerdict]] = []
    for example in examples:
        verdict = prompt_filter.check(example.prompt, example.negative)
        key = (example.label, verdict.decision)
        counts[key] = counts.get(key, 0) + 1
        if example.why:
            row = by_class.setdefault(example.why, {})
            row[key] = row.get(key, 0) + 1
        if verdict.decision is not example.label:
            errors.append((example, verdict))
    return EvalReport(counts, tuple(errors), by_class)


@dataclasses.dataclass(frozen=True)
class MutationFigures:
    """One rewrite (`mutate.MUTATIONS`) over the block items blocked as typed."""

    items: int
    blocked: int
    reviewed: int
    allowed: int

    @property
    def block_recall(self) -> float | None:
        return self.blocked / self.items if self.items else None

    def as_dict(self) -> dict[str, t.Any]:
        return {**dataclasses.asdict(self), "block_recall": self.block_recall}


@dataclasses.dataclass(frozen=True)
class MutationReport:
    """How the `block` items the filter blocks as typed fare when their signal
    words are rewritten the way evaders type them. `skipped`: block items not
    blocked as typed, or with no Latin-letter signal word to rewrite."""

    by_mutation: t.Mapping[str, MutationFigures]
    skipped: int
    #: (example, mutation name, rewritten prompt, verdict) for every rewrite
    #: that was not blocked
    misses: tuple[tuple[Example, str, str, PromptVerdict], ...]

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "skipped": self.skipped,
            "mutations": {
                name: row.as_dict() for name, row in self.by_mutation.items()
            },
        }


#: How many signal words of a prompt one rewrite changes: each on its own (one
#: rewritten prompt per word, the way one keyword is disguised) or all at once.
MUTATION_SCOPES = ("each", "all")


def evaluate_mutations(
    prompt_filter: PromptFilter,
    examples: t.Iterable[Example],
    mutations: t.Mapping[str, mutate.Mutation] = mutate.MUTATIONS,
    scope: str = "each",
    prompt_mutations: t.Mapping[str, mutate.PromptMutation] = mutate.PROMPT_MUTATIONS,
) -> MutationReport:
    """Rewrite the signal words of each `block` item the filter blocks as typed
    with each of `mutations`, and count what the filter makes of the result.
    With `scope` "each", every signal word is rewritten on its own (a prompt
    with three gives three rewritten prompts); with "all", all at once. Each of
    `prompt_mutations` rewrites the whole prompt once, whatever the scope."""
    if scope not in MUTATION_SCOPES:
        raise ValueError(f"scope must be one of {MUTATION_SCOPES}")
    counts = {name: [0, 0, 0] for name in [*mutations, *prompt_mutations]}
    # ... each row: block, review, allow
    skipped = 0
    misses: list[tuple[Example, str, str, PromptVerdict]] = []
    column = {Decision.BLOCK: 0, Decision.REVIEW: 1, Decision.ALLOW: 2}
    for example in examples:
        if example.label is not Decision.BLOCK:
            continue
        verdict = prompt_filter.check(example.prompt, example.negative)
        words = mutate.mutable_spans(
            example.prompt,
            (
                mutate.Span(tr.span[0], tr.span[1], tr.category)
                for tr in verdict.triggers
                if tr.field == "prompt"
            ),
        )
        if verdict.decision is not Decision.BLOCK or not words:
            skipped += 1
            continue
        groups = [words] if scope == "all" else [[word] for word in words]
        rewrites = [
            (name, mutate.mutate(example.prompt, group, mutation))
            for name, mutation in mutations.items()
            for group in groups
        ]
        rewrites += [
            (name, rewrite(example.prompt))
            for name, rewrite in prompt_mutations.items()
        ]
        for name, rewritten in rewrites:
            if rewritten == example.prompt:
                continue  # the rewrite leaves this prompt as it is (`starred`)
            outcome = prompt_filter.check(rewritten, example.negative)
            counts[name][column[outcome.decision]] += 1
            if outcome.decision is not Decision.BLOCK:
                misses.append((example, name, rewritten, outcome))
    return MutationReport(
        {
            name: MutationFigures(sum(row), row[0], row[1], row[2])
            for name, row in counts.items()
        },
        skipped,
        tuple(misses),
    )
