"""The mapping tables: every scheme derived from one set of observations, a shipped
file that never changes without a new version, and old versions that derive their old
values again."""

import dataclasses
import hashlib
import importlib.resources
import itertools
import pathlib

import pytest

from vigil.review.mappings import (
    CURRENT_VERSION,
    MAX_MAPPING_BYTES,
    PUBLISHED,
    Derived,
    LegalRoute,
    Mapping,
    MappingError,
    NCMECClass,
    ProjectVICCategory,
    UKCategory,
    derive,
    load_mapping,
    mapping,
    versions,
)
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
)

PREPUBESCENT = {AgeBand.AGE_0_2, AgeBand.AGE_3_6, AgeBand.AGE_7_10, AgeBand.AGE_11_13}
SHIPPED = importlib.resources.files("vigil.review") / "mappings"


def _criminal(**changes: object) -> Observations:
    """A criminal category A photograph of a child aged 3-6, with `changes`."""
    base = Observations(
        child=ChildDepicted.YES,
        age_band=AgeBand.AGE_3_6,
        sex=Sex.UNCLEAR,
        act=Act.A,
        realism=Realism.PHOTOGRAPHIC,
        ai_generated=AIGenerated.NO,
        outcome=Outcome.CRIMINAL,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _not_criminal(reason: NotCriminalReason, **changes: object) -> Observations:
    return _criminal(outcome=Outcome.NOT_CRIMINAL, reason=reason, **changes)


ADULT = {"child": ChildDepicted.NO, "age_band": None, "sex": None, "act": Act.NONE}
AI = {"ai_generated": AIGenerated.YES, "ai_evidence": "generator metadata"}
SUSPECTED = {"ai_generated": AIGenerated.SUSPECTED, "ai_evidence": "hand artefacts"}
SYNTHETIC = Realism.PHOTOREALISTIC_SYNTHETIC
DRAWN = Realism.NON_PHOTOGRAPHIC
PHOTO = LegalRoute.POCA_1978_INDECENT_PHOTOGRAPH
PSEUDO = LegalRoute.POCA_1978_PSEUDO_PHOTOGRAPH
PROHIBITED = LegalRoute.CJA_2009_PROHIBITED_IMAGE

# uk_category, legal_route, ncmec_class, project_vic, interpol_baseline
Expected = tuple[str | None, str | None, str | None, int, bool]
CASES: dict[str, tuple[Observations, Expected]] = {
    "ai synthetic 7-10 C": (
        _criminal(realism=SYNTHETIC, age_band=AgeBand.AGE_7_10, act=Act.C, **AI),
        ("C", PSEUDO, "A2", 1, False),
    ),
    "real photograph 3-6 A": (_criminal(), ("A", PHOTO, "A1", 1, True)),
    "suspected ai photograph 3-6 A": (
        _criminal(**SUSPECTED),
        ("A", PHOTO, "A1", 1, False),
    ),
    "ai photographic-looking 3-6 A": (_criminal(**AI), ("A", PSEUDO, "A1", 1, False)),
    "synthetic, not declared ai": (
        _criminal(realism=SYNTHETIC),
        ("A", PSEUDO, "A1", 1, False),
    ),
    "drawn 7-10 B": (
        _criminal(realism=DRAWN, act=Act.B, age_band=AgeBand.AGE_7_10),
        ("B", PROHIBITED, "A1", 3, False),
    ),
    "photograph 14-15 B": (
        _criminal(act=Act.B, age_band=AgeBand.AGE_14_15),
        ("B", PHOTO, "B1", 1, False),
    ),
    "photograph 16-17 C self-generated": (
        _criminal(act=Act.C, age_band=AgeBand.AGE_16_17, self_generated=True),
        ("C", PHOTO, "B2", 1, False),
    ),
    "photograph 11-13 B": (
        _criminal(act=Act.B, age_band=AgeBand.AGE_11_13, subjects=2),
        ("B", PHOTO, "A1", 1, True),
    ),
    "photograph 0-2 C": (
        _criminal(act=Act.C, age_band=AgeBand.AGE_0_2),
        ("C", PHOTO, "A2", 1, False),
    ),
    "child, no sexual activity": (
        _not_criminal(NotCriminalReason.CHILD_NO_SEXUAL_ACTIVITY, act=Act.NONE),
        (None, None, None, 2, False),
    ),
    "age in question": (
        _not_criminal(
            NotCriminalReason.AGE_IN_QUESTION,
            child=ChildDepicted.AGE_IN_QUESTION,
            age_band=AgeBand.AGE_16_17,
        ),
        (None, None, None, 2, False),
    ),
    "drawn child below the threshold": (
        _not_criminal(NotCriminalReason.NON_PHOTOGRAPHIC_IMAGERY, realism=DRAWN),
        (None, None, None, 2, False),
    ),
    "child, off remit": (
        _not_criminal(NotCriminalReason.OFF_REMIT),
        (None, None, None, 2, False),
    ),
    "known adult": (
        _not_criminal(NotCriminalReason.KNOWN_ADULT, **ADULT),
        (None, None, None, 0, False),
    ),
    "extreme adult pornography, ai": (
        _not_criminal(NotCriminalReason.EXTREME_ADULT_PORNOGRAPHY, **ADULT, **AI),
        (None, None, None, 0, False),
    ),
}


@pytest.mark.parametrize(("observations", "expected"), CASES.values(), ids=CASES)
def test_every_scheme(observations: Observations, expected: Expected) -> None:
    uk_category, legal_route, ncmec_class, project_vic, baseline = expected
    assert derive(observations) == Derived(
        uk_category=None if uk_category is None else UKCategory(uk_category),
        legal_route=None if legal_route is None else LegalRoute(legal_route),
        ncmec_class=None if ncmec_class is None else NCMECClass(ncmec_class),
        project_vic=ProjectVICCategory(project_vic),
        interpol_baseline=baseline,
        mapping_version="1",
    )


def _every_consistent_set() -> list[Observations]:
    """Every combination of the fields the tables read, kept when consistent."""
    found = []
    for child, band, act, realism, ai, outcome, reason in itertools.product(
        ChildDepicted,
        [None, *AgeBand],
        Act,
        Realism,
        AIGenerated,
        Outcome,
        [None, *NotCriminalReason],
    ):
        observations = Observations(
            child=child,
            age_band=band,
            sex=Sex.UNCLEAR if child is ChildDepicted.YES else None,
            act=act,
            realism=realism,
            ai_generated=ai,
            ai_evidence="" if ai is AIGenerated.NO else "evidence",
            outcome=outcome,
            reason=reason,
        )
        if not observations.problems():
            found.append(observations)
    return found


def test_invariants_over_every_consistent_set() -> None:
    consistent = _every_consistent_set()
    assert len(consistent) > 500
    baseline = 0
    for observations in consistent:
        derived = derive(observations)
        criminal = observations.outcome is Outcome.CRIMINAL
        assert (derived.legal_route is not None) is criminal
        assert (derived.ncmec_class is not None) is criminal
        expected_category = observations.act.value if criminal else None
        assert derived.uk_category == expected_category
        if criminal:
            letter = "A" if observations.age_band in PREPUBESCENT else "B"
            assert str(derived.ncmec_class).startswith(letter)
            drawn = observations.realism is Realism.NON_PHOTOGRAPHIC
            assert derived.project_vic == (3 if drawn else 1)
            assert (derived.legal_route is PROHIBITED) is drawn
        elif observations.child is ChildDepicted.NO:
            assert derived.project_vic == ProjectVICCategory.NON_PERTINENT
        else:
            assert derived.project_vic == ProjectVICCategory.CHILD_EXPLOITIVE
        if derived.interpol_baseline:
            baseline += 1
            assert observations.ai_generated is AIGenerated.NO
            assert observations.realism is Realism.PHOTOGRAPHIC
            assert observations.age_band in PREPUBESCENT
            assert derived.uk_category in {UKCategory.A, UKCategory.B}
        if criminal and observations.ai_generated is AIGenerated.YES and not drawn:
            assert derived.legal_route is PSEUDO
        assert derived.project_vic != ProjectVICCategory.COMPARISON
        assert Derived.from_dict(derived.as_dict()) == derived
    assert baseline == len(PREPUBESCENT) * 2  # bands x acts A, B


def test_inconsistent_observations_are_not_derived() -> None:
    with pytest.raises(ObservationError, match="a criminal outcome needs act"):
        derive(_criminal(act=Act.NONE))


def test_derived_as_dict() -> None:
    assert derive(_criminal()).as_dict() == {
        "uk_category": "A",
        "legal_route": "poca_1978_indecent_photograph",
        "ncmec_class": "A1",
        "project_vic": 1,
        "interpol_baseline": True,
        "mapping_version": "1",
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"uk_category": "D"}, "uk_category: 'D' is not one of A, B, C"),
        ({"ncmec_class": "a1"}, "ncmec_class: 'a1' is not one of A1, A2, B1, B2"),
        ({"project_vic": 5}, "project_vic: 5 is not one of 0, 1, 2, 3, 4"),
        ({"project_vic": True}, "project_vic: True is not one of"),
        ({"interpol_baseline": 1}, "interpol_baseline: 1 is not true or false"),
        ({"mapping_version": 1}, "mapping_version: 1 is not a string"),
        ({"extra": 1}, "a derived record has exactly the keys"),
    ],
)
def test_derived_from_dict_refuses_bad_values(
    changes: dict[str, object], expected: str
) -> None:
    with pytest.raises(MappingError, match=expected):
        Derived.from_dict({**derive(_criminal()).as_dict(), **changes})


# --- versions -------------------------------------------------------------------


def test_shipped_files_are_exactly_the_published_ones() -> None:
    shipped = {
        entry.name.removesuffix(".toml"): entry.read_bytes()
        for entry in SHIPPED.iterdir()
        if entry.name.endswith(".toml")
    }
    assert sorted(shipped) == sorted(PUBLISHED) == sorted(versions())
    for version, data in shipped.items():
        assert hashlib.sha256(data).hexdigest() == PUBLISHED[version], version
        assert mapping(version).sha256 == PUBLISHED[version]
        assert mapping(version).version == version


def test_versions_oldest_first() -> None:
    assert versions() == sorted(versions(), key=int)
    assert CURRENT_VERSION == versions()[-1]
    assert mapping() is mapping(CURRENT_VERSION)


def test_unknown_version_names_the_known_ones() -> None:
    with pytest.raises(MappingError, match=r"unknown mapping version '9'; known: 1"):
        mapping("9")
    with pytest.raises(MappingError, match="unknown mapping version"):
        derive(_criminal(), version="0")


def _shipped_text(version: str = "1") -> str:
    return (SHIPPED / f"{version}.toml").read_text()


def test_a_published_version_cannot_be_edited() -> None:
    edited = _shipped_text().replace("value = 3", "value = 1")
    with pytest.raises(
        MappingError, match="mapping 1 was edited without a new version"
    ):
        Mapping.from_toml(edited)
    assert Mapping.from_toml(_shipped_text()).sha256 == PUBLISHED["1"]


def test_digit_versions_are_reserved() -> None:
    text = _shipped_text().replace('version = "1"', 'version = "2"')
    with pytest.raises(MappingError, match="version 2 is reserved for published"):
        Mapping.from_toml(text)


def _version_mapping_11_13_as_pubescent() -> str:
    """The shipped text, renamed, with age band 11-13 moved from NCMEC A to B."""
    text = _shipped_text().replace('version = "1"', 'version = "local-2"')
    head, rest = text.split("[ncmec_class]")
    ncmec, tail = rest.split("[project_vic]")
    ncmec = ncmec.replace('"7-10", "11-13"]', '"7-10"]')
    ncmec = ncmec.replace('["14-15", "16-17"]', '["11-13", "14-15", "16-17"]')
    return f"{head}[ncmec_class]{ncmec}[project_vic]{tail}"


def test_a_new_version_derives_differently_and_the_old_one_again(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "local-2.toml"
    path.write_text(_version_mapping_11_13_as_pubescent())
    newer = load_mapping(path)
    observations = _criminal(age_band=AgeBand.AGE_11_13)

    derived = newer.derive(observations)
    assert (derived.ncmec_class, derived.mapping_version) == ("B1", "local-2")
    assert newer.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()

    old = derive(observations, version="1")
    assert (old.ncmec_class, old.mapping_version) == ("A1", "1")
    # everything else is unchanged between the two versions
    assert dataclasses.replace(derived, ncmec_class=None, mapping_version="") == (
        dataclasses.replace(old, ncmec_class=None, mapping_version="")
    )


_VALID_HEAD = 'version = "local-1"\n'
_VALID_BODY = """
[uk_category]
[legal_route]
[ncmec_class]
[project_vic]
default = 0
[interpol_baseline]
default = false
"""


def test_the_smallest_mapping_derives_empty_schemes() -> None:
    smallest = Mapping.from_toml(_VALID_HEAD + _VALID_BODY)
    derived = smallest.derive(_criminal())
    assert derived == Derived(None, None, None, ProjectVICCategory(0), False, "local-1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version = ", "not valid TOML"),
        (b"\xff\xfe", "not valid TOML"),
        (_VALID_BODY, "version must match"),
        ('version = "a b"\n' + _VALID_BODY, "version must match"),
        (_VALID_HEAD + _VALID_BODY + "[extra]\n", "unknown key 'extra'"),
        (_VALID_HEAD + "[uk_category]\n", r"\[legal_route\] is missing"),
        (
            _VALID_HEAD + _VALID_BODY.replace("default = 0\n", ""),
            r"\[project_vic\] needs a default",
        ),
        (
            _VALID_HEAD + _VALID_BODY.replace("default = false", "default = 0"),
            r"\[interpol_baseline\] default: 0 is not true or false",
        ),
        (
            _VALID_HEAD + _VALID_BODY.replace("default = 0", "default = 7"),
            r"\[project_vic\] default: 7 is not one of 0, 1, 2, 3, 4",
        ),
        (
            _VALID_HEAD
            + _VALID_BODY.replace("[legal_route]", "[legal_route]\ndefault = 'x'"),
            r"\[legal_route\]: unknown key 'default'",
        ),
        (
            _VALID_HEAD + _VALID_BODY + '[[uk_category.rule]]\nvalue = "D"\n',
            r"\[uk_category\] rule 1 value: 'D' is not one of A, B, C",
        ),
        (
            _VALID_HEAD + _VALID_BODY + "[[uk_category.rule]]\nwhen = {}\n",
            r"\[uk_category\] rule 1 needs a value",
        ),
        (
            _VALID_HEAD
            + _VALID_BODY
            + '[[uk_category.rule]]\nwhen = { colour = ["red"] }\nvalue = "A"\n',
            r"rule 1 when: unknown key 'colour'",
        ),
        (
            _VALID_HEAD
            + _VALID_BODY
            + '[[uk_category.rule]]\nwhen = { act = ["a"] }\nvalue = "A"\n',
            r"rule 1 when.act: 'a' is not one of A, B, C, none",
        ),
        (
            _VALID_HEAD
            + _VALID_BODY
            + '[[uk_category.rule]]\nwhen = { act = "A" }\nvalue = "A"\n',
            r"rule 1 when.act must be a non-empty list",
        ),
        (
            _VALID_HEAD
            + _VALID_BODY
            + '[[uk_category.rule]]\nwhen = { act = [["A"]] }\nvalue = "A"\n',
            r"rule 1 when.act: \['A'\] is not one of A, B, C, none",
        ),
        (
            _VALID_HEAD + _VALID_BODY.replace("[uk_category]", "[uk_category]\nrule=1"),
            r"\[uk_category\] rule must be an array of tables",
        ),
        ("#" * (MAX_MAPPING_BYTES + 1), f"larger than {MAX_MAPPING_BYTES} bytes"),
    ],
)
def test_malformed_mappings_are_one_line_errors(
    text: str | bytes, expected: str
) -> None:
    with pytest.raises(MappingError, match=expected) as raised:
        Mapping.from_toml(text, source="test.toml")
    assert str(raised.value).startswith("test.toml: ")
    assert "\n" not in str(raised.value)


def test_load_mapping_reports_an_unreadable_file(tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "absent.toml"
    with pytest.raises(MappingError, match="absent.toml: cannot read"):
        load_mapping(missing)


def test_load_mapping_bounds_the_file_size(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "big.toml"
    path.write_bytes(b"#" * (MAX_MAPPING_BYTES * 2))
    with pytest.raises(MappingError, match="larger than"):
        load_mapping(path)


def test_a_mapping_path_that_is_a_fifo_is_refused_without_blocking(
    tmp_path: pathlib.Path,
) -> None:
    import os

    from vigil.review.mappings import MappingError, load_mapping

    fifo = tmp_path / "mapping.toml"
    os.mkfifo(fifo)
    with pytest.raises(MappingError, match="not a regular file"):
        load_mapping(fifo)
