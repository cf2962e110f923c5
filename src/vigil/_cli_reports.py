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
