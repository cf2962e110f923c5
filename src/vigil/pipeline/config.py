"""The one config builder: scan options in, the configured work every worker runs
out. The CLI, tests, resume and (later) the server all build configs here.

`ScanOptions` is what a person chooses (plain values, stored with a scan so that a
resume uses the scan's own options, not the current flags); `WorkConfig` is the
configured plugin instances built from them (picklable, sent to workers).
"""

import dataclasses
import pathlib
import typing as t

from vigil.hashing.base import ImageHasher, StreamHasher
from vigil.media.base import Limits
from vigil.pipeline.stage import Stage

if t.TYPE_CHECKING:
    from vigil.plugins import Registry

#: The built-in stages, configured from the options below.
BUILTIN_NAMES = frozenset(
    {"hash", "variants", "provenance", "prompt", "detect", "model"}
)


@dataclasses.dataclass(frozen=True)
class ScanOptions:
    """What changes a scan's results. Every field takes part in the scan key."""

    hashers: tuple[str, ...] = ()  # default: every registered hasher
    pdq_variants: bool = False  # also hash rotations, flips and crops for matching
    provenance: bool = True  # evidence (C2PA, generators, watermarks, EXIF)
    extractors: tuple[str, ...] = ()  # default: every registered extractor
    prompts: bool = True  # the prompt filter on found generation records
    detect: bool = True  # the detectors, fused into ai_likelihood
    head: str | None = None  # a trained AI-likelihood head file (vigil detect train)
    models: bool = True  # the model-file inspector
    lexicons: tuple[str, ...] = ()  # operator lexicon files for the prompt filter
    hash_lists: tuple[str, ...] | None = None  # None: every list; () matches none
    limits: Limits = dataclasses.field(default_factory=Limits)
    # options of configurable plugins by name: {"pdq": {"pipeline": "full"}}
    plugin_options: t.Mapping[str, t.Mapping[str, t.Any]] = dataclasses.field(
        default_factory=dict
    )

    def as_dict(self) -> dict[str, t.Any]:
        data = dataclasses.asdict(self)
        data["hash_lists"] = None if self.hash_lists is None else list(self.hash_lists)
        data["plugin_options"] = {k: dict(v) for k, v in self.plugin_options.items()}
        return data

    @classmethod
    def from_dict(cls, data: t.Mapping[str, t.Any]) -> "ScanOptions":
        """Options stored with a scan; unknown keys (from a newer Vigil) ignored."""
        fields = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, t.Any] = {}
        for key, value in data.items():
            if key not in fields:
                continue
            if key == "limits":
                value = Limits(**value)
            elif key == "plugin_options":
                value = {str(k): dict(v) for k, v in dict(value).items()}
            elif isinstance(value, list):
                value = tuple(value)
            values[key] = value
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class WorkConfig:
    """What every worker needs: limits, the stream hashers that read the bytes, and
    the stages that run over each item, in order."""

    limits: Limits
    stream_hashers: tuple[StreamHasher, ...]
    stages: tuple[Stage, ...] = ()

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def identity(self) -> dict[str, t.Any]:
        """Everything about the configured work that changes results."""
        return {
            "limits": dataclasses.asdict(self.limits),
            "stream_hashers": [h.name for h in self.stream_hashers],
            "stages": [
                {"stage": s.identity(), "options": s.options()} for s in self.stages
            ],
        }


def build_config(registry: "Registry", options: ScanOptions) -> WorkConfig:
    """Configured instances of the registered plugins the options choose.

    Raises:
        PluginError: an unknown hasher, extractor or stage name.
    """
    from vigil.pipeline.stages.detect import DetectStage
    from vigil.pipeline.stages.image_hash import ImageHashStage
    from vigil.pipeline.stages.model import ModelStage
    from vigil.pipeline.stages.prompt import PromptStage
    from vigil.pipeline.stages.provenance import ProvenanceStage
    from vigil.pipeline.stages.variants import VariantStage

    names = list(options.hashers) or registry.names("hasher")
    if "sha256" not in names:
        names.append("sha256")  # items are keyed by SHA-256
    chosen = [
        registry.hasher(name, **options.plugin_options.get(name, {})) for name in names
    ]
    lexicons = tuple(str(pathlib.Path(p)) for p in options.lexicons)
    built: dict[str, Stage] = {
        "hash": ImageHashStage([h for h in chosen if isinstance(h, ImageHasher)]),
    }
    if options.pdq_variants:
        built["variants"] = VariantStage()
    if options.provenance:
        built["provenance"] = ProvenanceStage(registry.extractors(options.extractors))
        if options.prompts:
            built["prompt"] = PromptStage(lexicons)
    if options.detect:
        built["detect"] = DetectStage(
            registry.detectors(options.plugin_options), head=options.head
        )
    if options.models:
        built["model"] = ModelStage(lexicons)
    # Registration order is pipeline order: built-ins first, then plugins. A
    # registered stage that is not a built-in runs with its default configuration.
    stages = [
        built[name] if name in BUILTIN_NAMES else registry.stage(name)
        for name in registry.names_in_order("stage")
        if name in built or name not in BUILTIN_NAMES
    ]
    return WorkConfig(
        limits=options.limits,
        stream_hashers=tuple(h for h in chosen if isinstance(h, StreamHasher)),
        stages=tuple(stages),
    )
