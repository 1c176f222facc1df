"""The map's routes: the graph with positions and measures, participants, clusters.

Each answer is compared with the store's own snapshot and with the analysis
computed directly, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from glia.analysis import analyze
from glia.api.routes.maps import MapOut, ParticipantDetail, layout
from glia.graph import exchange_pairs

from .conftest import ECO, OTHER, World

MAP = f"/api/v1/ecosystems/{ECO}/map"


def _expected_edges(world: World) -> Counter[tuple[str, str, str]]:
    """(source, target, layer) of every tie and exchange pair, from the snapshot itself."""
    s = world.store.snapshot(ECO)
    ids = s.participant_ids
    found: Counter[tuple[str, str, str]] = Counter()
    for a, b, layer in zip(s.tie_source, s.tie_target, s.tie_layer, strict=True):
        if a != b:
            found[(ids[a], ids[b], s.layers[layer])] += 1
    _, senders, receivers = exchange_pairs(s)
    for a, b in zip(senders, receivers, strict=True):
        if a != b:
            found[(ids[a], ids[b], "exchange")] += 1
    return found


def test_map_has_every_participant_tie_and_exchange(world: World) -> None:
    res = world.get("ben", MAP)
    assert res.status_code == 200
    body = MapOut.model_validate(res.json())
    snap = world.store.snapshot(ECO)
    assert [n.id for n in body.nodes] == snap.participant_ids
    assert len(body.nodes) == snap.n_participants == 40
    got = Counter((e.source, e.target, e.layer) for e in body.edges)
    assert got == _expected_edges(world)
    assert len(body.edges) == sum(_expected_edges(world).values())
    ids = {n.id for n in body.nodes}
    assert all(e.source in ids and e.target in ids for e in body.edges)
    assert {c.id for c in body.clusters} == set(snap.cluster_ids)
    assert body.measures == ["degree", "betweenness", "eigenvector"]
    # every kind of edge is there: the test world has all three layers
    assert {e.layer for e in body.edges} == {"formal", "informal", "exchange"}


def test_map_nodes_carry_clusters_and_the_right_main_kind(world: World) -> None:
    body = MapOut.model_validate(world.get("ben", MAP).json())
    eco = world.store.load(ECO)
    kinds = {c.id: c.kind for c in eco.clusters}
    for record, node in zip(eco.participants, body.nodes, strict=True):
        assert node.id == record.id
        assert node.label == (record.name or record.id)
        assert node.kind == record.kind
        assert node.region == record.region
        assert node.clusters == list(record.clusters)
        not_regional = [c for c in record.clusters if kinds[c] != "regional"]
        main = (not_regional or list(record.clusters) or [None])[0]
        assert node.cluster_kind == (kinds[main] if main else None)


def test_map_measures_equal_the_analysis(world: World) -> None:
    body = MapOut.model_validate(world.get("ben", MAP).json())
    combined = analyze(world.store.snapshot(ECO)).centrality["combined"]
    for name in ("degree", "betweenness", "eigenvector"):
        expected = np.asarray(getattr(combined, name), dtype=float)
        got = np.array([n.measures[name] for n in body.nodes], dtype=float)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    # nrda's combined degree, as the analysis's own doctest gives it
    nrda = next(n for n in body.nodes if n.id == "nrda")
    assert nrda.measures["degree"] == 15


def test_map_positions_are_finite_distinct_and_stable(world: World) -> None:
    first = world.get("ben", MAP).json()
    again = world.get("olga", MAP).json()
    points = [(n["x"], n["y"]) for n in first["nodes"]]
    assert all(np.isfinite(p).all() for p in points)
    assert len(set(points)) == len(points)
    assert [(n["x"], n["y"]) for n in again["nodes"]] == points


def test_map_is_gzipped_when_asked(world: World) -> None:
    zipped = world.client.get(MAP, headers={**world.as_("ben"), "Accept-Encoding": "gzip"})
    plain = world.client.get(MAP, headers={**world.as_("ben"), "Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"  # httpx decoded it
    assert "content-encoding" not in plain.headers
    assert zipped.json() == plain.json()
    assert int(zipped.headers["content-length"]) < len(plain.content)


def test_layout_keeps_clusters_apart() -> None:
    rng = np.random.default_rng(3)
    sizes = [120, 60, 30, 5, 1]
    group = np.repeat(np.arange(len(sizes)), sizes)
    n = len(group)
    u, v = rng.integers(0, n, 600), rng.integers(0, n, 600)
    same = (group[u] == group[v]) | (rng.random(600) < 0.1)
    x, y = layout(n, u[same & (u != v)], v[same & (u != v)], group)
    assert np.isfinite(x).all() and np.isfinite(y).all()
    centre = {g: (x[group == g].mean(), y[group == g].mean()) for g in range(len(sizes))}
    reach = {
        g: np.hypot(x[group == g] - centre[g][0], y[group == g] - centre[g][1]).max()
        for g in range(len(sizes))
    }
    for a in range(len(sizes)):
        for b in range(a + 1, len(sizes)):
            gap = np.hypot(centre[a][0] - centre[b][0], centre[a][1] - centre[b][1])
            assert gap > reach[a] + reach[b], (a, b)
    again = layout(n, u[same & (u != v)], v[same & (u != v)], group)
    assert np.array_equal(again[0], x) and np.array_equal(again[1], y)


def test_participants_search_by_name_and_id(world: World) -> None:
    path = f"/api/v1/ecosystems/{ECO}/participants"
    res = world.get("grace", path, params={"q": "lindqvist"})
    assert res.status_code == 200
    assert [p["id"] for p in res.json()["items"]] == ["grace"]
    assert res.json()["items"][0]["label"] == "Grace Lindqvist"
    snap = world.store.snapshot(ECO)
    wanted = [
        pid
        for pid, name in zip(snap.participant_ids, snap.participant_names, strict=True)
        if "farm" in pid or "farm" in (name or "").lower()
    ]
    found = world.get("olga", path, params={"q": "FARM"}).json()
    assert [p["id"] for p in found["items"]] == wanted and found["total"] == len(wanted) > 1
    nothing = world.get("ben", path, params={"q": "no-such-person"}).json()
    assert nothing["items"] == [] and nothing["total"] == 0


def test_participants_are_paged(world: World) -> None:
    path = f"/api/v1/ecosystems/{ECO}/participants"
    first = world.get("ben", path, params={"limit": 15}).json()
    assert first["total"] == 40 and len(first["items"]) == 15 and first["next"]
    rest = world.get("ben", first["next"]).json()
    assert rest["offset"] == 15
    ids = world.store.snapshot(ECO).participant_ids
    assert [p["id"] for p in first["items"] + rest["items"]] == ids[:30]


def test_participant_detail(world: World) -> None:
    res = world.get("liam", f"/api/v1/ecosystems/{ECO}/participants/grace")
    assert res.status_code == 200
    detail = ParticipantDetail.model_validate(res.json())
    record = next(p for p in world.store.load(ECO).participants if p.id == "grace")
    assert detail.label == "Grace Lindqvist" and detail.kind == record.kind
    assert detail.region == record.region
    assert {c.name: c.level for c in detail.capabilities} == dict(record.capabilities)
    assert [c.id for c in detail.clusters] == list(record.clusters)
    expected = Counter(
        (b if a == "grace" else a, layer)
        for (a, b, layer), k in _expected_edges(world).items()
        for _ in range(k)
        if "grace" in (a, b)
    )
    assert Counter((t.other, t.layer) for t in detail.ties) == expected
    combined = analyze(world.store.snapshot(ECO)).centrality["combined"]
    i = world.store.snapshot(ECO).participant_ids.index("grace")
    assert detail.measures["degree"] == combined.degree[i]


def test_unknown_participant_is_404(world: World) -> None:
    res = world.get("ben", f"/api/v1/ecosystems/{ECO}/participants/nobody")
    assert res.status_code == 404
    assert res.headers["content-type"] == "application/problem+json"


def test_clusters_with_their_members(world: World) -> None:
    res = world.get("olga", f"/api/v1/ecosystems/{ECO}/clusters")
    assert res.status_code == 200
    summary = world.store.summary(ECO).clusters
    assert sorted((c["id"], c["kind"], c["members"]) for c in res.json()["items"]) == sorted(
        (c["id"], c["kind"], c["members"]) for c in summary
    )


@pytest.mark.parametrize(
    "path", ["map", "participants", "participants/grace", "clusters"], ids=lambda p: p
)
def test_outsider_gets_404_and_every_role_reads(world: World, path: str) -> None:
    url = f"/api/v1/ecosystems/{ECO}/{path}"
    res = world.get("otto", url)
    assert res.status_code == 404
    assert OTHER not in res.json()["detail"]
    for who in ("ben", "grace", "liam", "olga"):
        assert world.get(who, url).status_code == 200, who
    assert world.client.get(url).status_code == 401


def test_other_ecosystem_map(world: World) -> None:
    body = world.get("otto", f"/api/v1/ecosystems/{OTHER}/map").json()
    assert [n["id"] for n in body["nodes"]] == ["otto", "pia"]
    assert [(e["source"], e["target"], e["layer"]) for e in body["edges"]] == [
        ("otto", "pia", "informal")
    ]
    assert world.get("ben", f"/api/v1/ecosystems/{OTHER}/map").status_code == 404


def test_a_new_import_is_a_new_map(world: World) -> None:
    before = world.get("ben", MAP).json()
    world.store.import_ecosystem(
        __import__("glia").Ecosystem.model_validate(
            {
                "ecosystem": ECO,
                "participants": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
                "ties": [{"from": "a", "to": "b", "layer": "formal"}],
            }
        ),
        replace=True,
    )
    after = world.get("ben", MAP).json()
    assert len(before["nodes"]) == 40
    assert [n["id"] for n in after["nodes"]] == ["a", "b", "c"]
    assert len(after["edges"]) == 1


def test_a_map_too_large_to_draw_is_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from glia.api.routes import maps

    monkeypatch.setattr(maps, "MAX_NODES", 39)
    res = world.get("ben", MAP)
    assert res.status_code == 422
    assert (
        res.json()["type"].endswith("/map-too-large") and "40 participants" in res.json()["detail"]
    )
    monkeypatch.setattr(maps, "MAX_NODES", 40)
    assert world.get("ben", MAP).status_code == 200
