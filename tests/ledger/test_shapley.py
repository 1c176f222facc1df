"""Shapley values: closed forms (glove, airport), the axioms, a brute force, sampling."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from itertools import permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glia.ledger._shapley import MAX_EXACT, Shapley, ShapleyError, shapley

Game = Callable[[frozenset[str]], float]


def brute(players: Sequence[str], v: Game) -> dict[str, float]:
    """Average marginal contribution over every order of the players (independent of the module)."""
    total = dict.fromkeys(players, 0.0)
    count = 0
    for order in permutations(players):
        before: frozenset[str] = frozenset()
        for p in order:
            after = before | {p}
            total[p] += v(after) - v(before)
            before = after
        count += 1
    return {p: t / count for p, t in total.items()}


def glove(left: set[str], right: set[str]) -> Game:
    return lambda s: float(min(len(s & left), len(s & right)))


def airport(costs: dict[str, float]) -> Game:
    """Value of a coalition: minus the cost of the longest runway it needs."""
    return lambda s: -max((costs[p] for p in s), default=0.0)


def airport_closed_form(costs: dict[str, float]) -> dict[str, float]:
    """Littlechild and Owen (1973): phi_i = -sum_{k<=i} (c_k - c_{k-1}) / (n - k + 1)."""
    order = sorted(costs, key=costs.__getitem__)
    n = len(order)
    phi: dict[str, float] = {}
    acc, prev = 0.0, 0.0
    for k, p in enumerate(order, start=1):
        acc += (costs[p] - prev) / (n - k + 1)
        prev = costs[p]
        phi[p] = -acc
    return phi


def table_of(players: Sequence[str], v: Game) -> dict[frozenset[str], float]:
    n = len(players)
    return {
        frozenset(p for j, p in enumerate(players) if m >> j & 1): v(
            frozenset(p for j, p in enumerate(players) if m >> j & 1)
        )
        for m in range(1 << n)
    }


# -- closed forms ----------------------------------------------------------------


def test_glove_game() -> None:
    s = shapley(["L1", "L2", "R1"], glove({"L1", "L2"}, {"R1"}))
    assert s.exact and s.samples == 0
    assert s.values == pytest.approx({"L1": 1 / 6, "L2": 1 / 6, "R1": 2 / 3}, abs=1e-12)
    assert s.half_width == {"L1": 0.0, "L2": 0.0, "R1": 0.0}
    assert s.grand == 1.0
    assert s.players == ("L1", "L2", "R1")


def test_glove_market_against_brute_force() -> None:
    players = ["L1", "L2", "R1", "R2", "R3"]
    v = glove({"L1", "L2"}, {"R1", "R2", "R3"})
    s = shapley(players, v)
    expected = brute(players, v)
    assert s.values == pytest.approx(expected, abs=1e-12)
    # the scarce side (left gloves) gets more, each side shares equally
    assert s.values["L1"] == pytest.approx(s.values["L2"])
    assert s.values["R1"] == pytest.approx(s.values["R3"])
    assert s.values["L1"] > s.values["R1"]
    assert sum(s.values.values()) == pytest.approx(2.0)


def test_airport_game_closed_form() -> None:
    costs = {"a": 1.0, "b": 3.0, "c": 3.0, "d": 7.0, "e": 10.0}
    s = shapley(list(costs), airport(costs))
    # -(1/5), -(1/5 + 2/4), -(1/5 + 2/4 + 0/3), -(... + 4/2), -(... + 3/1)
    assert s.values == pytest.approx(
        {"a": -0.2, "b": -0.7, "c": -0.7, "d": -2.7, "e": -5.7}, abs=1e-12
    )
    assert s.values == pytest.approx(airport_closed_form(costs), abs=1e-12)
    assert s.grand == -10.0


def test_table_with_keys_of_several_kinds_and_default_empty() -> None:
    table = {
        ("a",): 1.0,
        frozenset({"b"}): 2.0,
        ("b", "a"): 6.0,  # order in a tuple does not matter
    }
    s = shapley(["a", "b"], table)
    # phi_a = 1/2 (1 - 0) + 1/2 (6 - 2) = 2.5, phi_b = 3.5
    assert s.values == pytest.approx({"a": 2.5, "b": 3.5})
    assert s.grand == 6.0
    s2 = shapley(["a", "b"], {**table, (): 1.0, ("a", "a"): 1.0})  # the same key twice agrees
    assert s2.values == pytest.approx({"a": 2.0, "b": 3.0})


def test_callable_is_called_once_per_coalition() -> None:
    calls: list[frozenset[str]] = []

    def v(s: frozenset[str]) -> float:
        calls.append(s)
        return float(len(s) ** 2)

    players = [f"p{i}" for i in range(6)]
    s = shapley(players, v)
    assert len(calls) == 64 and len(set(calls)) == 64
    assert all(isinstance(c, frozenset) for c in calls)
    assert s.values == pytest.approx(dict.fromkeys(players, 6.0))


def test_no_players_and_one_player() -> None:
    s = shapley([], lambda s: 4.0)
    assert s.values == {} and s.grand == 4.0 and s.exact
    one = shapley(["x"], lambda s: 5.0 if s else 1.0)
    assert one.values == {"x": 4.0}


def test_to_json() -> None:
    s = shapley(["L1", "L2", "R1"], glove({"L1", "L2"}, {"R1"}))
    data = json.loads(json.dumps(s.to_json()))
    assert data["players"] == ["L1", "L2", "R1"]
    assert data["values"]["R1"] == pytest.approx(2 / 3)
    assert data["exact"] is True and data["samples"] == 0
    assert data["half_width"] == {"L1": 0.0, "L2": 0.0, "R1": 0.0}
    assert data["confidence"] == 0.95 and data["grand"] == 1.0


# -- the axioms, on random games ------------------------------------------------------


@st.composite
def games(draw: st.DrawFn, min_n: int = 1, max_n: int = 6) -> tuple[list[str], list[float]]:
    """Players and v by bitmask (v[0] may be nonzero)."""
    n = draw(st.integers(min_n, max_n))
    v = draw(
        st.lists(
            st.floats(-100, 100, allow_nan=False, allow_infinity=False),
            min_size=1 << n,
            max_size=1 << n,
        )
    )
    return [f"p{i}" for i in range(n)], v


def as_function(players: Sequence[str], v: list[float]) -> Game:
    index = {p: j for j, p in enumerate(players)}
    return lambda s: v[sum(1 << index[p] for p in s)]


def run(players: list[str], v: list[float], table: bool) -> Shapley:
    f = as_function(players, v)
    return shapley(players, table_of(players, f) if table else f)


@settings(max_examples=40, deadline=None)
@given(games(), st.booleans())
def test_efficiency_and_brute_force(game: tuple[list[str], list[float]], table: bool) -> None:
    players, v = game
    s = run(players, v, table)
    assert math.fsum(s.values.values()) == pytest.approx(v[-1] - v[0], abs=1e-9)
    assert s.values == pytest.approx(brute(players, as_function(players, v)), abs=1e-9)
    assert s.grand == v[-1]


@settings(max_examples=40, deadline=None)
@given(games(min_n=2))
def test_symmetry(game: tuple[list[str], list[float]]) -> None:
    players, v = game

    def swap(m: int) -> int:  # exchange players 0 and 1 in a mask
        b0, b1 = m & 1, m >> 1 & 1
        return (m & ~3) | (b0 << 1) | b1

    sym = [v[m] + v[swap(m)] for m in range(len(v))]  # players 0 and 1 interchangeable
    s = run(players, sym, table=False)
    assert s.values["p0"] == pytest.approx(s.values["p1"], abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(games(min_n=2))
def test_null_player(game: tuple[list[str], list[float]]) -> None:
    players, v = game
    top = 1 << (len(players) - 1)
    null = [v[m & ~top] for m in range(len(v))]  # the last player adds nothing anywhere
    s = run(players, null, table=True)
    assert s.values[players[-1]] == pytest.approx(0.0, abs=1e-9)
    assert math.fsum(s.values.values()) == pytest.approx(null[-1] - null[0], abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(games(), st.data())
def test_additivity(game: tuple[list[str], list[float]], data: st.DataObject) -> None:
    players, v = game
    w = data.draw(
        st.lists(
            st.floats(-100, 100, allow_nan=False, allow_infinity=False),
            min_size=len(v),
            max_size=len(v),
        )
    )
    sv, sw = run(players, v, table=False), run(players, w, table=True)
    both = run(players, [a + b for a, b in zip(v, w, strict=True)], table=False)
    for p in players:
        assert both.values[p] == pytest.approx(sv.values[p] + sw.values[p], abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(games(max_n=5), st.integers(0, 2**32))
def test_sampling_small_games_is_efficient(game: tuple[list[str], list[float]], seed: int) -> None:
    players, v = game
    s = shapley(players, as_function(players, v), exact_limit=0, samples=50, seed=seed)
    assert not s.exact and s.samples == 50
    assert math.fsum(s.values.values()) == pytest.approx(v[-1] - v[0], abs=1e-9)


# -- sampling -------------------------------------------------------------------


RUNWAYS = [3, 17, 5, 29, 11, 2, 23, 13, 7, 19, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71]
COSTS = {f"a{i:02d}": float(c) for i, c in enumerate(RUNWAYS)}


def test_sampling_airport_20_players() -> None:
    players = list(COSTS)
    v = airport(COSTS)
    s = shapley(players, v, exact_limit=10, samples=2000, seed=7)
    expected = airport_closed_form(COSTS)
    assert not s.exact and s.samples == 2000 and s.confidence == 0.95
    assert s.grand == -71.0
    inside = sum(abs(s.values[p] - expected[p]) <= s.half_width[p] for p in players)
    assert inside >= 18  # about 95% of 20
    assert all(s.half_width[p] > 0 for p in players)
    assert math.fsum(s.values.values()) == pytest.approx(-71.0, abs=1e-9)
    # the same seed gives the same result, another seed another
    assert shapley(players, v, exact_limit=10, samples=2000, seed=7) == s
    other = shapley(players, v, exact_limit=10, samples=2000, seed=8)
    assert other.values != s.values
    # more samples, narrower intervals (about 1 / sqrt(m))
    few = shapley(players, v, exact_limit=10, samples=200, seed=7)
    assert sum(few.half_width.values()) > 2 * sum(s.half_width.values())
    assert few.to_json()["samples"] == 200


def test_sampling_additive_game_is_exact() -> None:
    weights = {f"w{i}": float(i) - 4.5 for i in range(20)}
    s = shapley(list(weights), lambda c: sum(weights[p] for p in c), exact_limit=10, samples=100)
    assert not s.exact
    assert s.values == pytest.approx(weights, abs=1e-9)
    assert s.half_width == pytest.approx(dict.fromkeys(weights, 0.0), abs=1e-9)


def test_sampling_caches_coalitions() -> None:
    calls: list[frozenset[str]] = []

    def v(s: frozenset[str]) -> float:
        calls.append(s)
        return float(len(s))

    players = [f"p{i}" for i in range(4)]
    s = shapley(players, v, exact_limit=2, samples=500)
    assert len(calls) == len(set(calls)) <= 16
    assert s.values == pytest.approx(dict.fromkeys(players, 1.0))


def test_confidence_widens_intervals() -> None:
    players = list(COSTS)
    lo = shapley(players, airport(COSTS), exact_limit=10, samples=300, confidence=0.8)
    hi = shapley(players, airport(COSTS), exact_limit=10, samples=300, confidence=0.99)
    ratio = hi.half_width["a10"] / lo.half_width["a10"]
    assert ratio == pytest.approx(2.5758 / 1.2816, rel=1e-3)


# -- refusals -------------------------------------------------------------------


def test_missing_coalition() -> None:
    with pytest.raises(ShapleyError, match=r"no value for coalition \{'a', 'b'\}"):
        shapley(["a", "b"], {("a",): 1.0, ("b",): 1.0})


def test_unknown_player_in_table() -> None:
    with pytest.raises(ShapleyError, match=r"unknown player 'z' in table key \('a', 'z'\)"):
        shapley(["a", "b"], {("a",): 1.0, ("a", "z"): 1.0})


def test_string_key_in_table() -> None:
    with pytest.raises(ShapleyError, match="a table key must be a collection of player names"):
        shapley(["a", "b"], {"a": 1.0})


def test_conflicting_keys() -> None:
    with pytest.raises(ShapleyError, match="two values for coalition"):
        shapley(["a", "b"], {("a", "b"): 1.0, ("b", "a"): 2.0, ("a",): 0, ("b",): 0})


def test_duplicate_players() -> None:
    with pytest.raises(ShapleyError, match="duplicate player 'a'"):
        shapley(["a", "b", "a"], lambda s: 0.0)
    with pytest.raises(ShapleyError, match="not a string"):
        shapley("ab", lambda s: 0.0)


def test_table_too_large() -> None:
    players = [f"p{i}" for i in range(4)]
    table = table_of(players, lambda s: float(len(s)))
    with pytest.raises(ShapleyError, match=r"at most exact_limit = 3 players .* got 4"):
        shapley(players, table, exact_limit=3)


def test_bad_values_and_parameters() -> None:
    with pytest.raises(ShapleyError, match=r"v\(\{'a'\}\) must be a finite number"):
        shapley(["a"], lambda s: math.nan if s else 0.0)
    with pytest.raises(ShapleyError, match=r"v\(\{'a'\}\) must be a number"):
        shapley(["a"], {("a",): "x"})  # type: ignore[dict-item]
    with pytest.raises(ShapleyError, match="must be a function"):
        shapley(["a"], 3)  # type: ignore[arg-type]
    with pytest.raises(ShapleyError, match="confidence must be"):
        shapley(["a"], lambda s: 0.0, confidence=1.0)
    with pytest.raises(ShapleyError, match="samples must be"):
        shapley(["a"], lambda s: 0.0, samples=1)
    with pytest.raises(ShapleyError, match=f"between 0 and {MAX_EXACT}"):
        shapley(["a"], lambda s: 0.0, exact_limit=MAX_EXACT + 1)
