"""The `vigil model` verbs: thin adapters over vigil.modelfiles."""

import os
import pathlib
import typing as t

import click

from vigil._cli_context import Context, json_line, lexicon_option, pass_context, shown
from vigil.media.errors import MediaError
from vigil.modelfiles._globals import GlobalVerdict
from vigil.modelfiles.base import ModelFormat, ModelLimits
from vigil.modelfiles.fingerprints import FINGERPRINT_KINDS
from vigil.prompts.filter import PromptFilter
from vigil.prompts.lexicon import LexiconError

if t.TYPE_CHECKING:
    from vigil.modelfiles.report import ModelReport


def inspect_model(
    path: pathlib.Path, limits: ModelLimits, *, prompt_filter: PromptFilter
) -> "ModelReport":
    """`vigil.modelfiles.scan.inspect_model`, imported on first use (it reads media
    with Pillow and numpy, which `vigil --help` does not need)."""
    from vigil.modelfiles.scan import inspect_model as inspect

    return inspect(path, limits, prompt_filter=prompt_filter)


@click.group("model")
def model() -> None:
    """Model files: fingerprints, training metadata, unsafe pickles, model risk.

    \b
    Examples:
      vigil model scan lora.safetensors
      vigil model scan --json /evidence/models
      vigil model links                 images of the last scan tied to their models
    """


@model.command("scan")
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=pathlib.Path),
)
@click.option(
    "--json", "as_json", is_flag=True, help="JSON Lines, one object per model."
)
@lexicon_option
def scan(
    paths: tuple[pathlib.Path, ...], as_json: bool, lexicons: tuple[pathlib.Path, ...]
) -> None:
    """Inspect model files without loading them.

    PATHS are files or folders; folders are walked and every file is typed by its
    content (a pickle renamed .safetensors is still found); a folder with a diffusers
    model_index.json is one model. Files named on the command line are always
    reported, files found in folders only when they are model files.

    Text output is greppable lines ending with the path: `model <format>`,
    `risk <level> <score>`, `pickle <verdict>`, one line per fingerprint
    (`autov2 <hex>`, ...), `global <verdict> <module.name>` for each pickle global
    that is not on the safe list, `tag <tag>` for each training tag that triggered the
    prompt filter, `finding <code> <severity>` and `error <reason>`. Nothing is ever
    unpickled. The exit code is 0 even when a model is flagged.
    """
    from vigil.modelfiles.scan import internal_error

    limits = ModelLimits()
    try:
        prompt_filter = PromptFilter.default(lexicons)
    except LexiconError as exc:
        raise click.UsageError(str(exc)) from exc
    counts = {"models": 0, "high": 0, "dangerous": 0, "errors": 0}
    for path in paths:
        for target in _targets(path):
            try:
                report = inspect_model(target, limits, prompt_filter=prompt_filter)
            except Exception as exc:  # a bug must not end the scan: report, go on
                report = internal_error(str(target), exc)
            _print(report, as_json)
            counts["models"] += 1
            counts["high"] += report.risk.level == "high"
            counts["dangerous"] += report.is_dangerous_to_load
            counts["errors"] += bool(report.errors)
    click.echo(
        f"{counts['models']} model(s): {counts['high']} high risk, "
        f"{counts['dangerous']} with dangerous pickles, {counts['errors']} with errors",
        err=True,
    )


def _targets(path: pathlib.Path) -> t.Iterator[pathlib.Path]:
    """What to inspect under `path`: itself if a file or diffusers folder, else the
    model files and diffusers folders below it (links are not followed)."""
    from vigil.modelfiles.sniff import is_diffusers_folder, sniff_model_path

    if not path.is_dir() or is_diffusers_folder(path):
        yield path
        return
    for directory, subdirectories, names in os.walk(path, followlinks=False):
        here = pathlib.Path(directory)
        kept = []
        for name in sorted(subdirectories):
            if is_diffusers_folder(here / name):
                yield here / name
            else:
                kept.append(name)
        subdirectories[:] = kept
        for name in sorted(names):
            candidate = here / name
            if candidate.is_symlink() or not candidate.is_file():
                continue
            try:
                if sniff_model_path(candidate) is ModelFormat.UNKNOWN:
                    continue
            except MediaError:
                pass  # unreadable: inspect_model records why
            yield candidate


def _print(report: "ModelReport", as_json: bool) -> None:
    if as_json:
        json_line(report.as_dict())
        return
    for line in _lines(report):
        click.echo(shown(f"{line} {report.path}"))
    for error in report.errors:
        where = f" ({error.where})" if error.where else ""
        click.echo(shown(f"{report.path}{where}: {error.message}"), err=True)
    for component in report.components:
        _print(component, as_json=False)


def _lines(report: "ModelReport") -> t.Iterator[str]:
    yield f"model {report.format.value}"
    risk = report.risk
    score = "-" if risk.score is None else f"{risk.score:.2f}"
    yield f"risk {risk.level.value} {score}"
    if report.pickle is not None:
        yield f"pickle {report.pickle.verdict.value}"
        for ref in report.pickle.globals:
            if ref.verdict is not GlobalVerdict.SAFE:
                yield f"global {ref.verdict.value} {_one_line(ref.qualified)}"
    for kind in FINGERPRINT_KINDS:
        if kind in report.fingerprints:
            yield f"{kind} {report.fingerprints[kind]}"
    for tag in risk.tags:
        yield f"tag {_one_line(tag)}"
    for finding in report.findings:
        yield f"finding {finding.code} {finding.severity.value}"
    for error in report.errors:
        yield f"error {error.reason}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


@model.command("links")
@click.option(
    "--scan",
    "scan_id",
    type=int,
    help="The scan to show (`vigil scan` prints its id). Default: the latest.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one per link.")
@pass_context
def links(context: Context, scan_id: int | None, as_json: bool) -> None:
    """Images whose generation record names a model or LoRA hash that was seen.

    A link ties an image of the scan to a model file in the store with that
    fingerprint (from any scan) or to a hash-list entry with that hash. Text output
    is one line per link: `<role> <hash kind> <hash> <image> -> <model or list>`.

    \b
    Examples:
      vigil model links
      vigil model links --scan 3 --json
    """

    store = context.store()
    try:
        if scan_id is None:
            scans = store.list_scans()
            if not scans:
                raise click.UsageError("no scans yet: run `vigil scan` first")
            scan_id = scans[-1].id
        elif store.get_scan(scan_id) is None:
            raise click.UsageError(f"no scan with id {scan_id}")
        found = store.model_links(scan_id)
    finally:
        store.close()
    for link in found:
        if as_json:
            json_line({"scan": scan_id, **link.as_dict()})
            continue
        target = link.model or f"hash list {link.hash_list}"
        click.echo(
            shown(
                f"{link.role} {link.hash_kind} {link.hash_value} {link.image} -> "
                f"{target}"
            )
        )
    if not as_json:
        click.echo(f"{len(found)} link(s) in scan {scan_id}", err=True)
