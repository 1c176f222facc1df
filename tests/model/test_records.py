"""Records alone and the ecosystem as a whole: what is accepted, what is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from glia.model import (
    Ecosystem,
    Exchange,
    InvalidInput,
    Location,
    Participant,
    Problem,
    Tie,
    validate_document,
)


def _errors(model: type, **values: object) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(values)
    return {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"id": "a", "capabilities": {"x": 0}}, {"capabilities.x"}),
        ({"id": "a", "capabilities": {"x": 6}}, {"capabilities.x"}),
        ({"id": "a", "capacity_hours_per_week": 169}, {"capacity_hours_per_week"}),
        ({"id": "a", "rate_per_hour": -1}, {"rate_per_hour"}),
        ({"id": "a", "kind": "robot"}, {"kind"}),
        ({"id": " a"}, {"id"}),
        ({"id": "a\x01b"}, {"id"}),
        ({"id": ""}, {"id"}),
        ({"id": "a", "colour": "red"}, {"colour"}),
    ],
)
def test_participant_ranges(values: dict[str, object], fields: set[str]) -> None:
    assert _errors(Participant, **values) == fields


def test_a_participant_accepts_labels_as_ids_and_keeps_money_exact() -> None:
    p = Participant.model_validate({"id": "Ana Ruiz", "rate_per_hour": "95.125"})
    assert p.id == "Ana Ruiz"
    assert p.rate_per_hour == Decimal("95.125")


def test_records_are_immutable() -> None:
    p = Participant(id="ana")
    with pytest.raises(ValidationError):
        p.id = "ben"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"from": "a", "to": "a", "layer": "formal"}, "two different participants"),
        (
            {
                "from": "a",
                "to": "b",
                "layer": "formal",
                "since": "2024-05-01",
                "until": "2024-01-01",
            },
            "until must not be before since",
        ),
        ({"from": "a", "to": "b", "layer": "formal", "weight": 1.5}, "less than or equal to 1"),
        ({"from": "a", "to": "b", "layer": "formal", "type": "Reports To"}, "pattern"),
    ],
)
def test_tie_rules(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Tie.model_validate(values)


def test_tie_defaults() -> None:
    tie = Tie.model_validate({"from": "a", "to": "b", "layer": "informal"})
    assert (tie.weight, tie.directed, tie.type, tie.since) == (1.0, False, None, None)


@pytest.mark.parametrize(
    ("kind", "type_", "ok"),
    [
        ("tangible", "goods", True),
        ("tangible", "money", True),
        ("tangible", "knowledge", False),
        ("intangible", "benefit", True),
        ("intangible", "contract", False),
    ],
)
def test_exchange_type_must_fit_its_kind(kind: str, type_: str, ok: bool) -> None:
    values = {"from": "a", "to": "b", "deliverable": "d", "kind": kind, "type": type_}
    if ok:
        assert Exchange.model_validate(values).type == type_
    else:
        with pytest.raises(ValidationError, match="exchange has type"):
            Exchange.model_validate(values)


def test_exchange_scales() -> None:
    base = {"from": "a", "to": "b", "deliverable": "d", "kind": "intangible"}
    assert _errors(Exchange, **base, perceived_value=6) == {"perceived_value"}
    assert _errors(Exchange, **base, impact={"financial": 3}) == {"impact.financial"}
    assert _errors(Exchange, **base, frequency=0) == {"frequency"}
    assert _errors(Exchange, **base, currency="eur") == {"currency"}
    empty = Exchange.model_validate({**base, "impact": {}})
    assert empty.impact is None  # an impact with no score is no impact


def test_building_an_ecosystem_checks_its_references() -> None:
    with pytest.raises(ValidationError, match="the id of a known participant"):
        Ecosystem.model_validate(
            {
                "ecosystem": "X",
                "participants": [{"id": "a"}],
                "ties": [{"from": "a", "to": "b", "layer": "formal"}],
            }
        )


def test_validate_document_reports_each_problem_with_its_place() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_document(
            {
                "glia": 1,
                "ecosystem": "X",
                "participants": [{"id": "a"}, {"id": "a"}, {"id": "b", "clusters": ["c"]}],
                "roles": [{"id": "b"}],
            },
            source="x.yaml",
        )
    assert caught.value.problems == [
        Problem(
            Location("x.yaml", "participants", 2),
            "id",
            "a",
            "an id not used before in participants (first used in row 1)",
        ),
        Problem(
            Location("x.yaml", "participants", 3), "clusters.0", "c", "the id of a known cluster"
        ),
        Problem(
            Location("x.yaml", "roles", 1),
            "id",
            "b",
            "an id that no participant has (exchanges name either)",
        ),
    ]


def test_problems_read_as_sentences() -> None:
    p = Problem(Location("f.csv", "ties.csv", 7), "weight", "2", "a value less than or equal to 1")
    assert (
        str(p)
        == "f.csv, ties.csv, row 7, column weight: got '2', expected a value less than or equal to 1"
    )
    assert p.as_dict()["row"] == 7


# -- the bulk path for ties agrees with the Tie model ------------------------------------

from hypothesis import example, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from glia.model import ReferenceIndex, validate_tie_rows  # noqa: E402

_values = {
    "from": st.sampled_from(["a", "b", " a", "", 3]),
    "to": st.sampled_from(["a", "b", "c", None]),
    "layer": st.sampled_from(["formal", "informal", "social", 1]),
    "type": st.sampled_from(["trust", "Trust", "reports-to", None, ""]),
    "weight": st.sampled_from([0, 0.5, "0.8", 1, 1.5, -0.1, "x", float("nan")]),
    "directed": st.sampled_from([True, False, "true", "no", "maybe", 1, 2]),
    "since": st.sampled_from(["2024-01-01", "2024-13-01", None, "2025-06-30"]),
    "until": st.sampled_from(["2024-06-01", None, "yesterday"]),
    "attributes": st.sampled_from([{}, {"k": 1}, {"k": [1]}, "x"]),
    "colour": st.just("red"),
}
_rows = st.fixed_dictionaries({}, optional=_values)


#: A tie's optional fields and their defaults, by their names in files.
_TIE_DEFAULTS = {
    (field.alias or name): field.get_default(call_default_factory=True)
    for name, field in Tie.model_fields.items()
    if not field.is_required()
}


# fields given with their default value: the bulk dict keeps them, the same tie
@example(raw={"from": "b", "to": "a", "layer": "formal", "attributes": {}})
@example(raw={"from": "a", "to": "c", "layer": "informal", "weight": 1, "directed": False})
@given(raw=_rows)
def test_bulk_tie_rows_accept_exactly_what_the_model_accepts(raw: dict[str, object]) -> None:
    try:
        expected = Tie.model_validate(raw).model_dump(by_alias=True)
    except ValidationError:
        expected = None
    good, problems, _ = validate_tie_rows([(Location("t", "ties", 1), raw)])
    index = ReferenceIndex()
    index.add_participants([(Location(), Participant(id=p)) for p in ("a", "b", "c")])
    rule_problems = index.add_ties(good)
    known = isinstance(raw.get("from"), str) and raw.get("from") in ("a", "b")
    known = known and raw.get("to") in ("a", "b", "c")
    if expected is None:
        assert problems or rule_problems
    else:
        assert not problems and len(good) == 1
        assert {**_TIE_DEFAULTS, **good[0][1]} == expected
        if known:
            assert rule_problems == []
