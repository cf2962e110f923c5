"""`vigil scan`: run a scan (the default subcommand), list scans, show one again."""

import dataclasses
import pathlib
import sys
import typing as t

import click

from vigil._cli_context import Context, json_line, lexicon_option, pass_context, shown
from vigil._cli_default_group import DefaultGroup
from vigil.exitcodes import ExitCode

if t.TYPE_CHECKING:
    from vigil.store.records import ScanSummary


@click.group(
    cls=DefaultGroup,
    default="run",
    context_settings={"help_option_names": ["-h", "--help"]},
)
def scan() -> None:
    """Scan folders and files into the store; show finished scans."""


@scan.command("run")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=pathlib.Path))
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes. Default: one per core.",
)
@click.option(
    "--engine",
    "engine_name",
    default="local",
    show_default=True,
    help="Where files are processed: local (process pool) or inline (this process).",
)
@click.option("--resume", "resume_id", type=int, help="Resume the scan with this id.")
@click.option(
    "--hash-list",
    "hash_lists",
    multiple=True,
    help="Match against this hash list (repeatable). Default: every list in the store.",
)
@click.option("--no-match", is_flag=True, help="Hash only; match against no list.")
@click.option(
    "--no-provenance",
    is_flag=True,
    help="Skip provenance extraction (C2PA, generator metadata, watermarks, EXIF).",
)
@click.option(
    "--pdq-pipeline",
    type=click.Choice(["pdq512", "full"]),
    default=None,
    help="How images are resized for PDQ: pdq512 (default, fast: Meta's pdqio "
    "512 px resize) or full (full resolution, python-threatexchange's convention; "
    "slow on large photos).",
)
@click.option(
    "--head",
    "head",
    metavar="PATH|default|none",
    help="A trained AI-likelihood head (`vigil detect train`) over the pixel "
    "detectors; `default` for the packaged one (trained on a few dozen public "
    "images), `none` for no head. Not given: the packaged head only if its "
    "cross-validated AUC reaches 0.75 (today it does not), so only decisive "
    "evidence gives ai_likelihood.",
)
@click.option(
    "--no-models",
    is_flag=True,
    help="Skip the model-file inspector (fingerprints, pickle opcodes, model_risk).",
)
@click.option(
    "--extractor",
    "extractors",
    multiple=True,
    help="Only these provenance extractors (repeatable; `vigil plugins` lists them). "
    "Default: all. The invisible-watermark reader is the costly one (~0.14 s for a "
    "12 MP photo, most of it the full-resolution decode).",
)
@lexicon_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr. Default: when stderr is a terminal.",
)
@pass_context
def run(
    context: Context,
    paths: tuple[pathlib.Path, ...],
    workers: int | None,
    engine_name: str,
    resume_id: int | None,
    hash_lists: tuple[str, ...],
    no_match: bool,
    no_provenance: bool,
    no_models: bool,
    head: str | None,
    pdq_pipeline: str | None,
    extractors: tuple[str, ...],
    lexicons: tuple[pathlib.Path, ...],
    as_json: bool,
    progress: bool | None,
) -> None:
    """Hash every file under PATHS into the store, archives included.

    Every image is also matched against the hash lists in the store, and read for
    provenance evidence (C2PA, IPTC/XMP, generator metadata, stealth metadata,
    invisible watermarks, camera EXIF); prompts found in generation records are
    scored by the prompt filter (`prompt_risk`).

    Each finished file is recorded at once, so a scan that is stopped (Ctrl-C, a crash,
    kill -9) continues where it stopped when the same command is run again, or with
    --resume SCAN_ID. Files that cannot be read become error records; the scan goes on.

    \b
    Examples:
      vigil scan /evidence/case-17
      vigil scan --workers 8 --json dump.zip other-folder/
      vigil scan --resume 3
      vigil scan list                 every scan in the store
      vigil scan show 3               a finished scan's summary again
      vigil items --scan 3 --matched  what the scan found, item by item
    (A folder named `show` or `list` is scanned as `vigil scan ./show`.)
    """
    from vigil.pipeline.config import ScanOptions
    from vigil.scans.run import run_scan
    from vigil.store.base import ScanBusyError

    if not paths and resume_id is None:
        raise click.UsageError("give at least one PATH, or --resume SCAN_ID")
    if paths and resume_id is not None:
        raise click.UsageError("--resume takes the paths from the scan: give no PATH")
    store = context.store()
    roots: list[str] = [str(p) for p in paths]
    options = context.options(
        provenance=not no_provenance,
        prompts=not no_provenance,
        models=not no_models,
        extractors=extractors,
        lexicons=tuple(str(path) for path in lexicons),
        hash_lists=() if no_match else (hash_lists or None),
        plugin_options={"pdq": {"pipeline": pdq_pipeline}} if pdq_pipeline else {},
        head=_head(head),
    )
    if resume_id is not None:
        info = store.get_scan(resume_id)
        if info is None:
            raise click.UsageError(f"no scan with id {resume_id}")
        roots = list(info.roots)
        stored = info.options.get("options")
        if isinstance(stored, dict):  # resume with the scan's own options
            options = ScanOptions.from_dict(stored)
    matcher = None
    if options.hash_lists != ():
        try:
            matcher = (
                store.matcher(
                    options.hash_lists,
                    hash_types=context.registry.hash_types(),
                    index_factory=context.registry.index_for,
                )
                or None
            )
        except LookupError as exc:
            raise click.UsageError(str(exc)) from exc
    options = dataclasses.replace(
        options, pdq_variants=matcher is not None and "pdq" in matcher.indexes
    )
    if options.lexicons and (options.provenance or options.models):
        _check_lexicons([pathlib.Path(p) for p in options.lexicons])
    config = context.work_config(options)
    engine_kwargs = {"workers": workers or context.settings.workers}
    engine = context.registry.engine(
        engine_name, **(engine_kwargs if engine_name == "local" else {})
    )
    show_progress = sys.stderr.isatty() if progress is None else progress
    reporter = None
    if show_progress:
        from vigil._progress import RichScanProgress

        reporter = RichScanProgress()
    try:
        with engine:
            summary = run_scan(
                store,
                roots,
                config=config,
                engine=engine,
                resume_id=resume_id,
                progress=reporter,
                matcher=matcher,
                options=options,
            )
    except KeyboardInterrupt:
        click.echo("interrupted: run the same command again to resume", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except ScanBusyError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        location = store.location
        store.close()
    if as_json:
        json_line({**summary.as_dict(), "store": location})
    else:
        print_summary(summary, location)


def print_summary(summary: "ScanSummary", location: str) -> None:
    reasons = ", ".join(f"{k} {v}" for k, v in summary.errors_by_reason.items())
    lines = [
        ("scan", f"{summary.scan_id} {summary.status}"),
        ("files", str(summary.files)),
        ("items", str(summary.items)),
        ("locations", str(summary.locations)),
        ("duplicates", str(summary.duplicates)),
        ("errors", f"{summary.errors}" + (f" ({reasons})" if reasons else "")),
        ("matched_items", str(summary.matches_by_verdict.get("match", 0))),
        ("near_review", str(summary.matches_by_verdict.get("near_review", 0))),
        ("held", str(summary.matches_by_verdict.get("held", 0))),
        ("ai_evidence_items", str(summary.provenance.ai_items)),
        ("generation_records", str(summary.provenance.generation_records)),
        ("prompts", _decisions(summary.provenance.prompts_by_decision)),
        ("model_files", _models(summary)),
        ("linked_images", str(summary.models.linked_images)),
        ("megabytes", f"{summary.bytes / 1e6:.1f}"),
        ("seconds", f"{summary.elapsed_seconds:.2f}"),
        ("mb_per_second", f"{summary.mb_per_second:.1f}"),
        ("files_per_second", f"{summary.files_per_second:.1f}"),
        ("store", location),
    ]
    for key, value in lines:
        click.echo(f"{key:<19}{value}")


def _check_lexicons(lexicons: t.Sequence[pathlib.Path]) -> None:
    """Load operator lexicons once, before any work: a bad file is a usage error
    here rather than an error record on every file."""
    from vigil.prompts.filter import PromptFilter
    from vigil.prompts.lexicon import LexiconError

    try:
        PromptFilter.default(tuple(lexicons))
    except LexiconError as exc:
        raise click.UsageError(str(exc)) from exc


def _models(summary: "ScanSummary") -> str:
    models = summary.models
    levels = ("high", "review", "low", "unknown")
    risk = ", ".join(f"{level} {models.by_risk.get(level, 0)}" for level in levels)
    return f"{models.model_files} (risk: {risk}; unsafe pickles {models.dangerous})"


def _decisions(counts: dict[str, int]) -> str:
    order = ("block", "review", "allow")
    return ", ".join(f"{name} {counts.get(name, 0)}" for name in order)


@scan.command("show")
@click.argument("scan_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_context
def show(context: Context, scan_id: int, as_json: bool) -> None:
    """Print the summary of scan SCAN_ID again (`vigil scan list` gives the ids)."""
    with context.store() as store:
        if store.get_scan(scan_id) is None:
            raise click.UsageError(f"no scan with id {scan_id}")
        summary = store.summary(scan_id)
        location = store.location
    if as_json:
        json_line({**summary.as_dict(), "store": location})
    else:
        print_summary(summary, location)


@scan.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one per scan.")
@pass_context
def list_(context: Context, as_json: bool) -> None:
    """Every scan in the store: id, status, when, runs and roots."""
    with context.store() as store:
        scans = store.list_scans()
    for info in scans:
        if as_json:
            json_line(info.as_dict())
        else:
            roots = " ".join(shown(root) for root in info.roots)
            click.echo(
                f"{info.id} {info.status} {info.started_at:%Y-%m-%dT%H:%M:%SZ} "
                f"runs {info.runs} {roots}"
            )


def _head(given: str | None) -> str | None:
    from vigil.detection.head import HEAD_DEFAULT_NAME, HEAD_NONE_NAME, resolve_head

    if given in (None, HEAD_DEFAULT_NAME, HEAD_NONE_NAME):
        return resolve_head(given)
    path = pathlib.Path(given)
    if not path.is_file():
        raise click.BadParameter(f"{given}: no such file", param_hint="--head")
    return str(path.resolve())
