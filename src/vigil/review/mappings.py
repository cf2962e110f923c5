"""Versioned mapping tables: every scheme derived from one set of observations.

A mapping is a TOML data file (`mappings/<version>.toml`) of rules; this module only
reads and applies them. A published file never changes: its SHA-256 is pinned in
`PUBLISHED`, and any change is a new version, so that what was derived under an old
version can be derived again, exactly, from the same observations.
"""

import dataclasses
import enum
import functools
import hashlib
import importlib.resources
import os
import re
import tomllib
import typing as t

from vigil.review.taxonomy import ENUM_FIELDS, Observations, check

#: Far above any real mapping (version 1 is about 6 kB); a bound for user files.
MAX_MAPPING_BYTES = 1_000_000
#: The SHA-256 of every shipped mapping file, by version (oldest first).
PUBLISHED: dict[str, str] = {
    "1": "36fb4b12e6ccb068fefb7ffb477f91d3d31e1dbd422da6b439d135252548c058",
}
#: What `mapping()` and `derive()` use when no version is given.
CURRENT_VERSION = max(PUBLISHED, key=int)

_PACKAGE = "vigil.review"
_FOLDER = "mappings"
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SCHEMES = ("uk_category", "legal_route", "ncmec_class")
_SCHEMES_WITH_DEFAULT = ("project_vic", "interpol_baseline")

E = t.TypeVar("E", bound=enum.Enum)
V = t.TypeVar("V")
Reader: t.TypeAlias = t.Callable[[object, str], V]


class MappingError(ValueError):
    """A mapping that cannot be loaded, or a derived record that cannot be read."""


class UKCategory(enum.StrEnum):
    A = "A"
    B = "B"
    C = "C"


class LegalRoute(enum.StrEnum):
    POCA_1978_INDECENT_PHOTOGRAPH = "poca_1978_indecent_photograph"
    POCA_1978_PSEUDO_PHOTOGRAPH = "poca_1978_pseudo_photograph"
    CJA_2009_PROHIBITED_IMAGE = "cja_2009_prohibited_image"


class NCMECClass(enum.StrEnum):
    A1 = "A1"  # prepubescent, sex act
    A2 = "A2"  # prepubescent, lascivious exhibition
    B1 = "B1"  # pubescent, sex act
    B2 = "B2"  # pubescent, lascivious exhibition


class ProjectVICCategory(enum.IntEnum):
    NON_PERTINENT = 0
    CHILD_ABUSE_MATERIAL = 1
    CHILD_EXPLOITIVE = 2  # not CAM, or age difficult
    CGI_ANIMATION = 3
    COMPARISON = 4  # exemplars kept for comparison; never derived


@dataclasses.dataclass(frozen=True)
class Derived:
    """Every scheme for one set of observations, and the mapping that made them."""

    uk_category: UKCategory | None
    legal_route: LegalRoute | None
    ncmec_class: NCMECClass | None
    project_vic: ProjectVICCategory
    interpol_baseline: bool
    mapping_version: str

    def as_dict(self) -> dict[str, str | int | bool | None]:
        """Plain JSON types."""
        return {
            "uk_category": _plain(self.uk_category),
            "legal_route": _plain(self.legal_route),
            "ncmec_class": _plain(self.ncmec_class),
            "project_vic": int(self.project_vic),
            "interpol_baseline": self.interpol_baseline,
            "mapping_version": self.mapping_version,
        }

    @classmethod
    def from_dict(cls, data: t.Mapping[str, object]) -> "Derived":
        """Read `as_dict()` output. Raises MappingError naming the bad field."""
        names = [field.name for field in dataclasses.fields(cls)]
        if not isinstance(data, t.Mapping) or sorted(data) != sorted(names):
            raise MappingError(f"a derived record has exactly the keys {names}")
        version = data["mapping_version"]
        if not isinstance(version, str):
            raise MappingError(f"mapping_version: {version!r} is not a string")
        uk_category = _nullable(_member(UKCategory))
        legal_route = _nullable(_member(LegalRoute))
        ncmec_class = _nullable(_member(NCMECClass))
        return cls(
            uk_category=uk_category(data["uk_category"], "uk_category"),
            legal_route=legal_route(data["legal_route"], "legal_route"),
            ncmec_class=ncmec_class(data["ncmec_class"], "ncmec_class"),
            project_vic=_member(ProjectVICCategory)(data["project_vic"], "project_vic"),
            interpol_baseline=_boolean(data["interpol_baseline"], "interpol_baseline"),
            mapping_version=version,
        )


@dataclasses.dataclass(frozen=True)
class Condition:
    """Observation fields and the values each may take; fields not named are free."""

    allowed: tuple[tuple[str, frozenset[str]], ...] = ()

    def matches(self, values: t.Mapping[str, str | None]) -> bool:
        return all(values[name] in accepted for name, accepted in self.allowed)


@dataclasses.dataclass(frozen=True)
class Rule(t.Generic[V]):
    when: Condition
    value: V


@dataclasses.dataclass(frozen=True)
class RuleTable(t.Generic[V]):
    """The first rule whose condition holds gives the value, else the default."""

    rules: tuple[Rule[V], ...]
    default: V

    def apply(self, values: t.Mapping[str, str | None]) -> V:
        for rule in self.rules:
            if rule.when.matches(values):
                return rule.value
        return self.default


@dataclasses.dataclass(frozen=True)
class Mapping:
    """One version of the mapping tables, as read from one TOML file."""

    version: str
    sha256: str  # of the file's bytes
    uk_category: RuleTable[UKCategory | None]
    legal_route: RuleTable[LegalRoute | None]
    ncmec_class: RuleTable[NCMECClass | None]
    project_vic: RuleTable[ProjectVICCategory]
    interpol_baseline: RuleTable[bool]

    def derive(self, observations: Observations) -> Derived:
        """Every scheme for `observations`.

        Raises:
            ObservationError: when the observations are inconsistent.
        """
        values = _field_values(check(observations))
        return Derived(
            uk_category=self.uk_category.apply(values),
            legal_route=self.legal_route.apply(values),
            ncmec_class=self.ncmec_class.apply(values),
            project_vic=self.project_vic.apply(values),
            interpol_baseline=self.interpol_baseline.apply(values),
            mapping_version=self.version,
        )

    @classmethod
    def from_toml(cls, text: str | bytes, *, source: str = "mapping") -> "Mapping":
        """Read a mapping from TOML text, such as an operator's own file.

        The version is the file's own `version` key. A published version is accepted
        only with its published bytes, so no other text can claim its name, and
        digit-only versions are reserved for published mappings.

        Raises:
            MappingError: one line naming `source` and what is wrong.
        """
        data = text.encode() if isinstance(text, str) else text
        if len(data) > MAX_MAPPING_BYTES:
            raise MappingError(f"{source}: larger than {MAX_MAPPING_BYTES} bytes")
        digest = hashlib.sha256(data).hexdigest()
        try:
            document = tomllib.loads(data.decode())
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise MappingError(f"{source}: not valid TOML: {error}") from None
        _no_unknown_keys(
            document, {"version", *_SCHEMES, *_SCHEMES_WITH_DEFAULT}, source
        )
        version = document.get("version")
        if not isinstance(version, str) or not _VERSION.fullmatch(version):
            raise MappingError(f"{source}: version must match {_VERSION.pattern}")
        published = PUBLISHED.get(version)
        if published is not None and digest != published:
            raise MappingError(
                f"{source}: mapping {version} was edited without a new version "
                f"(sha256 {digest}, published {published})"
            )
        if published is None and version.isdigit():
            # Vigil ships 1, 2, ...: an operator's "2" would later mean two tables.
            raise MappingError(
                f"{source}: version {version} is reserved for published mappings; "
                "name an operator's mapping like 'local-1'"
            )

        return cls(
            version=version,
            sha256=digest,
            uk_category=_optional_scheme(document, "uk_category", UKCategory, source),
            legal_route=_optional_scheme(document, "legal_route", LegalRoute, source),
            ncmec_class=_optional_scheme(document, "ncmec_class", NCMECClass, source),
            project_vic=_scheme(
                document, "project_vic", _member(ProjectVICCategory), source
            ),
            interpol_baseline=_scheme(document, "interpol_baseline", _boolean, source),
        )


def load_mapping(path: str | os.PathLike[str]) -> Mapping:
    """Read an operator's mapping file (at most MAX_MAPPING_BYTES)."""
    from vigil.media.errors import NotRegularFileError
    from vigil.media.files import read_regular

    try:
        data = read_regular(path, MAX_MAPPING_BYTES)
    except NotRegularFileError as error:
        raise MappingError(f"{path}: {error}") from None
    except OSError as error:
        raise MappingError(f"{path}: cannot read: {error.strerror}") from None
    return Mapping.from_toml(data, source=str(path))


def versions() -> list[str]:
    """The published mapping versions, oldest first."""
    return sorted(PUBLISHED, key=int)


def mapping(version: str | None = None) -> Mapping:
    """A published mapping; None is `CURRENT_VERSION`.

    Raises:
        MappingError: an unknown version (naming the known ones), or a shipped file
            whose bytes differ from its published digest.
    """
    wanted = CURRENT_VERSION if version is None else version
    if wanted not in PUBLISHED:
        known = ", ".join(versions())
        raise MappingError(f"unknown mapping version {wanted!r}; known: {known}")
    return _load_published(wanted)


def derive(observations: Observations, version: str | None = None) -> Derived:
    """Every scheme for `observations` under a published mapping version."""
    return mapping(version).derive(observations)


@functools.cache
def _load_published(version: str) -> Mapping:
    resource = importlib.resources.files(_PACKAGE) / _FOLDER / f"{version}.toml"
    loaded = Mapping.from_toml(resource.read_bytes(), source=f"mappings/{version}.toml")
    if loaded.version != version:
        raise MappingError(f"mappings/{version}.toml declares version {loaded.version}")
    return loaded


def _optional_scheme(
    document: dict[str, t.Any], name: str, kind: type[E], source: str
) -> RuleTable[E | None]:
    """A scheme that is empty (None) when no rule holds; it takes no default."""
    read = _nullable(_member(kind))
    return RuleTable(rules=_rules(document, name, read, source), default=None)


def _scheme(
    document: dict[str, t.Any], name: str, read: Reader[V], source: str
) -> RuleTable[V]:
    """A scheme that always has a value: its `default` is required."""
    section, where = _section(document, name, source)
    if "default" not in section:
        raise MappingError(f"{where} needs a default")
    default = read(section["default"], f"{where} default")
    return RuleTable(rules=_rules(document, name, read, source), default=default)


def _section(
    document: dict[str, t.Any], name: str, source: str
) -> tuple[dict[str, t.Any], str]:
    where = f"{source}: [{name}]"
    section = document.get(name)
    if not isinstance(section, dict):
        raise MappingError(f"{where} is missing or not a table")
    keys = {"rule", "default"} if name in _SCHEMES_WITH_DEFAULT else {"rule"}
    _no_unknown_keys(section, keys, where)
    return section, where


def _rules(
    document: dict[str, t.Any], name: str, read: Reader[V], source: str
) -> tuple[Rule[V], ...]:
    section, where = _section(document, name, source)
    entries = section.get("rule", [])
    if not isinstance(entries, list):
        raise MappingError(f"{where} rule must be an array of tables ([[{name}.rule]])")
    return tuple(
        _rule(entry, read, f"{where} rule {number}")
        for number, entry in enumerate(entries, start=1)
    )


def _rule(entry: object, read: Reader[V], where: str) -> Rule[V]:
    if not isinstance(entry, dict):
        raise MappingError(f"{where} is not a table")
    _no_unknown_keys(entry, {"when", "value"}, where)
    if "value" not in entry:
        raise MappingError(f"{where} needs a value")
    when = _condition(entry.get("when", {}), where)
    return Rule(when=when, value=read(entry["value"], f"{where} value"))


def _condition(when: object, where: str) -> Condition:
    if not isinstance(when, dict):
        raise MappingError(f"{where} when must be a table")
    _no_unknown_keys(when, set(ENUM_FIELDS), f"{where} when")
    allowed = []
    for name, values in sorted(when.items()):
        known = {member.value for member in ENUM_FIELDS[name]}
        if not isinstance(values, list) or not values:
            raise MappingError(f"{where} when.{name} must be a non-empty list")
        for value in values:
            if not isinstance(value, str) or value not in known:
                choices = ", ".join(member.value for member in ENUM_FIELDS[name])
                raise MappingError(
                    f"{where} when.{name}: {value!r} is not one of {choices}"
                )
        allowed.append((name, frozenset(values)))
    return Condition(allowed=tuple(allowed))


def _member(kind: type[E]) -> Reader[E]:
    """Read one member by value; the JSON/TOML type must match (true is not 1)."""

    def read(value: object, where: str) -> E:
        for member in kind:
            if type(value) is type(member.value) and value == member.value:
                return member
        choices = ", ".join(str(member.value) for member in kind)
        raise MappingError(f"{where}: {value!r} is not one of {choices}")

    return read


def _nullable(read: Reader[V]) -> Reader[V | None]:
    def read_or_none(value: object, where: str) -> V | None:
        return None if value is None else read(value, where)

    return read_or_none


def _boolean(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    raise MappingError(f"{where}: {value!r} is not true or false")


def _no_unknown_keys(table: dict[str, t.Any], known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise MappingError(f"{where}: unknown key {unknown[0]!r}")


def _field_values(observations: Observations) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for name in ENUM_FIELDS:
        value = getattr(observations, name)
        values[name] = None if value is None else str(value.value)
    return values


def _plain(value: enum.StrEnum | None) -> str | None:
    return None if value is None else value.value
