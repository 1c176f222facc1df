"""Tests of the ecosystem generator: validity, determinism, and each realism property."""

from __future__ import annotations

import collections
import datetime as dt
import doctest
import hashlib
import io
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import glia.generate
from glia.generate import GeneratedEcosystem, generate, output_format, write_generated
from glia.generate._sections import CHUNK, FORMAL_TYPES, INFORMAL_TYPES
from glia.generate._words import CAPABILITIES, KNOWLEDGE_THEMES, SECTORS
from glia.io import read_native
from glia.io.native import dump_native
from glia.model import SECTIONS, CollectingSink, Ecosystem, Location, check_stream


def collect(gen: GeneratedEcosystem) -> dict[str, Any]:
    """The whole generated document as plain data."""
    data: dict[str, Any] = dict(gen.header)
    for section, rows in gen.sections().items():
        data[section] = list(rows)
    return data


def digest(gen: GeneratedEcosystem) -> str:
    """SHA-256 of the YAML the native writer makes of ``gen``."""
    out = io.StringIO()
    dump_native(out, gen.header, gen.sections())
    return hashlib.sha256(out.getvalue().encode()).hexdigest()


# -- validity ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> dict[str, Any]:
    return collect(generate(2_000, seed=7))


def test_valid_through_the_model(small: dict[str, Any]) -> None:
    eco = Ecosystem.model_validate(small)
    counts = generate(2_000, seed=7).counts
    assert eco.counts() == counts
    assert eco.counts()["ties"] == 20_000


def test_valid_through_check_stream() -> None:
    gen = generate(3_000, seed=11)
    sections = gen.sections()

    def rows(section: str) -> Iterator[tuple[Location, Any]]:
        for i, row in enumerate(sections[section]):
            yield Location("gen", section, i + 1), row

    sink = CollectingSink()
    result = check_stream(gen.header, rows, "gen", sink)
    assert result.ok, result.problems[:5]
    assert result.index.counts == gen.counts


@pytest.mark.parametrize("n", [1, 2, 3, 25])
def test_tiny_ecosystems_are_valid(n: int) -> None:
    eco = Ecosystem.model_validate(collect(generate(n, seed=n)))
    assert len(eco.participants) == n
    assert len(eco.ties) == (10 * n if n > 1 else 0)
    assert all(t.source != t.target for t in eco.ties)
    assert len(eco.exchanges) >= 6
    assert len(eco.opportunities) >= 2


def test_header(small: dict[str, Any]) -> None:
    assert small["glia"] == 1
    assert small["ecosystem"] == "Generated 2000 (seed 7)"
    assert small["currency"] == "EUR"
    assert small["description"]
    assert small["attributes"]["seed"] == 7


def test_section_order() -> None:
    assert list(generate(10).sections()) == list(SECTIONS)


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    first = digest(generate(1_500, seed=3))
    assert digest(generate(1_500, seed=3)) == first
    assert digest(generate(1_500, seed=4)) != first


def test_sections_are_fresh_and_order_independent() -> None:
    gen = generate(1_000, seed=5)
    forward = {s: list(rows) for s, rows in gen.sections().items()}
    fresh = gen.sections()
    backward = {s: list(fresh[s]) for s in reversed(list(SECTIONS))}
    assert forward == backward


def test_knobs_change_output_and_are_recorded() -> None:
    gen = generate(500, seed=1, ties_per_participant=4, overlap=0.5)
    assert gen.counts["ties"] == 2_000
    assert gen.header["attributes"]["overlap"] == 0.5
    assert digest(gen) != digest(generate(500, seed=1))


@pytest.mark.parametrize(
    ("knob", "value"),
    [
        ("participants", 0),
        ("seed", -1),
        ("ties_per_participant", -1.0),
        ("overlap", 1.5),
        ("within_community", -0.1),
        ("tail", 1.0),
    ],
)
def test_knobs_out_of_range_are_refused(knob: str, value: float) -> None:
    args: dict[str, Any] = {"participants": 100, "seed": 0, knob: value}
    with pytest.raises(ValueError, match=knob):
        generate(**args)


# -- the network, at 20,000 participants ------------------------------------------------------


class Network:
    """Ties of a generated ecosystem as arrays, with the participants' groups."""

    def __init__(self, gen: GeneratedEcosystem) -> None:
        sections = gen.sections()
        self.clusters = list(sections["clusters"])
        self.participants = list(sections["participants"])
        index = {p["id"]: i for i, p in enumerate(self.participants)}
        self.region = np.array([int(p["region"][1:]) for p in self.participants])
        self.communities = [
            frozenset(c for c in p["clusters"] if c[0] in "bk") for p in self.participants
        ]
        a, b, layer, kinds, keys = [], [], [], [], collections.Counter[tuple[str, ...]]()
        for t in sections["ties"]:
            a.append(index[t["from"]])
            b.append(index[t["to"]])
            layer.append(t["layer"] == "formal")
            kinds.append(t["type"])
            keys[(t["from"], t["to"], t["layer"], t["type"])] += 1
            if "until" in t:
                assert t["since"] <= t["until"]
            assert 0 <= t["weight"] <= 1
        self.a, self.b = np.array(a), np.array(b)
        self.formal = np.array(layer)
        self.types = kinds
        self.repeats = sum(n - 1 for n in keys.values())
        self.n = len(self.participants)
        self.degree = np.bincount(self.a, minlength=self.n) + np.bincount(self.b, minlength=self.n)


@pytest.fixture(scope="module")
def net() -> Network:
    return Network(generate(20_000, seed=2))


def test_tie_count_near_target(net: Network) -> None:
    assert abs(len(net.a) - 10 * net.n) <= 0.1 * 10 * net.n


def test_no_self_loops_and_few_repeats(net: Network) -> None:
    assert not np.any(net.a == net.b)
    assert net.repeats < 0.01 * len(net.a)


def test_degrees_are_heavy_tailed(net: Network) -> None:
    mean = net.degree.mean()
    assert net.degree.max() > 10 * mean
    # a few hubs, most participants near the median
    assert np.median(net.degree) < mean
    assert np.percentile(net.degree, 99) > 4 * np.median(net.degree)


def test_ties_follow_communities(net: Network) -> None:
    shared = np.array(
        [bool(net.communities[x] & net.communities[y]) for x, y in zip(net.a, net.b, strict=True)]
    )
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, net.n, 50_000), rng.integers(0, net.n, 50_000)
    baseline = np.mean(
        [bool(net.communities[i] & net.communities[j]) for i, j in zip(x, y, strict=True)]
    )
    assert shared.mean() > 0.6
    assert shared.mean() > 2.5 * baseline


def test_ties_across_regions_are_rarer(net: Network) -> None:
    across = np.mean(net.region[net.a] != net.region[net.b])
    shares = np.bincount(net.region) / net.n
    random_across = 1 - np.sum(shares**2)
    assert across < 0.6 * random_across


def test_layers_overlap_in_part(net: Network) -> None:
    def pairs(mask: np.ndarray) -> set[tuple[int, int]]:
        lo = np.minimum(net.a[mask], net.b[mask])
        hi = np.maximum(net.a[mask], net.b[mask])
        return set(zip(lo.tolist(), hi.tolist(), strict=True))

    formal, informal = pairs(net.formal), pairs(~net.formal)
    both = formal & informal
    assert 0.2 < len(both) / len(formal) < 0.5
    assert 0.05 < len(both) / len(informal) < 0.5


def test_tie_types_belong_to_their_layer(net: Network) -> None:
    for is_formal, kind in zip(net.formal.tolist(), net.types, strict=True):
        assert kind in (FORMAL_TYPES if is_formal else INFORMAL_TYPES)
    assert set(net.types) == set(FORMAL_TYPES + INFORMAL_TYPES)


def test_participant_kinds_and_memberships(net: Network) -> None:
    kinds = collections.Counter(p["kind"] for p in net.participants)
    assert 0.70 < kinds["person"] / net.n < 0.80
    regions = {c["id"] for c in net.clusters if c["kind"] == "regional"}
    assert len(regions) == 20_000 // 20_000 + 3
    for p in net.participants:
        assert p["region"] in regions
        assert p["clusters"][0] == p["region"]
        assert 1 <= len(p["clusters"]) - 1 <= 3
        assert not regions & set(p["clusters"][1:])


def test_cluster_sizes_are_heavy_tailed(net: Network) -> None:
    sizes = collections.Counter(c for p in net.participants for c in p["clusters"][1:])
    business = sorted(n for c, n in sizes.items() if c.startswith("b"))
    assert business[-1] > 3 * business[len(business) // 2]


def test_names_and_ids(net: Network) -> None:
    first = net.participants[0]
    assert first["id"] == "p00000"
    for p in net.participants[:500]:
        words = p["name"].split()
        if p["kind"] == "person":
            assert len(words) == 2 and all(w[0].isupper() for w in words)
        else:
            assert len(words) >= 3


def test_capabilities_follow_clusters(net: Network) -> None:
    profiles = {
        c["id"]: set(c["description"].removeprefix("Capabilities: ").split(", "))
        for c in net.clusters
        if c["kind"] in ("business", "knowledge")
    }
    assert all(3 <= len(p) <= 6 for p in profiles.values())
    held = [set(p["capabilities"]) for p in net.participants]
    inside, outside = [], []
    for cluster, profile in profiles.items():
        members = [h for h, c in zip(held, net.communities, strict=True) if cluster in c]
        others = [h for h, c in zip(held, net.communities, strict=True) if cluster not in c]
        if members:
            inside.append(np.mean([bool(h & profile) for h in members]))
            outside.append(np.mean([bool(h & profile) for h in others]))
    assert np.mean(inside) > 0.7
    assert np.mean(inside) > 2 * np.mean(outside)


def test_capability_details(net: Network) -> None:
    known = {slug for slug, _ in CAPABILITIES}
    levels = collections.Counter[int]()
    for p in net.participants:
        assert p["capabilities"]
        assert set(p["capabilities"]) <= known
        levels.update(p["capabilities"].values())
        assert 0 < p["capacity_hours_per_week"] <= 168
        assert isinstance(p["rate_per_hour"], int) and p["rate_per_hour"] > 0
        if "capital_available" in p:
            assert any(c.startswith("c") for c in p["clusters"])
    assert set(levels) == {1, 2, 3, 4, 5}
    assert levels[3] > levels[1] and levels[3] > levels[5]  # skewed, not uniform


def test_word_lists_are_consistent() -> None:
    known = {slug for slug, _ in CAPABILITIES}
    assert len(known) == len(CAPABILITIES) >= 40
    for theme in (*SECTORS, *KNOWLEDGE_THEMES):
        assert set(theme.capabilities) <= known


# -- roles, exchanges, opportunities ----------------------------------------------------------


def test_roles(small: dict[str, Any]) -> None:
    roles = small["roles"]
    assert len(roles) == 2_000 // 100 + 5
    assert all(1 <= len(r["played_by"]) <= 12 for r in roles)
    assert all(", " in r["name"] for r in roles)


def test_exchanges(small: dict[str, Any]) -> None:
    exchanges = small["exchanges"]
    roles = {r["id"] for r in small["roles"]}
    assert len(exchanges) == 1_000
    tangible = [e for e in exchanges if e["kind"] == "tangible"]
    assert 0.5 < len(tangible) / len(exchanges) < 0.7
    assert all(e["value"] > 0 and e["currency"] == "EUR" for e in tangible)
    intangible = [e for e in exchanges if e["kind"] == "intangible"]
    assert all("perceived_value" in e for e in intangible)
    between_roles = sum(e["from"] in roles and e["to"] in roles for e in exchanges)
    assert 0.5 < between_roles / len(exchanges) < 0.9
    assert any("impact" in e for e in exchanges)
    assert any("sequence" in e for e in exchanges)
    assert any("cost" in e for e in exchanges)


def test_opportunities_need_what_the_ecosystem_holds(small: dict[str, Any]) -> None:
    best: dict[str, list[int]] = collections.defaultdict(list)
    for p in small["participants"]:
        for capability, level in p["capabilities"].items():
            best[capability].append(level)
    kinds = {p["id"]: p["kind"] for p in small["participants"]}
    opportunities = small["opportunities"]
    assert len(opportunities) == 2_000 // 500 + 2
    for o in opportunities:
        assert kinds[o["client"]] == "organization"
        assert 1 <= len(o["needs"]) <= 4
        for need in o["needs"]:
            holders = [lvl for lvl in best[need["capability"]] if lvl >= need.get("level", 1)]
            assert len(holders) >= need.get("count", 1)
        assert o["start"] <= o["end"]
        assert o["budget"] > 0


def test_dates_are_before_as_of_for_ties(small: dict[str, Any]) -> None:
    starts = [t["since"] for t in small["ties"] if "since" in t]
    assert starts and max(starts) < dt.date(2026, 1, 1)


# -- memory --------------------------------------------------------------------------------


def test_memory_is_bounded_while_streaming() -> None:
    """Streaming 160,000 ties (five chunks) takes less memory than holding 50,000."""
    tracemalloc.start()
    try:
        gen = generate(8_000, seed=9, ties_per_participant=20)
        assert gen.counts["ties"] > 4 * CHUNK
        for rows in gen.sections().values():
            for _ in rows:
                pass
        _, streaming = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        tracemalloc.start()
        ties = gen.sections()["ties"]
        held = [next(ties) for _ in range(50_000)]
        holding, _ = tracemalloc.get_traced_memory()
        del held
    finally:
        tracemalloc.stop()
    print(f"streaming peak {streaming / 2**20:.1f} MiB, 50k ties held {holding / 2**20:.1f} MiB")
    assert streaming < 16 * 2**20
    assert streaming < holding


def test_plan_is_a_few_bytes_per_participant() -> None:
    assert generate(50_000).plan.nbytes() < 50 * 50_000


# -- writing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("eco.yaml", "yaml"),
        ("eco.YML", "yaml"),
        ("eco.json", "json"),
        ("eco.xlsx", "xlsx"),
        ("eco.csv", "csv"),
        ("eco", "csv"),
        ("out/", "csv"),
    ],
)
def test_output_format(path: str, fmt: str) -> None:
    assert output_format(path) == fmt


def test_unknown_suffix_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        output_format("eco.txt")


@pytest.mark.parametrize("name", ["eco.yaml", "eco.json"])
def test_write_native(tmp_path: Path, name: str) -> None:
    counts = write_generated(tmp_path / name, 300, seed=1)
    eco = read_native(tmp_path / name)
    assert eco.counts() == counts == generate(300, seed=1).counts
    assert eco == Ecosystem.model_validate(collect(generate(300, seed=1)))


def test_write_csv_folder(tmp_path: Path) -> None:
    from glia.io.tabular import read_tabular

    counts = write_generated(tmp_path / "eco", 300, seed=1)
    eco = read_tabular(tmp_path / "eco")
    assert eco.counts() == counts == generate(300, seed=1).counts
    expected = Ecosystem.model_validate(collect(generate(300, seed=1)))
    assert eco.ties == expected.ties
    assert eco.participants == expected.participants


def test_write_reports_progress(tmp_path: Path) -> None:
    seen: dict[str, list[int]] = collections.defaultdict(list)
    counts = write_generated(tmp_path / "eco.yaml", 2_000, progress=lambda s, n: seen[s].append(n))
    assert list(seen) == list(SECTIONS)
    assert {s: done[-1] for s, done in seen.items()} == counts
    assert seen["ties"] == [0, 16_384, 20_000]


def test_write_xlsx(tmp_path: Path) -> None:
    from glia.io.tabular import read_tabular

    counts = write_generated(tmp_path / "eco.xlsx", 60, seed=2)
    assert read_tabular(tmp_path / "eco.xlsx").counts() == counts


def test_docstring_examples() -> None:
    result = doctest.testmod(glia.generate, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
