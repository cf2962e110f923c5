"""The priority policy: ordered rules over an item's facts, read from a TOML file
(the packaged default follows DESIGN.md). Each placement carries the rule and the
facts that satisfied it, as sentences.
"""

import dataclasses
import hashlib
import math
import operator
import pathlib
import tomllib
import typing as t

from vigil.triage.facts import FACT_NAMES, ItemFacts

MAX_POLICY_BYTES = 1_000_000
DEFAULT_POLICY_FILE = "policy.toml"

_OPS: dict[str, t.Callable[[t.Any, t.Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the rule."""


@dataclasses.dataclass(frozen=True)
class Condition:
    fact: str
    op: str
    value: t.Any
    or_missing: bool = False  # holds too when the item lacks the fact

    def holds(self, facts: ItemFacts) -> bool:
        have = facts.value(self.fact)
        if have is None:
            return self.or_missing
        try:
            return bool(_OPS[self.op](have, self.value))
        except TypeError:
            return False

    def reason(self, facts: ItemFacts) -> str:
        """The fact as it placed the item: `matched: false`, `ai_likelihood:
        none`, `prompt_risk 0.91 >= 0.50`."""
        have = facts.value(self.fact)
        if have is None:
            return f"{self.fact}: none"
        if self.op == "==" or (self.op == "in" and isinstance(have, str)):
            return f"{self.fact}: {_shown(have)}"
        return f"{self.fact} {_shown(have)} {self.op} {_shown(self.value)}"


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    title: str
    when: tuple[Condition, ...]
    any: tuple[Condition, ...] = ()
    order: tuple[str, ...] = ()

    def placement(self, facts: ItemFacts) -> tuple[str, ...] | None:
        """The reasons this rule places the item, or None when it does not."""
        if not all(c.holds(facts) for c in self.when):
            return None
        hit = [c for c in self.any if c.holds(facts)]
        if self.any and not hit:
            return None
        named = {c.fact for c in (*self.when, *hit)}
        # the facts that order it within the rule place it too
        ordering = [
            f"{name}: {_shown(facts.value(name))}"
            for name in (o.lstrip("-") for o in self.order)
            if name not in named and facts.value(name) is not None
        ]
        return (*(c.reason(facts) for c in (*self.when, *hit)), *ordering)

    def sort_key(self, facts: ItemFacts) -> tuple[tuple[int, float], ...]:
        key = []
        for name in self.order:
            descending = name.startswith("-")
            value = facts.value(name.lstrip("-"))
            if value is None:
                key.append((1, 0.0))  # without the fact: after those with it
                continue
            number = float(value)
            key.append((0, -number if descending else number))
        return tuple(key)


@dataclasses.dataclass(frozen=True)
class Placement:
    rank: int  # the rule's position in the policy
    rule: Rule
    reasons: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Policy:
    version: str
    rules: tuple[Rule, ...]
    qc_sample_rate: float
    source: str  # the file it came from, for people
    sha256: str

    def place(self, facts: ItemFacts) -> Placement | None:
        """The first rule that holds for the item, with the reasons."""
        for rank, rule in enumerate(self.rules):
            reasons = rule.placement(facts)
            if reasons is not None:
                return Placement(rank, rule, reasons)
        return None

    def is_qc_sample(self, sha256: str) -> bool:
        """Drawn for quality control: the same items every time, about
        `qc_sample_rate` of them."""
        if self.qc_sample_rate <= 0:
            return False
        draw = int(hashlib.sha256(b"vigil-qc:" + sha256.encode()).hexdigest()[:8], 16)
        return draw < self.qc_sample_rate * 2**32

    def identity(self) -> dict[str, str]:
        return {"version": self.version, "sha256": self.sha256, "source": self.source}


def default_policy() -> Policy:
    from importlib.resources import files

    text = (files("vigil.triage") / DEFAULT_POLICY_FILE).read_bytes()
    return parse_policy(text, source="default")


def load_policy(path: pathlib.Path) -> Policy:
    """Raises:
    PolicyError: unreadable, too large, not TOML, or a rule that does not check."""
    from vigil.media.errors import NotRegularFileError
    from vigil.media.files import read_regular

    try:
        data = read_regular(path, MAX_POLICY_BYTES)
    except NotRegularFileError as exc:
        raise PolicyError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise PolicyError(f"{path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(f"{path}: over {MAX_POLICY_BYTES} bytes")
    return parse_policy(data, source=str(path))


def parse_policy(data: bytes, source: str) -> Policy:
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{source}: not a TOML policy: {exc}") from exc
    rules = table.get("rule")
    if not isinstance(rules, list) or not rules:
        raise PolicyError(f"{source}: no [[rule]] tables")
    rate = table.get("qc_sample_rate", 0.0)
    if (
        isinstance(rate, bool)
        or not isinstance(rate, int | float)
        or not 0 <= rate <= 1
    ):
        raise PolicyError(f"{source}: qc_sample_rate must be a number from 0 to 1")
    parsed = tuple(_rule(r, source, i) for i, r in enumerate(rules, 1))
    names = [r.name for r in parsed]
    if len(set(names)) != len(names):
        raise PolicyError(f"{source}: rule names repeat")
    return Policy(
        version=str(table.get("version", "")),
        rules=parsed,
        qc_sample_rate=float(rate),
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _rule(data: t.Any, source: str, number: int) -> Rule:
    where = f"{source}: rule {number}"
    if not isinstance(data, dict):
        raise PolicyError(f"{where}: not a table")
    unknown = set(data) - {"name", "title", "when", "any", "order"}
    if unknown:
        raise PolicyError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise PolicyError(f"{where}: needs a name")
    where = f"{source}: rule {name!r}"
    order = data.get("order", [])
    if not isinstance(order, list) or not all(isinstance(o, str) for o in order):
        raise PolicyError(f"{where}: order must be a list of fact names")
    for fact in order:
        if fact.lstrip("-") not in FACT_NAMES:
            raise PolicyError(f"{where}: unknown fact {fact.lstrip('-')!r} in order")
    return Rule(
        name=name,
        title=str(data.get("title", name)),
        when=_conditions(data.get("when", []), where),
        any=_conditions(data.get("any", []), where),
        order=tuple(order),
    )


def _conditions(data: t.Any, where: str) -> tuple[Condition, ...]:
    if not isinstance(data, list):
        raise PolicyError(f"{where}: conditions must be a list of tables")
    found = []
    for item in data:
        if not isinstance(item, dict):
            raise PolicyError(f"{where}: a condition must be a table")
        unknown = set(item) - {"fact", "op", "value", "or_missing"}
        if unknown:
            raise PolicyError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        fact, op = item.get("fact"), item.get("op", "==")
        if fact not in FACT_NAMES:
            known = ", ".join(sorted(FACT_NAMES))
            raise PolicyError(f"{where}: unknown fact {fact!r} (known: {known})")
        if op not in _OPS:
            raise PolicyError(f"{where}: unknown op {op!r} (known: {', '.join(_OPS)})")
        if "value" not in item:
            raise PolicyError(f"{where}: condition on {fact} needs a value")
        value = item["value"]
        if op in ("in", "not in") and not isinstance(value, list):
            raise PolicyError(f"{where}: {op!r} on {fact} needs a list")
        if isinstance(value, float) and not math.isfinite(value):
            raise PolicyError(f"{where}: {fact} value must be finite")
        found.append(
            Condition(
                t.cast(str, fact),
                t.cast(str, op),
                tuple(value) if isinstance(value, list) else value,
                bool(item.get("or_missing", False)),
            )
        )
    return tuple(found)


def _shown(value: t.Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)
