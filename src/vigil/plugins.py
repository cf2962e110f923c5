"""The plugin registry, built once at start-up from entry points (group
`vigil.plugins`).

Built-ins register exactly like third-party plugins: Vigil's own distribution declares
the entry point `builtin = vigil.plugins:builtin_plugins`. Each entry point names a
callable that returns plugin classes; each class has a stable `name` and no-argument
default construction. Nothing is loaded at import time: call `build_registry()`.
Importing this module is light (no numpy, FAISS or SQLAlchemy): the plugin base
classes are imported on first use, so that `vigil --help` starts fast.
"""

import dataclasses
import functools
import importlib.metadata
import typing as t

from vigil.hashing.types import BUILTIN, HashType, HashTypes

if t.TYPE_CHECKING:
    from vigil.detection.base import Detector
    from vigil.hashing.base import Hasher, ImageHasher, StreamHasher
    from vigil.matching.base import HashListFormat, Index
    from vigil.pipeline.engines.base import Engine
    from vigil.pipeline.stage import Stage
    from vigil.provenance.base import Extractor

    PluginClass: t.TypeAlias = (
        type[Hasher]
        | type[Engine]
        | type[HashListFormat]
        | type[Index]
        | type[Extractor]
        | type[Stage]
        | type[Detector]
    )

    #: Plugin kinds, checked with issubclass (never hasattr): `plugin_kinds()`.
    KINDS: dict[str, type[t.Any]]

ENTRY_POINT_GROUP = "vigil.plugins"

P = t.TypeVar("P")


@functools.cache
def plugin_kinds() -> dict[str, type[t.Any]]:
    """Plugin kinds and their base classes, checked with issubclass (never hasattr).

    A function rather than a constant so that `import vigil.plugins` stays light:
    the base classes pull in numpy and Pillow, which only the verbs that load
    plugins need. `vigil.plugins.KINDS` still works and returns this table.
    """
    from vigil.detection.base import Detector
    from vigil.hashing.base import Hasher
    from vigil.matching.base import HashListFormat, Index
    from vigil.pipeline.engines.base import Engine
    from vigil.pipeline.stage import Stage
    from vigil.provenance.base import Extractor

    return {
        "hasher": Hasher,
        "engine": Engine,
        "hash_list_format": HashListFormat,
        "index": Index,
        "extractor": Extractor,
        "stage": Stage,
        "detector": Detector,
    }


if not t.TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        """`KINDS` and `PluginClass`, built on first use (see `plugin_kinds`)."""
        if name == "KINDS":
            return plugin_kinds()
        if name == "PluginClass":
            import operator

            return functools.reduce(
                operator.or_, (type[base] for base in plugin_kinds().values())
            )
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PluginError(Exception):
    """A plugin is malformed, or two plugins claim one name."""


def builtin_plugins() -> list["PluginClass"]:
    from vigil.detection.camera import CameraDetector
    from vigil.detection.evidence import EvidenceDetector
    from vigil.detection.onnx import ONNXDetector
    from vigil.detection.spectral import SpectralDetector
    from vigil.hashing.crypto import MD5Hasher, SHA1Hasher, SHA256Hasher
    from vigil.hashing.pdq import PDQHasher
    from vigil.matching.formats import ALL_FORMATS
    from vigil.matching.index import ExactIndex, FlatIndex, LinearIndex, MIHIndex
    from vigil.pipeline.engines.inline import InlineEngine
    from vigil.pipeline.engines.local import LocalEngine
    from vigil.pipeline.stages import BUILTIN_STAGES
    from vigil.provenance.builtin import builtin_extractors

    return [
        MD5Hasher,
        SHA1Hasher,
        SHA256Hasher,
        PDQHasher,
        LocalEngine,
        InlineEngine,
        *ALL_FORMATS,
        ExactIndex,
        FlatIndex,
        LinearIndex,
        MIHIndex,
        # extractors in priority order: the first one's generation record wins ties
        *builtin_extractors(),
        # detectors, fused into ai_likelihood by the detect stage
        EvidenceDetector,
        SpectralDetector,
        CameraDetector,
        ONNXDetector,
        # stages in pipeline order
        *BUILTIN_STAGES,
    ]


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    kind: str
    name: str
    cls: type[t.Any]
    source: str  # the entry point that registered it


@dataclasses.dataclass
class Registry:
    infos: dict[tuple[str, str], PluginInfo] = dataclasses.field(default_factory=dict)

    def register(self, cls: type[t.Any], source: str) -> None:
        kind = _kind_of(cls)
        name = cls.__dict__.get("name") or getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(f"{cls.__qualname__} from {source} has no stable `name`")
        if (kind, name) in self.infos:
            other = self.infos[(kind, name)]
            raise PluginError(
                f"{kind} name {name!r} claimed by both {other.source} and {source}"
            )
        self.infos[(kind, name)] = PluginInfo(kind, name, cls, source)

    def names(self, kind: str) -> list[str]:
        return sorted(name for (k, name) in self.infos if k == kind)

    def get(self, kind: str, name: str) -> type[t.Any]:
        try:
            return self.infos[(kind, name)].cls
        except KeyError:
            known = ", ".join(self.names(kind)) or "none"
            raise PluginError(f"no {kind} named {name!r} (known: {known})") from None

    def hasher(self, name: str, **options: t.Any) -> "Hasher":
        """A hasher configured with `options` (`hasher("pdq", pipeline="full")`).

        Raises:
            PluginError: an unknown name, or options the hasher does not take.
        """
        cls = self.get("hasher", name)
        return t.cast("Hasher", _configured(cls, name, options))

    def stream_hashers(self) -> list["StreamHasher"]:
        from vigil.hashing.base import StreamHasher

        found = [self.hasher(n) for n in self.names("hasher")]
        return [h for h in found if isinstance(h, StreamHasher)]

    def image_hashers(self) -> list["ImageHasher"]:
        from vigil.hashing.base import ImageHasher

        found = [self.hasher(n) for n in self.names("hasher")]
        return [h for h in found if isinstance(h, ImageHasher)]

    def extractors(self, names: t.Sequence[str] = ()) -> list["Extractor"]:
        """Extractor instances in registration order (which is priority order: the
        first one's generation record wins ties), or the named ones in that order."""
        chosen = [
            info.cls
            for (kind, name), info in self.infos.items()
            if kind == "extractor" and (not names or name in names)
        ]
        unknown = set(names) - {cls.name for cls in chosen}
        if unknown:
            self.get("extractor", sorted(unknown)[0])  # raises with the known names
        return [t.cast("Extractor", cls()) for cls in chosen]

    def plugins(self, kind: type[P]) -> list[P]:
        """Default-configured instances of every plugin of one kind, in
        registration order: `registry.plugins(Hasher)`."""
        return [
            info.cls() for info in self.infos.values() if issubclass(info.cls, kind)
        ]

    def hash_types(self) -> HashTypes:
        """The built-in hash types and every registered hasher's own."""
        declared = [self.hasher(name).hash_type for name in self.names("hasher")]
        return BUILTIN.with_types(t for t in declared if t.name not in BUILTIN)

    def index_for(self, hash_type: HashType) -> "Index":
        """A new index of the plugin the hash type names (`HashType.index`)."""
        cls = t.cast("type[Index]", self.get("index", hash_type.index))
        return cls.for_type(hash_type)

    def names_in_order(self, kind: str) -> list[str]:
        """Names of one kind in registration order (the order stages run in)."""
        return [name for (k, name) in self.infos if k == kind]

    def detectors(
        self, options: t.Mapping[str, t.Mapping[str, t.Any]] | None = None
    ) -> list["Detector"]:
        """Every registered detector in registration order, configured with its
        plugin options (`{"onnx": {"model": "m.onnx"}}`) or its defaults.

        Raises:
            PluginError: options a detector does not take.
        """
        chosen = options or {}
        return [
            t.cast(
                "Detector",
                _configured(self.get("detector", name), name, chosen.get(name, {})),
            )
            for name in self.names_in_order("detector")
        ]

    def stage(self, name: str) -> "Stage":
        return t.cast("Stage", self.get("stage", name)())

    def engine(self, name: str, **kwargs: t.Any) -> "Engine":
        return t.cast("Engine", self.get("engine", name)(**kwargs))


def _configured(cls: type[t.Any], name: str, options: t.Mapping[str, t.Any]) -> t.Any:
    """An instance of a plugin class with its options; bad options are a
    PluginError naming the plugin, never a TypeError traceback."""
    try:
        return cls(**options)
    except (TypeError, ValueError) as exc:
        raise PluginError(f"{name}: bad options {dict(options)!r}: {exc}") from exc


def _kind_of(cls: type[t.Any]) -> str:
    kinds = plugin_kinds()
    for kind, base in kinds.items():
        if isinstance(cls, type) and issubclass(cls, base):
            return kind
    raise PluginError(f"{cls!r} is not a known plugin kind ({', '.join(kinds)})")


def build_registry(
    entry_points: t.Iterable[importlib.metadata.EntryPoint] | None = None,
) -> Registry:
    """Load every plugin from the `vigil.plugins` entry points; names must be unique."""
    if entry_points is None:
        entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    registry = Registry()
    loaded = False
    for entry_point in sorted(entry_points, key=lambda ep: ep.name):
        factory = entry_point.load()
        for cls in factory():
            registry.register(cls, f"{entry_point.value}")
        loaded = True
    if not loaded:  # running from a source tree without installed metadata
        for cls in builtin_plugins():
            registry.register(cls, "vigil.plugins:builtin_plugins")
    return registry
