"""Ulanowicz's sustainability worked by hand; keystones, dominators and niches."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings

import glia
from glia.analysis._common import AnalysisError
from glia.analysis.flows import money_flows
from glia.analysis.health import health, ulanowicz
from glia.graph import build
from glia.model import Ecosystem
from glia.store import snapshot_of

from strategies import ecosystems

EXAMPLE = Path(__file__).parents[2] / "examples" / "northbridge.yaml"


def mx(**sections: Any) -> glia.graph.Multiplex:
    return build(snapshot_of(Ecosystem.model_validate({"ecosystem": "T", **sections})))


def test_three_nodes_worked_by_hand() -> None:
    # Flows: A->B 4, B->C 4, C->A 2, C->B 2.
    #   TST = 12. Out of A, B, C: 4, 4, 4. Into A, B, C: 2, 6, 4.
    # Capacity C = -sum T log(T / TST)
    #   = -(4 ln(4/12) + 4 ln(4/12) + 2 ln(2/12) + 2 ln(2/12)) = 8 ln 3 + 4 ln 6
    # Ascendency A = sum T log(T TST / (T_i. T_.j))
    #   A->B: 4 ln(4*12 / (4*6)) = 4 ln 2
    #   B->C: 4 ln(4*12 / (4*4)) = 4 ln 3
    #   C->A: 2 ln(2*12 / (4*2)) = 2 ln 3
    #   C->B: 2 ln(2*12 / (4*6)) = 0
    #   A = 4 ln 2 + 6 ln 3
    # Overhead = C - A = 2 ln 3 + 4 (ln 6 - ln 2) = 6 ln 3
    # alpha = (4 ln 2 + 6 ln 3) / (8 ln 3 + 4 ln 6) = 9.36426 / 15.95594 = 0.58688
    # R = -alpha ln alpha = 0.58688 x 0.53292 = 0.31277
    t = [[0, 4, 0], [0, 0, 4], [2, 2, 0]]
    capacity = 8 * math.log(3) + 4 * math.log(6)
    ascendency = 4 * math.log(2) + 6 * math.log(3)
    alpha = ascendency / capacity
    for matrix in (t, sp.csr_array(np.array(t, dtype=float))):
        s = ulanowicz(matrix)
        assert s.tst == 12
        assert s.capacity == pytest.approx(capacity)
        assert s.ascendency == pytest.approx(ascendency)
        assert s.overhead == pytest.approx(6 * math.log(3))
        assert s.alpha == pytest.approx(alpha)
        assert s.alpha == pytest.approx(0.58688, abs=1e-5)
        assert s.robustness == pytest.approx(-alpha * math.log(alpha))
        assert s.robustness == pytest.approx(0.31277, abs=1e-5)
        assert (s.n_nodes, s.n_flows, s.log_base) == (3, 4, "e")


def test_robustness_peaks_at_one_over_e() -> None:
    # a ring (alpha = 1: every flow fully determined) and a complete graph of equal
    # flows (alpha = 0: no constraint) both have R = 0
    ring = ulanowicz([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert ring.alpha == pytest.approx(1) and ring.robustness == pytest.approx(0)
    full = ulanowicz(np.ones((3, 3)))
    assert full.alpha == pytest.approx(0, abs=1e-12) and full.robustness == pytest.approx(0)
    alphas = np.linspace(0.01, 0.99, 99)
    best = alphas[np.argmax(-alphas * np.log(alphas))]
    assert best == pytest.approx(1 / math.e, abs=0.01)


def test_bad_matrices() -> None:
    with pytest.raises(AnalysisError, match="no flows: sustainability needs at least one"):
        ulanowicz(np.zeros((3, 3)))
    with pytest.raises(AnalysisError, match="no flows"):
        ulanowicz(sp.csr_array((0, 0)))
    with pytest.raises(AnalysisError, match="non-negative"):
        ulanowicz([[0, -1], [1, 0]])
    with pytest.raises(AnalysisError, match="square"):
        ulanowicz([[0, 1, 2], [1, 0, 2]])
    one = ulanowicz([[0, 5], [0, 0]])  # a single flow: capacity 0, alpha undefined
    assert one.capacity == 0 and math.isnan(one.alpha) and math.isnan(one.robustness)
    assert json.dumps(one.to_json())


def _pay(a: str, b: str, value: float, pv: int) -> dict[str, Any]:
    return {
        "from": a,
        "to": b,
        "deliverable": "payment",
        "kind": "tangible",
        "type": "money",
        "value": value,
        "currency": "EUR",
        "perceived_value": pv,
    }


def _give(a: str, b: str, pv: int) -> dict[str, Any]:
    return {"from": a, "to": b, "deliverable": "help", "kind": "intangible", "perceived_value": pv}


@pytest.fixture(scope="module")
def platform() -> glia.graph.Multiplex:
    # hub1 takes 100 from each of n1, n2, n3 and gives them little (access, rated 1);
    # hub2 pays 50 to each of n2, n3, n4 (rated 5) and gets advice from n4 (rated 3).
    return mx(
        participants=[
            {"id": "hub1", "capabilities": {"platform": 5}},
            {"id": "hub2", "capabilities": {"capital": 5}},
            {"id": "n1", "capabilities": {"baking": 3}},
            {"id": "n2", "capabilities": {"pottery": 2}},
            {"id": "n3"},
            {"id": "n4", "capabilities": {"baking": 4, "weaving": 3}},
            {"id": "idle"},
        ],
        exchanges=[
            *(_pay(n, "hub1", 100, 2) for n in ("n1", "n2", "n3")),
            *(_give("hub1", n, 1) for n in ("n1", "n2", "n3")),
            *(_pay("hub2", n, 50, 5) for n in ("n2", "n3", "n4")),
            _give("n4", "hub2", 3),
        ],
    )


def test_keystones_and_dominators(platform: glia.graph.Multiplex) -> None:
    h = health(platform, hubs=2)
    ids = h.participant_ids
    i1, i2 = ids.index("hub1"), ids.index("hub2")
    # TST = 300 + 150 = 450; positive perceived value sent: 6 + 3 + 15 + 3 = 27
    assert h.sustainability.tst == 450
    assert h.captured[i1] == pytest.approx(300 / 450)
    assert h.created[i1] == pytest.approx(0.5 * (0 / 450 + 3 / 27))
    assert h.captured[i2] == 0
    assert h.created[i2] == pytest.approx(0.5 * (150 / 450 + 15 / 27))
    assert h.hub.tolist() == [True, True, False, False, False, False, False]
    assert h.kind == ["dominator", "keystone", "niche", "niche", "niche", "niche", ""]
    assert h.keystones == ["hub2"] and h.dominators == ["hub1"]
    # niches: capabilities at level >= 3 held by someone who is not a hub
    assert h.niches == ["baking", "weaving"] and h.niche_count == 2
    assert health(platform, hubs=2, niche_level=2).niches == ["baking", "pottery", "weaving"]
    assert h.created.sum() == pytest.approx(1.0) and h.captured.sum() == pytest.approx(1.0)
    data = json.loads(json.dumps(h.to_json()))
    assert [x["participant"] for x in data["hubs"]] == ["hub1", "hub2"]
    assert h.to_pandas().loc["hub1", "kind"] == "dominator"


def test_health_uses_the_flows_given(platform: glia.graph.Multiplex) -> None:
    flows = money_flows(platform.snapshot)
    assert health(platform, flows, hubs=2).sustainability.tst == flows.tst


def test_health_refuses_no_money_and_bad_settings() -> None:
    m = mx(
        participants=[{"id": "a"}, {"id": "b"}],
        exchanges=[_give("a", "b", 3)],
    )
    with pytest.raises(AnalysisError, match="no money flows: ecosystem health needs"):
        health(m)
    with pytest.raises(AnalysisError, match="niche_level must be a capability level 1-5"):
        health(m, niche_level=9)
    with pytest.raises(AnalysisError, match="hubs must be a whole number"):
        health(m, hubs=-1)


def test_northbridge_health() -> None:
    m = build(snapshot_of(glia.read(EXAMPLE)))
    h = health(m, hubs=5)
    s = h.sustainability
    assert 0 < s.alpha < 1
    assert s.robustness == pytest.approx(-s.alpha * math.log(s.alpha))
    assert s.units == "EUR x nats"
    direct = ulanowicz(money_flows(m.snapshot).matrix)
    assert s.ascendency == pytest.approx(direct.ascendency)
    assert h.hub.sum() == 5
    assert set(h.keystones) | set(h.dominators) == {
        m.ids[i] for i in np.flatnonzero(h.hub).tolist()
    }
    assert json.dumps(h.to_json())


@settings(max_examples=30)
@given(ecosystems())
def test_any_ecosystem_gives_health_or_a_clear_refusal(eco: Ecosystem) -> None:
    s = snapshot_of(eco)
    try:
        h = health(build(s), hubs=3)
    except AnalysisError as exc:
        assert "no money flows" in str(exc)
        return
    assert h.hub.sum() <= 3
    assert json.dumps(h.to_json())
