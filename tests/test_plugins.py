import importlib.metadata

import pytest

from vigil.hashing.crypto import MD5Hasher
from vigil.pipeline.engines.inline import InlineEngine
from vigil.pipeline.engines.local import LocalEngine
from vigil.plugins import PluginError, Registry, build_registry
from vigil.testing import (
    check_engine,
    check_extractor,
    check_format,
    check_hasher,
    check_identity,
    check_index,
    check_stage,
)

REGISTRY = build_registry()


@pytest.mark.parametrize("name", REGISTRY.names("hasher"))
def test_every_hasher_passes_the_contract(name: str) -> None:
    check_hasher(REGISTRY.hasher(name))


@pytest.mark.parametrize("name", REGISTRY.names("engine"))
def test_every_engine_passes_the_contract(name: str) -> None:
    engine = REGISTRY.engine(name, **({"workers": 2} if name == "local" else {}))
    check_engine(engine)


@pytest.mark.parametrize("name", REGISTRY.names("hash_list_format"))
def test_every_format_passes_the_contract(name: str) -> None:
    check_format(REGISTRY.get("hash_list_format", name)())


@pytest.mark.parametrize("name", REGISTRY.names("index"))
def test_every_index_passes_the_contract(name: str) -> None:
    hash_type = "sha256" if name == "exact" else "pdq"
    check_index(REGISTRY.get("index", name)(hash_type), hash_type)


@pytest.mark.parametrize("name", REGISTRY.names("extractor"))
def test_every_extractor_passes_the_contract(name: str) -> None:
    check_extractor(REGISTRY.extractors([name])[0])


@pytest.mark.parametrize("name", REGISTRY.names("stage"))
def test_every_stage_passes_the_contract(name: str) -> None:
    check_stage(REGISTRY.stage(name))


@pytest.mark.parametrize(
    "key", sorted(REGISTRY.infos), ids=lambda key: f"{key[0]}:{key[1]}"
)
def test_every_plugin_has_a_no_argument_default_and_an_identity(
    key: tuple[str, str],
) -> None:
    info = REGISTRY.infos[key]
    plugin = info.cls()  # every kind is usable with no configuration
    assert check_identity(plugin) == info.name


def test_the_typed_accessor_gives_configured_instances() -> None:
    from vigil.hashing.base import Hasher, ImageHasher
    from vigil.pipeline.stage import Stage

    hashers = REGISTRY.plugins(Hasher)
    assert sorted(h.name for h in hashers) == ["md5", "pdq", "sha1", "sha256"]
    assert [s.name for s in REGISTRY.plugins(Stage)] == [
        "hash",
        "variants",
        "provenance",
        "prompt",
        "detect",
        "model",
    ]
    full = REGISTRY.hasher("pdq", pipeline="full")
    assert isinstance(full, ImageHasher) and full.pipeline == "pdq-full/1"
    with pytest.raises(PluginError, match="pdq: bad options"):
        REGISTRY.hasher("pdq", size=3)


def test_builtins_are_registered_through_the_entry_point() -> None:
    points = importlib.metadata.entry_points(group="vigil.plugins")
    assert "builtin" in {ep.name for ep in points}
    assert REGISTRY.names("hasher") == ["md5", "pdq", "sha1", "sha256"]
    assert REGISTRY.names("engine") == ["inline", "local"]
    assert REGISTRY.infos[("hasher", "pdq")].source == "vigil.plugins:builtin_plugins"


def test_duplicate_names_are_refused() -> None:
    registry = Registry()
    registry.register(MD5Hasher, "first")

    class AnotherMD5(MD5Hasher):
        name = "md5"

    with pytest.raises(PluginError, match="claimed by both first and second"):
        registry.register(AnotherMD5, "second")


def test_unknown_kind_and_missing_name_are_refused() -> None:
    registry = Registry()
    with pytest.raises(PluginError, match="not a known plugin kind"):
        registry.register(int, "x")

    class Nameless(InlineEngine):
        name = ""

    with pytest.raises(PluginError, match="no stable `name`"):
        registry.register(Nameless, "x")


def test_unknown_plugin_lists_known_names() -> None:
    with pytest.raises(PluginError, match="known: md5, pdq, sha1, sha256"):
        REGISTRY.hasher("photodna")


def test_contract_catches_a_broken_hasher() -> None:
    class Chunky(MD5Hasher):
        name = "chunky"

        def new(self):  # type: ignore[no-untyped-def]
            class State:
                count = 0

                def update(self, _data: bytes) -> None:
                    self.count += 1

                def hexdigest(self) -> str:
                    return f"{self.count:032x}"

            return State()

    with pytest.raises(AssertionError, match="chunked"):
        check_hasher(Chunky())


def test_local_engine_survives_a_worker_crash() -> None:
    from vigil.testing import _tasks

    with LocalEngine(workers=2) as engine:
        results = sorted(
            engine.map_unordered(_tasks.crash_on_seven, iter(range(12)), _tasks.crashed)
        )
    expected = sorted([n * n for n in range(12) if n != 7] + [-7])
    assert results == expected
