"""The assessment taxonomy: what an analyst records about one item, once.

Observations are raw facts (who is shown, the most severe act, how it looks, whether it
is AI-generated, the outcome). Every legal or industry scheme is derived from them by
the versioned mapping tables in `vigil.review.mappings`, never keyed by hand.
"""

import dataclasses
import enum
import typing as t


class ObservationError(ValueError):
    """A set of observations that cannot be read or is inconsistent (one line)."""


class ChildDepicted(enum.StrEnum):
    YES = "yes"
    NO = "no"
    AGE_IN_QUESTION = "age_in_question"


class AgeBand(enum.StrEnum):
    """The youngest apparent age shown, in years."""

    AGE_0_2 = "0-2"
    AGE_3_6 = "3-6"
    AGE_7_10 = "7-10"
    AGE_11_13 = "11-13"
    AGE_14_15 = "14-15"
    AGE_16_17 = "16-17"


class Sex(enum.StrEnum):
    """The sex of the children shown."""

    FEMALE = "female"
    MALE = "male"
    BOTH = "both"
    UNCLEAR = "unclear"


class Act(enum.StrEnum):
    """The most severe act shown, as a UK Sentencing Council category."""

    A = "A"
    B = "B"
    C = "C"
    NONE = "none"


class Realism(enum.StrEnum):
    """What the image looks like, whatever made it."""

    PHOTOGRAPHIC = "photographic"
    PHOTOREALISTIC_SYNTHETIC = "photorealistic_synthetic"
    NON_PHOTOGRAPHIC = "non_photographic"  # drawn, CGI, cartoon


class AIGenerated(enum.StrEnum):
    YES = "yes"
    NO = "no"
    SUSPECTED = "suspected"


class Outcome(enum.StrEnum):
    CRIMINAL = "criminal"
    NOT_CRIMINAL = "not_criminal"


class NotCriminalReason(enum.StrEnum):
    AGE_IN_QUESTION = "age_in_question"
    SUSPECTED_ADULT = "suspected_adult"
    KNOWN_ADULT = "known_adult"
    EXTREME_ADULT_PORNOGRAPHY = "extreme_adult_pornography"
    CHILD_NO_SEXUAL_ACTIVITY = "child_no_sexual_activity"
    ADULT_NO_SEXUAL_ACTIVITY = "adult_no_sexual_activity"
    NON_PHOTOGRAPHIC_IMAGERY = "non_photographic_imagery"
    OFF_REMIT = "off_remit"


#: The fields whose values come from a fixed vocabulary; mapping tables may test them.
ENUM_FIELDS: dict[str, type[enum.StrEnum]] = {
    "child": ChildDepicted,
    "age_band": AgeBand,
    "sex": Sex,
    "act": Act,
    "realism": Realism,
    "ai_generated": AIGenerated,
    "outcome": Outcome,
    "reason": NotCriminalReason,
}
_NULLABLE_ENUM_FIELDS = frozenset({"age_band", "sex", "reason"})
_SEXUAL_ACTS = frozenset({Act.A, Act.B, Act.C})
_ADULT_REASONS = frozenset(
    {
        NotCriminalReason.SUSPECTED_ADULT,
        NotCriminalReason.KNOWN_ADULT,
        NotCriminalReason.EXTREME_ADULT_PORNOGRAPHY,
        NotCriminalReason.ADULT_NO_SEXUAL_ACTIVITY,
    }
)


@dataclasses.dataclass(frozen=True)
class Observations:
    """What an analyst saw in one item. Consistency is checked by `problems()`."""

    child: ChildDepicted
    age_band: AgeBand | None
    sex: Sex | None
    act: Act
    realism: Realism
    ai_generated: AIGenerated
    ai_evidence: str = ""  # what the AI answer rests on
    grid: bool = False  # a grid or collage of several images
    self_generated: bool | None = None
    subjects: int | None = None
    outcome: Outcome = Outcome.NOT_CRIMINAL
    reason: NotCriminalReason | None = None
    note: str = ""

    def __post_init__(self) -> None:
        # A plain string or a typo must fail here, not in a mapping much later.
        for name, kind in ENUM_FIELDS.items():
            value = getattr(self, name)
            if value is None and name in _NULLABLE_ENUM_FIELDS:
                continue
            if not isinstance(value, kind):
                raise ObservationError(
                    f"{name} must be a {kind.__name__}, not {value!r}"
                )

    def problems(self) -> list[str]:
        """One line for each inconsistency; an empty list when the set is usable."""
        found: list[str] = []
        criminal = self.outcome is Outcome.CRIMINAL
        if criminal:
            # Indecent images of children and prohibited images need a child.
            if self.child is not ChildDepicted.YES:
                found.append("a criminal outcome needs child 'yes'")
            # The outcome rests on an indecent act; 'none' is never criminal.
            if self.act not in _SEXUAL_ACTS:
                found.append("a criminal outcome needs act A, B or C")
            if self.reason is not None:
                found.append("a criminal outcome takes no not-criminal reason")
        elif self.reason is None:
            # Every not-criminal decision is counted by its reason.
            found.append("a not-criminal outcome needs a reason")
        if self.child is ChildDepicted.YES:
            # Age decides NCMEC class and INTERPOL baseline; sex may be 'unclear'.
            if self.age_band is None:
                found.append("child 'yes' needs an age band")
            if self.sex is None:
                found.append("child 'yes' needs a sex ('unclear' if unsure)")
        if self.child is ChildDepicted.NO:
            # No child shown: no child's age or sex, and the Sentencing Council
            # categories describe images of children only.
            if self.age_band is not None:
                found.append("child 'no' takes no age band")
            if self.sex is not None:
                found.append("child 'no' takes no sex")
            if self.act is not Act.NONE:
                found.append("child 'no' takes act 'none'")
            if self.self_generated:
                found.append("self-generated imagery needs a child or age in question")
        # With age in question an apparent band and sex may be recorded, or not.
        found.extend(self._reason_problems())
        if self.self_generated and self.realism is Realism.NON_PHOTOGRAPHIC:
            # Self-generated means taken by the child, so never drawn or CGI.
            found.append("self-generated imagery cannot be non-photographic")
        if self.ai_generated is not AIGenerated.NO and not self.ai_evidence.strip():
            # 'yes' and 'suspected' must say what they rest on (a reviewer checks).
            found.append(f"ai_generated '{self.ai_generated}' needs ai_evidence")
        # ai_generated 'yes' or 'suspected' with realism 'photographic' is allowed:
        # realism records what the image looks like, not how it was made.
        if self.subjects is not None and self.subjects < 1:
            found.append("subjects must be at least 1 when given")
        return found

    def _reason_problems(self) -> list[str]:
        reason = self.reason
        found: list[str] = []
        if reason is NotCriminalReason.AGE_IN_QUESTION:
            if self.child is not ChildDepicted.AGE_IN_QUESTION:
                found.append("reason 'age_in_question' needs child 'age_in_question'")
        elif reason is NotCriminalReason.CHILD_NO_SEXUAL_ACTIVITY:
            # A child with an A/B/C act is indecent: a different reason applies.
            if self.child is not ChildDepicted.YES:
                found.append("reason 'child_no_sexual_activity' needs child 'yes'")
            if self.act is not Act.NONE:
                found.append("reason 'child_no_sexual_activity' needs act 'none'")
        elif reason is NotCriminalReason.NON_PHOTOGRAPHIC_IMAGERY:
            # Photorealistic synthetic images are pseudo-photographs, not this.
            if self.realism is not Realism.NON_PHOTOGRAPHIC:
                found.append(
                    "reason 'non_photographic_imagery' needs realism 'non_photographic'"
                )
        elif reason in _ADULT_REASONS and self.child is ChildDepicted.YES:
            found.append(f"reason '{reason}' contradicts child 'yes'")
        return found

    def as_dict(self) -> dict[str, str | int | bool | None]:
        """Plain JSON types: enums as their strings, every field present."""
        data: dict[str, str | int | bool | None] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            data[field.name] = value.value if isinstance(value, enum.Enum) else value
        return data

    @classmethod
    def from_dict(cls, data: t.Mapping[str, object]) -> "Observations":
        """Read `as_dict()` output; any unknown key or bad value is an error.

        Raises:
            ObservationError: naming the field and the values it allows.
        """
        if not isinstance(data, t.Mapping):
            raise ObservationError("observations must be a JSON object")
        unknown = sorted(set(data) - _FIELD_NAMES)
        if unknown:
            known = ", ".join(sorted(_FIELD_NAMES))
            raise ObservationError(f"unknown field {unknown[0]!r}; known: {known}")
        missing = [name for name in _REQUIRED_FIELDS if name not in data]
        if missing:
            raise ObservationError(f"missing field {missing[0]!r}")
        values = {name: _read_field(name, value) for name, value in data.items()}
        return cls(**values)  # type: ignore[arg-type]


def check(observations: Observations) -> Observations:
    """Return `observations` unchanged when consistent.

    Raises:
        ObservationError: listing every problem, separated by semicolons.
    """
    found = observations.problems()
    if found:
        raise ObservationError("inconsistent observations: " + "; ".join(found))
    return observations


_FIELD_NAMES = frozenset(field.name for field in dataclasses.fields(Observations))
_REQUIRED_FIELDS = tuple(
    field.name
    for field in dataclasses.fields(Observations)
    if field.default is dataclasses.MISSING
)
_TEXT_FIELDS = frozenset({"ai_evidence", "note"})
_ENUM_VALUES = {
    name: frozenset(member.value for member in kind)
    for name, kind in ENUM_FIELDS.items()
}


def _read_field(name: str, value: object) -> object:
    """One JSON value as the field's type; bool is never accepted as an int."""
    kind = ENUM_FIELDS.get(name)
    if kind is not None:
        if value is None and name in _NULLABLE_ENUM_FIELDS:
            return None
        if isinstance(value, str) and value in _ENUM_VALUES[name]:
            return kind(value)
        raise ObservationError(_not_one_of(name, value, kind))
    if name in _TEXT_FIELDS:
        if isinstance(value, str):
            return value
        raise ObservationError(f"{name}: {value!r} is not a string")
    if name == "grid":
        if isinstance(value, bool):
            return value
        raise ObservationError(f"grid: {value!r} is not true or false")
    if name == "self_generated":
        if value is None or isinstance(value, bool):
            return value
        raise ObservationError(f"self_generated: {value!r} is not true, false or null")
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value  # subjects
    raise ObservationError(f"{name}: {value!r} is not a whole number or null")


def _not_one_of(name: str, value: object, kind: type[enum.StrEnum]) -> str:
    allowed = ", ".join(member.value for member in kind)
    if name in _NULLABLE_ENUM_FIELDS:
        allowed += " (or null)"
    return f"{name}: {value!r} is not one of {allowed}"
