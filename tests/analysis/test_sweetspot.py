"""The sweet spot: formal and informal overlap, overall, by cluster, per participant, by year."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings

import glia
from glia.analysis._common import AnalysisError
from glia.analysis.sweetspot import _bridges, sweet_spot
from glia.graph import Layer, build, grouping
from glia.model import Ecosystem
from glia.store import snapshot_of

from strategies import ecosystems

EXAMPLE = Path(__file__).parents[2] / "examples" / "northbridge.yaml"


def tie(a: str, b: str, layer: str, weight: float, **extra: object) -> dict[str, object]:
    return {"from": a, "to": b, "layer": layer, "weight": weight, **extra}


# Six participants; clusters c1 = {a, b, c} and c2 = {c, d, e}; f belongs to none.
#   formal:   a-b (twice: merged), b-c, c-d, d-e, a-f
#   informal: a-b, a-c, b-c, c-d, b-d, e-f
SMALL = Ecosystem.model_validate(
    {
        "glia": 1,
        "ecosystem": "Small",
        "clusters": [{"id": "c1", "kind": "business"}, {"id": "c2", "kind": "business"}],
        "participants": [
            {"id": "a", "clusters": ["c1"]},
            {"id": "b", "clusters": ["c1"]},
            {"id": "c", "clusters": ["c1", "c2"]},
            {"id": "d", "clusters": ["c2"]},
            {"id": "e", "clusters": ["c2"]},
            {"id": "f"},
        ],
        "ties": [
            tie("a", "b", "formal", 0.9, directed=True, since=dt.date(2019, 3, 1)),
            tie("b", "a", "formal", 0.1, type="partnership"),
            tie("b", "c", "formal", 0.5),
            tie("c", "d", "formal", 0.4),
            tie("d", "e", "formal", 0.3, since=dt.date(2020, 1, 1), until=dt.date(2021, 12, 31)),
            tie("a", "f", "formal", 0.8),
            tie("a", "b", "informal", 0.8),
            tie("a", "c", "informal", 0.6),
            tie("b", "c", "informal", 0.5),
            tie("c", "d", "informal", 0.7, until=dt.date(2021, 6, 30)),
            tie("b", "d", "informal", 0.9),
            tie("e", "f", "informal", 0.5, since=dt.date(2022, 5, 5)),
        ],
    }
)


@pytest.fixture(scope="module")
def small():
    snap = snapshot_of(SMALL)
    return build(snap), grouping(snap, "cluster")


def test_overall_cluster_and_participant_numbers_by_hand(small) -> None:
    mx, groups = small
    spot = sweet_spot(mx, groups=groups)
    # F = {ab, bc, cd, de, af}, I = {ab, ac, bc, cd, bd, ef}: 3 shared of 8
    assert (spot.n_formal, spot.n_informal, spot.n_both, spot.n_union) == (5, 6, 3, 8)
    assert spot.overlap == pytest.approx(3 / 8)
    assert spot.n_informal_only == 3
    # c1 = {a, b, c}: F {ab, bc}, I {ab, ac, bc}; c2 = {c, d, e}: F {cd, de}, I {cd}
    assert spot.cluster_ids == ["c1", "c2"]
    assert spot.cluster_formal.tolist() == [2, 2]
    assert spot.cluster_informal.tolist() == [3, 1]
    assert spot.cluster_both.tolist() == [2, 1]
    assert spot.cluster_union.tolist() == [3, 2]
    assert spot.cluster_overlap.tolist() == pytest.approx([2 / 3, 1 / 2])
    # informal neighbours with a formal tie too:
    #   a: b, c -> b;  b: a, c, d -> a, c;  c: a, b, d -> b, d;  d: c, b -> c;
    #   e: f -> none;  f: e -> none
    assert spot.informal_ties.tolist() == [2, 3, 3, 2, 1, 1]
    assert spot.informal_with_formal.tolist() == [1, 2, 2, 1, 0, 0]
    assert spot.informal_share.tolist() == pytest.approx([1 / 2, 2 / 3, 2 / 3, 1 / 2, 0, 0])
    assert spot.formal_ties.tolist() == [2, 2, 2, 2, 1, 1]
    assert spot.formal_with_informal.tolist() == [1, 2, 2, 1, 0, 0]


def test_informal_ties_without_formal_support(small) -> None:
    mx, groups = small
    spot = sweet_spot(mx, groups=groups)
    # informal graph: triangle a-b-c, c-d, b-d (so no bridge there), e-f a bridge.
    # Groups (first cluster): a, b, c in c1; d, e in c2; f none.
    # Informal only: a-c (inside c1, on the triangle: supported by nothing but no
    # bridge and no crossing), b-d (crosses c1/c2, 0.9), e-f (bridge, 0.5; f has no
    # group, so it crosses nothing)
    assert spot.n_informal_bridges == 1
    assert spot.n_unsupported == 2
    assert spot.unsupported_pairs == [("b", "d"), ("e", "f")]
    assert spot.unsupported_weight.tolist() == pytest.approx([0.9, 0.5])
    assert spot.unsupported_bridge.tolist() == [False, True]
    assert spot.unsupported_crossing.tolist() == [True, False]
    # without groups only the bridge is left
    plain = sweet_spot(mx)
    assert plain.unsupported_pairs == [("e", "f")] and plain.grouping is None
    # formal only: a-f (0.8), d-e (0.3)
    assert spot.n_formal_only == 2
    assert spot.formal_only_pairs == [("a", "f"), ("d", "e")]
    assert spot.formal_only_weight.tolist() == pytest.approx([0.8, 0.3])
    top = sweet_spot(mx, groups=groups, top=1)
    assert top.unsupported_pairs == [("b", "d")] and top.n_unsupported == 2
    assert top.formal_only_pairs == [("a", "f")] and top.n_formal_only == 2


def test_years_by_hand(small) -> None:
    mx, _ = small
    spot = sweet_spot(mx)
    # dates run 2019 (a-b since) to 2022 (e-f since); at 31 December:
    #   2019: F ab bc cd af (de from 2020)      I ab ac bc cd bd (ef from 2022)
    #   2020: F + de                             I same
    #   2021: F same (de until 31 Dec: alive)    I - cd (until 30 June)
    #   2022: F - de                             I + ef
    assert spot.years.tolist() == [2019, 2020, 2021, 2022]
    assert spot.year_formal.tolist() == [4, 5, 5, 4]
    assert spot.year_informal.tolist() == [5, 5, 4, 5]
    assert spot.year_both.tolist() == [3, 3, 2, 2]
    assert spot.year_union.tolist() == [6, 7, 7, 7]
    assert spot.year_overlap.tolist() == pytest.approx([3 / 6, 3 / 7, 2 / 7, 2 / 7])


def numbers_at(snapshot, day: dt.date) -> tuple[int, int, int, int]:
    m = build(snapshot, at=day)
    f = set(zip(m.formal.edge_u.tolist(), m.formal.edge_v.tolist(), strict=True))
    i = set(zip(m.informal.edge_u.tolist(), m.informal.edge_v.tolist(), strict=True))
    return len(f), len(i), len(f & i), len(f | i)


def check_years(snapshot) -> None:
    mx = build(snapshot)
    if mx.formal.n_edges == 0 and mx.informal.n_edges == 0:
        return
    spot = sweet_spot(mx)
    for k, year in enumerate(spot.years.tolist()):
        got = (spot.year_formal[k], spot.year_informal[k], spot.year_both[k], spot.year_union[k])
        assert got == numbers_at(snapshot, dt.date(year, 12, 31)), year


def test_years_equal_rebuilding_at_each_year_end_on_the_example() -> None:
    snap = snapshot_of(glia.read(EXAMPLE))
    spot = sweet_spot(build(snap))
    dated = [d for d in (*snap.tie_since.tolist(), *snap.tie_until.tolist()) if d is not None]
    assert spot.years[0] == min(dated).year and spot.years[-1] == max(dated).year
    check_years(snap)


@settings(max_examples=60, deadline=None)
@given(ecosystems())
def test_years_equal_rebuilding_at_each_year_end(eco) -> None:
    check_years(snapshot_of(eco))


def test_no_dates_no_years(small) -> None:
    mx, _ = small
    snap = mx.snapshot
    undated = dataclasses.replace(
        snap,
        tie_since=np.full(snap.n_ties, np.datetime64("NaT"), "datetime64[D]"),
        tie_until=np.full(snap.n_ties, np.datetime64("NaT"), "datetime64[D]"),
    )
    spot = sweet_spot(build(undated))
    assert spot.years.tolist() == [] and spot.year_overlap.tolist() == []
    assert spot.to_json()["years"] == []
    assert len(spot.years_to_pandas()) == 0


def test_bridges_equal_networkx() -> None:
    rng = np.random.default_rng(8)
    for _ in range(30):
        n = int(rng.integers(2, 30))
        m = int(rng.integers(1, 2 * n))
        a, b = rng.integers(0, n, m), rng.integers(0, n, m)
        layer = Layer.from_ties("x", n, a, b)
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(zip(layer.edge_u.tolist(), layer.edge_v.tolist(), strict=True))
        expected = {tuple(sorted(e)) for e in nx.bridges(g)}
        flags = _bridges(layer)
        got = {
            (u, v)
            for u, v, f in zip(layer.edge_u.tolist(), layer.edge_v.tolist(), flags, strict=True)
            if f
        }
        assert got == expected


def test_bridges_equal_networkx_on_deeper_graphs() -> None:
    # trees with a few extra edges (long chains, deep breadth-first levels),
    # several components, and a generated ecosystem's informal layer
    rng = np.random.default_rng(9)
    layers = []
    for _ in range(12):
        n = int(rng.integers(50, 600))
        parent = [int(rng.integers(0, max(1, i))) for i in range(1, n)]
        a = list(range(1, n)) + rng.integers(0, n, n // 20).tolist()
        b = parent + rng.integers(0, n, n // 20).tolist()
        layers.append(Layer.from_ties("t", n + 5, a, b))  # 5 isolated nodes
    path = Path(__file__).parents[2] / "examples" / "northbridge.yaml"
    layers.append(build(snapshot_of(glia.read(path))).informal)
    for layer in layers:
        g = nx.Graph()
        g.add_nodes_from(range(layer.n))
        g.add_edges_from(zip(layer.edge_u.tolist(), layer.edge_v.tolist(), strict=True))
        expected = {tuple(sorted(e)) for e in nx.bridges(g)}
        flags = _bridges(layer)
        pairs = zip(layer.edge_u.tolist(), layer.edge_v.tolist(), flags.tolist(), strict=True)
        assert {(u, v) for u, v, f in pairs if f} == expected


def test_the_example_against_sets() -> None:
    eco = glia.read(EXAMPLE)
    snap = snapshot_of(eco)
    mx = build(snap)
    groups = grouping(snap, "cluster")
    spot = sweet_spot(mx, groups=groups)
    pairs = {"formal": set(), "informal": set()}
    for t in eco.ties:
        if t.source != t.target:
            pairs[t.layer].add(frozenset((t.source, t.target)))
    f, i = pairs["formal"], pairs["informal"]
    assert spot.overlap == pytest.approx(len(f & i) / len(f | i))
    members = {c.id: {p.id for p in eco.participants if c.id in p.clusters} for c in eco.clusters}
    for k, cid in enumerate(spot.cluster_ids):
        fc = {p for p in f if p <= members[cid]}
        ic = {p for p in i if p <= members[cid]}
        assert spot.cluster_both[k] == len(fc & ic)
        assert spot.cluster_union[k] == len(fc | ic)
    for k, pid in enumerate(mx.ids):
        mine = {p for p in i if pid in p}
        share = len(mine & f) / len(mine) if mine else math.nan
        assert spot.informal_share[k] == pytest.approx(share, nan_ok=True)
    data = spot.to_json(participants=True)
    json.dumps(data, allow_nan=False)
    assert data["unsupported"]["count"] == spot.n_unsupported
    assert "participants" not in spot.to_json()
    table = spot.to_pandas()
    assert list(table.index) == mx.ids
    assert set(spot.columns()) == {f"sweet_spot.{c}" for c in table.columns}
    assert list(spot.clusters_to_pandas().index) == spot.cluster_ids


def test_bad_input_is_refused_with_a_reason(small) -> None:
    mx, _ = small
    with pytest.raises(AnalysisError, match="unknown period 'month'"):
        sweet_spot(mx, by="month")  # type: ignore[arg-type]
    with pytest.raises(AnalysisError, match="top must be 0 or more"):
        sweet_spot(mx, top=-1)
    empty = Ecosystem.model_validate({"glia": 1, "ecosystem": "E", "participants": [{"id": "a"}]})
    with pytest.raises(AnalysisError, match="no formal or informal ties"):
        sweet_spot(build(snapshot_of(empty)))


def test_one_layer_only_is_a_defined_result() -> None:
    only = Ecosystem.model_validate(
        {
            "glia": 1,
            "ecosystem": "Only",
            "participants": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
            "ties": [tie("a", "b", "informal", 1.0), tie("b", "c", "informal", 0.0)],
        }
    )
    spot = sweet_spot(build(snapshot_of(only)))
    assert spot.overlap == 0.0 and spot.n_formal == 0
    # a path: both ties are bridges, and neither has a formal channel
    assert spot.unsupported_pairs == [("a", "b"), ("b", "c")]
    assert spot.informal_share.tolist() == [0.0, 0.0, 0.0]
    assert spot.cluster_ids == [] and spot.cluster_overlap.tolist() == []
