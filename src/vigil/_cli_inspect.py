"""`vigil inspect`: provenance evidence and the generation record of files."""

import pathlib
import sys
import typing as t

import click

from vigil._cli_context import (
    Context,
    json_line,
    lexicon_option,
    name_fields,
    pass_context,
    shown,
)
from vigil.media.errors import ErrorRecord

if t.TYPE_CHECKING:
    from vigil.pipeline.records import FileOutcome, ItemObservation

STDIN_LABEL = "-"
# The generation-record fields shown in text output, in this order.
_RECORD_FIELDS = (
    "tool",
    "tool_version",
    "source",
    "prompt",
    "negative_prompt",
    "seed",
    "steps",
    "sampler",
    "cfg_scale",
    "width",
    "height",
    "model_name",
)


@click.command("inspect")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--extractor",
    "extractors",
    multiple=True,
    help="Only these extractors (repeatable; see `vigil plugins`). Default: all.",
)
@lexicon_option
@click.option(
    "--json", "as_json", is_flag=True, help="JSON Lines, one object per item."
)
@pass_context
def inspect(
    context: Context,
    files: tuple[str, ...],
    extractors: tuple[str, ...],
    lexicons: tuple[pathlib.Path, ...],
    as_json: bool,
) -> None:
    """Show where FILES came from: evidence and the generation record.

    Reads C2PA manifests (validated offline; remote manifests are never fetched),
    IPTC/XMP DigitalSourceType, generator metadata (AUTOMATIC1111/Forge, ComfyUI,
    NovelAI, InvokeAI, SwarmUI, Fooocus, stealth LSB metadata), Stable Diffusion
    invisible watermarks and camera EXIF. Each piece of evidence has a strength:
    proof (verified signature), strong (a generator's own metadata or mark) or
    weak (easily typed or stripped). Found prompts are scored by the prompt filter.
    Model files get their fingerprints and model_risk (details: `vigil model scan`).
    Archive members are inspected too (`a.zip!/b.png`); `-` reads standard input.
    Unreadable or malformed files print an error and the command goes on.

    \b
    Examples:
      vigil inspect image.png
      vigil inspect --json downloads/*.jpg
      vigil inspect --extractor c2pa photo.jpg
    """
    from vigil.pipeline.work import FileTask, process_bytes, process_file

    config = context.work_config(
        context.options(
            hashers=("sha256",),
            lexicons=tuple(str(p) for p in lexicons),
            extractors=extractors,
        )
    )
    for name in files:
        if name == STDIN_LABEL:
            outcome = process_bytes("<stdin>", sys.stdin.buffer.read(), config)
        else:
            outcome = process_file(FileTask(name, config))
        _print_outcome(outcome, as_json)


def _print_outcome(outcome: "FileOutcome", as_json: bool) -> None:
    from vigil.pipeline.records import location_label

    errors: dict[str, list[ErrorRecord]] = {}
    for error in outcome.errors:
        errors.setdefault(error.member_path, []).append(error)
    for item in outcome.items:
        label = location_label(outcome.path, item.member_path)
        item_errors = errors.pop(item.member_path, [])
        verdict = item.prompt_verdict
        if as_json:
            json_line(
                {
                    **name_fields("path", label),
                    "sha256": item.sha256,
                    "kind": item.kind,
                    "ai_evidence": any(e.is_ai for e in item.evidence),
                    "evidence": [e.as_dict() for e in item.evidence],
                    "generation": (
                        item.generation.as_dict() if item.generation else None
                    ),
                    "prompt_verdict": verdict.as_dict() if verdict else None,
                    "scores": {sc.name: sc.as_dict() for sc in item.scores},
                    "model": item.model.as_dict() if item.model else None,
                    "errors": [_error_dict(e) for e in item_errors],
                }
            )
            continue
        _print_item_text(label, item, item_errors)
    for member_path, orphan_errors in errors.items():
        label = location_label(outcome.path, member_path)
        if as_json:
            json_line(
                {
                    **name_fields("path", label),
                    "errors": [_error_dict(e) for e in orphan_errors],
                }
            )
        else:
            _echo(label)
            for error in orphan_errors:
                _echo(f"  error    {error.reason}: {error.message}")


def _print_item_text(
    label: str, item: "ItemObservation", item_errors: list[ErrorRecord]
) -> None:
    _echo(f"{label}  ({item.kind})")
    if not item.evidence and item.generation is None and item.model is None:
        _echo("  no provenance evidence found")
    if item.model is not None:
        model = item.model
        risk = model.risk
        score = "" if risk.score is None else f" {risk.score:.2f}"
        _echo(f"  model file      {model.format.value}, model_risk {risk.level}{score}")
        for model_hash in model.model_hashes():
            _echo(f"    {model_hash.kind.value:<16}{model_hash.value}")
        if model.is_dangerous_to_load:
            _echo("    unsafe pickle   loading it would run code (never load it)")
        for reason in risk.reasons:
            _echo(f"    {'risk':<16}{reason}")
    for evidence in item.evidence:
        _echo(
            f"  {evidence.strength.value:<7}{evidence.kind.value:<13}"
            f"{evidence.source}: {evidence.summary}"
        )
    record = item.generation
    if record is not None:
        _echo("  generation record")
        data = record.as_dict()
        for field in _RECORD_FIELDS:
            if data.get(field) is not None:
                _echo(f"    {field:<16}{data[field]}")
        if record.model_hash is not None:
            hash_ = record.model_hash
            _echo(f"    {'model_hash':<16}{hash_.value} ({hash_.kind.value})")
        for lora in record.loras:
            weight = "" if lora.weight is None else f" weight {lora.weight}"
            digest = (
                f" hash {lora.hash.value} ({lora.hash.kind.value})" if lora.hash else ""
            )
            _echo(f"    {lora.kind:<16}{lora.name}{weight}{digest}")
        for name in record.other_models:
            _echo(f"    {'other_model':<16}{name}")
    verdict = item.prompt_verdict
    if verdict is not None:
        _echo(
            f"  prompt filter   {verdict.decision.value} (prompt_risk "
            f"{verdict.score:.2f})"
        )
        for trigger in verdict.triggers:
            _echo(
                f"    {trigger.category:<16}{trigger.text!r} in {trigger.field} "
                f"at {trigger.span[0]}-{trigger.span[1]}"
            )
    likelihood = next((s for s in item.scores if s.name == "ai_likelihood"), None)
    if likelihood is not None:
        _echo(f"  ai_likelihood   {likelihood.value:.2f} ({likelihood.level})")
        for reason in likelihood.reasons:
            _echo(f"    {'because':<16}{reason}")
    else:
        _echo("  ai_likelihood   unknown (no detector had a view)")
    for error in item_errors:
        _echo(f"  error    {error.reason}: {error.message}")


def _error_dict(error: ErrorRecord) -> dict[str, str]:
    return {"reason": error.reason, "message": error.message}


def _echo(text: str) -> None:
    """One line of the report; untrusted text (names, prompts, metadata) cannot
    break it or reach the terminal."""
    click.echo(shown(text))
