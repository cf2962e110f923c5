"""The `vigil hashlist` and `vigil match` verbs: thin adapters over matching, store."""

import contextlib
import sys
import typing as t

import click

from vigil._cli_context import Context, json_line, pass_context
from vigil.exitcodes import ExitCode
from vigil.hashing.types import PDQ_MATCH_THRESHOLD_BITS

if t.TYPE_CHECKING:
    from vigil.matching.base import HashListFormat
    from vigil.matching.matcher import MatchResult, Query

SNIFF_HEAD_BYTES = 4096
#: `vigil.store.hashlists.DEFAULT_PDQ_THRESHOLD_BITS`, from the light module it comes
#: from (the store imports SQLAlchemy; `--threshold`'s default is needed for `--help`).
DEFAULT_PDQ_THRESHOLD_BITS = PDQ_MATCH_THRESHOLD_BITS


def _format(
    context: Context, name: str | None, path: str, head: bytes
) -> "HashListFormat":
    from vigil.matching.formats import guess_format

    chosen = name or guess_format(path, head)
    if chosen is None:
        raise click.UsageError(f"cannot tell the format of {path}; give --format")
    return t.cast("HashListFormat", context.registry.get("hash_list_format", chosen)())


@click.group()
def hashlist() -> None:
    """Hash lists: import, export and inspect the lists that scans match against.

    \b
    Examples:
      vigil hashlist import vics.json --list projectvic --create
      vigil hashlist import hashes.txt --list local --type md5 --create
      vigil hashlist create benign-collisions --suppression
      vigil hashlist export projectvic --format plain -o out.csv
    """


@hashlist.command("create")
@click.argument("name")
@click.option(
    "--threshold",
    type=click.IntRange(0, 64),
    default=DEFAULT_PDQ_THRESHOLD_BITS,
    show_default=True,
    help="PDQ match threshold in bits (ThreatExchange recommends 31).",
)
@click.option(
    "--suppression",
    is_flag=True,
    help="A suppression list: its hashes never produce a match from any list.",
)
@click.option(
    "--pdq-pipeline",
    default="unknown",
    show_default=True,
    help="How the list's PDQ hashes were made, e.g. pdq-full/1 for HMA lists.",
)
@click.option("--description", default="", help="Free text shown by `show`.")
@pass_context
def create(
    context: Context,
    name: str,
    threshold: int,
    suppression: bool,
    pdq_pipeline: str,
    description: str,
) -> None:
    """Create an empty hash list NAME."""
    with _store(context) as store:
        info = store.hashlists.create(
            name,
            description=description,
            thresholds={"pdq": threshold},
            pdq_pipeline=pdq_pipeline,
            is_suppression=suppression,
        )
    click.echo(f"created {info.name} version {info.version}")


@hashlist.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--list", "list_name", required=True, help="The hash list to add to.")
@click.option("--format", "format_name", help="File format. Default: guessed.")
@click.option("--type", "default_type", help="Hash type of bare lines (md5, sha1...).")
@click.option(
    "--create", "create_list", is_flag=True, help="Create the list if it is missing."
)
@click.option(
    "--threshold",
    type=click.IntRange(0, 64),
    default=None,
    help="With --create: PDQ threshold in bits (default 31).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_context
def import_(
    context: Context,
    file: str,
    list_name: str,
    format_name: str | None,
    default_type: str | None,
    create_list: bool,
    threshold: int | None,
    as_json: bool,
) -> None:
    """Add the hashes in FILE to a list, all or nothing.

    Formats: plain (type,value[,label=...]), md5/sha1 lists, hma_csv, vics (Project
    VIC JSON), ncmec_xml, stopncii. A malformed line stops the import with its line
    number and changes nothing; importing the same file twice adds nothing.
    """
    from vigil.matching.base import FormatError

    with open(file, "rb") as stream:
        reader = _format(context, format_name, file, stream.read(SNIFF_HEAD_BYTES))
        stream.seek(0)
        with _store(context) as store:
            if create_list and list_name not in {i.name for i in store.hashlists.all()}:
                store.hashlists.create(
                    list_name,
                    thresholds={"pdq": threshold or DEFAULT_PDQ_THRESHOLD_BITS},
                )
            try:
                result = store.hashlists.import_entries(
                    list_name, reader.read(stream, default_type=default_type)
                )
            except FormatError as exc:
                raise click.ClickException(f"{file}: {exc}; nothing imported") from exc
    if as_json:
        json_line({"format": reader.name, **result.__dict__})
    else:
        click.echo(
            f"imported {result.added} new of {result.read} read "
            f"({result.already_present} already present) into {result.list_name} "
            f"version {result.version}"
        )


@hashlist.command("export")
@click.argument("name")
@click.option("--format", "format_name", default="plain", show_default=True)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Default: stdout."
)
@pass_context
def export(context: Context, name: str, format_name: str, output: str | None) -> None:
    """Write list NAME in an exchange format."""
    writer = t.cast(
        "HashListFormat", context.registry.get("hash_list_format", format_name)()
    )
    with _store(context) as store:
        entries = store.hashlists.export_entries(name)
        if output is None:
            count = writer.write(entries, sys.stdout.buffer)
        else:
            with open(output, "wb") as stream:
                count = writer.write(entries, stream)
    click.echo(f"exported {count} entries from {name}", err=True)


@hashlist.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one list per line.")
@pass_context
def list_(context: Context, as_json: bool) -> None:
    """The hash lists in the store, one line each."""
    with _store(context) as store:
        for info in store.hashlists.all():
            if as_json:
                json_line(info.as_dict())
            else:
                kind = " suppression" if info.is_suppression else ""
                click.echo(
                    f"{info.name} version {info.version} entries {info.entries} "
                    f"threshold {_thresholds(info.thresholds)}{kind}"
                )


@hashlist.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_context
def show(context: Context, name: str, as_json: bool) -> None:
    """Details of list NAME: version, threshold, entries by type, quarantined."""
    with _store(context) as store:
        data = store.hashlists.get(name).as_dict()
    if as_json:
        json_line(data)
        return
    for key, value in data.items():
        click.echo(f"{key:<20}{value}")


@hashlist.command("set-threshold")
@click.argument("name")
@click.argument("bits", type=click.IntRange(0, 64))
@pass_context
def set_threshold(context: Context, name: str, bits: int) -> None:
    """Change the PDQ match threshold of list NAME (a new list version)."""
    with _store(context) as store:
        info = store.hashlists.set_threshold(name, bits)
    click.echo(
        f"{info.name} threshold {_thresholds(info.thresholds)} version {info.version}"
    )


@hashlist.command("release")
@click.argument("name")
@click.argument("value")
@pass_context
def release(context: Context, name: str, value: str) -> None:
    """Put a quarantined entry of list NAME back in service after review.

    An entry is quarantined when it matches too many distinct items in one scan; its
    matches stay held. Releasing affects later scans only.
    """
    with _store(context) as store:
        count = store.hashlists.release(name, value.strip().lower())
    if not count:
        raise click.ClickException(f"no entry {value} in {name}")
    click.echo(f"released {count} entry from {name}")


@hashlist.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def delete(context: Context, name: str, yes: bool) -> None:
    """Delete list NAME, its entries and its matches."""
    if not yes:
        click.confirm(f"delete hash list {name!r} and all its matches?", abort=True)
    with _store(context) as store:
        store.hashlists.delete(name)
    click.echo(f"deleted {name}")


@click.command()
@click.argument("files", nargs=-1)
@click.option(
    "--hash",
    "hashes",
    multiple=True,
    metavar="TYPE:VALUE",
    help="Look up a hash instead of a file, e.g. pdq:f8f8... (repeatable).",
)
@click.option("--hash-list", "hash_lists", multiple=True, help="Only these lists.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one per result.")
@click.option(
    "--exit-code",
    "use_exit_code",
    is_flag=True,
    help=f"Exit {int(ExitCode.MATCH_FOUND)} when anything matched (for pipelines).",
)
@pass_context
def match(
    context: Context,
    files: tuple[str, ...],
    hashes: tuple[str, ...],
    hash_lists: tuple[str, ...],
    as_json: bool,
    use_exit_code: bool,
) -> None:
    """Look FILES (or --hash values) up in the hash lists.

    Each file is hashed (md5, sha1, sha256, PDQ with its rotations, flips and
    border-cropped variants) and every result is printed as
    `<verdict> <distance> <list> <hash_type> <variant> <path>`. Distances between a
    list's threshold and 52 bits are `near_review`, never matches. A match is a
    result: the exit code is 0 unless --exit-code is given.
    """
    from vigil.matching.matcher import Verdict

    if not files and not hashes:
        raise click.UsageError("give FILE arguments or --hash TYPE:VALUE")
    with _store(context) as store:
        try:
            matcher = store.matcher(
                hash_lists or None,
                hash_types=context.registry.hash_types(),
                index_factory=context.registry.index_for,
            )
        except LookupError as exc:
            raise click.UsageError(str(exc)) from exc
    matched = False
    for label, queries in _queries(context, files, hashes):
        for result in matcher.match(queries):
            matched |= result.verdict is Verdict.MATCH
            _print_match(label, result, as_json)
    if use_exit_code and matched:
        sys.exit(ExitCode.MATCH_FOUND)


def _queries(
    context: Context, files: t.Sequence[str], hashes: t.Sequence[str]
) -> t.Iterator[tuple[str, list["Query"]]]:
    from vigil.hashing.pdq import PDQ_PIPELINE
    from vigil.matching.base import normalise_hash
    from vigil.matching.matcher import Query
    from vigil.pipeline.records import location_label
    from vigil.pipeline.work import FileTask, process_file
    from vigil.scans.run import item_queries

    for text in hashes:
        hash_type, _, value = text.partition(":")
        try:
            value = normalise_hash(hash_type, value)
        except ValueError as exc:
            raise click.UsageError(f"--hash {text}: {exc}") from exc
        yield text, [Query(hash_type, value, PDQ_PIPELINE)]
    config = context.work_config(
        context.options(pdq_variants=True, provenance=False, models=False)
    )
    for path in files:
        outcome = process_file(FileTask(path, config))
        for error in outcome.errors:
            click.echo(
                f"{location_label(path, error.member_path)}: {error.message}", err=True
            )
        for item in outcome.items:
            yield location_label(path, item.member_path), item_queries(item)


def _print_match(label: str, result: "MatchResult", as_json: bool) -> None:
    if as_json:
        json_line({"path": label, **result.as_dict()})
        return
    click.echo(
        f"{result.verdict.value} {result.distance} {result.hash_list.name} "
        f"{result.entry.hash_type} {result.query.variant} {label}"
    )


@contextlib.contextmanager
def _store(context: Context) -> t.Iterator[t.Any]:
    from vigil.store.hashlists import HashListError

    store = context.store()
    try:
        yield store
    except HashListError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()


def _thresholds(thresholds: t.Mapping[str, int]) -> str:
    """`31`, or `pdq 31, toy 8` when a list has thresholds for several types."""
    if set(thresholds) <= {"pdq"}:
        return str(thresholds.get("pdq", DEFAULT_PDQ_THRESHOLD_BITS))
    return ", ".join(f"{name} {bits}" for name, bits in sorted(thresholds.items()))
