"""What every CLI verb shares: settings, the plugin registry, JSON Lines output.

Separate from `cli.py` so that verb groups in their own modules share one context.
"""

import json
import pathlib
import typing as t

import click

from vigil.config import Settings
from vigil.pipeline.config import ScanOptions, WorkConfig, build_config
from vigil.plugins import PluginError, Registry
from vigil.store.base import Store


class Context:
    """What every verb shares: settings and the registry, built once at start-up."""

    def __init__(self, settings: Settings, registry: Registry) -> None:
        self.settings = settings
        self.registry = registry

    def store(self) -> Store:
        if self.settings.database_url is None:
            self.settings.home.mkdir(parents=True, exist_ok=True)
        from vigil.store import open_store

        return open_store(self.settings.resolved_database_url)

    def work_config(self, options: ScanOptions) -> WorkConfig:
        """The configured work for these options (one builder for every verb).

        Raises:
            click.UsageError: an unknown hasher, extractor or stage name.
        """
        try:
            return build_config(self.registry, options)
        except PluginError as exc:
            raise click.UsageError(str(exc)) from exc


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


def json_line(data: dict[str, t.Any]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))
