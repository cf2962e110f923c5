"""The `vigil` command line: one small function per verb, no logic of its own.

Data goes to stdout (one greppable line per record, or JSON Lines with --json); logs and
progress bars go to stderr. Exit codes come from `vigil.exitcodes.ExitCode`.

Start-up is kept fast: this module and the `_cli_*` verb modules import only click, the
standard library and light vigil modules. The store (SQLAlchemy), the pipeline, the
matchers (numpy, FAISS) and the plugins are imported inside the verbs that use them
(`tests/test_cli_start.py` checks `vigil --version`, `--help` and `prompt check`).
"""

import logging
import pathlib
import sys
import typing as t

import click

from vigil import __version__
from vigil._cli_audit import audit
from vigil._cli_context import Context, json_line, name_fields, pass_context, shown
from vigil._cli_detect import detect
from vigil._cli_inspect import inspect
from vigil._cli_items import items
from vigil._cli_lists import hashlist, match
from vigil._cli_models import model
from vigil._cli_prompts import prompt
from vigil._cli_reports import cybertip, report
from vigil._cli_scan import scan
from vigil._cli_serve import serve, user
from vigil._cli_triage import assess, assessments, cluster, queue
from vigil._optional import MissingDependencyError
from vigil.exitcodes import ExitCode

if t.TYPE_CHECKING:
    from vigil.pipeline.records import FileOutcome

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

    \b
    Then decide:
      vigil queue             what to look at next, with why (clusters first)
      vigil assess SHA256     record a decision; --cluster settles its cluster
      vigil serve             the review console (vigil user add first)
      vigil report --out DIR  the figures, charts and case report
      vigil audit verify      check the hash-chained audit log
    """
    from vigil.config import Settings

    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(message)s"
    )
    overrides: dict[str, t.Any] = {}
    if home is not None:
        overrides["home"] = home
    if database_url:
        overrides["database_url"] = database_url
    # the plugin registry is built on first use (`Context.registry`)
    ctx.obj = Context(Settings(**overrides))


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
    from vigil.pipeline.work import FileTask, process_bytes, process_file

    config = context.work_config(
        context.options(hashers=hashers, provenance=False, models=False, detect=False)
    )
    for name in files:
        if name == STDIN_LABEL:
            outcome = process_bytes("<stdin>", sys.stdin.buffer.read(), config)
        else:
            outcome = process_file(FileTask(name, config))
        _print_hashes(outcome, as_json, chosen=hashers)


def _print_hashes(
    outcome: "FileOutcome", as_json: bool, chosen: t.Sequence[str]
) -> None:
    from vigil.pipeline.records import location_label

    errors = {e.member_path: e for e in outcome.errors}
    for item in outcome.items:
        label = location_label(outcome.path, item.member_path)
        values = {h.hasher: h for h in item.hashes if not chosen or h.hasher in chosen}
        error = errors.pop(item.member_path, None)
        if as_json:
            record: dict[str, t.Any] = name_fields("path", label)
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
            click.echo(f"{name} {result.value} {shown(label)}")
        if error is not None:
            click.echo(f"error {error.reason} {shown(label)}")
            click.echo(shown(f"{label}: {error.message}"), err=True)
    for member_path, error in errors.items():
        label = location_label(outcome.path, member_path)
        if as_json:
            json_line(
                {
                    **name_fields("path", label),
                    "error": error.reason,
                    "error_message": error.message,
                }
            )
        else:
            click.echo(f"error {error.reason} {shown(label)}")
            click.echo(shown(f"{label}: {error.message}"), err=True)


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
    store = context.store()
    click.echo(f"revision {store.schema_revision()}")
    store.close()


cli.add_command(scan)
cli.add_command(detect)
cli.add_command(queue)
cli.add_command(cluster)
cli.add_command(assess)
cli.add_command(assessments)
cli.add_command(audit)
cli.add_command(serve)
cli.add_command(report)
cli.add_command(cybertip)
cli.add_command(user)
cli.add_command(items)
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
    except Exception as exc:  # one clear line, never a traceback
        from vigil._cli_errors import describe_failure

        code, message = describe_failure(exc)
        log.debug("failure", exc_info=exc)
        click.echo(f"error: {message}", err=True)
        sys.exit(code)
