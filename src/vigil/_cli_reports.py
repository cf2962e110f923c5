"""`vigil report`: a scan's statistics, charts and case report as files."""

import getpass
import hashlib
import os
import pathlib

import click

from vigil._cli_context import Context, chosen_scan, json_line, pass_context


@click.command()
@click.option("--scan", "scan_id", type=int, help="Default: the newest scan.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    required=True,
    help="The folder to write into (made if missing).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_context
def report(
    context: Context, scan_id: int | None, out: pathlib.Path, as_json: bool
) -> None:
    """Write a scan's report: report.html (open it in a browser), report.json,
    figures.csv, case.csv and PNG charts.

    Figures: items, matched, assessed (by analyst and by propagation), criminal
    share, legal route, UK category, NCMEC class, Project VIC category, age bands,
    sex, AI-generated share, non-criminal reasons, INTERPOL baseline eligible,
    generator tools and models seen, prompts flagged, model files by risk, the
    largest clusters and batches, scan throughput, analyst time per decision. The
    case report lists what was matched, what carries AI evidence (tool and model),
    and which images name a model file or a listed model. No image bytes are ever
    written. The export is recorded in the audit log with each file's SHA-256.
    """
    from vigil.reports.render import write_report
    from vigil.reports.statistics import build_report
    from vigil.triage.update import refresh

    with context.store() as store:
        chosen = chosen_scan(store, scan_id)
        refresh(store, chosen)
        made = build_report(store, chosen)
        try:
            written = write_report(made, out)
        except OSError as exc:
            raise click.ClickException(f"{out}: {exc.strerror or exc}") from exc
        store.audit.append(
            os.environ.get("VIGIL_ANALYST") or getpass.getuser(),
            "export",
            f"report scan {chosen}",
            {
                "folder": str(out),
                "files": {
                    str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
                    for p in written
                },
            },
        )
    if as_json:
        json_line(made.as_dict())
    else:
        click.echo(f"report of scan {chosen}: {out / 'report.html'}")


@click.command()
@click.argument("items", nargs=-1, required=True)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    required=True,
    help="The folder to write report.xml and file-NNN.xml into.",
)
@click.option(
    "--incident-time",
    help="When the incident happened (ISO 8601 with a zone). Default: now.",
)
@click.option("--description", help="A note for the report (additionalInfo).")
@pass_context
def cybertip(
    context: Context,
    items: tuple[str, ...],
    out: pathlib.Path,
    incident_time: str | None,
    description: str | None,
) -> None:
    """Write NCMEC CyberTipline report files for ITEMS (SHA-256s): a report.xml
    (incident summary, reporter) and one fileDetails file per item (name, place,
    the generativeAi annotation when its assessment says AI-generated, the
    industry classification A1/A2/B1/B2 its assessment derived, MD5, SHA-1,
    SHA-256 and size),
    each checked against the packaged schema. Vigil never sends them and never
    includes image bytes. Each item needs an assessment by an analyst.

    The reporter comes from VIGIL_REPORTER_FIRST_NAME, VIGIL_REPORTER_LAST_NAME,
    VIGIL_REPORTER_EMAIL, VIGIL_REPORTER_ORGANISATION and VIGIL_REPORTER_PHONE.
    """
    import datetime as dt

    from vigil.reports.cybertip import (
        CyberTipError,
        Incident,
        ReportedFile,
        Reporter,
        build_report,
        write_bundle,
    )
    from vigil.store.records import AssessmentSource

    settings = context.settings
    if not (
        settings.reporter_first_name
        and settings.reporter_last_name
        and settings.reporter_email
    ):
        raise click.UsageError(
            "set VIGIL_REPORTER_FIRST_NAME, VIGIL_REPORTER_LAST_NAME and "
            "VIGIL_REPORTER_EMAIL: the reporting person"
        )
    try:
        when = (
            dt.datetime.fromisoformat(incident_time)
            if incident_time
            else dt.datetime.now(dt.UTC)
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--incident-time") from exc
    reported = []
    with context.store() as store:
        for sha in items:
            view = store.item(sha.lower())
            if view is None:
                raise click.UsageError(f"no item with SHA-256 {sha}")
            held = store.triage.current([view.item_id]).get(view.item_id)
            if held is None or held.source == AssessmentSource.HASH_LIST:
                raise click.UsageError(f"{view.sha256} has no analyst's assessment")
            hashes = {h.hasher: h.value for h in view.hashes}
            place = view.locations[0] if view.locations else None
            name = (place.member_path or place.path) if place else view.sha256
            try:
                reported.append(
                    ReportedFile(
                        filename=pathlib.PurePath(name).name or view.sha256,
                        md5=hashes["md5"],
                        sha1=hashes.get("sha1"),
                        sha256=view.sha256,
                        size=view.size,
                        industry_class=held.derived.get("ncmec_class") or None,
                        generative_ai=held.observations.get("ai_generated") == "yes",
                        location=place.label if place else None,
                    )
                )
            except (KeyError, CyberTipError) as exc:
                raise click.UsageError(f"{view.sha256}: {exc}") from exc
        try:
            bundle = build_report(
                Incident(when, description),
                Reporter(
                    settings.reporter_first_name,
                    settings.reporter_last_name,
                    settings.reporter_email,
                    settings.reporter_organisation or "",
                    settings.reporter_phone,
                ),
                reported,
            )
            written = write_bundle(bundle, out)
        except CyberTipError as exc:
            raise click.UsageError(str(exc)) from exc
        except OSError as exc:
            raise click.ClickException(f"{out}: {exc.strerror or exc}") from exc
        store.audit.append(
            os.environ.get("VIGIL_ANALYST") or getpass.getuser(),
            "export",
            "cybertipline report",
            {
                "folder": str(out),
                "items": [v.lower() for v in items],
                "files": {
                    p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in written
                },
            },
        )
    click.echo(f"CyberTipline files for {len(reported)} items in {out} (not sent)")
