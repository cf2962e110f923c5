"""`vigil queue`, `vigil cluster`, `vigil assess` and `vigil assessments`: the
analyst half from the command line (the console is the same over HTTP)."""

import enum
import getpass
import os
import pathlib
import typing as t

import click

from vigil._cli_context import Context, chosen_scan, json_line, pass_context, shown
from vigil.review.taxonomy import (
    Act,
    AgeBand,
    AIGenerated,
    ChildDepicted,
    NotCriminalReason,
    Outcome,
    Realism,
    Sex,
)

if t.TYPE_CHECKING:
    from vigil.store.base import Store
    from vigil.triage.priority import Policy

_scan_option = click.option(
    "--scan", "scan_id", type=int, help="Default: the newest scan."
)
_analyst_option = click.option(
    "--analyst",
    envvar="VIGIL_ANALYST",
    help="Who decides (recorded). Default: $VIGIL_ANALYST, else the login name.",
)


def _analyst(given: str | None) -> str:
    if given:
        return given
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return f"uid-{os.getuid()}"


def _choice(kind: type["enum.StrEnum"]) -> "click.Choice[str]":
    return click.Choice([m.value for m in kind])


def _refreshed(store: "Store", scan_id: int | None) -> None:
    from vigil.triage.update import refresh

    refresh(store, scan_id)


def _policy(path: pathlib.Path | None) -> "Policy":
    from vigil.triage.priority import PolicyError, default_policy, load_policy

    try:
        return load_policy(path) if path else default_policy()
    except PolicyError as exc:
        raise click.UsageError(str(exc)) from exc


@click.command()
@_scan_option
@click.option("--all-scans", is_flag=True, help="Every scan's items.")
@click.option("--limit", type=click.IntRange(1), help="At most this many entries.")
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path),
    help="A priority policy file (TOML). Default: the packaged policy "
    "(`vigil queue --show-policy` prints it).",
)
@click.option("--show-policy", is_flag=True, help="Print the default policy and exit.")
@_analyst_option
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one per entry.")
@pass_context
def queue(
    context: Context,
    scan_id: int | None,
    all_scans: bool,
    limit: int | None,
    policy: pathlib.Path | None,
    show_policy: bool,
    analyst: str | None,
    as_json: bool,
) -> None:
    """What to look at next, first things first, each with why.

    Clusters and hash-list labels are brought up to date first. Items already
    assessed never come back; items matched to a hash list are labelled from it
    and left out (except a quality-control sample and any claimed-AI
    contradiction); one entry stands for each near-duplicate or generation-batch
    cluster. The default policy, in order: claimed-AI contradiction; likely real
    and unknown (no match, nothing says AI); AI with a flagged prompt or model;
    quality-control samples; everything else, largest clusters first.

    Text output is one line per entry: `<position> <rule> <sha256> <cluster
    size> <reasons>`. With --json, one object a line: position, item (SHA-256),
    rule, reasons, cluster, and the facts.

    \b
    Facts a policy can name: is_visual, matched, match_categories, ai_evidence,
    ai_likelihood, claimed_ai_contradiction, sensitivity, prompt_decision,
    prompt_risk, model_risk, linked_model_flagged, cluster_id, cluster_kind,
    cluster_size, qc_sample, kind.
    """
    from importlib.resources import files

    if show_policy:
        click.echo((files("vigil.triage") / "policy.toml").read_text(), nl=False)
        return
    from vigil.triage.queue import build_queue

    chosen_policy = _policy(policy)
    with context.store() as store:
        chosen = None if all_scans else chosen_scan(store, scan_id)
        _refreshed(store, chosen)
        entries = build_queue(
            store, scan_id=chosen, policy=chosen_policy, analyst=_analyst(analyst)
        )
    for entry in entries[:limit]:
        if as_json:
            json_line(entry.as_dict())
        else:
            click.echo(
                shown(
                    f"{entry.position} {entry.rule} {entry.sha256} "
                    f"{entry.facts.cluster_size} {'; '.join(entry.placement.reasons)}"
                )
            )


@click.group()
def cluster() -> None:
    """Stored clusters: near-duplicates, generation batches and reposts, across
    every scan (a new scan adds to them)."""


@cluster.command("list")
@click.option(
    "--kind", type=click.Choice(["near_duplicate", "generation_batch", "repost"])
)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one per cluster.")
@pass_context
def cluster_list(context: Context, kind: str | None, as_json: bool) -> None:
    """Every cluster, largest first: `<id> <kind> <size> <representative sha256>
    <what they share>`. The representative (highest PDQ quality, then largest) is
    the one to assess; `vigil assess SHA256 --cluster` applies it to all."""
    with context.store() as store:
        _refreshed(store, None)
        found = store.triage.clusters(kind)
        sha = _sha256s(store)
    for view in found:
        if as_json:
            json_line(
                {
                    **view.as_dict(),
                    "representative_sha256": sha[view.representative],
                    "members_sha256": [sha[m] for m in view.members],
                }
            )
        else:
            click.echo(
                shown(
                    f"{view.id} {view.kind} {view.size} "
                    f"{sha[view.representative]} {view.key}"
                )
            )


@cluster.command("show")
@click.argument("cluster_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_context
def cluster_show(context: Context, cluster_id: int, as_json: bool) -> None:
    """One cluster: its members (representative first) with where each was seen
    and its current assessment, and the propagations made to it."""
    from vigil.store.records import ItemQuery

    with context.store() as store:
        view = store.triage.cluster(cluster_id)
        if view is None:
            raise click.UsageError(f"no cluster {cluster_id}")
        held = store.triage.current(view.members)
        propagations = store.triage.propagations(cluster_id=cluster_id)
        items = {
            v.item_id: v
            for v in store.iter_items(ItemQuery(item_ids=frozenset(view.members)))
        }
    if as_json:
        json_line(
            {
                **view.as_dict(),
                "members": [
                    {
                        "item": items[m].sha256,
                        "locations": [p.label for p in items[m].locations],
                        "assessment": held[m].as_dict() if m in held else None,
                    }
                    for m in view.members
                ],
                "propagations": [p.as_dict() for p in propagations],
            }
        )
        return
    merged = f" (merged into {view.merged_into})" if view.merged_into else ""
    click.echo(shown(f"cluster {view.id} {view.kind} {view.size}{merged}: {view.key}"))
    for member in view.members:
        item = items[member]
        decided = held.get(member)
        state = f"{decided.source} {decided.id}" if decided else "pending"
        mark = "*" if member == view.representative else " "
        place = item.locations[0].label if item.locations else "-"
        click.echo(shown(f"{mark} {item.sha256} {state} {place}"))
    for p in propagations:
        undone = f" undone {p.undone_at:%Y-%m-%d %H:%M}" if p.undone_at else ""
        click.echo(
            f"propagation {p.id}: assessment {p.assessment_id} to {len(p.items)} "
            f"items by {p.analyst}{undone}"
        )


@cluster.command("undo")
@click.argument("propagation_id", type=int)
@_analyst_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_context
def cluster_undo(
    context: Context, propagation_id: int, analyst: str | None, as_json: bool
) -> None:
    """Undo a propagation: the assessments it made to a cluster's members stop
    holding (they stay recorded), and those items return to the queue."""
    from vigil.store.triage import TriageError

    with context.store() as store:
        try:
            undone = store.triage.undo_propagation(propagation_id, _analyst(analyst))
        except TriageError as exc:
            raise click.UsageError(str(exc)) from exc
        store.audit.append(
            _analyst(analyst),
            "propagation_undone",
            f"propagation {undone.id}",
            {"cluster": undone.cluster_id, "items": len(undone.items), "via": "cli"},
        )
    if as_json:
        json_line(undone.as_dict())
    else:
        click.echo(f"propagation {undone.id} undone: {len(undone.items)} items back")


@click.command()
@click.argument("item")
@click.option("--child", type=_choice(ChildDepicted), required=True)
@click.option("--age", "age_band", type=_choice(AgeBand), help="Youngest apparent.")
@click.option("--sex", type=_choice(Sex), help="Of the children shown.")
@click.option(
    "--act",
    type=_choice(Act),
    default="none",
    show_default=True,
    help="Most severe act (UK category).",
)
@click.option("--realism", type=_choice(Realism), required=True)
@click.option("--ai", "ai_generated", type=_choice(AIGenerated), required=True)
@click.option("--ai-evidence", default="", help="What the AI answer rests on.")
@click.option("--grid", is_flag=True, help="A grid or collage.")
@click.option("--self-generated", type=click.Choice(["yes", "no"]))
@click.option("--subjects", type=click.IntRange(1), help="Number of people shown.")
@click.option("--outcome", type=_choice(Outcome), required=True)
@click.option("--reason", type=_choice(NotCriminalReason), help="When not criminal.")
@click.option("--note", default="")
@click.option("--seconds", type=click.FloatRange(0), help="Time spent deciding.")
@click.option(
    "--cluster",
    "whole_cluster",
    is_flag=True,
    help="Apply to every cluster this item represents (recorded as propagated; "
    "`vigil cluster undo` reverses it).",
)
@click.option(
    "--second-opinion-of", type=int, help="This is a second opinion on assessment ID."
)
@click.option(
    "--mapping", "mapping_version", help="Mapping version (default: current)."
)
@_analyst_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_context
def assess(
    context: Context,
    /,
    item: str,
    self_generated: str | None,
    note: str,
    seconds: float | None,
    whole_cluster: bool,
    second_opinion_of: int | None,
    mapping_version: str | None,
    analyst: str | None,
    as_json: bool,
    **observed: t.Any,
) -> None:
    """Record an assessment of ITEM (its SHA-256) as raw observations; UK
    category, legal route, NCMEC class, Project VIC category and INTERPOL
    baseline eligibility are derived by the versioned mapping tables.

    A new assessment of an item supersedes its earlier one (both are kept).

    \b
    Example:
      vigil assess 3f5a...e1 --child yes --age 7-10 --sex female --act C \\
        --realism photorealistic_synthetic --ai yes --ai-evidence "C2PA" \\
        --outcome criminal --cluster
    """
    from vigil.review.mappings import MappingError
    from vigil.review.taxonomy import ObservationError, Observations
    from vigil.store.triage import TriageError
    from vigil.triage.assess import assess as record

    values = {k: v for k, v in observed.items() if v is not None}
    values.update(
        {k: observed[k] for k in ("age_band", "sex") if observed[k] is None},
        note=note,
    )
    if self_generated is not None:
        values["self_generated"] = self_generated == "yes"
    try:
        observations = Observations.from_dict(values)
        with context.store() as store:
            decision = record(
                store,
                item,
                observations,
                analyst=_analyst(analyst),
                seconds=seconds,
                cluster=whole_cluster,
                second_opinion_of=second_opinion_of,
                mapping_version=mapping_version,
            )
            made = decision.assessment
            store.audit.append(
                made.analyst,
                "decision",
                made.sha256,
                {
                    "assessment": made.id,
                    "supersedes": made.supersedes,
                    "second_opinion_of": made.second_opinion_of,
                    "propagations": [p.id for p in decision.propagations],
                    "via": "cli",
                },
            )
    except (ObservationError, MappingError, TriageError) as exc:
        raise click.UsageError(str(exc)) from exc
    if as_json:
        json_line(decision.as_dict())
        return
    made = decision.assessment
    derived = made.derived
    click.echo(
        f"assessment {made.id} of {made.sha256}: {made.observations['outcome']}; "
        f"UK {derived['uk_category'] or '-'}, route {derived['legal_route'] or '-'}, "
        f"NCMEC {derived['ncmec_class'] or '-'}, Project VIC "
        f"{derived['project_vic']}, INTERPOL baseline "
        f"{'yes' if derived['interpol_baseline'] else 'no'} "
        f"(mapping {made.mapping_version})"
    )
    if made.supersedes:
        click.echo(f"supersedes assessment {made.supersedes}")
    for p in decision.propagations:
        click.echo(
            f"propagation {p.id}: applied to {len(p.items)} more items of cluster "
            f"{p.cluster_id} (undo: vigil cluster undo {p.id})"
        )


@click.group()
def assessments() -> None:
    """Recorded assessments: every one is kept; a correction supersedes."""


@assessments.command("export")
@_scan_option
@click.option("--all-scans", is_flag=True, help="Every scan's items (the default).")
@click.option("--active", is_flag=True, help="Only the assessments that hold now.")
@_analyst_option
@click.option("--json", "as_json", is_flag=True, help="JSON Lines (the default).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row.")
@pass_context
def assessments_export(
    context: Context,
    scan_id: int | None,
    all_scans: bool,  # noqa: ARG001 - the default, named for scripts
    active: bool,
    analyst: str | None,
    as_json: bool,  # noqa: ARG001 - the default
    as_csv: bool,
) -> None:
    """Every assessment in the order made: who, when, source (analyst,
    propagated, hash_list), observations, derived schemes, mapping version,
    time spent, what it supersedes, second-opinion links, and whether it holds.
    The export is recorded in the audit log with the SHA-256 of what was written."""
    import hashlib
    import json

    with context.store() as store:
        found = store.triage.assessments(scan_id=scan_id, active_only=active)
        if as_csv:
            written = _csv_text([a.as_dict() for a in found])
        else:
            written = "".join(
                json.dumps(a.as_dict(), ensure_ascii=False) + "\n" for a in found
            )
        store.audit.append(
            _analyst(analyst),
            "export",
            "assessments",
            {
                "format": "csv" if as_csv else "jsonl",
                "sha256": hashlib.sha256(
                    written.encode("utf-8", "surrogatepass")
                ).hexdigest(),
                "records": len(found),
                "scan": scan_id,
                "via": "cli",
            },
        )
    click.echo(written, nl=False)


CSV_FIELDS = (
    "id", "sha256", "analyst", "created_at", "source", "active", "mapping_version",
    "seconds", "supersedes", "second_opinion_of", "propagation", "note",
)  # fmt: skip


def _csv_text(rows: list[dict[str, t.Any]]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    observed = sorted({k for r in rows for k in r["observations"]})
    derived = sorted({k for r in rows for k in r["derived"]})
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            *CSV_FIELDS,
            *(f"observed.{k}" for k in observed),
            *(f"derived.{k}" for k in derived),
        ]
    )
    for row in rows:
        writer.writerow(
            [
                *(_cell(row[f]) for f in CSV_FIELDS),
                *(_cell(row["observations"].get(k)) for k in observed),
                *(_cell(row["derived"].get(k)) for k in derived),
            ]
        )
    return buffer.getvalue()


def _cell(value: t.Any) -> str:
    from vigil.media.names import display

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = display(str(value))
    # a cell a spreadsheet would run as a formula starts with a quote instead
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _sha256s(store: "Store") -> dict[int, str]:
    from vigil.store.records import ItemQuery

    return {v.item_id: v.sha256 for v in store.iter_items(ItemQuery(scan_id=None))}


@assessments.command("derive")
@click.argument("assessment_id", type=int)
@click.option("--mapping", "mapping_version", help="Default: its own version.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_context
def assessments_derive(
    context: Context, assessment_id: int, mapping_version: str | None, as_json: bool
) -> None:
    """Derive an assessment's schemes again from its recorded observations, under
    the mapping version it was made with or another (`--mapping`), and show what
    differs from what was recorded. Nothing is written."""
    from vigil.review.mappings import MappingError
    from vigil.review.taxonomy import ObservationError
    from vigil.store.triage import TriageError
    from vigil.triage.assess import rederive

    with context.store() as store:
        found = store.triage.assessments(ids=[assessment_id])
    if not found:
        raise click.UsageError(f"no assessment {assessment_id}")
    try:
        derived = rederive(found[0], mapping_version)
    except (MappingError, ObservationError, TriageError) as exc:
        raise click.UsageError(str(exc)) from exc
    recorded = found[0].derived
    changed = sorted(
        k for k in derived if k != "mapping_version" and derived[k] != recorded.get(k)
    )
    if as_json:
        json_line({"assessment": assessment_id, "derived": derived, "changed": changed})
        return
    click.echo(
        f"assessment {assessment_id} under mapping {derived['mapping_version']} "
        f"(recorded under {found[0].mapping_version}):"
    )
    for key in sorted(derived):
        if key == "mapping_version":
            continue
        mark = f" (recorded: {recorded.get(key)})" if key in changed else ""
        click.echo(f"  {key} {derived[key]}{mark}")
