"""Brokerage: Gould-Fernandez (as R's sna), the E-I index, Cross-Parker roles."""

from __future__ import annotations

import importlib
import json
import math
from itertools import permutations
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import glia
from glia.analysis._common import AnalysisError
from glia.analysis.brokerage import (
    GF_ROLES,
    ROLE_RULES,
    _global_moments,
    _group_moments,
    brokerage,
)
from glia.graph import Grouping, Layer, build, grouping
from glia.store import snapshot_of

EXAMPLE = Path(__file__).parents[2] / "examples" / "northbridge.yaml"
# the module itself: the package re-exports the function under the same name
brokerage_module = importlib.import_module("glia.analysis.brokerage")


def arcs_layer(n: int, arcs: list[tuple[int, int]], weight: float = 1.0) -> Layer:
    a, b = zip(*arcs, strict=True)
    return Layer.from_ties("test", n, a, b, [weight] * len(arcs), directed=True)


def groups_of(labels: list[int]) -> Grouping:
    k = max(labels) + 1
    return Grouping("test", np.asarray(labels, dtype=np.int32), [chr(65 + i) for i in range(k)])


# -- brute force and a transcription of sna's R code, the independent answers -------------


def brute_counts(n: int, arcs: set[tuple[int, int]], g: list[int]) -> np.ndarray:
    """Every ordered triple (a, v, b), classified as sna's brokerage_R does."""
    out = np.zeros((n, 5), dtype=np.int64)
    for a, v, b in permutations(range(n), 3):
        if min(g[a], g[v], g[b]) < 0:
            continue  # the ungrouped take no part
        if (a, v) in arcs and (v, b) in arcs and (a, b) not in arcs:
            if g[a] == g[v]:
                role = 0 if g[v] == g[b] else 2  # coordinator / representative
            elif g[v] == g[b]:
                role = 3  # gatekeeper
            elif g[a] == g[b]:
                role = 1  # itinerant
            else:
                role = 4  # liaison
            out[v, role] += 1
    return out


def choose2(x: float) -> float:
    return x * (x - 1) / 2


def sna_moments(n: list[float], big_n: float, d: float):
    """A line-by-line transcription of sna::brokerage's moments (R, sna 2.x)."""
    n = [float(x) for x in n]
    dd, a3, b4, c5 = d**2 * (1 - d), d**3 * (1 - d) ** 3, d**4 * (1 - d) ** 2, d**5 * (1 - d)
    ebr, vbr = [], []
    for i in range(len(n)):
        o = [x for j, x in enumerate(n) if j != i]
        e = [0.0] * 6
        v = [0.0] * 6
        e[0] = dd * (n[i] - 1) * (n[i] - 2)
        v[0] = e[0] * (1 - dd) + 2 * (n[i] - 1) * (n[i] - 2) * (n[i] - 3) * a3
        e[1] = dd * sum(x * (x - 1) for x in o)
        v[1] = e[1] * (1 - dd) + 2 * sum(x * (x - 1) * (x - 2) for x in o) * a3
        e[2] = dd * (big_n - n[i]) * (n[i] - 1)
        v[2] = (
            e[2] * (1 - dd)
            + 2 * ((n[i] - 1) * choose2(big_n - n[i]) + (big_n - n[i]) * choose2(n[i] - 1)) * a3
        )
        e[3], v[3] = e[2], v[2]
        e[4] = dd * (sum(x * y for x in o for y in o) - sum(x * x for x in o))
        v[4] = e[4] * (1 - dd) + 4 * sum(x * choose2(big_n - x - n[i]) * a3 for x in o)
        e[5] = dd * (big_n - 1) * (big_n - 2)
        v[5] = e[5] * (1 - dd) + 2 * (big_n - 1) * (big_n - 2) * (big_n - 3) * a3
        ebr.append(e)
        vbr.append(v)
    eg, vg = [0.0] * 6, [0.0] * 6
    eg[0] = dd * sum(x * (x - 1) * (x - 2) for x in n)
    vg[0] = eg[0] * (1 - dd) + sum(
        x * (x - 1) * (x - 2) * ((4 * x - 10) * a3 - 4 * (x - 3) * b4 + (x - 3) * c5) for x in n
    )
    eg[1] = dd * sum(x * (big_n - x) * (x - 1) for x in n)
    vg[1] = eg[1] * (1 - dd) + (
        sum(
            x * y * (x - 1) * ((2 * x + 2 * y - 6) * a3 + (big_n - x - 1) * c5)
            for x in n
            for y in n
        )
        - sum(x * x * (x - 1) * ((4 * x - 6) * a3 + (big_n - x - 1) * c5) for x in n)
    )
    eg[2] = dd * sum(x * (big_n - x) * (x - 1) for x in n)
    vg[2] = eg[2] * (1 - dd) + sum(
        x * (big_n - x) * (x - 1) * ((big_n - 3) * a3 + (x - 2) * c5) for x in n
    )
    eg[3], vg[3] = eg[2], vg[2]
    eg[4] = dd * (
        sum(x * y * (big_n - x - y) for x in n for y in n) - sum(x * x * (big_n - 2 * x) for x in n)
    )
    vg[4] = eg[4] * (1 - dd)
    for i, j, k in permutations(range(len(n)), 3):
        ni, nj, nk = n[i], n[j], n[k]
        vg[4] += (
            ni
            * nj
            * nk
            * (
                (4 * (big_n - nj) - 2 * (ni + nk + 1)) * a3
                - (4 * (big_n - nk) - 2 * (ni + nj + 1)) * b4
                + (big_n - (ni + nk + 1)) * c5
            )
        )
    eg[5] = dd * big_n * (big_n - 1) * (big_n - 2)
    vg[5] = eg[5] * (1 - dd) + big_n * (big_n - 1) * (big_n - 2) * (
        (4 * big_n - 10) * a3 - 4 * (big_n - 3) * b4 + (big_n - 3) * c5
    )
    return np.array(ebr), np.array(vbr), np.array(eg), np.array(vg)


# -- Gould-Fernandez ----------------------------------------------------------------------

# Groups A = {0, 1, 2}, B = {3, 4, 6}, C = {5}; participant 7 has no group.
STAR_GROUPS = [0, 0, 0, 1, 1, 2, 1, -1]
STAR_ARCS = [
    (1, 0), (3, 0), (5, 0),          # into 0
    (0, 2), (0, 4), (0, 1), (0, 6),  # out of 0 (0 <-> 1 reciprocated)
    (3, 4),                          # closes 3 -> 0 -> 4
    (7, 0), (0, 7),                  # the ungrouped 7 takes no part
]  # fmt: skip


def test_hand_counted_star() -> None:
    # Broker 0 (group A): in-neighbours 1 (A), 3 (B), 5 (C); out-neighbours 2 (A),
    # 4 (B), 1 (A), 6 (B). The twelve pairs (a, b):
    #   a=1: b=2 A-A-A coordinator; b=4 A-A-B representative; b=1 a=b, no;
    #        b=6 A-A-B representative
    #   a=3: b=2 B-A-A gatekeeper; b=4 closed by 3 -> 4, no; b=1 B-A-A gatekeeper;
    #        b=6 B-A-B itinerant
    #   a=5: b=2 C-A-A gatekeeper; b=4 C-A-B liaison; b=1 C-A-A gatekeeper;
    #        b=6 C-A-B liaison
    # so 0 is coordinator 1, itinerant 1, representative 2, gatekeeper 4,
    # liaison 2, total 10. No one else has an open 2-path: 1's only in- and
    # out-neighbour is 0 (a = b); 2, 4 and 6 send nothing; 3 and 5 receive nothing.
    result = brokerage(arcs_layer(8, STAR_ARCS), groups_of(STAR_GROUPS))
    assert result.counts[0].tolist() == [1, 1, 2, 4, 2, 10]
    assert result.counts[1:].sum() == 0
    assert result.total.tolist() == [1, 1, 2, 4, 2, 10]
    # the 7 grouped participants hold 8 arcs: d = 8 / (7 * 6) = 4/21
    assert result.n_grouped == 7 and result.n_arcs == 8
    d = 4 / 21
    dd = d * d * (1 - d)
    # broker in A (n_A = 3; others 3 and 1; N = 7):
    #   coordinator   (3-1)(3-2) = 2
    #   itinerant     3*2 + 1*0 = 6
    #   representative, gatekeeper (7-3)(3-1) = 8
    #   liaison       (3+1)^2 - (9+1) = 6
    #   total         6*5 = 30 = 2 + 6 + 8 + 8 + 6
    assert result.expected[0] == pytest.approx(np.array([2, 6, 8, 8, 6, 30]) * dd)
    # coordinator variance E(1 - D) + 2 (n-1)(n-2)(n-3) A, and (n-3) = 0 here
    z = (1 - 2 * dd) / math.sqrt(2 * dd * (1 - dd))
    assert result.z[0, 0] == pytest.approx(z)
    assert result.density == pytest.approx(d)
    # the ungrouped row
    assert result.counts[7].tolist() == [0] * 6
    assert np.isnan(result.expected[7]).all() and np.isnan(result.z[7]).all()


def test_roles_are_named_as_sna_names_them() -> None:
    # a -> v -> b with a and v in A, b in B: sna's b_IO, the representative
    rep = brokerage(arcs_layer(3, [(0, 1), (1, 2)]), groups_of([0, 0, 1]))
    assert rep.counts[1].tolist() == [0, 0, 1, 0, 0, 1]
    assert GF_ROLES[2] == "representative"
    # a in B, v and b in A: b_OI, the gatekeeper
    gate = brokerage(arcs_layer(3, [(0, 1), (1, 2)]), groups_of([1, 0, 0]))
    assert gate.counts[1].tolist() == [0, 0, 0, 1, 0, 1]
    assert gate.to_json()["gould_fernandez"]["gatekeeper"]["sna"] == "b_OI"


def test_counts_equal_brute_force_on_random_digraphs() -> None:
    rng = np.random.default_rng(7)
    for _ in range(150):
        n = int(rng.integers(3, 11))
        dense = rng.random((n, n)) < rng.uniform(0.1, 0.7)
        np.fill_diagonal(dense, False)
        arcs = list(zip(*np.nonzero(dense), strict=True))
        if not arcs:
            continue
        g = rng.integers(-1, int(rng.integers(1, 5)), n).tolist()
        if max(g) < 0:
            g[0] = 0
        result = brokerage(arcs_layer(n, arcs), groups_of([max(x, -1) for x in g]))
        expected = brute_counts(n, {(int(a), int(b)) for a, b in arcs}, g)
        assert result.counts[:, :5].tolist() == expected.tolist()
        assert (result.counts[:, 5] == expected.sum(axis=1)).all()


def test_triangle_enumeration_in_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    n = 30
    dense = rng.random((n, n)) < 0.3
    np.fill_diagonal(dense, False)
    arcs = [(int(a), int(b)) for a, b in zip(*np.nonzero(dense), strict=True)]
    g = rng.integers(0, 3, n).tolist()
    expected = brute_counts(n, set(arcs), g)
    for chunk in (1, 7, 100):
        monkeypatch.setattr(brokerage_module, "_CHUNK", chunk)
        result = brokerage(arcs_layer(n, arcs), groups_of(g))
        assert result.counts[:, :5].tolist() == expected.tolist()


def test_moments_equal_sna_transcription() -> None:
    rng = np.random.default_rng(11)
    for _ in range(60):
        sizes = rng.integers(1, 25, int(rng.integers(1, 7))).astype(float)
        big_n, d = float(sizes.sum()), float(rng.uniform(0.01, 0.99))
        ebr, vbr, eg, vg = sna_moments(list(sizes), big_n, d)
        e, v = _group_moments(sizes, big_n, d)
        te, tv = _global_moments(sizes, big_n, d)
        np.testing.assert_allclose(e, ebr, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(v, vbr, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(te, eg, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(tv, vg, rtol=1e-10, atol=1e-12)


def test_expected_and_z_per_participant_and_overall_follow_sna() -> None:
    rng = np.random.default_rng(5)
    n = 25
    dense = rng.random((n, n)) < 0.2
    np.fill_diagonal(dense, False)
    arcs = [(int(a), int(b)) for a, b in zip(*np.nonzero(dense), strict=True)]
    g = rng.integers(0, 4, n)
    result = brokerage(arcs_layer(n, arcs), groups_of(g.tolist()))
    sizes = np.bincount(g, minlength=4)
    d = len(arcs) / (n * (n - 1))
    ebr, vbr, eg, vg = sna_moments(list(sizes), n, d)
    np.testing.assert_allclose(result.expected, ebr[g])
    np.testing.assert_allclose(result.z, (result.counts - ebr[g]) / np.sqrt(vbr[g]))
    np.testing.assert_allclose(result.total_expected, eg)
    np.testing.assert_allclose(result.total_z, (result.counts.sum(axis=0) - eg) / np.sqrt(vg))
    np.testing.assert_allclose(result.group_expected, ebr)


def test_weight_zero_arcs_still_broker() -> None:
    one = brokerage(arcs_layer(8, STAR_ARCS), groups_of(STAR_GROUPS))
    zero = brokerage(arcs_layer(8, STAR_ARCS, weight=0.0), groups_of(STAR_GROUPS))
    assert zero.counts.tolist() == one.counts.tolist()


def test_one_group_is_all_coordination() -> None:
    result = brokerage(arcs_layer(4, [(0, 1), (1, 2), (2, 3)]), groups_of([0, 0, 0, 0]))
    # 0 -> 1 -> 2 and 1 -> 2 -> 3, both open, both inside the one group
    assert result.total.tolist() == [2, 0, 0, 0, 0, 2]
    assert result.total_expected[1:5].tolist() == [0, 0, 0, 0]
    assert np.isnan(result.total_z[1:5]).all()
    assert np.isfinite(result.total_z[[0, 5]]).all()
    assert result.ei_overall == -1.0
    json.dumps(result.to_json(participants=True), allow_nan=False)


def test_bad_input_is_refused_with_a_reason() -> None:
    layer = arcs_layer(3, [(0, 1), (1, 2)])
    with pytest.raises(AnalysisError, match="no participant has a group in grouping 'test'"):
        brokerage(layer, Grouping("test", np.full(3, -1, np.int32), []))
    with pytest.raises(AnalysisError, match="layer 'empty' has no ties"):
        brokerage(Layer.from_ties("empty", 3, [], []), groups_of([0, 0, 1]))
    with pytest.raises(AnalysisError, match="labels 2 participants, the layer has 3"):
        brokerage(layer, groups_of([0, 1]))
    with pytest.raises(AnalysisError, match="betweenness must have one value per participant"):
        brokerage(layer, groups_of([0, 0, 1]), betweenness=[1.0], constraint=[1, 1, 1])


# -- E-I ----------------------------------------------------------------------------------


def test_ei_by_hand() -> None:
    # edges of the star (each pair once): 0-1 0-2 (A-A), 0-3 0-4 0-6 (A-B), 0-5 (A-C),
    # 3-4 (B-B); 0-7 has the ungrouped 7 and counts for neither
    result = brokerage(arcs_layer(8, STAR_ARCS), groups_of(STAR_GROUPS))
    assert result.internal.tolist() == [2, 1, 1, 1, 1, 0, 0, 0]
    assert result.external.tolist() == [4, 0, 0, 1, 1, 1, 1, 0]
    ei = result.ei
    assert ei[:7].tolist() == pytest.approx([1 / 3, -1, -1, 0, 0, 1, 1])
    assert math.isnan(ei[7])
    # A: inside 0-1 0-2, out 0-3 0-4 0-6 0-5 -> (4-2)/6; B: inside 3-4, out 0-3 0-4 0-6
    # -> (3-1)/4; C: out 0-5 -> 1; network: 4 across, 3 inside -> 1/7
    assert result.group_internal.tolist() == [2, 1, 0]
    assert result.group_external.tolist() == [4, 3, 1]
    assert result.group_ei.tolist() == pytest.approx([1 / 3, 1 / 2, 1])
    assert result.ei_overall == pytest.approx(1 / 7)


def test_ei_equals_brute_force() -> None:
    rng = np.random.default_rng(2)
    for _ in range(40):
        n = int(rng.integers(2, 15))
        pairs = {tuple(sorted(p)) for p in rng.integers(0, n, (20, 2)).tolist() if p[0] != p[1]}
        if not pairs:
            continue
        g = rng.integers(-1, 3, n)
        if (g < 0).all():
            g[0] = 0
        a, b = zip(*pairs, strict=True)
        result = brokerage(
            Layer.from_ties("x", n, a, b), Grouping("x", g.astype(np.int32), ["p", "q", "r"])
        )
        for i in range(n):
            own = [j for p in pairs for j in p if i in p and j != i and g[j] >= 0]
            il = sum(g[j] == g[i] for j in own) if g[i] >= 0 else 0
            el = sum(g[j] != g[i] for j in own) if g[i] >= 0 else 0
            assert (result.internal[i], result.external[i]) == (il, el)
            want = (el - il) / (el + il) if g[i] >= 0 and el + il else math.nan
            assert result.ei[i] == pytest.approx(want, nan_ok=True)
        for k in range(3):
            il = sum(g[u] == g[v] == k for u, v in pairs)
            el = sum(
                g[u] >= 0 and g[v] >= 0 and g[u] != g[v] and k in (g[u], g[v]) for u, v in pairs
            )
            assert (result.group_internal[k], result.group_external[k]) == (il, el)


# -- Cross-Parker -------------------------------------------------------------------------


def three_teams() -> tuple[Layer, Grouping, nx.Graph]:
    # teams A = 0..9, B = 10..19, C = 20..29, each a star around its hub 0, 10, 20;
    # 5 (a leaf of A) is also tied to the hubs 10 and 20: the only way between teams
    pairs = [(h, h + i) for h in (0, 10, 20) for i in range(1, 10)] + [(5, 10), (5, 20)]
    a, b = zip(*pairs, strict=True)
    layer = Layer.from_ties("team", 30, a, b)
    groups = Grouping("team", np.repeat(np.arange(3, dtype=np.int32), 10), ["A", "B", "C"])
    return layer, groups, nx.Graph(pairs)


def measures(g: nx.Graph) -> tuple[list[float], list[float]]:
    btw = nx.betweenness_centrality(g, normalized=False)
    con = nx.constraint(g)
    return [btw[i] for i in range(30)], [con[i] for i in range(30)]


def test_cross_parker_roles_follow_the_stated_rules() -> None:
    layer, groups, g = three_teams()
    btw, con = measures(g)
    result = brokerage(
        layer, groups, betweenness=btw, constraint=con, communities_labels=groups.labels
    )
    # ties inside one's team: 9 for each hub, 1 for everyone else; the 90th
    # percentile of twenty-seven 1s and three 9s is 1 + 0.1 * 8 = 1.8
    assert result.thresholds["central_connector.internal_ties_p90"] == pytest.approx(1.8)
    assert np.flatnonzero(result.central_connector).tolist() == [0, 10, 20]
    # ties across: 5 has 2 (to 10 and 20; E-I (2-1)/3 > 0); 10 and 20 have 1 each
    # against 9 inside (E-I < 0); the 90th percentile of 27 zeros, 1, 1, 2 is 0.1
    assert result.thresholds["boundary_spanner.external_ties_p90"] == pytest.approx(0.1)
    assert np.flatnonzero(result.boundary_spanner).tolist() == [5]
    # betweenness (pairs through, NetworkX): 5 carries A x (B + C) less itself and
    # B x C: 9*20 + 100 = 280; 10 and 20: 9*20 + C(9,2) = 216; 0: 8*21 + C(8,2) = 196;
    # the 90th percentile is 196 + 0.1 * 20 = 198, so 5, 10 and 20 are in the top decile.
    # Constraint: hubs about 0.1, 5 a third, leaves 1 (the median). 5 reaches A, B, C;
    # 10 and 20 reach their team and 5's team A: all three broker.
    assert result.thresholds["information_broker.betweenness_p90"] == pytest.approx(198)
    assert result.thresholds["information_broker.constraint_median"] == pytest.approx(1.0)
    assert np.flatnonzero(result.information_broker).tolist() == [5, 10, 20]
    # 26 leaves have one tie; the 10th percentile of degree is 1, so peripheral is one tie
    assert result.thresholds["peripheral_specialist.degree_max"] == 1.0
    assert np.flatnonzero(result.peripheral_specialist).tolist() == [
        i for i in range(30) if g.degree(i) == 1
    ]
    assert result.notes == []
    data = result.to_json()
    assert data["roles"] == {
        "central_connector": 3,
        "boundary_spanner": 1,
        "information_broker": 3,
        "peripheral_specialist": 26,
    }
    assert data["role_rules"] == ROLE_RULES


def test_the_broker_role_needs_betweenness_and_constraint() -> None:
    layer, groups, g = three_teams()
    result = brokerage(layer, groups)
    assert not result.information_broker.any()
    assert result.notes == ["information brokers not computed: no betweenness and constraint given"]
    btw, con = measures(g)
    only = brokerage(layer, groups, betweenness=btw)
    assert only.notes == ["information brokers not computed: no constraint given"]
    stand_in = brokerage(layer, groups, betweenness=btw, constraint=con)
    assert stand_in.notes == [
        "information brokers: no communities given, groups of 'team' stand in"
    ]
    assert np.flatnonzero(stand_in.information_broker).tolist() == [5, 10, 20]
    # communities that lump B and C together: 10 and 20 now reach it and A, still 2
    merged = brokerage(
        layer, groups, betweenness=btw, constraint=con, communities_labels=groups.labels > 0
    )
    assert np.flatnonzero(merged.information_broker).tolist() == [5, 10, 20]
    # everyone in one community: no one reaches two
    alone = brokerage(
        layer, groups, betweenness=btw, constraint=con, communities_labels=np.zeros(30, int)
    )
    assert not alone.information_broker.any()


# -- the example --------------------------------------------------------------------------


def test_the_example_by_cluster() -> None:
    snap = snapshot_of(glia.read(EXAMPLE))
    mx = build(snap)
    groups = grouping(snap, "cluster")
    result = brokerage(mx.combined, groups, ids=mx.ids)
    arcs = set(zip(mx.combined.source.tolist(), mx.combined.target.tolist(), strict=True))
    expected = brute_counts(mx.n, arcs, groups.labels.tolist())
    assert result.counts[:, :5].tolist() == expected.tolist()
    data = result.to_json(participants=True)
    json.dumps(data, allow_nan=False)
    assert len(data["participants"]) == mx.n
    table = result.to_pandas()
    assert list(table.index) == mx.ids
    assert table.loc["nrda", "brokerage.total"] == result.counts[mx.index["nrda"], 5]
    assert "brokerage.gatekeeper_expected" in table.columns
    assert set(result.columns()) <= set(table.columns)
    groups_table = result.groups_to_pandas()
    assert groups_table["size"].sum() == (groups.labels >= 0).sum()
