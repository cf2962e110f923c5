"""The console's one-key decisions: each key fills the observations a grader would
otherwise key by hand; the form's selects (age band, sex, realism, AI) fill the rest.
The keys are shown on every item page (`?`)."""

import dataclasses
import typing as t

from vigil.review.taxonomy import Observations


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    key: str
    label: str
    fields: dict[str, str]
    uses_child_fields: bool  # takes the age band and sex selects


PRESETS: tuple[Preset, ...] = (
    Preset("criminal_a", "1", "Criminal, category A",
           {"child": "yes", "act": "A", "outcome": "criminal"}, True),
    Preset("criminal_b", "2", "Criminal, category B",
           {"child": "yes", "act": "B", "outcome": "criminal"}, True),
    Preset("criminal_c", "3", "Criminal, category C",
           {"child": "yes", "act": "C", "outcome": "criminal"}, True),
    Preset("child_no_sexual_activity", "c", "Child, no sexual activity",
           {"child": "yes", "act": "none", "outcome": "not_criminal",
            "reason": "child_no_sexual_activity"}, True),
    Preset("age_in_question", "q", "Age in question",
           {"child": "age_in_question", "act": "none", "outcome": "not_criminal",
            "reason": "age_in_question"}, False),
    Preset("adult", "a", "Suspected adult",
           {"child": "no", "act": "none", "outcome": "not_criminal",
            "reason": "suspected_adult"}, False),
    Preset("non_photographic", "d", "Drawn / CGI, not criminal",
           {"child": "no", "act": "none", "outcome": "not_criminal",
            "realism": "non_photographic",
            "reason": "non_photographic_imagery"}, False),
    Preset("off_remit", "n", "No child, off remit",
           {"child": "no", "act": "none", "outcome": "not_criminal",
            "reason": "off_remit"}, False),
)  # fmt: skip
BY_NAME = {p.name: p for p in PRESETS}
FORM_FIELDS = ("age_band", "sex", "realism", "ai_generated", "ai_evidence")


def observations(preset_name: str, form: t.Mapping[str, t.Any]) -> Observations:
    """The observations of one decision.

    Raises:
        ObservationError: an unknown decision, or a set that does not check.
        KeyError: never (unknown names are ObservationError).
    """
    from vigil.review.taxonomy import ObservationError

    preset = BY_NAME.get(preset_name)
    if preset is None:
        raise ObservationError(f"unknown decision {preset_name!r}")
    values: dict[str, t.Any] = {
        "age_band": None,
        "sex": None,
        "realism": _text(form, "realism") or "photographic",
        "ai_generated": _text(form, "ai_generated") or "no",
        "ai_evidence": _text(form, "ai_evidence"),
        "note": _text(form, "note"),
        "grid": _text(form, "grid") == "on",
    }
    if preset.uses_child_fields:
        values["age_band"] = _text(form, "age_band") or None
        values["sex"] = _text(form, "sex") or None
    values.update(preset.fields)
    if values["ai_generated"] != "no" and not values["ai_evidence"]:
        values["ai_evidence"] = "analyst's judgement"
    return Observations.from_dict(values)


def _text(form: t.Mapping[str, t.Any], key: str) -> str:
    value = form.get(key)
    return value.strip()[:500] if isinstance(value, str) else ""
