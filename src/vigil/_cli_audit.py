"""`vigil audit`: read and verify the hash-chained audit log."""

import click

from vigil._cli_context import Context, json_line, pass_context, shown
from vigil.exitcodes import ExitCode


@click.group()
def audit() -> None:
    """The audit log: every decision, export, login, view, reveal and settings
    change, append-only and hash-chained."""


@audit.command("verify")
@click.option(
    "--head",
    "expected_head",
    help="A SHA-256 `vigil audit head` printed earlier: the chain must still hold "
    "it (finds records removed from the end).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_context
def audit_verify(context: Context, expected_head: str | None, as_json: bool) -> None:
    """Walk the chain from the first record. Exit 0 when it holds; exit 11
    naming the first record edited, deleted or moved."""
    with context.store() as store:
        result = store.audit.verify(expected_head)
    if as_json:
        json_line(result.as_dict())
    elif result.ok:
        click.echo(f"audit log holds: {result.records} records, head {result.head}")
    else:
        where = f" at record {result.record_id}" if result.record_id else ""
        click.echo(f"audit log broken{where}: {result.problem}")
    if not result.ok:
        raise SystemExit(ExitCode.AUDIT_BROKEN)


@audit.command("head")
@pass_context
def audit_head(context: Context) -> None:
    """`<records> <sha256>` of the newest record: keep it outside the database
    (a case file, a ticket) and give it to `vigil audit verify --head`."""
    with context.store() as store:
        count, sha = store.audit.head()
    click.echo(f"{count} {sha}")


@audit.command("list")
@click.option("--after", "after_id", type=int, default=0, help="After this record id.")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines.")
@pass_context
def audit_list(context: Context, after_id: int, limit: int, as_json: bool) -> None:
    """Records in order: `<id> <time> <actor> <action> <target>`."""
    with context.store() as store:
        records = store.audit.records(after_id=after_id, limit=limit)
    for record in records:
        if as_json:
            json_line(record.as_dict())
        else:
            click.echo(
                shown(
                    f"{record.id} {record.at:%Y-%m-%dT%H:%M:%SZ} {record.actor} "
                    f"{record.action} {record.target}"
                )
            )
