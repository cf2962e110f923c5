"""What every CLI verb shares: settings, the plugin registry, JSON Lines output.

Separate from `cli.py` so that verb groups in their own modules share one context.
Light at import (click and the standard library only): the registry, the store and
the pipeline are loaded by the verbs that use them, so `vigil --help` starts fast.
"""

import json
import pathlib
import typing as t

import click

if t.TYPE_CHECKING:
    from vigil.config import Settings
    from vigil.pipeline.config import ScanOptions, WorkConfig
    from vigil.plugins import Registry
    from vigil.store.base import Store


class Context:
    """What every verb shares: settings, validated once at start-up, and the plugin
    registry, built on first use (the verbs that need no plugins never load them)."""

    def __init__(
        self, settings: "Settings", registry: "Registry | None" = None
    ) -> None:
        self.settings = settings
        self._registry = registry

    @property
    def registry(self) -> "Registry":
        """Every plugin from the entry points, loaded once, on first use.

        Raises:
            click.ClickException: a malformed plugin or two plugins with one name.
        """
        if self._registry is None:
            from vigil.plugins import PluginError, build_registry

            try:
                self._registry = build_registry()
            except PluginError as exc:
                raise click.ClickException(f"plugin error: {exc}") from exc
        return self._registry

    def store(self) -> "Store":
        if self.settings.database_url is None:
            self.settings.home.mkdir(parents=True, exist_ok=True)
        from vigil.store import open_store

        return open_store(self.settings.resolved_database_url)

    def options(self, **chosen: t.Any) -> "ScanOptions":
        """Scan options from the verb's flags, over the plugin options of the
        settings (`VIGIL_PLUGIN_OPTIONS='{"pdq": {"pipeline": "full"}}'`)."""
        from vigil.pipeline.config import ScanOptions

        plugin_options = {k: dict(v) for k, v in self.settings.plugin_options.items()}
        for name, values in chosen.pop("plugin_options", {}).items():
            plugin_options.setdefault(name, {}).update(values)
        return ScanOptions(plugin_options=plugin_options, **chosen)

    def work_config(self, options: "ScanOptions") -> "WorkConfig":
        """The configured work for these options (one builder for every verb).

        Raises:
            click.UsageError: an unknown hasher, extractor or stage name.
        """
        from vigil.pipeline.config import build_config
        from vigil.plugins import PluginError

        registry = self.registry
        try:
            return build_config(registry, options)
        except PluginError as exc:
            raise click.UsageError(str(exc)) from exc


def chosen_scan(store: "Store", scan_id: int | None) -> int:
    """The scan a verb reads: the one given, or the newest.

    Raises:
        click.UsageError: no such scan, or no scan at all yet.
    """
    if scan_id is None:
        scans = store.list_scans()
        if not scans:
            raise click.UsageError("the store has no scans yet: run vigil scan")
        return scans[-1].id
    if store.get_scan(scan_id) is None:
        raise click.UsageError(f"no scan with id {scan_id}")
    return scan_id


pass_context = click.make_pass_decorator(Context)

#: `--lexicon FILE` (repeatable): an operator's extra prompt-filter lexicon, shared by
#: every verb that runs the prompt filter.
lexicon_option = click.option(
    "--lexicon",
    "lexicons",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path),
    help="An extra prompt-filter lexicon file (TSV, see docs/prompts.md); repeatable.",
)


def shown(text: str) -> str:
    """A name or message as printed: control characters and undecodable bytes
    escaped, so it can neither forge an output line nor reach the terminal."""
    from vigil.media.names import display

    return display(text)


def name_fields(key: str, name: str) -> dict[str, str]:
    """`{key: readable}`, plus `{key}_bytes` (hex of the name's bytes) where the
    readable form had to escape something: JSON keeps names losslessly."""
    from vigil.media.names import display, name_bytes

    readable = display(name)
    if readable == name:
        return {key: name}
    return {key: readable, f"{key}_bytes": name_bytes(name).hex()}


def json_line(data: dict[str, t.Any]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))
