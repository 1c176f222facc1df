"""The analysis JSON as text: the standard library's indented JSON is the reference."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glia
from glia.analysis._common import Members, json_chunks, json_text, jsonable

EXAMPLE = "examples/northbridge.yaml"

scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
scalars |= st.floats(allow_nan=False, allow_infinity=False)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=25,
)


def reference(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)


@given(values)
def test_deep_enough_it_is_the_standard_indented_json(value: Any) -> None:
    assert json_text(value, levels=99) == reference(value)


@given(values, st.integers(min_value=0, max_value=3))
def test_any_depth_reads_back_the_same(value: Any, levels: int) -> None:
    assert json.loads(json_text(value, levels=levels)) == value


def test_deeper_values_go_on_one_line() -> None:
    value = {"participants": {"ana": {"degree": 2, "name": "Ana"}, "ben": {"degree": 1}}}
    assert json_text(value).splitlines() == [
        "{",
        '  "participants": {',
        '    "ana": {"degree": 2, "name": "Ana"},',
        '    "ben": {"degree": 1}',
        "  }",
        "}",
    ]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_not_a_number_is_refused_as_the_standard_library_does(bad: float) -> None:
    with pytest.raises(ValueError):
        json_text({"a": [bad]})
    with pytest.raises(ValueError):
        reference({"a": [bad]})


@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-5, 5), max_size=30),
    st.sampled_from(["f8", "f4", "i8", "i4", "u1", "?"]),
)
def test_number_columns_match_the_value_by_value_rule(raw: list[float], dtype: str) -> None:
    with np.errstate(invalid="ignore", over="ignore"):
        column = (
            np.array(raw, dtype=np.float64).astype(dtype)
            if dtype != "?"
            else np.array([bool(x) for x in raw if x == x])
        )
    expected = [
        None if isinstance(v, float) and not math.isfinite(v) else v for v in column.tolist()
    ]
    got = jsonable(column)
    assert got == expected
    assert [type(v) for v in got] == [type(v) for v in expected]


@given(st.dictionaries(st.text(max_size=4), values, max_size=6), st.integers(0, 3))
def test_members_made_while_written_give_the_same_text(value: dict[str, Any], levels: int) -> None:
    document = {"before": 1, "participants": Members(lambda: iter(value.items())), "after": []}
    expected = {"before": 1, "participants": value, "after": []}
    assert json_text(document, levels=levels) == json_text(expected, levels=levels)


def test_members_are_made_only_as_far_as_the_text_is_read() -> None:
    made: list[int] = []

    def rows() -> Any:
        for i in range(1000):
            made.append(i)
            yield f"p{i}", {"degree": i}

    pieces = json_chunks({"participants": Members(rows)})
    text = "".join(next(pieces) for _ in range(10))
    assert '"p0": {"degree": 0}' in text
    assert len(made) < 10


def test_the_report_json_reads_back_as_to_json(tmp_path: Any) -> None:
    result = glia.analyze(EXAMPLE)
    text = result.to_json_text()
    assert json.loads(text) == result.to_json()
    assert json.loads(text) == json.loads(reference(result.to_json()))
    lines = text.splitlines()
    ids = list(result.to_json()["participants"])
    assert sum(line.startswith(f'    "{pid}": {{') for pid in ids for line in lines) == len(ids)
