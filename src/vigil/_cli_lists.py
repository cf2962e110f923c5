"""The `vigil hashlist` and `vigil match` verbs: thin adapters over matching, store."""

import contextlib
import os
import sys
import tempfile
import typing as t

import click

from vigil._cli_context import Context, json_line, name_fields, pass_context, shown
from vigil.exitcodes import ExitCode
from vigil.hashing.types import PDQ_MATCH_THRESHOLD_BITS

if t.TYPE_CHECKING:
    from vigil.matching.base import HashListFormat
    from vigil.matching.matcher import MatchResult, Query
    from vigil.store.hashlists import ImportResult

SNIFF_HEAD_BYTES = 4096
#: `vigil.store.hashlists.DEFAULT_PDQ_THRESHOLD_BITS`, from the light module it comes
#: from (the store imports SQLAlchemy; `--threshold`'s default is needed for `--help`).
DEFAULT_PDQ_THRESHOLD_BITS = PDQ_MATCH_THRESHOLD_BITS


def _format(
    context: Context, name: str | None, path: str, head: bytes, *, is_strict: bool
) -> "HashListFormat":
    from vigil.matching.base import SkipsRecords
    from vigil.matching.formats import guess_format

    chosen = name or guess_format(path, head)
    if chosen is None:
        raise click.UsageError(f"cannot tell the format of {path}; give --format")
    fmt = t.cast("HashListFormat", context.registry.get("hash_list_format", chosen)())
    if isinstance(fmt, SkipsRecords):
        fmt.is_strict = is_strict
    return fmt


def _counts(counts: t.Mapping[str, int]) -> str:
    """`2 url, 1 raw_text`."""
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))


def _import_warnings(result: "ImportResult", skipped: t.Mapping[str, int]) -> None:
    if skipped:
        click.echo(
            f"warning: skipped {_counts(skipped)} records (not media hashes; "
            "--strict refuses them)",
            err=True,
        )
    if result.repeated:
        click.echo(
            f"warning: {result.repeated} repeated hashes merged into one entry each",
            err=True,
        )
    for conflict in result.conflicts:
        click.echo(
            f"warning: {conflict.hash_type}:{conflict.value} has categories "
            f"{', '.join(conflict.categories)}; kept {conflict.kept}",
            err=True,
        )
    if result.conflict_count > len(result.conflicts):
        more = result.conflict_count - len(result.conflicts)
        click.echo(f"warning: {more} more category conflicts", err=True)
    if result.degenerate:
        click.echo(
            f"warning: {result.degenerate} degenerate hashes (constant, as blank "
            "images give): imported, never reported as a match",
            err=True,
        )


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
@click.option(
    "--strict",
    "is_strict",
    is_flag=True,
    help="Refuse records that are not media hashes (URLs, text) instead of skipping.",
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
    is_strict: bool,
    as_json: bool,
) -> None:
    """Add the hashes in FILE to a list, all or nothing.

    Formats: plain (type,value[,label=...]), md5/sha1 lists, hma_csv, vics (Project
    VIC JSON), ncmec_xml, stopncii. A malformed line stops the import with its line
    number and changes nothing (a list --create made is not kept); importing the
    same file twice adds nothing. A hash repeated in the file is one entry with
    merged labels (the most severe category). Records that are not media hashes
    (URL and text signals in an HMA CSV) are skipped with a count, or refused with
    --strict. Degenerate hashes (constant PDQ, as blank images give) are imported
    with a warning and never reported as matches.
    """
    from vigil.matching.base import FormatError, SkipsRecords

    with open(file, "rb") as stream:
        reader = _format(
            context,
            format_name,
            file,
            stream.read(SNIFF_HEAD_BYTES),
            is_strict=is_strict,
        )
        stream.seek(0)
        bits = DEFAULT_PDQ_THRESHOLD_BITS if threshold is None else threshold
        with _store(context) as store:
            try:
                result = store.hashlists.import_entries(
                    list_name,
                    reader.read(stream, default_type=default_type),
                    create={"pdq": bits} if create_list else None,
                    hash_types=context.registry.hash_types(),
                )
            except FormatError as exc:
                raise click.ClickException(f"{file}: {exc}; nothing imported") from exc
    skipped = dict(reader.skipped) if isinstance(reader, SkipsRecords) else {}
    _import_warnings(result, skipped)
    if as_json:
        json_line({"format": reader.name, **result.as_dict(), "skipped": skipped})
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
    "--type",
    "hash_types",
    multiple=True,
    help="Only entries of this hash type (repeatable). Default: every type the "
    "format can carry; the others are skipped with a count.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Default: stdout."
)
@pass_context
def export(
    context: Context,
    name: str,
    format_name: str,
    hash_types: tuple[str, ...],
    output: str | None,
) -> None:
    """Write list NAME in an exchange format.

    Hash types the format has no field for (sha1 in a StopNCII file) are skipped
    and counted. With -o the file is written under a temporary name and renamed
    when complete, so a failed export leaves no partial file.
    """
    from vigil.matching.base import FormatError
    from vigil.matching.export import write_entries

    writer = t.cast(
        "HashListFormat", context.registry.get("hash_list_format", format_name)()
    )
    import getpass

    chosen = set(hash_types) or None
    with _store(context) as store:
        entries = store.hashlists.export_entries(name)
        try:
            if output is None:
                hashing = _HashingStream(sys.stdout.buffer)
                result = write_entries(
                    writer, entries, t.cast(t.BinaryIO, hashing), hash_types=chosen
                )
            else:
                with _replacing(output) as stream:
                    hashing = _HashingStream(stream)
                    result = write_entries(
                        writer, entries, t.cast(t.BinaryIO, hashing), hash_types=chosen
                    )
        except FormatError as exc:
            raise click.ClickException(f"{name}: {exc}; nothing exported") from exc
        store.audit.append(
            os.environ.get("VIGIL_ANALYST") or getpass.getuser(),
            "export",
            f"hash list {name}",
            {
                "format": format_name,
                "sha256": hashing.digest.hexdigest(),
                "bytes": hashing.bytes,
                "entries": result.written,
                "file": output,
            },
        )
    skipped = dict(result.skipped)
    note = f"; skipped {_counts(skipped)} ({format_name} cannot carry them" + (
        " or --type left them out)" if chosen else ")"
    )
    click.echo(
        f"exported {result.written} entries from {name}" + (note if skipped else ""),
        err=True,
    )


@hashlist.command("from-assessments")
@click.option("--list", "list_name", required=True, help="The list to add to.")
@click.option("--scan", "scan_id", type=int, help="Only this scan's items.")
@click.option(
    "--outcome",
    type=click.Choice(["criminal", "not_criminal", "any"]),
    default="criminal",
    show_default=True,
)
@click.option("--create", is_flag=True, help="Create the list if it does not exist.")
@click.option("--analyst", envvar="VIGIL_ANALYST", help="Who (for the audit log).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_context
def from_assessments(
    context: Context,
    list_name: str,
    scan_id: int | None,
    outcome: str,
    create: bool,
    analyst: str | None,
    as_json: bool,
) -> None:
    """Add the md5, sha1, sha256 and PDQ of every assessed item to a hash list,
    labelled with what its assessment derived: the Project VIC category (as
    `vics_<n>`), the AI-generated flag, and as extra fields the UK category, legal
    route, NCMEC class, INTERPOL eligibility, outcome, mapping version and the
    assessment. Running it again relabels entries whose assessment was superseded
    (a new list version); list labels are never turned into entries.
    """
    import getpass

    from vigil.reports.lists import entries_from_assessments
    from vigil.store.hashlists import HashListError
    from vigil.store.records import ItemQuery

    with _store(context) as store:
        assessments = store.triage.assessments(scan_id=scan_id, active_only=True)
        ids = frozenset(a.item_id for a in assessments)
        items = (
            {v.item_id: v for v in store.iter_items(ItemQuery(item_ids=ids))}
            if ids
            else {}
        )
        entries = entries_from_assessments(
            assessments, items, outcome=None if outcome == "any" else outcome
        )
        try:
            result = store.hashlists.sync_entries(
                list_name, entries, create={} if create else None
            )
        except HashListError as exc:
            raise click.UsageError(f"{exc} (--create makes it)") from exc
        store.audit.append(
            analyst or getpass.getuser(),
            "hash_list",
            list_name,
            {**result.as_dict(), "from": "assessments", "outcome": outcome,
             "scan": scan_id},
        )  # fmt: skip
    if as_json:
        json_line(result.as_dict())
    else:
        click.echo(
            f"{list_name} v{result.version}: {result.added} added, {result.updated} "
            f"relabelled, {result.unchanged} unchanged"
        )


class _HashingStream:
    """Passes writes through and keeps the SHA-256 of what was written."""

    def __init__(self, stream: t.BinaryIO) -> None:
        import hashlib

        self.stream = stream
        self.digest = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.bytes += len(data)
        return self.stream.write(data)

    def flush(self) -> None:
        self.stream.flush()


@contextlib.contextmanager
def _replacing(path: str) -> t.Iterator[t.BinaryIO]:
    """A temporary file beside `path`, renamed over it when the block succeeds and
    removed when it fails."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".partial"
    )
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


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
    result: the exit code is 0 unless --exit-code is given. `-` reads standard
    input. `--json` adds the reason of each verdict that is not a match
    (`beyond_threshold`, `entry_degenerate`, `query_low_quality`, ...).

    \b
    With --exit-code: 10 when anything matched; else 1 when an input could not
    be read in full (missing, not a regular file, broken): never 0 for an input
    that was not checked.
      cat upload.jpg | vigil match --exit-code - && echo clean
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
    unread: list[str] = []
    for label, queries in _queries(context, files, hashes, unread):
        for result in matcher.match(queries):
            matched |= result.verdict is Verdict.MATCH
            _print_match(label, result, as_json)
    if use_exit_code and matched:
        sys.exit(ExitCode.MATCH_FOUND)
    if use_exit_code and unread:
        click.echo(f"{len(unread)} input(s) not checked in full", err=True)
        sys.exit(ExitCode.ERROR)


def _queries(
    context: Context,
    files: t.Sequence[str],
    hashes: t.Sequence[str],
    unread: list[str],
) -> t.Iterator[tuple[str, list["Query"]]]:
    """Queries per item of each file (or standard input, `-`); the inputs that
    could not be read in full are added to `unread`."""
    from vigil.hashing.pdq import PDQ_PIPELINE
    from vigil.matching.base import normalise_hash
    from vigil.matching.matcher import Query
    from vigil.pipeline.records import location_label
    from vigil.pipeline.work import FileTask, process_bytes, process_file
    from vigil.scans.run import item_queries

    for text in hashes:
        hash_type, _, value = text.partition(":")
        try:
            value = normalise_hash(hash_type, value)
        except ValueError as exc:
            raise click.UsageError(f"--hash {text}: {exc}") from exc
        yield text, [Query(hash_type, value, PDQ_PIPELINE)]
    config = context.work_config(
        context.options(pdq_variants=True, provenance=False, models=False, detect=False)
    )
    for path in files:
        if path == STDIN_LABEL:
            outcome = process_bytes("<stdin>", sys.stdin.buffer.read(), config)
        else:
            outcome = process_file(FileTask(path, config))
        for error in outcome.errors:
            where = location_label(outcome.path, error.member_path)
            click.echo(shown(f"{where}: {error.message}"), err=True)
        if not outcome.items or any(e.member_path == "" for e in outcome.errors):
            unread.append(outcome.path)
        for item in outcome.items:
            yield location_label(outcome.path, item.member_path), item_queries(item)


def _print_match(label: str, result: "MatchResult", as_json: bool) -> None:
    if as_json:
        json_line({**name_fields("path", label), **result.as_dict()})
        return
    click.echo(
        f"{result.verdict.value} {result.distance} {shown(result.hash_list.name)} "
        f"{result.entry.hash_type} {result.query.variant} {shown(label)}"
    )


STDIN_LABEL = "-"


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
