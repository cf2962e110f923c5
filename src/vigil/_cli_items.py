"""`vigil items`: what a scan found, item by item, for people and for pipelines."""

import csv
import sys
import typing as t

import click

from vigil._cli_context import Context, chosen_scan, json_line, pass_context, shown

if t.TYPE_CHECKING:
    from vigil.store.records import ItemView

#: CSV columns, in order (one row per item; lists are joined with " | ").
CSV_COLUMNS = (
    "sha256",
    "kind",
    "size",
    "width",
    "height",
    "locations",
    "md5",
    "pdq",
    "matches",
    "ai_evidence",
    "evidence",
    "tool",
    "model",
    "prompt_decision",
    "scores",
    "errors",
)


@click.command()
@click.option(
    "--scan",
    "scan_id",
    type=int,
    help="Items of this scan (`vigil scan list`). Default: the newest scan.",
)
@click.option("--all-scans", is_flag=True, help="Items of every scan in the store.")
@click.option("--matched", is_flag=True, help="Only items that matched a hash list.")
@click.option("--ai", is_flag=True, help="Only items with evidence of AI generation.")
@click.option("--errors", is_flag=True, help="Only items with error records.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one per item.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row.")
@pass_context
def items(
    context: Context,
    scan_id: int | None,
    all_scans: bool,
    matched: bool,
    ai: bool,
    errors: bool,
    as_json: bool,
    as_csv: bool,
) -> None:
    """List the items a scan recorded: locations, matches, evidence, generation
    record and scores.

    Text output is one line per item: its SHA-256, kind, where it was seen, then
    `match=LIST:CATEGORY:DISTANCE`, `ai=yes`, `tool=`, `model=`, `prompt=` and
    `score=NAME:VALUE:LEVEL` fields for what applies. Filters combine (an item must
    pass each one given).

    \b
    Examples:
      vigil items --matched
      vigil items --scan 3 --ai --json
      vigil items --all-scans --csv > items.csv
    """
    from vigil.store.records import ItemQuery

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    if all_scans and scan_id is not None:
        raise click.UsageError("give --scan or --all-scans, not both")
    with context.store() as store:
        if not all_scans:
            scan_id = chosen_scan(store, scan_id)
        query = ItemQuery(scan_id=scan_id, matched=matched, ai=ai, errors=errors)
        writer = csv.writer(sys.stdout, lineterminator="\n") if as_csv else None
        if writer is not None:
            writer.writerow(CSV_COLUMNS)
        for item in store.iter_items(query):
            if as_json:
                json_line(item.as_dict())
            elif writer is not None:
                writer.writerow(csv_row(item))
            else:
                click.echo(text_line(item))


def text_line(item: "ItemView") -> str:
    fields = [item.sha256, item.kind, *(p.label for p in item.locations)]
    for match in item.matches:
        category = match.category or "-"
        why = f":{match.reason}" if match.reason else ""
        fields.append(
            f"{match.verdict}={match.hash_list}:{category}:{match.distance}{why}"
        )
    if item.is_ai:
        fields.append("ai=yes")
    record = item.generation
    if record is not None:
        fields.append(f"tool={record.tool}")
        if record.model_name or record.model_hash:
            fields.append(f"model={_model(item)}")
    for score in item.scores:
        fields.append(f"score={score.name}:{score.value:.3f}:{score.level}")
    fields.extend(f"error={error.reason}" for error in item.errors)
    return " ".join(_one_field(f) for f in fields)


def csv_row(item: "ItemView") -> list[t.Any]:
    hashes = {h.hasher: h.value for h in item.hashes}
    record = item.generation
    prompt = item.score("prompt_risk")
    return [
        item.sha256,
        item.kind,
        item.size,
        item.width or "",
        item.height or "",
        " | ".join(p.label for p in item.locations),
        hashes.get("md5", ""),
        hashes.get("pdq", ""),
        " | ".join(
            f"{m.verdict} {m.hash_list} {m.category or '-'} {m.distance}"
            for m in item.matches
        ),
        "yes" if item.is_ai else "no",
        " | ".join(e.summary for e in item.evidence),
        record.tool if record else "",
        _model(item) if record else "",
        prompt.level if prompt else "",
        " | ".join(f"{s.name} {s.value:.3f} {s.level}" for s in item.scores),
        " | ".join(f"{e.reason} {e.label}" for e in item.errors),
    ]


def _model(item: "ItemView") -> str:
    record = item.generation
    if record is None:
        return ""
    digest = f"#{record.model_hash.value}" if record.model_hash else ""
    return f"{record.model_name or '?'}{digest}"


def _one_field(text: str) -> str:
    """No field may break the one-line-per-item format (names are untrusted)."""
    return shown(text)
