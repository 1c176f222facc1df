"""Team formation: the exact model against brute force, the heuristic against both,
the gap, the working distance against an independent computation, shortfalls."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import glia
from glia.cli import app
from glia.generate import generate
from glia.model import Ecosystem
from glia.store import snapshot_of
from glia.swarm import (
    COMPONENTS,
    LayerWeights,
    Network,
    Pool,
    Request,
    RequestError,
    Weights,
    form_swarm,
    parse_need,
    parse_weights,
)
from glia.swarm._exact import solve
from glia.swarm._search import search

EXAMPLE = Path(__file__).parents[2] / "examples" / "northbridge.yaml"


# ---------------------------------------------------------------- brute force
def brute_force(pool: Pool) -> tuple[float, tuple[int, ...] | None]:
    """The optimum of a pool by enumerating every subset of candidates."""
    best, arg = math.inf, None
    for size in range(1, pool.k + 1):
        for team in itertools.combinations(range(pool.k), size):
            members = np.array(team)
            if pool.feasible(members):
                value = pool.total(members)
                if value < best - 1e-12:
                    best, arg = value, team
    return best, arg


@st.composite
def pools(draw: st.DrawFn) -> Pool:
    """Small random pools with every kind of constraint switched on or off."""
    k = draw(st.integers(2, 9))
    n_needs = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    points = rng.random((k, 2)) * 5
    distance = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    weights = Weights(
        distance=1.0,
        cost=draw(st.sampled_from([0.0, 1.0])),
        load=draw(st.sampled_from([0.0, 0.5])),
        bridge=draw(st.sampled_from([0.0, 0.7])),
        region=1.0,
    )
    money = rng.integers(50, 150, k) * 10.0
    budget = draw(st.sampled_from([None, 2500.0, 4000.0]))
    capital_needed = draw(st.sampled_from([None, 150.0]))
    forbidden = [(0, 1)] if draw(st.booleans()) else None
    fixed = np.arange(k) == 2 if draw(st.booleans()) else None
    return Pool.of(
        [f"p{i}" for i in range(k)],
        [f"need {r}" for r in range(n_needs)],
        rng.random((k, n_needs)) < 0.45,
        rng.integers(1, 3, n_needs),
        distance,
        weights,
        money=money,
        cost=money / (budget or 1000.0),
        load=rng.random(k),
        bridge=rng.integers(0, 3, k),
        outside=rng.random(k) < 0.3,
        capital=rng.integers(0, 3, k) * 100.0,
        capital_needed=capital_needed,
        forbidden=forbidden,
        fixed=fixed,
        budget=budget,
        min_size=draw(st.sampled_from([1, 1, 3])),
        max_size=draw(st.sampled_from([None, None, 2, 4])),
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools())
def test_exact_optimum_equals_brute_force_and_heuristic_never_beats_it(pool: Pool) -> None:
    optimum, _ = brute_force(pool)
    exact = solve(pool)
    found = search(pool, top=3)
    if math.isinf(optimum):
        assert exact.status == "infeasible"
        assert found == []
        return
    assert exact.status == "optimal"
    assert exact.value == pytest.approx(optimum, abs=1e-6)
    assert exact.bound <= optimum + 1e-6
    assert pool.quick_bound() <= optimum + 1e-9
    assert found, "the heuristic found no team where one exists"
    for f in found:
        assert pool.feasible(np.array(f.members))
        assert f.total >= optimum - 1e-9
        assert f.total == pytest.approx(pool.total(np.array(f.members)))
    assert len({f.members for f in found}) == len(found)
    assert [f.total for f in found] == sorted(f.total for f in found)


def test_components_add_up_to_the_total() -> None:
    rng = np.random.default_rng(3)
    k = 6
    d = rng.random((k, k)) * 3
    d = (d + d.T) / 2
    np.fill_diagonal(d, 0)
    w = Weights(distance=2, cost=0.5, load=1.5, bridge=0.25, region=3)
    pool = Pool.of(
        list("abcdef"),
        ["x"],
        np.ones((k, 1), bool),
        [1],
        d,
        w,
        cost=rng.random(k),
        load=rng.random(k),
        bridge=rng.integers(0, 4, k),
        outside=rng.random(k) < 0.5,
    )
    team = np.array([0, 2, 5])
    c = pool.components(team)
    by_hand = (
        2 * (d[0, 2] + d[0, 5] + d[2, 5])
        + 0.5 * c["cost"]
        + 1.5 * c["load"]
        - 0.25 * c["bridge"]
        + 3 * c["region"]
    )
    assert pool.total(team) == pytest.approx(by_hand)
    assert list(c) == list(COMPONENTS)


# ---------------------------------------------------------------- ecosystems
def tiny(ties: list[dict], **extra: object) -> Ecosystem:
    """Five people: two lawyers, two engineers, a designer; ties as given."""
    people = [
        {"id": "ann", "region": "north", "capabilities": {"legal": 4}, "rate_per_hour": 100},
        {"id": "bob", "region": "south", "capabilities": {"legal": 3}, "rate_per_hour": 50},
        {"id": "cat", "region": "north", "capabilities": {"data": 4}, "rate_per_hour": 80},
        {"id": "dan", "region": "north", "capabilities": {"data": 5}, "rate_per_hour": 120},
        {
            "id": "eve",
            "region": "south",
            "capabilities": {"design": 4},
            "capacity_hours_per_week": 20,
        },
    ]
    return Ecosystem.model_validate(
        {"ecosystem": "Tiny", "participants": people, "ties": ties, **extra}
    )


CHAIN = [
    {"from": "ann", "to": "cat", "layer": "informal", "type": "trust", "weight": 1.0},
    {"from": "cat", "to": "eve", "layer": "informal", "type": "trust", "weight": 0.5},
    {"from": "bob", "to": "dan", "layer": "informal", "type": "trust", "weight": 1.0},
    {"from": "dan", "to": "eve", "layer": "formal", "type": "contract", "weight": 1.0},
    {"from": "ann", "to": "bob", "layer": "informal", "type": "advice", "weight": 0.8},
]


def test_working_distance_matches_an_independent_computation() -> None:
    eco = glia.read(EXAMPLE)
    layers = LayerWeights(informal=0.9, formal=0.4, exchange=0.0)
    network = Network(snapshot_of(eco), layers)
    # by hand: chance per tie, combined per pair, distance 1/p, NetworkX Dijkstra
    miss: dict[frozenset[str], float] = {}
    for tie in eco.ties:
        if tie.type == "distrust":
            continue
        lam = layers.formal if tie.layer == "formal" else layers.informal
        key = frozenset((tie.source, tie.target))
        miss[key] = miss.get(key, 1.0) * (1 - lam * tie.weight)
    graph = nx.Graph()
    graph.add_nodes_from(p.id for p in eco.participants)
    for key, m in miss.items():
        if m < 1:
            a, b = sorted(key)
            graph.add_edge(a, b, weight=1 / (1 - m))
    ids = ["hugo", "ana", "ines", "nrda", "lexfield", "cropwise"]
    from glia.swarm._distance import pairwise

    nodes = np.array([network.index[i] for i in ids])
    got = pairwise(network.graph, nodes, None)
    for a, i in enumerate(ids):
        lengths = nx.single_source_dijkstra_path_length(graph, i)
        for b, j in enumerate(ids):
            assert got[a, b] == pytest.approx(lengths.get(j, math.inf))


def test_team_on_a_tiny_ecosystem_is_the_hand_worked_one() -> None:
    # legal + data: ann-cat are directly tied at strength 1 (distance 1);
    # bob-dan likewise; ann-dan is 3.5 via cat-eve-dan or 1/0.8 + 1 = 2.25 via bob.
    swarm = form_swarm(tiny(CHAIN), needs=["legal:3", "data:4"], exact=True)
    assert swarm.optimal
    assert sorted(swarm.best.ids) in (["ann", "cat"], ["bob", "dan"])
    assert swarm.best.total == pytest.approx(1.0)
    assert swarm.best.gap == 0
    # a preferred region breaks the tie: bob is in the south
    north = form_swarm(tiny(CHAIN), needs=["legal:3", "data:4"], region="north")
    assert sorted(north.best.ids) == ["ann", "cat"]
    # the runner-up is explained
    assert north.teams[1].why and "region" in north.teams[1].why


def test_distrust_ties_and_forbidden_pairs_keep_people_apart() -> None:
    ties = [*CHAIN, {"from": "ann", "to": "cat", "layer": "informal", "type": "distrust"}]
    eco = tiny([t for t in ties if not (t["to"] == "cat" and t.get("type") == "trust")])
    swarm = form_swarm(eco, needs=["legal:4", "data:4"], exact=True)
    assert not {"ann", "cat"} <= set(swarm.best.ids)
    assert swarm.best.ids == ["ann", "dan"] or sorted(swarm.best.ids) == ["ann", "dan"]
    forbidden = form_swarm(tiny(CHAIN), needs=["legal:4", "data:4"], forbidden=[("ann", "cat")])
    assert sorted(forbidden.best.ids) == ["ann", "dan"]


def test_budget_capital_size_and_inclusion() -> None:
    eco = tiny(CHAIN)
    # ann (100/h) + cat (80/h) for 10 hours is 1800; bob + dan is 1700
    cheap = form_swarm(
        eco, needs=["legal:3", "data:4"], hours=10, budget=1750, weights="distance=1"
    )
    assert sorted(cheap.best.ids) == ["bob", "dan"]
    assert cheap.best.members[0].cost == pytest.approx(
        10 * {"bob": 50, "dan": 120}[cheap.best.ids[0]]
    )
    none = form_swarm(eco, needs=["legal:3", "data:4"], hours=10, budget=1000)
    assert not none.feasible
    assert none.shortfalls[0].need == "budget"
    assert "1,300" in none.shortfalls[0].message  # bob + cat, the cheapest cover
    pinned = form_swarm(eco, needs=["legal:3"], include=["eve"])
    assert "eve" in pinned.best.ids
    assert next(m for m in pinned.best.members if m.id == "eve").fixed
    big = form_swarm(eco, needs=["legal:3"], min_size=3)
    assert len(big.best.ids) >= 3


def test_capital_comes_from_capital_clusters() -> None:
    clusters = [{"id": "fund", "kind": "capital"}]
    eco = tiny(CHAIN, clusters=clusters)
    people = [p.model_dump(by_alias=True) for p in eco.participants]
    people[1]["clusters"] = ["fund"]
    people[1]["capital_available"] = 5000
    people[3]["capital_available"] = 9000  # dan: not in a capital cluster
    eco = Ecosystem.model_validate({**eco.model_dump(by_alias=True), "participants": people})
    swarm = form_swarm(eco, needs=["data:4"], capital=4000)
    assert "bob" in swarm.best.ids
    short = form_swarm(eco, needs=["data:4"], capital=6000)
    assert not short.feasible
    assert short.shortfalls[0].need == "capital"
    assert short.shortfalls[0].nearest[0].id == "dan"
    assert "not in a capital cluster" in short.shortfalls[0].nearest[0].reason


def test_load_penalty_and_availability() -> None:
    eco = tiny(CHAIN)
    free = form_swarm(eco, needs=["design:4", "data:4"], weights="load=1")
    assert "eve" in free.best.ids
    busy = form_swarm(eco, needs=["design:4"], committed={"eve": 15}, weights="load=1")
    eve = busy.best.members[0]
    assert eve.load == pytest.approx(0.75)
    assert eve.load_penalty == pytest.approx(math.expm1(3 * 0.75))
    full = form_swarm(eco, needs=["design:4"], committed={"eve": 20})
    assert not full.feasible
    assert "unavailable" in str(full.shortfalls[0])


def test_infeasible_requests_name_the_missing_need_and_who_comes_closest() -> None:
    eco = tiny(CHAIN)
    swarm = form_swarm(eco, needs=["legal:4", "data:5"], region="south", region_required=True)
    assert not swarm.feasible and swarm.teams == ()
    [legal, data] = swarm.shortfalls
    assert legal.message == "no one in south has legal at level 4"
    assert [n.id for n in legal.nearest][:2] == ["bob", "ann"]
    assert legal.nearest[0].reason == "level 3"
    assert legal.nearest[1].reason == "north, level 4"
    assert data.nearest[0].id == "dan"
    two = form_swarm(eco, needs=["legal:3:3"])
    assert two.shortfalls[0].message == "only 2 have legal at level 3; 3 needed"
    typo = form_swarm(eco, needs=["lega:3"])
    assert "did you mean legal" in typo.shortfalls[0].message


def test_northbridge_opportunities_are_solved_to_proven_optimality() -> None:
    network = Network(snapshot_of(glia.read(EXAMPLE)))
    for opportunity in network.snapshot.opportunity_ids:
        swarm = form_swarm(network, opportunity, exact=True, top=3)
        assert swarm.feasible and swarm.optimal, opportunity
        ids = [tuple(sorted(t.ids)) for t in swarm.teams]
        assert len(set(ids)) == len(ids)
        totals = [t.total for t in swarm.teams]
        assert totals == sorted(totals)
        for team in swarm.teams:
            for member in team.members:
                # with bridging weighed 0, no one is in a team without a reason
                assert member.covers or member.fixed
                assert len(member.ties) == len(team.members) - 1
            assert team.gap >= 0


def test_generated_ecosystem_against_brute_force_over_the_pool() -> None:
    gen = generate(150, seed=4)
    data = {**gen.header, **{name: list(rows) for name, rows in gen.sections().items()}}
    snap = snapshot_of(Ecosystem.model_validate(data))
    network = Network(snap)
    rng = np.random.default_rng(0)
    held = sorted({snap.capabilities[c] for c in snap.holder_capability})
    for _ in range(4):
        needs = [f"{c}:2" for c in rng.choice(held, 3, replace=False)]
        request = Request(needs=tuple(parse_need(n) for n in needs))
        prepared = network.prepare(request, Weights(), per_need=4)
        if prepared.shortfalls:
            continue
        optimum, _ = brute_force(prepared.pool)
        swarm = form_swarm(network, needs=needs, per_need=4, exact=True)
        assert swarm.best.total == pytest.approx(optimum)
        heuristic = form_swarm(network, needs=needs, per_need=4, exact=False)
        assert heuristic.best.total >= optimum - 1e-9
        assert heuristic.bound <= optimum + 1e-9
        gap = (heuristic.best.total - heuristic.bound) / heuristic.best.total
        assert heuristic.best.gap == pytest.approx(gap)


# ---------------------------------------------------------------- parsing, CLI
def test_parsing_names_what_was_expected() -> None:
    assert parse_need("legal:4:2").count == 2
    for bad in ("legal", "legal:x", "legal:9", "legal:3:0", ":3"):
        with pytest.raises(RequestError, match=r"legal|need"):
            parse_need(bad)
    assert parse_weights("cost=2").cost == 2
    with pytest.raises(RequestError, match="expected a number"):
        parse_weights("cost=lots")
    with pytest.raises(RequestError, match="zero or more"):
        parse_weights("cost=-1")
    with pytest.raises(RequestError, match="not a participant"):
        form_swarm(tiny(CHAIN), needs=["legal:3"], include=["zed"])
    with pytest.raises(RequestError, match="opportunities: none"):
        form_swarm(tiny(CHAIN), "nope")
    with pytest.raises(RequestError, match="no region given"):
        form_swarm(tiny(CHAIN), needs=["legal:3"], region_required=True)
    with pytest.raises(RequestError, match="region 'west' is not known"):
        form_swarm(tiny(CHAIN), needs=["legal:3"], region="west")


def test_cli_json_and_table(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "swarm.json"
    result = runner.invoke(
        app,
        [
            "swarm",
            str(EXAMPLE),
            "--opportunity",
            "coop-traceability",
            "--format",
            "json",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["glia_swarm"] == 1 and data["feasible"]
    team = data["teams"][0]
    assert set(team) == {
        "rank",
        "members",
        "components",
        "weighted",
        "total",
        "gap",
        "optimal",
        "found_by",
        "why",
    }
    assert set(team["components"]) == set(COMPONENTS)
    assert sum(team["weighted"].values()) == pytest.approx(team["total"])
    table = runner.invoke(
        app, ["swarm", str(EXAMPLE), "--need", "legal:3", "--need", "finance:4", "--top", "2"]
    )
    assert table.exit_code == 0, table.output
    assert "Team 1" in table.output and "Team 2" in table.output
    none = runner.invoke(app, ["swarm", str(EXAMPLE), "--need", "legal:5:4"])
    assert none.exit_code == 1
    assert "legal at level 5" in none.output
    bad = runner.invoke(app, ["swarm", str(EXAMPLE), "--need", "legal"])
    assert bad.exit_code == 2
    assert "CAP:LEVEL" in bad.output


def test_a_stopped_exact_model_still_reports_a_sound_bound() -> None:
    rng = np.random.default_rng(5)
    k = 14
    points = rng.random((k, 2)) * 10
    distance = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    pool = Pool.of(
        [f"p{i}" for i in range(k)],
        ["a", "b", "c"],
        rng.random((k, 3)) < 0.3,
        [2, 1, 2],
        distance,
    )
    optimum, _ = brute_force(pool)
    found = search(pool)
    for limit in (1e-6, 0.05, 10.0):
        exact = solve(pool, time_limit=limit, incumbent=found[0].total)
        assert exact.bound <= optimum + 1e-6
        assert exact.value >= optimum - 1e-6
        if exact.optimal:
            assert exact.value == pytest.approx(optimum)
    assert solve(pool, time_limit=10.0).value == pytest.approx(optimum)
