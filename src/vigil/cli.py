"""The `vigil` command line: one small function per verb, no logic of its own.

Data goes to stdout (one greppable line per record, or JSON Lines with --json); logs and
progress bars go to stderr. Exit codes come from `vigil.exitcodes.ExitCode`.
"""

import dataclasses
import logging
import pathlib
import sys
import typing as t

import click

from vigil import __version__
from vigil._cli_context import Context, json_line, lexicon_option, pass_context
from vigil._cli_inspect import inspect
from vigil._cli_lists import hashlist, match
from vigil._cli_models import model
from vigil._cli_prompts import prompt
from vigil._optional import MissingDependencyError
from vigil.config import Settings
from vigil.exitcodes import ExitCode
from vigil.pipeline.config import ScanOptions
from vigil.pipeline.records import FileOutcome, location_label
from vigil.pipeline.work import FileTask, process_bytes, process_file
from vigil.plugins import PluginError, build_registry
from vigil.store.matches import load_matcher
from vigil.store.store import ScanSummary

log = logging.getLogger("vigil")

STDIN_LABEL = "-"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vigil")
@click.option(
    "-v", "--verbose", count=True, help="More log output on stderr (-vv: debug)."
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    envvar="VIGIL_HOME",
    help="Where Vigil keeps its state. Default: the platform data directory.",
)
@click.option(
    "--database",
    "database_url",
    envvar="VIGIL_DATABASE_URL",
    help="SQLAlchemy database URL. Default: a SQLite file in the home directory.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    verbose: int,
    home: pathlib.Path | None,
    database_url: str | None,
) -> None:
    """Vigil: hash, match and triage bulk image sets safely, offline.

    \b
    Start here:
      vigil scan FOLDER       hash a folder (archives included) into the store
      vigil hash FILE...      print md5, sha1, sha256 and PDQ of files
      vigil hashlist import   load a hash list (VICS, NCMEC, HMA, StopNCII, plain)
      vigil match FILE...     look files up in the hash lists
      vigil inspect FILE...   evidence of AI generation: C2PA, generator metadata,
                              watermarks, camera EXIF; the prompt and model used
      vigil demo build DIR    write a small benign demo set to try Vigil on
    """
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(message)s"
    )
    overrides: dict[str, t.Any] = {}
    if home is not None:
        overrides["home"] = home
    if database_url:
        overrides["database_url"] = database_url
    try:
        ctx.obj = Context(Settings(**overrides), build_registry())
    except PluginError as exc:
        raise click.ClickException(f"plugin error: {exc}") from exc


# scan


@cli.command()
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
    "--no-models",
    is_flag=True,
    help="Skip the model-file inspector (fingerprints, pickle opcodes, model_risk).",
)
@click.option(
    "--extractor",
    "extractors",
    multiple=True,
    help="Only these provenance extractors (repeatable; `vigil plugins` lists them). "
    "Default: all. The invisible-watermark reader is the costly one (~0.4 s for a "
    "12 MP photo).",
)
@lexicon_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr. Default: when stderr is a terminal.",
)
@pass_context
def scan(
    context: Context,
    paths: tuple[pathlib.Path, ...],
    workers: int | None,
    engine_name: str,
    resume_id: int | None,
    hash_lists: tuple[str, ...],
    no_match: bool,
    no_provenance: bool,
    no_models: bool,
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
    """
    from vigil.scans.run import run_scan

    if not paths and resume_id is None:
        raise click.UsageError("give at least one PATH, or --resume SCAN_ID")
    if paths and resume_id is not None:
        raise click.UsageError("--resume takes the paths from the scan: give no PATH")
    store = context.store()
    roots: list[str] = [str(p) for p in paths]
    options = ScanOptions(
        provenance=not no_provenance,
        prompts=not no_provenance,
        models=not no_models,
        extractors=extractors,
        lexicons=tuple(str(path) for path in lexicons),
        hash_lists=() if no_match else (hash_lists or None),
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
            matcher = load_matcher(store.engine, options.hash_lists) or None
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
    finally:
        store.close()
    if as_json:
        json_line(summary.as_dict())
    else:
        _print_summary(summary)


def _print_summary(summary: ScanSummary) -> None:
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


def _models(summary: ScanSummary) -> str:
    models = summary.models
    levels = ("high", "review", "low", "unknown")
    risk = ", ".join(f"{level} {models.by_risk.get(level, 0)}" for level in levels)
    return f"{models.model_files} (risk: {risk}; unsafe pickles {models.dangerous})"


def _decisions(counts: dict[str, int]) -> str:
    order = ("block", "review", "allow")
    return ", ".join(f"{name} {counts.get(name, 0)}" for name in order)


# hash


@cli.command("hash")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--hasher",
    "hashers",
    multiple=True,
    help="Only these hashers (repeatable). Default: all: md5, sha1, sha256, pdq.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="JSON Lines, one object per file."
)
@pass_context
def hash_(
    context: Context, files: tuple[str, ...], hashers: tuple[str, ...], as_json: bool
) -> None:
    """Print the hashes of FILES (`-` reads standard input).

    Text output is one `<hasher> <hash> <path>` line per hash; archive members appear as
    `archive.zip!/member.jpg`. A file that cannot be hashed prints an `error` line and
    the command goes on; the exit code stays 0.

    \b
    Examples:
      vigil hash photo.jpg
      vigil hash --json *.png
      cat image.webp | vigil hash -
    """
    config = context.work_config(
        ScanOptions(hashers=hashers, provenance=False, models=False)
    )
    for name in files:
        if name == STDIN_LABEL:
            outcome = process_bytes("<stdin>", sys.stdin.buffer.read(), config)
        else:
            outcome = process_file(FileTask(name, config))
        _print_hashes(outcome, as_json, shown=hashers)


def _print_hashes(outcome: FileOutcome, as_json: bool, shown: t.Sequence[str]) -> None:
    errors = {e.member_path: e for e in outcome.errors}
    for item in outcome.items:
        label = location_label(outcome.path, item.member_path)
        values = {h.hasher: h for h in item.hashes if not shown or h.hasher in shown}
        error = errors.pop(item.member_path, None)
        if as_json:
            record: dict[str, t.Any] = {"path": label}
            for name, result in values.items():
                record[name] = result.value
                if result.quality is not None:
                    record[f"{name}_quality"] = result.quality
            if error is not None:
                record["error"] = error.reason
                record["error_message"] = error.message
            json_line(record)
            continue
        for name, result in values.items():
            click.echo(f"{name} {result.value} {label}")
        if error is not None:
            click.echo(f"error {error.reason} {label}")
            click.echo(f"{label}: {error.message}", err=True)
    for member_path, error in errors.items():
        label = location_label(outcome.path, member_path)
        if as_json:
            json_line(
                {"path": label, "error": error.reason, "error_message": error.message}
            )
        else:
            click.echo(f"error {error.reason} {label}")
            click.echo(f"{label}: {error.message}", err=True)


# demo, plugins, db


@cli.group()
def demo() -> None:
    """The benign demo set that Vigil synthesises itself."""


@demo.command("build")
@click.argument("directory", type=click.Path(file_okay=False, path_type=pathlib.Path))
@click.option("--count", default=40, show_default=True, help="Number of base patterns.")
@click.option(
    "--hash-list",
    "hash_list",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="Also write a demo hash list of some patterns (plain format) to this file.",
)
def demo_build(
    directory: pathlib.Path, count: int, hash_list: pathlib.Path | None
) -> None:
    """Write test patterns, duplicates, archives and broken files into DIRECTORY."""
    from vigil.demo import MIN_PATTERNS, build_demo, known_list

    if count < MIN_PATTERNS:
        raise click.UsageError(f"--count must be at least {MIN_PATTERNS}")
    written = build_demo(directory, count=count)
    click.echo(f"demo {len(written)} files {directory}")
    if hash_list is not None:
        hash_list.write_text(known_list())
        click.echo(f"demo hash list {hash_list}")


@cli.command()
@click.option(
    "--json", "as_json", is_flag=True, help="JSON Lines, one object per plugin."
)
@pass_context
def plugins(context: Context, as_json: bool) -> None:
    """List loaded plugins (hashers, engines, formats, indexes) and their source."""
    for info in sorted(context.registry.infos.values(), key=lambda i: (i.kind, i.name)):
        if as_json:
            json_line({"kind": info.kind, "name": info.name, "source": info.source})
        else:
            click.echo(f"{info.kind} {info.name} {info.source}")


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@pass_context
def db_upgrade(context: Context) -> None:
    """Create the database or bring it to the newest schema."""
    from vigil.store.migrate import current_revision

    store = context.store()
    click.echo(f"revision {current_revision(store.engine)}")
    store.close()


cli.add_command(hashlist)
cli.add_command(match)
cli.add_command(inspect)
cli.add_command(model)
cli.add_command(prompt)


def main() -> None:
    """Console entry point, mapping failures to exit codes."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.UsageError as exc:
        exc.show()
        sys.exit(ExitCode.USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.ERROR)
    except MissingDependencyError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(ExitCode.DEPENDENCY_UNAVAILABLE)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
