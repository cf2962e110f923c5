"""`vigil clusters`: near-duplicates, generation batches and reposts of a scan."""

import click

from vigil._cli_context import Context, chosen_scan, json_line, pass_context, shown


@click.command()
@click.option("--scan", "scan_id", type=int, help="Default: the newest scan.")
@click.option(
    "--threshold",
    type=click.IntRange(0, 64),
    default=31,
    show_default=True,
    help="PDQ bits within which images are near-duplicates (ThreatExchange: 31).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one per cluster.")
@pass_context
def clusters(
    context: Context, scan_id: int | None, threshold: int, as_json: bool
) -> None:
    """Items of a scan that belong together, largest first: near-duplicates (PDQ
    within the threshold, connected), generation batches (one tool, model,
    prompt and LoRA set) and reposts (one file seen in many places).

    Text output is one line per cluster: `<kind> <size> <representative sha256>
    <what they share>`; the representative (highest PDQ quality, then largest) is
    the one to look at.
    """
    from vigil.store.records import ItemQuery
    from vigil.triage.clusters import clusters as find_clusters
    from vigil.triage.clusters import from_item_view

    with context.store() as store:
        chosen = chosen_scan(store, scan_id)
        views = list(store.iter_items(ItemQuery(scan_id=chosen)))
    sha = {v.item_id: v.sha256 for v in views}
    for cluster in find_clusters([from_item_view(v) for v in views], threshold):
        if as_json:
            data = cluster.as_dict()
            data["representative_sha256"] = sha[cluster.representative]
            data["members_sha256"] = [sha[m] for m in cluster.members]
            json_line(data)
        else:
            click.echo(
                shown(
                    f"{cluster.kind.value} {cluster.size} "
                    f"{sha[cluster.representative]} {cluster.key}"
                )
            )
