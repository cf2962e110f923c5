"""What every CLI verb shares: settings, the plugin registry, JSON Lines output.

Separate from `cli.py` so that verb groups in their own modules share one context.
"""

import json
import pathlib
import typing as t

import click

from vigil.config import Settings
from vigil.hashing.base import ImageHasher, StreamHasher
from vigil.media.base import Limits
from vigil.pipeline.work import WorkConfig
from vigil.plugins import Registry
from vigil.store.store import Store


class Context:
    """What every verb shares: settings and the registry, built once at start-up."""

    def __init__(self, settings: Settings, registry: Registry) -> None:
        self.settings = settings
        self.registry = registry

    def store(self) -> Store:
        if self.settings.database_url is None:
            self.settings.home.mkdir(parents=True, exist_ok=True)
        return Store(self.settings.resolved_database_url)

    def work_config(
        self,
        hashers: t.Sequence[str] = (),
        *,
        pdq_variants: bool = False,
        provenance: bool = False,
        lexicons: t.Sequence[pathlib.Path] = (),
        extractors: t.Sequence[str] = (),
    ) -> WorkConfig:
        """Hashers by name (default: all), and with `provenance` the named
        extractors (default: all), the prompt filter (with operator `lexicons`) for
        found prompts, and the model-file inspector."""
        names = list(hashers) or self.registry.names("hasher")
        if "sha256" not in names:
            names.append("sha256")  # items are keyed by SHA-256
        chosen = [self.registry.hasher(name) for name in names]
        return WorkConfig(
            limits=Limits(),
            stream_hashers=tuple(h for h in chosen if isinstance(h, StreamHasher)),
            image_hashers=tuple(h for h in chosen if isinstance(h, ImageHasher)),
            pdq_variants=pdq_variants,
            extractors=(
                tuple(self.registry.extractors(extractors)) if provenance else ()
            ),
            score_prompts=provenance,
            inspect_models=provenance,
            prompt_lexicons=tuple(str(path) for path in lexicons),
        )


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
