"""ValueFlows JSON-LD export: real VF 1.0 terms, resolvable references, exact money."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from glia.io import (
    GLIA_NAMESPACE,
    VF_ACTIONS,
    VF_CONTEXT,
    VF_NAMESPACE,
    dump_valueflows,
    ecosystem_slug,
    valueflows_document,
    valueflows_nodes,
    write_valueflows,
)
from glia.model import ASSET_KINDS, EXCHANGE_TYPES, Ecosystem

from strategies import ecosystems

# Terms of the ValueFlows 1.0.0 ontology (all_vf.TTL, February 2026) that the
# export may use: classes, properties and named individuals.
VF_TERMS = {
    # classes
    "Person",
    "Organization",
    "Intent",
    "Proposal",
    "ResourceSpecification",
    "SpatialThing",
    "Measure",
    "Unit",
    # properties
    "name",
    "note",
    "action",
    "provider",
    "receiver",
    "resourceConformsTo",
    "resourceClassifiedAs",
    "resourceQuantity",
    "hasNumericalValue",
    "hasUnit",
    "primaryLocation",
    "eligibleLocation",
    "label",
    "symbol",
    "omUnitIdentifier",
    "mediumOfExchange",
    "defaultUnitOfResource",
    "publishes",
    "reciprocal",
    "purpose",
    "hasBeginning",
    "hasEnd",
    # actions and proposal purposes
    "transfer",
    "transferAllRights",
    "deliverService",
    "work",
    "request",
}
# The actions VF 1.0 defines.
VF_ACTION_NAMES = {
    "accept",
    "combine",
    "consume",
    "cite",
    "copy",
    "deliverService",
    "dropoff",
    "lower",
    "modify",
    "move",
    "pickup",
    "produce",
    "raise",
    "separate",
    "transferAllRights",
    "transfer",
    "transferCustody",
    "use",
    "work",
}
REFERENCE_TERMS = {term for term, rule in VF_CONTEXT.items() if rule == {"@type": "@id"}}
# Values of these terms name VF individuals, not nodes of the graph.
INDIVIDUAL_TERMS = {"vf:action", "vf:purpose"}
MONEY_TERMS = {term for term, rule in VF_CONTEXT.items() if rule == {"@type": "xsd:decimal"}} - {
    "vf:hasNumericalValue"
}


def full_ecosystem() -> Ecosystem:
    return Ecosystem.model_validate(
        {
            "glia": 1,
            "ecosystem": "Northbridge City-Region",
            "description": "A test region",
            "currency": "EUR",
            "attributes": {"steward": "RDA", "ratio": 0.5},
            "clusters": [
                {"id": "northbridge", "kind": "regional", "name": "Northbridge City"},
                {"id": "data", "kind": "knowledge"},
                {"id": "ana", "kind": "guild"},
            ],
            "participants": [
                {
                    "id": "ana",
                    "name": "Ana Ruiz",
                    "region": "northbridge",
                    "clusters": ["northbridge", "data", "ana"],
                    "capabilities": {"data-engineering": 4, "facilitation": 3},
                    "capacity_hours_per_week": 10,
                    "rate_per_hour": "95.50",
                    "capital_available": "0.10",
                    "description": "Data engineer",
                    "attributes": {"languages": "es, en"},
                },
                {
                    "id": "acme",
                    "name": "Acme Farms",
                    "kind": "organization",
                    "region": "eastvale",
                    "capabilities": {"data-engineering": 2},
                },
                {"id": "Ben Olsen"},
            ],
            "roles": [
                {"id": "integrator", "name": "Solution integrator", "played_by": ["ana"]},
                {"id": "client", "played_by": ["acme", "Ben Olsen"], "description": "Buys"},
            ],
            "ties": [
                {"from": "ana", "to": "acme", "layer": "formal", "type": "contract"},
                {
                    "from": "ana",
                    "to": "Ben Olsen",
                    "layer": "informal",
                    "type": "trust",
                    "weight": 0.8,
                    "directed": True,
                    "since": "2021-03-01",
                    "until": "2024-12-31",
                    "attributes": {"source": "survey"},
                },
            ],
            "exchanges": [
                {
                    "id": "platform",
                    "from": "integrator",
                    "to": "client",
                    "deliverable": "Working data platform",
                    "kind": "tangible",
                    "type": "goods",
                    "value": "120000.00",
                    "cost": "80000.10",
                    "frequency": 1,
                    "period": "once",
                    "perceived_value": 5,
                    "impact": {"financial": 2, "human_competence": 1},
                    "sequence": 1,
                    "description": "The product",
                    "attributes": {"risk": "low"},
                },
                {
                    "id": "fee",
                    "from": "client",
                    "to": "integrator",
                    "deliverable": "Monthly fee",
                    "kind": "tangible",
                    "type": "money",
                    "value": "12345678901234.56",
                    "currency": "USD",
                    "frequency": 12,
                    "period": "year",
                },
                {
                    "from": "acme",
                    "to": "ana",
                    "deliverable": "Field know-how",
                    "kind": "intangible",
                    "type": "knowledge",
                    "perceived_value": -2,
                },
                {
                    "from": "ana",
                    "to": "client",
                    "deliverable": "Signed contract",
                    "kind": "tangible",
                    "type": "contract",
                },
                {"from": "ana", "to": "acme", "deliverable": "Training", "kind": "tangible"},
                {"from": "acme", "to": "ana", "deliverable": "Training", "kind": "intangible"},
                {
                    "from": "client",
                    "to": "ana",
                    "deliverable": "Referral",
                    "kind": "intangible",
                    "type": "benefit",
                },
                {
                    "from": "ana",
                    "to": "acme",
                    "deliverable": "Support",
                    "kind": "tangible",
                    "type": "service",
                },
            ],
            "opportunities": [
                {
                    "id": "farm-data",
                    "name": "Farm data platform",
                    "client": "acme",
                    "needs": [
                        {"capability": "data-engineering", "level": 3, "count": 2},
                        {"capability": "agronomy", "level": 4},
                    ],
                    "region": "northbridge",
                    "budget": "80000.50",
                    "capital_needed": "5000",
                    "start": "2025-04-01",
                    "end": "2025-12-31",
                    "stage": "lead",
                    "attributes": {"probability": 0.6},
                },
                {"id": "quick", "client": "Ben Olsen"},
            ],
        }
    )


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair of a JSON tree, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            if key != "glia:attributes":  # a JSON literal, not JSON-LD
                yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    nodes: dict[str, dict[str, Any]] = {}
    for node in doc["@graph"]:
        assert node["@id"] not in nodes, f"duplicate node {node['@id']}"
        nodes[node["@id"]] = node
    return nodes


def intents_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in doc["@graph"] if n["@type"] == "vf:Intent"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def check_document(eco: Ecosystem, doc: dict[str, Any]) -> None:
    """What every export must satisfy, whatever the ecosystem."""
    context = doc["@context"]
    nodes = by_id(doc)

    # Every prefixed key, @type and compact IRI value has its prefix in the context.
    def defined(term: str) -> bool:
        prefix, sep, _ = term.partition(":")
        return bool(sep) and prefix in context

    for key, value in walk(doc["@graph"]):
        if key == "@type":
            types = as_list(value)
            assert all(defined(t) for t in types), value
            assert all(t[3:] in VF_TERMS for t in types if t.startswith("vf:")), value
        elif not key.startswith("@"):
            assert defined(key), key
            if key.startswith("vf:"):
                assert key[3:] in VF_TERMS, f"{key} is not a VF 1.0 term"
            if key in INDIVIDUAL_TERMS:
                for v in as_list(value):
                    assert defined(v) and v[3:] in VF_TERMS, (key, v)
    for term in context:
        if ":" in term:
            assert term.partition(":")[0] in context, term
    assert context["vf"] == VF_NAMESPACE and context["glia"] == GLIA_NAMESPACE

    # Every reference resolves to a node of the graph; node ids are absolute IRIs.
    for node_id in nodes:
        assert node_id.partition(":")[0] not in context, node_id
        assert ":" in node_id and " " not in node_id
    for key, value in walk(doc["@graph"]):
        if key in REFERENCE_TERMS and key not in INDIVIDUAL_TERMS:
            for ref in as_list(value):
                assert ref in nodes, f"{key} -> {ref} does not resolve"

    # Money is a decimal string; nothing is a float where money goes.
    for key, value in walk(doc["@graph"]):
        if key in MONEY_TERMS or key == "vf:hasNumericalValue":
            assert isinstance(value, str)
            Decimal(value)

    # Participants: once each, as the right kind of agent.
    agents = [n for n in nodes.values() if n["@type"] in ("vf:Person", "vf:Organization")]
    assert Counter(a["glia:id"] for a in agents) == Counter(p.id for p in eco.participants)
    kinds = {a["glia:id"]: a["@type"] for a in agents}
    for p in eco.participants:
        assert kinds[p.id] == ("vf:Organization" if p.kind == "organization" else "vf:Person")

    # Exchanges: once each, as an Intent whose endpoints resolve to the right nodes.
    roles = {r.id for r in eco.roles}
    intents = [n for n in doc["@graph"] if n["@type"] == "vf:Intent" and "glia:exchangeKind" in n]
    assert len(intents) == len(eco.exchanges)
    for e, intent in zip(eco.exchanges, intents, strict=True):
        assert intent["vf:name"] == e.deliverable
        assert intent["vf:action"] == VF_ACTIONS[e.kind, e.type]
        for side, ident in (("provider", e.source), ("receiver", e.target)):
            if ident in roles:
                assert f"vf:{side}" not in intent
                target = nodes[intent[f"glia:{side}Role"]]
                assert target["@type"] == "glia:Role"
            else:
                assert f"glia:{side}Role" not in intent
                target = nodes[intent[f"vf:{side}"]]
                assert target["@type"] in ("vf:Person", "vf:Organization")
            assert target["glia:id"] == ident
        assert ("glia:value" in intent) == (e.value is not None)
        if e.value is not None:
            assert Decimal(intent["glia:value"]) == e.value
        if e.cost is not None:
            assert Decimal(intent["glia:cost"]) == e.cost

    # The document is plain JSON.
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text) == doc


# -- the full ecosystem ----------------------------------------------------------------


def test_full_document(tmp_path: Path) -> None:
    eco = full_ecosystem()
    doc = valueflows_document(eco)
    check_document(eco, doc)
    nodes = by_id(doc)
    base = "urn:glia:northbridge-city-region:"

    ana = nodes[f"{base}participant:ana"]
    assert ana["@type"] == "vf:Person"
    assert ana["vf:name"] == "Ana Ruiz"
    assert ana["vf:note"] == "Data engineer"
    assert ana["glia:ratePerHour"] == "95.50"
    assert ana["glia:capitalAvailable"] == "0.10"
    assert ana["glia:capacityHoursPerWeek"] == 10.0
    assert ana["glia:memberOf"] == [
        f"{base}cluster:northbridge",
        f"{base}cluster:data",
        f"{base}cluster:ana",
    ]
    assert ana["glia:attributes"] == {"languages": "es, en"}
    region = nodes[ana["vf:primaryLocation"]]
    assert region["@type"] == "vf:SpatialThing"
    assert region["vf:name"] == "Northbridge City"  # the regional cluster's name
    assert nodes[nodes[f"{base}participant:acme"]["vf:primaryLocation"]]["vf:name"] == "eastvale"
    levels = {
        nodes[c["glia:capability"]]["vf:name"]: c["glia:level"] for c in ana["glia:hasCapability"]
    }
    assert levels == {"data-engineering": 4, "facilitation": 3}
    spec = nodes[f"{base}capability:data-engineering"]
    assert spec["@type"] == "vf:ResourceSpecification"

    ben = nodes[f"{base}participant:Ben%20Olsen"]
    assert ben["vf:name"] == "Ben Olsen" and ben["glia:id"] == "Ben Olsen"
    acme = nodes[f"{base}participant:acme"]
    assert acme["@type"] == "vf:Organization"

    cluster = nodes[f"{base}cluster:ana"]
    assert cluster["@type"] == "glia:Cluster" and cluster["glia:clusterKind"] == "guild"
    role = nodes[f"{base}role:client"]
    assert role["glia:playedBy"] == [f"{base}participant:acme", f"{base}participant:Ben%20Olsen"]

    tie = nodes[f"{base}tie:2"]
    assert tie["@type"] == "glia:Tie"
    assert tie["glia:source"] == f"{base}participant:ana"
    assert tie["glia:weight"] == 0.8 and tie["glia:directed"] is True
    assert tie["glia:since"] == "2021-03-01" and tie["glia:until"] == "2024-12-31"
    assert tie["glia:layer"] == "informal" and tie["glia:tieType"] == "trust"

    platform = nodes[f"{base}exchange:platform"]
    assert platform["@type"] == "vf:Intent"
    assert platform["vf:action"] == "vf:transfer"
    assert platform["glia:providerRole"] == f"{base}role:integrator"
    assert platform["glia:receiverRole"] == f"{base}role:client"
    deliverable = nodes[platform["vf:resourceConformsTo"]]
    assert deliverable["vf:name"] == "Working data platform"
    assert platform["vf:resourceClassifiedAs"] == ["tangible", "goods"]
    assert "vf:resourceQuantity" not in platform  # the value of goods is not their quantity
    assert platform["glia:value"] == "120000.00"
    assert platform["glia:cost"] == "80000.10"
    assert platform["glia:currency"] == "EUR"  # the ecosystem's default
    assert platform["glia:frequency"] == 1.0 and platform["glia:period"] == "once"
    assert platform["glia:perceivedValue"] == 5
    assert platform["glia:impactFinancial"] == 2
    assert platform["glia:impactHumanCompetence"] == 1
    assert "glia:impactInternalStructure" not in platform
    assert platform["glia:sequence"] == 1
    assert platform["vf:note"] == "The product"
    assert platform["glia:attributes"] == {"risk": "low"}

    fee = nodes[f"{base}exchange:fee"]
    currency = nodes[fee["vf:resourceConformsTo"]]
    assert currency["vf:name"] == "USD" and currency["vf:mediumOfExchange"] is True
    quantity = fee["vf:resourceQuantity"]
    assert quantity["vf:hasNumericalValue"] == "12345678901234.56"
    unit = nodes[quantity["vf:hasUnit"]]
    assert unit["@type"] == "vf:Unit"
    assert unit["vf:omUnitIdentifier"].endswith("/om-2/one")

    unnamed = nodes[f"{base}exchange-row:3"]
    assert unnamed["vf:provider"] == f"{base}participant:acme"
    assert unnamed["vf:receiver"] == f"{base}participant:ana"
    assert unnamed["vf:action"] == "vf:deliverService"
    assert unnamed["glia:perceivedValue"] == -2
    assert "glia:currency" not in unnamed
    # The same deliverable name is one ResourceSpecification.
    training = [n for n in intents_of(doc) if n.get("vf:name") == "Training"]
    assert len({n["vf:resourceConformsTo"] for n in training}) == 1

    proposal = nodes[f"{base}opportunity:farm-data"]
    assert proposal["@type"] == "vf:Proposal" and proposal["vf:purpose"] == "vf:request"
    assert proposal["glia:client"] == f"{base}participant:acme"
    assert proposal["vf:hasBeginning"] == "2025-04-01"
    assert proposal["vf:hasEnd"] == "2025-12-31"
    assert proposal["glia:budget"] == "80000.50"
    assert proposal["glia:capitalNeeded"] == "5000"
    assert proposal["glia:stage"] == "lead"
    assert nodes[proposal["vf:eligibleLocation"]]["@type"] == "vf:SpatialThing"
    needs = [nodes[i] for i in proposal["vf:publishes"]]
    assert [n["vf:action"] for n in needs] == ["vf:work", "vf:work"]
    assert [nodes[n["vf:resourceConformsTo"]]["vf:name"] for n in needs] == [
        "data-engineering",
        "agronomy",
    ]
    assert [(n["glia:level"], n["glia:count"]) for n in needs] == [(3, 2), (4, 1)]
    assert all(n["vf:receiver"] == proposal["glia:client"] for n in needs)
    (budget,) = [nodes[i] for i in proposal["vf:reciprocal"]]
    assert budget["vf:provider"] == proposal["glia:client"]
    assert budget["vf:resourceQuantity"]["vf:hasNumericalValue"] == "80000.50"
    quick = nodes[f"{base}opportunity:quick"]
    assert "vf:publishes" not in quick and "vf:reciprocal" not in quick

    head = nodes[f"{base}ecosystem"]
    assert head["@type"] == "glia:Ecosystem"
    assert head["glia:currency"] == "EUR" and head["glia:attributes"]["ratio"] == 0.5


def test_file_is_the_streamed_document(tmp_path: Path) -> None:
    eco = full_ecosystem()
    path = tmp_path / "out" / "eco.jsonld"
    counts = write_valueflows(eco, path)
    text = path.read_text(encoding="utf-8")
    loaded = json.loads(text, parse_float=Decimal)
    assert loaded == json.loads(json.dumps(valueflows_document(eco)), parse_float=Decimal)
    # One node per line.
    assert len(text.splitlines()) == len(loaded["@graph"]) + 5
    assert sum(counts.values()) == len(loaded["@graph"])
    assert counts["vf:Person"] == 2 and counts["vf:Organization"] == 1
    assert counts["glia:Cluster"] == 3 and counts["glia:Role"] == 2
    assert counts["glia:Tie"] == 2 and counts["vf:Proposal"] == 2
    assert counts["vf:Intent"] == len(eco.exchanges) + 2 + 1  # exchanges, needs, budget

    buffer = io.StringIO()
    assert dump_valueflows(eco, buffer) == counts
    assert buffer.getvalue() == text


def test_money_is_exact() -> None:
    eco = Ecosystem.model_validate(
        {
            "ecosystem": "Exact",
            "currency": "EUR",
            "participants": [{"id": "a", "rate_per_hour": "0.10"}, {"id": "b"}],
            "exchanges": [
                {
                    "from": "a",
                    "to": "b",
                    "deliverable": "x",
                    "kind": "tangible",
                    "type": "money",
                    "value": "0.30",
                    "cost": "123456789012345678.000001",
                }
            ],
        }
    )
    doc = valueflows_document(eco)
    text = json.dumps(doc)
    assert '"0.30"' in text and '"123456789012345678.000001"' in text
    assert VF_CONTEXT["vf:hasNumericalValue"] == {"@type": "xsd:decimal"}
    (intent,) = [n for n in doc["@graph"] if n["@type"] == "vf:Intent"]
    assert Decimal(intent["vf:resourceQuantity"]["vf:hasNumericalValue"]) == Decimal("0.30")
    assert Decimal(intent["glia:cost"]) == Decimal("123456789012345678.000001")


def test_actions_are_vf_actions() -> None:
    assert set(VF_ACTIONS) == {
        *((kind, t) for kind, types in EXCHANGE_TYPES.items() for t in types),
        ("tangible", None),
        ("intangible", None),
    }
    assert {a.removeprefix("vf:") for a in VF_ACTIONS.values()} <= VF_ACTION_NAMES


def test_every_asset_kind_has_a_term() -> None:
    eco = Ecosystem.model_validate(
        {
            "ecosystem": "Impact",
            "participants": [{"id": "a"}, {"id": "b"}],
            "exchanges": [
                {
                    "from": "a",
                    "to": "b",
                    "deliverable": "x",
                    "kind": "intangible",
                    "impact": dict.fromkeys(ASSET_KINDS, -2),
                }
            ],
        }
    )
    (intent,) = [n for n in valueflows_document(eco)["@graph"] if n["@type"] == "vf:Intent"]
    assert sum(1 for k in intent if k.startswith("glia:impact")) == len(ASSET_KINDS)


def test_base_and_slug() -> None:
    eco = full_ecosystem()
    doc = valueflows_document(eco, base="https://example.org/nb/")
    check_document(eco, doc)
    assert all(n["@id"].startswith("https://example.org/nb/") for n in doc["@graph"])
    assert ecosystem_slug("Northbridge City-Region") == "northbridge-city-region"
    assert ecosystem_slug("  Zürich / Genève  ") == "zurich-geneve"
    assert ecosystem_slug("日本") == "ecosystem"


def test_context_is_not_shared_state() -> None:
    doc = valueflows_document(full_ecosystem())
    doc["@context"]["vf"] = "changed"
    assert VF_CONTEXT["vf"] == VF_NAMESPACE


def test_nodes_stream() -> None:
    nodes = valueflows_nodes(full_ecosystem())
    assert not isinstance(nodes, list)
    first = next(nodes)
    assert first["@type"] == "glia:Ecosystem"


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from glia.io import valueflows

    def broken(eco: Ecosystem, *, base: str | None = None) -> Iterator[dict[str, Any]]:
        yield {"@id": "urn:x", "@type": "glia:Ecosystem"}
        raise RuntimeError("disk full")

    path = tmp_path / "eco.jsonld"
    monkeypatch.setattr(valueflows, "valueflows_nodes", broken)
    with pytest.raises(RuntimeError):
        write_valueflows(full_ecosystem(), path)
    assert list(tmp_path.iterdir()) == []


def test_empty_ecosystem() -> None:
    eco = Ecosystem.model_validate({"ecosystem": "Empty"})
    doc = valueflows_document(eco)
    check_document(eco, doc)
    assert [n["@type"] for n in doc["@graph"]] == ["glia:Ecosystem"]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(eco=ecosystems())
def test_any_ecosystem(eco: Ecosystem) -> None:
    doc = valueflows_document(eco)
    check_document(eco, doc)
    buffer = io.StringIO()
    dump_valueflows(eco, buffer)
    assert json.loads(buffer.getvalue()) == json.loads(json.dumps(doc))


@pytest.mark.parametrize("base", ["relative/", "vf:x/", "glia:", "1x:"])
def test_base_must_be_an_absolute_iri(base: str) -> None:
    with pytest.raises(ValueError, match="absolute IRI"):
        valueflows_document(full_ecosystem(), base=base)
