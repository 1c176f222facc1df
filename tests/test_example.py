"""The Northbridge example and the format reference's examples.

``examples/northbridge.yaml`` is what a newcomer opens first, and what the
demo imports: it must validate, and it must show every concept of the
format. The field checks read the list of fields from the pydantic models,
so adding a field to the model without showing it in the example fails here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from glia.io import read_native
from glia.model import (
    ASSET_KINDS,
    CLUSTER_KINDS,
    EXCHANGE_TYPES,
    AssetImpact,
    Cluster,
    Ecosystem,
    Exchange,
    Header,
    Need,
    Opportunity,
    Participant,
    Role,
    Tie,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "northbridge.yaml"
FORMAT_DOC = ROOT / "docs" / "format.md"

FORMAL_TYPES = {"contract", "membership", "reports-to", "partnership"}
INFORMAL_TYPES = {"advice", "trust", "friendship", "collaboration"}


# -- helpers -----------------------------------------------------------------------------


def records_of(eco: Ecosystem) -> dict[type[BaseModel], list[BaseModel]]:
    """Every record of an ecosystem by model, nested needs and impacts included."""
    found: dict[type[BaseModel], list[BaseModel]] = {
        Cluster: list(eco.clusters),
        Participant: list(eco.participants),
        Role: list(eco.roles),
        Tie: list(eco.ties),
        Exchange: list(eco.exchanges),
        Opportunity: list(eco.opportunities),
        Need: [n for o in eco.opportunities for n in o.needs],
        AssetImpact: [x.impact for x in eco.exchanges if x.impact is not None],
    }
    return found


def unused_fields(eco: Ecosystem) -> list[str]:
    """Fields (as written in files) that no record of ``eco`` sets to a non-default value."""
    missing: list[str] = []
    for model, records in records_of(eco).items():
        for name, info in model.model_fields.items():
            label = f"{model.__name__}.{info.alias or name}"
            if info.is_required():
                if not records:
                    missing.append(label)
                continue
            default = info.get_default(call_default_factory=True)
            if not any(getattr(r, name) != default for r in records):
                missing.append(label)
    header = {k: getattr(eco, k) for k in Header.model_fields}
    for name, info in Header.model_fields.items():
        if not info.is_required() and header[name] == info.get_default(call_default_factory=True):
            missing.append(f"Header.{name}")
    return missing


def tie_pairs(ties: Iterable[Tie], layer: str) -> set[frozenset[str]]:
    return {frozenset((t.source, t.target)) for t in ties if t.layer == layer}


def code_blocks(text: str, language: str) -> Iterator[str]:
    pattern = re.compile(rf"^```{language}[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
    for match in pattern.finditer(text):
        yield match.group(1)


@pytest.fixture(scope="module")
def eco() -> Ecosystem:
    return read_native(EXAMPLE)


# -- the example validates ----------------------------------------------------------


def test_example_validates_and_is_named(eco: Ecosystem) -> None:
    assert eco.ecosystem == "Northbridge"
    assert eco.glia == 1
    assert eco.currency == "EUR"
    assert eco.description
    counts = eco.counts()
    assert 35 <= counts["participants"] <= 45
    assert 8 <= counts["roles"] <= 12
    assert 100 <= counts["ties"] <= 140
    assert 30 <= counts["exchanges"] <= 45
    assert 3 <= counts["opportunities"] <= 4


def test_example_is_written_by_hand(eco: Ecosystem) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count("\n# ") >= 10, "sections are introduced by comments"
    for section in ("participants", "roles", "exchanges", "opportunities"):
        first = r"(?:[ \t]*(?:#.*)?\n)*  - [a-z_]+: [^{\n]*\n    [a-z_]+: "
        block = re.search(rf"^{section}:\n{first}", text, re.M)
        assert block, f"{section} are written in block style, one field a line"
    ids = [p.id for p in eco.participants] + [c.id for c in eco.clusters]
    ids += [r.id for r in eco.roles] + [o.id for o in eco.opportunities]
    ids += [x.id for x in eco.exchanges if x.id is not None]
    slug = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
    assert [i for i in ids if not slug.match(i)] == []


# -- every field and every concept is shown ----------------------------------------------


def test_every_field_is_used(eco: Ecosystem) -> None:
    assert unused_fields(eco) == []


def test_field_check_can_fail() -> None:
    tiny = Ecosystem.model_validate(
        {"glia": 1, "ecosystem": "Tiny", "participants": [{"id": "a"}, {"id": "b"}]}
    )
    missing = unused_fields(tiny)
    assert "Participant.capabilities" in missing
    assert "Tie.from" in missing
    assert "Header.currency" in missing


def test_clusters_of_every_kind_and_overlapping(eco: Ecosystem) -> None:
    kinds = {c.kind for c in eco.clusters}
    assert set(CLUSTER_KINDS) <= kinds
    assert kinds - set(CLUSTER_KINDS), "a custom cluster kind is shown"
    regional = {c.id for c in eco.clusters if c.kind == "regional"}
    assert 2 <= len(regional) <= 3
    kind_of = {c.id: c.kind for c in eco.clusters}
    members = Counter(c for p in eco.participants for c in p.clusters)
    assert set(members) == set(kind_of), "every cluster has members"
    # Memberships overlap: people belong to several clusters of several kinds.
    multi = [p for p in eco.participants if len({kind_of[c] for c in p.clusters}) >= 3]
    assert len(multi) >= 5


def test_participants(eco: Ecosystem) -> None:
    people = [p for p in eco.participants if p.kind == "person"]
    orgs = [p for p in eco.participants if p.kind == "organization"]
    assert len(people) >= 15 and len(orgs) >= 15
    regional = {c.id for c in eco.clusters if c.kind == "regional"}
    for p in eco.participants:
        assert p.name, p.id
        assert p.region in regional, p.id
        assert p.region in p.clusters, f"{p.id} belongs to its own region"
        assert p.capabilities, p.id
    levels = {lvl for p in eco.participants for lvl in p.capabilities.values()}
    assert levels >= {2, 3, 4, 5}
    capabilities = {c for p in eco.participants for c in p.capabilities}
    assert len(capabilities) >= 12
    investors = [p for p in eco.participants if p.capital_available]
    assert len(investors) >= 4
    assert any(p.kind == "person" and p.capital_available for p in eco.participants)


def test_numbers_are_plausible(eco: Ecosystem) -> None:
    for p in eco.participants:
        if p.rate_per_hour is not None:
            assert Decimal(40) <= p.rate_per_hour <= Decimal(250), p.id
        if p.capacity_hours_per_week is not None:
            limit = 40 if p.kind == "person" else 168
            assert 0 < p.capacity_hours_per_week <= limit, p.id
        if p.capital_available is not None:
            assert Decimal(10_000) <= p.capital_available <= Decimal(50_000_000), p.id
    for x in eco.exchanges:
        if x.value is not None:
            assert x.currency == "EUR", x.deliverable
            assert x.cost is None or x.cost <= x.value * 2, x.deliverable
        if x.type == "money":
            assert x.value is not None, f"a money exchange has a value: {x.deliverable}"
    for o in eco.opportunities:
        assert o.budget is not None and o.currency == "EUR"


def test_roles(eco: Ecosystem) -> None:
    names = " ".join((r.name or r.id).lower() for r in eco.roles)
    for word in ("orchestrator", "integrator", "research", "producer", "client", "policy"):
        assert word in names, word
    assert all(r.played_by for r in eco.roles)
    assert sum(len(r.played_by) >= 2 for r in eco.roles) >= 5, "roles played by several"
    played = Counter(p for r in eco.roles for p in r.played_by)
    assert max(played.values()) >= 2, "someone plays several roles"


def test_ties_on_both_layers(eco: Ecosystem) -> None:
    types = {
        layer: {t.type for t in eco.ties if t.layer == layer} for layer in ("formal", "informal")
    }
    assert types["formal"] == FORMAL_TYPES
    assert types["informal"] == INFORMAL_TYPES
    for t in eco.ties:
        if t.type in ("reports-to", "advice"):
            assert t.directed, f"{t.source} -> {t.target} ({t.type}) is directed"
    assert any(not t.directed for t in eco.ties)
    weights = {t.weight for t in eco.ties}
    assert len(weights) >= 5 and min(weights) < 0.5
    assert any(t.since and t.until for t in eco.ties), "a tie that ended"
    assert any(t.since and not t.until for t in eco.ties), "a tie still running"
    assert sum(t.since is not None for t in eco.ties) >= 30
    connected = {end for t in eco.ties for end in (t.source, t.target)}
    assert [p.id for p in eco.participants if p.id not in connected] == []


def test_formal_and_informal_overlap_in_part(eco: Ecosystem) -> None:
    formal = tie_pairs(eco.ties, "formal")
    informal = tie_pairs(eco.ties, "informal")
    both = formal & informal
    assert len(both) >= 8, "pairs on both layers (the sweet spot)"
    assert len(formal - informal) >= 20, "formal ties with no informal life"
    assert len(informal - formal) >= 20, "informal ties with no formal channel"
    jaccard = len(both) / len(formal | informal)
    assert 0.05 < jaccard < 0.5


def test_exchanges(eco: Ecosystem) -> None:
    xs = eco.exchanges
    assert {x.kind for x in xs} == {"tangible", "intangible"}
    all_types = {t for types in EXCHANGE_TYPES.values() for t in types}
    assert {x.type for x in xs} - {None} == all_types
    perceived = [x.perceived_value for x in xs if x.perceived_value is not None]
    assert min(perceived) < 0 < max(perceived)
    impacts = [x.impact for x in xs if x.impact is not None]
    assert len(impacts) >= len(xs) // 2
    for kind in ASSET_KINDS:
        scores = [getattr(i, kind) for i in impacts if getattr(i, kind) is not None]
        assert scores and max(scores) > 0, kind
    assert any(min(v for v in i.model_dump().values() if v is not None) < 0 for i in impacts)
    assert {x.period for x in xs} >= {"once", "week", "month", "quarter", "year"}
    assert any(x.frequency != 1 for x in xs)
    assert any(x.cost is not None for x in xs)


def test_exchanges_link_roles_and_participants(eco: Ecosystem) -> None:
    roles = {r.id for r in eco.roles}
    people = {p.id for p in eco.participants}
    between_roles = [x for x in eco.exchanges if x.source in roles and x.target in roles]
    between_participants = [x for x in eco.exchanges if x.source in people and x.target in people]
    assert len(between_roles) >= 20
    assert 3 <= len(between_participants) < len(between_roles)
    used = {end for x in between_roles for end in (x.source, x.target)}
    assert used == roles, "every role exchanges value"
    # Reciprocity: value flows both ways between most pairs of roles that trade.
    pairs = {(x.source, x.target) for x in between_roles}
    reciprocal = {p for p in pairs if (p[1], p[0]) in pairs}
    assert len(reciprocal) >= len(pairs) // 2


def test_pilot_story_is_numbered(eco: Ecosystem) -> None:
    steps = sorted(
        ((x.sequence, x) for x in eco.exchanges if x.sequence is not None), key=lambda s: s[0]
    )
    numbers = [n for n, _ in steps]
    assert numbers == list(range(1, len(numbers) + 1)), "steps 1..n, each once"
    assert len(numbers) >= 8
    story = [x for _, x in steps]
    assert {x.kind for x in story} == {"tangible", "intangible"}
    assert story[0].type == "money", "the story starts with the money that funds it"
    assert all(x.id for x in story), "story steps have ids to cite"


def test_opportunities(eco: Ecosystem) -> None:
    people = {p.id: p for p in eco.participants}
    regional = {c.id for c in eco.clusters if c.kind == "regional"}
    for o in eco.opportunities:
        assert o.client in people
        assert o.region in regional
        assert o.start and o.end and o.start < o.end
        assert len(o.needs) >= 3, o.id
        for need in o.needs:
            able = [
                p for p in eco.participants if p.capabilities.get(need.capability, 0) >= need.level
            ]
            assert len(able) >= need.count, f"{o.id}: a team can be formed for {need.capability}"
    assert len({o.stage for o in eco.opportunities}) == len(eco.opportunities)
    assert any(o.capital_needed for o in eco.opportunities)
    assert any(n.count > 1 for o in eco.opportunities for n in o.needs)


# -- the format reference -----------------------------------------------------------------


def _first_block(language: str) -> str:
    text = FORMAT_DOC.read_text(encoding="utf-8")
    block = next(code_blocks(text, language), None)
    assert block is not None, f"docs/format.md has a ```{language} block"
    return block


def test_format_doc_yaml_example_validates(tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(_first_block("yaml"), encoding="utf-8")
    doc = read_native(path)
    assert doc.glia == 1
    assert unused_fields(doc) == [], "the reference's example shows every field"


def test_format_doc_json_example_validates(tmp_path: Path) -> None:
    path = tmp_path / "example.json"
    path.write_text(_first_block("json"), encoding="utf-8")
    doc = read_native(path)
    assert doc.counts()["participants"] >= 2


def test_format_doc_names_every_field() -> None:
    text = FORMAT_DOC.read_text(encoding="utf-8")
    models: list[type[BaseModel]] = [
        Header,
        Cluster,
        Participant,
        Role,
        Tie,
        Exchange,
        Need,
        Opportunity,
        AssetImpact,
    ]
    missing: list[Any] = []
    for model in models:
        for name, info in model.model_fields.items():
            field = info.alias or name
            if f"`{field}`" not in text:
                missing.append(f"{model.__name__}.{field}")
    assert missing == [], "fields missing from docs/format.md"
