"""Money flows, net present value and stakeholder value loops, worked by hand and by brute force."""

from __future__ import annotations

import itertools
import json
import math
import random
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings

import glia
from glia.analysis._common import AnalysisError
from glia.analysis.flows import (
    PERIODS,
    flow_scores,
    money_flows,
    npv,
    participant_npv,
    stakeholder_loops,
)
from glia.model import Ecosystem
from glia.store import snapshot_of

from strategies import ecosystems

EXAMPLE = Path(__file__).parents[2] / "examples" / "northbridge.yaml"


def snap(**sections: Any) -> glia.Snapshot:
    return snapshot_of(Ecosystem.model_validate({"ecosystem": "T", **sections}))


def people(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i} for i in ids]


def money(a: str, b: str, value: float, **extra: Any) -> dict[str, Any]:
    return {
        "from": a,
        "to": b,
        "deliverable": f"{a} pays {b}",
        "kind": "tangible",
        "type": "money",
        "value": value,
        "currency": "EUR",
        **extra,
    }


@pytest.fixture(scope="module")
def northbridge() -> glia.Snapshot:
    return snapshot_of(glia.read(EXAMPLE))


# -- money flow ------------------------------------------------------------------------------
def test_amounts_are_annualised_by_period_and_frequency() -> None:
    s = snap(
        participants=people("a", "b"),
        exchanges=[
            money("a", "b", 100, frequency=2, period="week"),  # 100 x 2 x 52 = 10,400
            money("a", "b", 1000, period="month"),  # 1,000 x 12 = 12,000
            money("a", "b", 500, period="quarter"),  # 500 x 4 = 2,000
            money("a", "b", 700, period="year"),  # 700
            money("a", "b", 300, period="once"),  # 300
            money("a", "b", 50),  # no period: once, 50
            money("a", "b", 999, currency="USD"),  # another currency: left out
            money("b", "a", 80, currency=None, period="year"),  # no currency: the ecosystem's
            {  # goods with a value are not money unless asked for
                "from": "b",
                "to": "a",
                "deliverable": "goods",
                "kind": "tangible",
                "type": "goods",
                "value": 5000,
                "currency": "EUR",
            },
        ],
    )
    flows = money_flows(s)
    assert flows.currency == "EUR"
    assert flows.excluded_currency == 1
    assert flows.annual.tolist() == [10400, 12000, 2000, 700, 300, 50, 80]
    paid = 10400 + 12000 + 2000 + 700 + 300 + 50
    assert flows.money_out.tolist() == [paid, 80]
    assert flows.money_in.tolist() == [80, paid]
    assert flows.net.tolist() == [80 - paid, paid - 80]
    assert flows.tst == paid + 80
    assert flows.matrix.toarray().tolist() == [[0, paid], [80, 0]]
    # per period bucket, in that period's own unit
    b = dict(zip(PERIODS, flows.by_period[1].tolist(), strict=True))
    assert b == {"once": 300, "week": 200, "month": 1000, "quarter": 500, "year": 620, "none": 50}
    assert flows.one_off.tolist() == [-350, 350]
    assert flows.recurring.tolist() == [-(10400 + 12000 + 2000 + 620), 10400 + 12000 + 2000 + 620]
    every = money_flows(s, types=None)
    assert every.money_in[0] == 80 + 5000
    usd = money_flows(s, currency="USD")
    assert usd.currency == "USD" and usd.tst == 999 + 80 and usd.excluded_currency == 6


def test_role_endpoints_split_equally_among_players() -> None:
    s = snap(
        participants=people("a", "b", "c", "d", "e"),
        roles=[
            {"id": "buyers", "played_by": ["a", "b"]},
            {"id": "sellers", "played_by": ["c", "d", "e"]},
            {"id": "nobody"},
            {"id": "mixed", "played_by": ["a", "c"]},
        ],
        exchanges=[
            money("buyers", "sellers", 600),  # 6 pairs of 100
            money("buyers", "nobody", 70),  # no one to receive it
            money("buyers", "mixed", 40),  # a->a (dropped), a->c, b->a, b->c: 10 each
        ],
    )
    flows = money_flows(s)
    assert flows.unplayed == 1
    m = flows.matrix.toarray()
    assert m[0, 2:].tolist() == [110, 100, 100]
    assert m[1].tolist() == [10, 0, 110, 100, 100]
    assert flows.money_out.tolist() == [310, 320, 0, 0, 0]
    assert flows.money_in.tolist() == [10, 0, 220, 200, 200]


def test_no_money_is_an_empty_result_and_bad_types_are_refused() -> None:
    s = snap(participants=people("a", "b"))
    flows = money_flows(s)
    assert flows.tst == 0 and flows.currency is None and not flows.net.any()
    assert json.loads(json.dumps(flows.to_json()))["participants"] == {}
    with pytest.raises(
        AnalysisError, match=r"unknown exchange type 'cash': expected some of goods"
    ):
        money_flows(s, types=["cash"])


def test_northbridge_money(northbridge: glia.Snapshot) -> None:
    flows = money_flows(northbridge)
    ids = flows.participant_ids
    # the processor pays the farms 14,000 a week, shared by the four producers
    harbour, coop = ids.index("harbour-foods"), ids.index("eastvale-coop")
    assert flows.matrix[harbour, coop] == pytest.approx((14000 * 52 + 18500) / 4)
    assert flows.net.sum() == pytest.approx(0)
    table = flows.to_pandas()
    assert table.loc["harbour-foods", "money_out"] == pytest.approx(flows.money_out[harbour])
    assert json.dumps(flows.to_json())


# -- net present value --------------------------------------------------------------------------
def test_npv_worked_by_hand() -> None:
    # e3value user manual, table 7.1: invest 1,000 in period 0, then 500 - 100 a
    # period for three periods; undiscounted, the net is 200
    assert npv([-1000, 400, 400, 400], 0.0) == pytest.approx(200)
    # at 10% a period: -1000 + 400/1.1 + 400/1.21 + 400/1.331
    assert npv([-1000, 400, 400, 400], 0.1) == pytest.approx(
        -1000 + 400 / 1.1 + 400 / 1.21 + 400 / 1.331
    )
    rows = npv([[100, 100], [0, 110]], 0.1)
    assert rows.tolist() == pytest.approx([100 + 100 / 1.1, 100])
    assert npv([], 0.05) == 0
    with pytest.raises(AnalysisError, match="discount rate must be a number above -1"):
        npv([1, 2], -1.0)


def test_participant_npv_puts_one_off_flows_in_period_zero() -> None:
    s = snap(
        participants=people("a", "b"),
        exchanges=[money("a", "b", 1000, period="once"), money("a", "b", 100, period="year")],
    )
    flows = money_flows(s, rate=0.1, periods=3)
    expected = 1000 + 100 + 100 / 1.1 + 100 / 1.21
    assert flows.npv.tolist() == pytest.approx([-expected, expected])
    again = participant_npv(flows, 3, 0.1)
    assert again.npv.tolist() == pytest.approx(flows.npv.tolist())
    assert again.one_off.tolist() == [-1000, 1000] and again.recurring.tolist() == [-100, 100]
    assert money_flows(s).npv.tolist() == [-1100, 1100]  # one undiscounted year
    with pytest.raises(AnalysisError, match="periods must be a whole number of years"):
        participant_npv(flows, 0, 0.1)


# -- stakeholder value loops ------------------------------------------------------------------
def _random_value_network(rng: random.Random) -> tuple[glia.Snapshot, list[tuple[str, str, Any]]]:
    roles = [f"r{i}" for i in range(rng.randint(3, 7))]
    flows = []
    for _ in range(rng.randint(3, 18)):
        a, b = rng.sample(roles, 2)
        flows.append((a, b, rng.choice([None, -5, -2, 0, 1, 3, 5])))
    exchanges = [
        {"from": a, "to": b, "deliverable": f"d{k}", "kind": "intangible"}
        | ({} if v is None else {"perceived_value": v})
        for k, (a, b, v) in enumerate(flows)
    ]
    return snap(roles=[{"id": r} for r in roles], exchanges=exchanges), flows


def test_loops_match_networkx_simple_cycles_and_flow_by_flow_importance() -> None:
    rng = random.Random(7)
    checked = 0
    for _ in range(25):
        s, flows = _random_value_network(rng)
        score = {None: 0.5} | {v: (v + 5) / 10 for v in range(-5, 6)}
        parallel: dict[tuple[str, str], list[float]] = {}
        for a, b, v in flows:
            parallel.setdefault((a, b), []).append(score[v])
        g = nx.DiGraph()
        g.add_nodes_from(s.role_ids)
        g.add_edges_from(parallel)
        for focal in s.role_ids:
            for k in (2, 3, 5):
                result = stakeholder_loops(s, focal, max_length=k)
                expected = {}
                for cycle in nx.simple_cycles(g, length_bound=k):
                    if focal not in cycle:
                        continue
                    at = cycle.index(focal)
                    cycle = cycle[at:] + cycle[:at]
                    arcs = list(itertools.pairwise([*cycle, focal]))
                    # one loop per choice of a single flow at each step
                    choices = list(itertools.product(*(parallel[arc] for arc in arcs)))
                    expected[tuple(cycle)] = (sum(math.prod(c) for c in choices), len(choices))
                got = {
                    tuple(result.node_ids[v] for v in loop): (s_, n_)
                    for loop, s_, n_ in zip(
                        result.loops, result.scores, result.flow_loops, strict=True
                    )
                }
                assert got.keys() == expected.keys()
                for loop, (s_, n_) in expected.items():
                    assert got[loop][0] == pytest.approx(s_)
                    assert got[loop][1] == n_
                total = sum(s_ for s_, _ in expected.values())
                for i, node in enumerate(result.node_ids):
                    share = sum(s_ for loop, (s_, _) in expected.items() if node in loop)
                    want = share / total if total > 0 else 0.0
                    assert result.importance[i] == pytest.approx(want)
                checked += len(expected)
    assert checked > 100


def test_loops_on_northbridge(northbridge: glia.Snapshot) -> None:
    loops = stakeholder_loops(northbridge, "integrator", max_length=3)
    names = loops.loop_names()
    assert ["integrator", "researcher"] in names  # dataset for models
    assert ["integrator", "client", "producer"] in names  # forecasts, premium, feedback
    assert loops.importance[loops.focal] == 1.0
    assert all(len(loop) <= 3 for loop in loops.loops)
    assert list(loops.scores) == sorted(loops.scores, reverse=True)
    assert json.loads(json.dumps(loops.to_json()))["focal"] == "integrator"
    assert set(loops.to_pandas().columns) == {"kind", "importance", "loops"}
    assert loops.loops_frame()["loop"][0].startswith("integrator -> ")


def test_flow_scores() -> None:
    s = snap(
        roles=[{"id": "a"}, {"id": "b"}],
        exchanges=[
            {
                "from": "a",
                "to": "b",
                "deliverable": "x",
                "kind": "intangible",
                "perceived_value": -5,
            },
            {
                "from": "a",
                "to": "b",
                "deliverable": "y",
                "kind": "intangible",
                "perceived_value": 3,
            },
            {"from": "b", "to": "a", "deliverable": "z", "kind": "intangible"},
        ],
    )
    assert flow_scores(s).tolist() == [0.0, 0.8, 0.5]
    loops = stakeholder_loops(s, "a", max_length=2)
    # one node loop a -> b -> a standing for two flow loops: 0 x 0.5 + 0.8 x 0.5
    assert loops.loops == [(0, 1)] and loops.flow_loops.tolist() == [2]
    assert loops.scores.tolist() == pytest.approx([0.4])


def test_bad_focal_nodes_and_bounds() -> None:
    s = snap(
        participants=people("ana", "ben", "cy"),
        roles=[{"id": "r", "played_by": ["ana"]}, {"id": "q"}],
        exchanges=[
            {"from": "r", "to": "q", "deliverable": "x", "kind": "tangible"},
            {"from": "ben", "to": "q", "deliverable": "y", "kind": "tangible"},
        ],
    )
    with pytest.raises(AnalysisError, match=r"participant 'ana' is not a node .* roles \(r\)"):
        stakeholder_loops(s, "ana")
    with pytest.raises(AnalysisError, match=r"participant 'cy' is not a node .* no exchange"):
        stakeholder_loops(s, "cy")
    with pytest.raises(AnalysisError, match="unknown focal node 'zed': expected a role id"):
        stakeholder_loops(s, "zed")
    with pytest.raises(AnalysisError, match="max_length must be a whole number"):
        stakeholder_loops(s, "r", max_length=1)
    none = stakeholder_loops(s, "ben")  # a node with no loop: a defined, empty result
    assert none.loops == [] and none.total == 0 and not none.importance.any()


def test_too_many_loops_are_refused() -> None:
    roles = [f"r{i}" for i in range(9)]
    exchanges = [
        {"from": a, "to": b, "deliverable": "x", "kind": "intangible"}
        for a, b in itertools.permutations(roles, 2)
    ]
    s = snap(roles=[{"id": r} for r in roles], exchanges=exchanges)
    with pytest.raises(AnalysisError, match="more than 100 value loops of at most 6 flows"):
        stakeholder_loops(s, "r0", max_length=6, max_loops=100)
    # the same search with room enough: 8 + 8*7 + 8*7*6 loops of length 2, 3, 4
    assert len(stakeholder_loops(s, "r0", max_length=4).loops) == 8 + 56 + 336
    assert np.isclose(stakeholder_loops(s, "r0", max_length=2).importance[1:].sum(), 1.0)


@settings(max_examples=30)
@given(ecosystems())
def test_any_ecosystem_gives_flows_and_loops_or_a_clear_refusal(eco: Ecosystem) -> None:
    s = snapshot_of(eco)
    flows = money_flows(s, rate=0.05, periods=3)
    assert flows.net.sum() == pytest.approx(0, abs=1e-6 * max(1.0, flows.tst))
    assert json.dumps(flows.to_json())
    assert np.all(np.isfinite(participant_npv(flows, 2, 0.1).npv))
    for focal in [*s.role_ids, *s.participant_ids]:
        try:
            loops = stakeholder_loops(s, focal, max_length=4)
        except AnalysisError:
            continue
        assert json.dumps(loops.to_json())
        assert loops.importance.max(initial=0) <= 1 + 1e-9
