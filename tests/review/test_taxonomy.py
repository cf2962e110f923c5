"""The assessment taxonomy: fixed vocabularies, consistency rules, and a strict JSON
form that round-trips exactly."""

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.review.taxonomy import (
    Act,
    AgeBand,
    AIGenerated,
    ChildDepicted,
    NotCriminalReason,
    ObservationError,
    Observations,
    Outcome,
    Realism,
    Sex,
    check,
)

# A consistent criminal set: a child aged 7-10, a category C photograph.
BASE = Observations(
    child=ChildDepicted.YES,
    age_band=AgeBand.AGE_7_10,
    sex=Sex.FEMALE,
    act=Act.C,
    realism=Realism.PHOTOGRAPHIC,
    ai_generated=AIGenerated.NO,
    outcome=Outcome.CRIMINAL,
)
ADULT = Observations(
    child=ChildDepicted.NO,
    age_band=None,
    sex=None,
    act=Act.NONE,
    realism=Realism.PHOTOGRAPHIC,
    ai_generated=AIGenerated.NO,
    reason=NotCriminalReason.KNOWN_ADULT,
)


def test_vocabularies_are_the_documented_strings() -> None:
    assert [m.value for m in ChildDepicted] == ["yes", "no", "age_in_question"]
    assert [m.value for m in AgeBand] == [
        "0-2",
        "3-6",
        "7-10",
        "11-13",
        "14-15",
        "16-17",
    ]
    assert [m.value for m in Sex] == ["female", "male", "both", "unclear"]
    assert [m.value for m in Act] == ["A", "B", "C", "none"]
    assert [m.value for m in Realism] == [
        "photographic",
        "photorealistic_synthetic",
        "non_photographic",
    ]
    assert [m.value for m in AIGenerated] == ["yes", "no", "suspected"]
    assert [m.value for m in Outcome] == ["criminal", "not_criminal"]
    assert [m.value for m in NotCriminalReason] == [
        "age_in_question",
        "suspected_adult",
        "known_adult",
        "extreme_adult_pornography",
        "child_no_sexual_activity",
        "adult_no_sexual_activity",
        "non_photographic_imagery",
        "off_remit",
    ]


def test_defaults() -> None:
    minimal = Observations(
        child=ChildDepicted.NO,
        age_band=None,
        sex=None,
        act=Act.NONE,
        realism=Realism.NON_PHOTOGRAPHIC,
        ai_generated=AIGenerated.NO,
    )
    assert minimal.outcome is Outcome.NOT_CRIMINAL
    assert (minimal.reason, minimal.grid, minimal.self_generated) == (None, False, None)
    assert (minimal.subjects, minimal.ai_evidence, minimal.note) == (None, "", "")


@pytest.mark.parametrize(
    "observations",
    [
        BASE,
        ADULT,
        # realism is what it looks like: AI-made and photographic is allowed
        dataclasses.replace(BASE, ai_generated=AIGenerated.YES, ai_evidence="C2PA"),
        dataclasses.replace(
            BASE, ai_generated=AIGenerated.SUSPECTED, ai_evidence="artefacts"
        ),
        dataclasses.replace(
            BASE, realism=Realism.NON_PHOTOGRAPHIC, act=Act.B, subjects=2, grid=True
        ),
        dataclasses.replace(BASE, self_generated=True, age_band=AgeBand.AGE_14_15),
        dataclasses.replace(
            BASE,
            child=ChildDepicted.AGE_IN_QUESTION,
            age_band=None,
            sex=None,
            outcome=Outcome.NOT_CRIMINAL,
            reason=NotCriminalReason.AGE_IN_QUESTION,
        ),
        dataclasses.replace(
            BASE,
            child=ChildDepicted.AGE_IN_QUESTION,
            age_band=AgeBand.AGE_16_17,
            outcome=Outcome.NOT_CRIMINAL,
            reason=NotCriminalReason.SUSPECTED_ADULT,
        ),
        dataclasses.replace(
            BASE,
            act=Act.NONE,
            outcome=Outcome.NOT_CRIMINAL,
            reason=NotCriminalReason.CHILD_NO_SEXUAL_ACTIVITY,
        ),
        dataclasses.replace(
            BASE,
            realism=Realism.NON_PHOTOGRAPHIC,
            outcome=Outcome.NOT_CRIMINAL,
            reason=NotCriminalReason.NON_PHOTOGRAPHIC_IMAGERY,
        ),
        dataclasses.replace(
            BASE, outcome=Outcome.NOT_CRIMINAL, reason=NotCriminalReason.OFF_REMIT
        ),
    ],
)
def test_consistent_sets_have_no_problems(observations: Observations) -> None:
    assert observations.problems() == []
    assert check(observations) is observations


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"child": ChildDepicted.AGE_IN_QUESTION}, "a criminal outcome needs child"),
        ({"act": Act.NONE}, "a criminal outcome needs act A, B or C"),
        ({"reason": NotCriminalReason.OFF_REMIT}, "takes no not-criminal reason"),
        ({"outcome": Outcome.NOT_CRIMINAL}, "a not-criminal outcome needs a reason"),
        ({"age_band": None}, "child 'yes' needs an age band"),
        ({"sex": None}, "child 'yes' needs a sex"),
        ({"subjects": 0}, "subjects must be at least 1"),
        ({"ai_generated": AIGenerated.YES}, "ai_generated 'yes' needs ai_evidence"),
        (
            {"ai_generated": AIGenerated.SUSPECTED, "ai_evidence": "  "},
            "ai_generated 'suspected' needs ai_evidence",
        ),
        (
            {"self_generated": True, "realism": Realism.NON_PHOTOGRAPHIC},
            "self-generated imagery cannot be non-photographic",
        ),
        (
            {"outcome": Outcome.NOT_CRIMINAL, "reason": NotCriminalReason.KNOWN_ADULT},
            "reason 'known_adult' contradicts child 'yes'",
        ),
        (
            {
                "outcome": Outcome.NOT_CRIMINAL,
                "reason": NotCriminalReason.AGE_IN_QUESTION,
            },
            "reason 'age_in_question' needs child 'age_in_question'",
        ),
        (
            {
                "outcome": Outcome.NOT_CRIMINAL,
                "reason": NotCriminalReason.CHILD_NO_SEXUAL_ACTIVITY,
            },
            "reason 'child_no_sexual_activity' needs act 'none'",
        ),
        (
            {
                "outcome": Outcome.NOT_CRIMINAL,
                "reason": NotCriminalReason.NON_PHOTOGRAPHIC_IMAGERY,
            },
            "needs realism 'non_photographic'",
        ),
    ],
)
def test_problems(changes: dict[str, object], expected: str) -> None:
    found = dataclasses.replace(BASE, **changes).problems()  # type: ignore[arg-type]
    assert len(found) == 1, found
    assert expected in found[0]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"age_band": AgeBand.AGE_16_17}, "child 'no' takes no age band"),
        ({"sex": Sex.MALE}, "child 'no' takes no sex"),
        ({"act": Act.B}, "child 'no' takes act 'none'"),
        ({"self_generated": True}, "self-generated imagery needs a child"),
        (
            {"reason": NotCriminalReason.CHILD_NO_SEXUAL_ACTIVITY},
            "reason 'child_no_sexual_activity' needs child 'yes'",
        ),
    ],
)
def test_problems_when_no_child(changes: dict[str, object], expected: str) -> None:
    found = dataclasses.replace(ADULT, **changes).problems()  # type: ignore[arg-type]
    assert len(found) == 1, found
    assert expected in found[0]


def test_check_lists_every_problem() -> None:
    broken = dataclasses.replace(BASE, age_band=None, subjects=0)
    with pytest.raises(ObservationError) as raised:
        check(broken)
    message = str(raised.value)
    assert "\n" not in message
    assert "needs an age band" in message and "subjects must be at least 1" in message


def test_plain_strings_are_refused_at_construction() -> None:
    with pytest.raises(ObservationError, match="child must be a ChildDepicted"):
        dataclasses.replace(BASE, child="yes")  # type: ignore[arg-type]


def test_as_dict_is_plain_json() -> None:
    data = BASE.as_dict()
    assert data == {
        "child": "yes",
        "age_band": "7-10",
        "sex": "female",
        "act": "C",
        "realism": "photographic",
        "ai_generated": "no",
        "ai_evidence": "",
        "grid": False,
        "self_generated": None,
        "subjects": None,
        "outcome": "criminal",
        "reason": None,
        "note": "",
    }
    assert all(type(value) in {str, bool, type(None)} for value in data.values())


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"child": "maybe"},
            "child: 'maybe' is not one of yes, no, age_in_question",
        ),
        (
            {"age_band": "18+"},
            "age_band: '18+' is not one of 0-2, 3-6, 7-10, 11-13, 14-15, 16-17 "
            "(or null)",
        ),
        ({"act": "a"}, "act: 'a' is not one of A, B, C, none"),
        ({"act": None}, "act: None is not one of A, B, C, none"),
        ({"reason": ["off_remit"]}, "reason: ['off_remit'] is not one of"),
        ({"outcome": "Criminal"}, "outcome: 'Criminal' is not one of criminal, "),
        ({"grid": 1}, "grid: 1 is not true or false"),
        ({"self_generated": "yes"}, "self_generated: 'yes' is not true, false or"),
        ({"subjects": True}, "subjects: True is not a whole number or null"),
        ({"subjects": "2"}, "subjects: '2' is not a whole number or null"),
        ({"note": 5}, "note: 5 is not a string"),
        ({"colour": "red"}, "unknown field 'colour'; known: act, age_band, "),
    ],
)
def test_from_dict_refuses_bad_values(
    changes: dict[str, object], expected: str
) -> None:
    data = {**BASE.as_dict(), **changes}
    with pytest.raises(ObservationError) as raised:
        Observations.from_dict(data)
    assert str(raised.value).startswith(expected)
    assert "\n" not in str(raised.value)


def test_from_dict_refuses_missing_required_fields() -> None:
    data = BASE.as_dict()
    del data["realism"]
    with pytest.raises(ObservationError, match="missing field 'realism'"):
        Observations.from_dict(data)


def test_from_dict_fills_defaults() -> None:
    data = {
        "child": "no",
        "age_band": None,
        "sex": None,
        "act": "none",
        "realism": "photographic",
        "ai_generated": "no",
        "reason": "known_adult",
    }
    assert Observations.from_dict(data) == ADULT


def test_from_dict_refuses_a_non_object() -> None:
    with pytest.raises(ObservationError, match="must be a JSON object"):
        Observations.from_dict(["yes"])  # type: ignore[arg-type]


def _optional(values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | values


OBSERVATIONS = st.builds(
    Observations,
    child=st.sampled_from(ChildDepicted),
    age_band=_optional(st.sampled_from(AgeBand)),
    sex=_optional(st.sampled_from(Sex)),
    act=st.sampled_from(Act),
    realism=st.sampled_from(Realism),
    ai_generated=st.sampled_from(AIGenerated),
    ai_evidence=st.text(max_size=40),
    grid=st.booleans(),
    self_generated=_optional(st.booleans()),
    subjects=_optional(st.integers(min_value=-5, max_value=10**6)),
    outcome=st.sampled_from(Outcome),
    reason=_optional(st.sampled_from(NotCriminalReason)),
    note=st.text(max_size=40),
)


@given(OBSERVATIONS)
def test_round_trip(observations: Observations) -> None:
    assert Observations.from_dict(observations.as_dict()) == observations
    through_json = json.loads(json.dumps(observations.as_dict()))
    assert Observations.from_dict(through_json) == observations
