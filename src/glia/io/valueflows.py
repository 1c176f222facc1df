"""ValueFlows export: the ecosystem as JSON-LD in the ValueFlows vocabulary (VF 1.0).

Where Glia's terms have an established name in ValueFlows they are exported
under it; what ValueFlows lacks goes under Glia's own namespace
(:data:`GLIA_NAMESPACE`, prefix ``glia:``). The writer is hand-written: no
JSON-LD or RDF library (pyld, rdflib) is needed at run time, the ``@context``
is a fixed table, and :func:`write_valueflows` streams the ``@graph`` one node
per line, so memory beyond the ecosystem itself is bounded by the number of
distinct regions, capabilities, deliverables and currencies.

Mapping, in brief (``docs/exports.md`` has the tables and the reasons):

* participants are ``vf:Person`` or ``vf:Organization`` agents, with their
  region as ``vf:primaryLocation`` (a ``vf:SpatialThing``) and their
  capabilities as levels (``glia:hasCapability``) of ``vf:ResourceSpecification``
  nodes, which is how VF names a skill or a type of work;
* clusters are ``glia:Cluster`` and roles ``glia:Role``: VF 1.0 has no agent
  relationship (``vf:AgentRelationship`` and ``vf:AgentRelationshipRole`` were
  removed in VF 0.16), and a cluster is a VF ``Organization`` only if it acts
  as one, which Glia does not record. Membership is ``glia:memberOf``, playing
  a role ``glia:playedBy``, ties are ``glia:Tie`` nodes;
* an exchange is a ``vf:Intent``: a value-network map states expected,
  recurring flows, not observed ones (``vf:EconomicEvent``) nor promises
  (``vf:Commitment``). ``vf:provider`` and ``vf:receiver`` name the agent when
  the endpoint is a participant; when it is a role, no single agent is
  implied, so the Intent names the role with ``glia:providerRole`` or
  ``glia:receiverRole`` (a VF Intent may lack an agent). The action follows
  the exchange type (:data:`VF_ACTIONS`);
* an opportunity is a ``vf:Proposal`` with purpose ``vf:request`` that
  publishes one ``vf:work`` Intent per needed capability, with the budget as
  its reciprocal ``vf:transfer`` Intent.

Money is exact: every amount is written as a decimal string (``"95.50"``), and
the ``@context`` types it ``xsd:decimal``. A JSON number with a fraction is an
``xsd:double`` to a JSON-LD processor and a float to most JSON readers.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from ..model import Ecosystem, Exchange, Opportunity, Participant
from ._files import atomic_output

__all__ = [
    "GLIA_NAMESPACE",
    "VF_ACTIONS",
    "VF_CONTEXT",
    "VF_NAMESPACE",
    "dump_valueflows",
    "ecosystem_slug",
    "valueflows_document",
    "valueflows_nodes",
    "write_valueflows",
]

#: The ValueFlows namespace (prefix ``vf:``).
VF_NAMESPACE = "https://w3id.org/valueflows/ont/vf#"
#: Glia's namespace for what ValueFlows does not name (prefix ``glia:``).
GLIA_NAMESPACE = "https://glia.dev/ns#"
_XSD = "http://www.w3.org/2001/XMLSchema#"
_OM2 = "http://www.ontology-of-units-of-measure.org/resource/om-2/"

#: The VF action of an exchange, by exchange type (``None``: by kind alone).
VF_ACTIONS: dict[tuple[str, str | None], str] = {
    ("tangible", "goods"): "vf:transfer",
    ("tangible", "money"): "vf:transfer",
    ("tangible", "contract"): "vf:transferAllRights",
    ("tangible", "service"): "vf:deliverService",
    ("tangible", None): "vf:transfer",
    ("intangible", "knowledge"): "vf:deliverService",
    ("intangible", "benefit"): "vf:deliverService",
    ("intangible", None): "vf:deliverService",
}

_ID = {"@type": "@id"}
_DECIMAL = {"@type": "xsd:decimal"}
_DATE = {"@type": "xsd:date"}

#: The JSON-LD context of every document: prefixes and the type of each term
#: whose value is a reference (``@id``), an exact decimal or a date.
VF_CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    "vf": VF_NAMESPACE,
    "glia": GLIA_NAMESPACE,
    "xsd": _XSD,
    "vf:action": _ID,
    "vf:provider": _ID,
    "vf:receiver": _ID,
    "vf:resourceConformsTo": _ID,
    "vf:primaryLocation": _ID,
    "vf:eligibleLocation": _ID,
    "vf:hasUnit": _ID,
    "vf:defaultUnitOfResource": _ID,
    "vf:publishes": _ID,
    "vf:reciprocal": _ID,
    "vf:purpose": _ID,
    "vf:hasNumericalValue": _DECIMAL,
    "vf:omUnitIdentifier": {"@type": "xsd:anyURI"},
    "vf:hasBeginning": _DATE,
    "vf:hasEnd": _DATE,
    "glia:memberOf": _ID,
    "glia:playedBy": _ID,
    "glia:capability": _ID,
    "glia:providerRole": _ID,
    "glia:receiverRole": _ID,
    "glia:source": _ID,
    "glia:target": _ID,
    "glia:client": _ID,
    "glia:ratePerHour": _DECIMAL,
    "glia:capitalAvailable": _DECIMAL,
    "glia:value": _DECIMAL,
    "glia:cost": _DECIMAL,
    "glia:budget": _DECIMAL,
    "glia:capitalNeeded": _DECIMAL,
    "glia:since": _DATE,
    "glia:until": _DATE,
    "glia:attributes": {"@type": "@json"},
}

_IRI_SAFE = "-._~"
# One term per asset kind of :data:`glia.model.ASSET_KINDS`.
_IMPACT_TERMS = {
    "financial": "glia:impactFinancial",
    "human_competence": "glia:impactHumanCompetence",
    "internal_structure": "glia:impactInternalStructure",
    "business_relationships": "glia:impactBusinessRelationships",
}


def ecosystem_slug(name: str) -> str:
    """A lowercase ASCII slug of an ecosystem's name, for default IRIs.

    Parameters
    ----------
    name
        The ecosystem's name.

    Returns
    -------
    str
        Letters and digits joined by ``-``, accents removed; ``ecosystem``
        when nothing is left.

    Examples
    --------
    >>> ecosystem_slug("Northbridge City-Region")
    'northbridge-city-region'
    >>> ecosystem_slug("Zürich Tech")
    'zurich-tech'
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or "ecosystem"


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def _plain(value: Any) -> Any:
    """A free attribute value as JSON can hold it (non-finite floats as text)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def _put(node: dict[str, Any], term: str, value: Any) -> None:
    if value is None or value == [] or value == {}:
        return
    if isinstance(value, Decimal):
        node[term] = _decimal(value)
    elif isinstance(value, dt.date):
        node[term] = value.isoformat()
    elif term == "glia:attributes":
        node[term] = {str(k): _plain(v) for k, v in value.items()}
    else:
        node[term] = value


class _Graph:
    """Builds the nodes of one ecosystem, each shared node emitted once."""

    def __init__(self, eco: Ecosystem, base: str | None) -> None:
        self.eco = eco
        if base is None:
            base = f"urn:glia:{ecosystem_slug(eco.ecosystem)}:"
        scheme = base.partition(":")[0]
        valid = ":" in base and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme)
        if not valid or scheme in VF_CONTEXT:
            raise ValueError(
                f"base {base!r} must be an absolute IRI (such as https://example.org/eco/) "
                f"whose scheme is not one of the prefixes vf, glia, xsd"
            )
        self.base = base
        self.roles = {r.id for r in eco.roles}
        self.cluster_names = {c.id: c.name for c in eco.clusters}
        self.emitted: set[str] = set()

    def iri(self, kind: str, ident: str) -> str:
        return f"{self.base}{kind}:{quote(ident, safe=_IRI_SAFE)}"

    # -- shared nodes, emitted at first use ------------------------------------------
    def _once(self, node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if node["@id"] not in self.emitted:
            self.emitted.add(node["@id"])
            yield node

    def region(self, ident: str) -> tuple[str, list[dict[str, Any]]]:
        iri = self.iri("region", ident)
        node = {
            "@id": iri,
            "@type": "vf:SpatialThing",
            "vf:name": self.cluster_names.get(ident) or ident,
            "glia:id": ident,
        }
        return iri, list(self._once(node))

    def capability(self, ident: str) -> tuple[str, list[dict[str, Any]]]:
        iri = self.iri("capability", ident)
        node = {
            "@id": iri,
            "@type": "vf:ResourceSpecification",
            "vf:name": ident,
            "vf:resourceClassifiedAs": ["capability"],
            "glia:id": ident,
        }
        return iri, list(self._once(node))

    def unit_one(self) -> tuple[str, list[dict[str, Any]]]:
        iri = f"{self.base}unit:one"
        node = {
            "@id": iri,
            "@type": "vf:Unit",
            "vf:label": "one",
            "vf:symbol": "1",
            "vf:omUnitIdentifier": f"{_OM2}one",
        }
        return iri, list(self._once(node))

    def currency(self, code: str) -> tuple[str, list[dict[str, Any]]]:
        unit, before = self.unit_one()
        iri = self.iri("currency", code)
        node = {
            "@id": iri,
            "@type": "vf:ResourceSpecification",
            "vf:name": code,
            "vf:note": "currency (ISO 4217 code)",
            "vf:mediumOfExchange": True,
            "vf:defaultUnitOfResource": unit,
        }
        return iri, [*before, *self._once(node)]

    def deliverable(self, name: str) -> tuple[str, list[dict[str, Any]]]:
        iri = self.iri("deliverable", name)
        node = {"@id": iri, "@type": "vf:ResourceSpecification", "vf:name": name}
        return iri, list(self._once(node))

    def money(self, amount: Decimal) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        unit, before = self.unit_one()
        measure = {
            "@type": "vf:Measure",
            "vf:hasNumericalValue": _decimal(amount),
            "vf:hasUnit": unit,
        }
        return measure, before

    # -- records ----------------------------------------------------------------------
    def nodes(self) -> Iterator[dict[str, Any]]:
        eco = self.eco
        head: dict[str, Any] = {"@id": f"{self.base}ecosystem", "@type": "glia:Ecosystem"}
        _put(head, "vf:name", eco.ecosystem)
        _put(head, "vf:note", eco.description)
        _put(head, "glia:currency", eco.currency)
        _put(head, "glia:formatVersion", eco.glia)
        _put(head, "glia:attributes", eco.attributes)
        yield head
        for c in eco.clusters:
            node: dict[str, Any] = {"@id": self.iri("cluster", c.id), "@type": "glia:Cluster"}
            _put(node, "vf:name", c.name or c.id)
            _put(node, "glia:id", c.id)
            _put(node, "glia:clusterKind", c.kind)
            _put(node, "vf:note", c.description)
            _put(node, "glia:attributes", c.attributes)
            yield node
        for p in eco.participants:
            yield from self.participant(p)
        for r in eco.roles:
            node = {"@id": self.iri("role", r.id), "@type": "glia:Role"}
            _put(node, "vf:name", r.name or r.id)
            _put(node, "glia:id", r.id)
            _put(node, "vf:note", r.description)
            _put(node, "glia:playedBy", [self.iri("participant", who) for who in r.played_by])
            _put(node, "glia:attributes", r.attributes)
            yield node
        for n, t in enumerate(eco.ties, 1):
            node = {"@id": self.iri("tie", str(n)), "@type": "glia:Tie"}
            _put(node, "glia:source", self.iri("participant", t.source))
            _put(node, "glia:target", self.iri("participant", t.target))
            _put(node, "glia:layer", t.layer)
            _put(node, "glia:tieType", t.type)
            _put(node, "glia:weight", t.weight)
            _put(node, "glia:directed", t.directed)
            _put(node, "glia:since", t.since)
            _put(node, "glia:until", t.until)
            _put(node, "glia:attributes", t.attributes)
            yield node
        for n, e in enumerate(eco.exchanges, 1):
            yield from self.exchange(n, e)
        for o in eco.opportunities:
            yield from self.opportunity(o)

    def participant(self, p: Participant) -> Iterator[dict[str, Any]]:
        kind = "vf:Organization" if p.kind == "organization" else "vf:Person"
        node: dict[str, Any] = {"@id": self.iri("participant", p.id), "@type": kind}
        _put(node, "vf:name", p.name or p.id)
        _put(node, "glia:id", p.id)
        _put(node, "vf:note", p.description)
        if p.region is not None:
            location, shared = self.region(p.region)
            yield from shared
            node["vf:primaryLocation"] = location
        _put(node, "glia:memberOf", [self.iri("cluster", c) for c in p.clusters])
        levels = []
        for capability, level in p.capabilities.items():
            spec, shared = self.capability(capability)
            yield from shared
            levels.append(
                {"@type": "glia:CapabilityLevel", "glia:capability": spec, "glia:level": level}
            )
        _put(node, "glia:hasCapability", levels)
        _put(node, "glia:capacityHoursPerWeek", p.capacity_hours_per_week)
        _put(node, "glia:ratePerHour", p.rate_per_hour)
        _put(node, "glia:capitalAvailable", p.capital_available)
        _put(node, "glia:attributes", p.attributes)
        yield node

    def _endpoint(self, node: dict[str, Any], side: str, ident: str) -> None:
        if ident in self.roles:
            node[f"glia:{side}Role"] = self.iri("role", ident)
        else:
            node[f"vf:{side}"] = self.iri("participant", ident)

    def exchange(self, n: int, e: Exchange) -> Iterator[dict[str, Any]]:
        ident = self.iri("exchange", e.id) if e.id is not None else self.iri("exchange-row", str(n))
        node: dict[str, Any] = {"@id": ident, "@type": "vf:Intent"}
        node["vf:action"] = VF_ACTIONS[e.kind, e.type]
        node["vf:name"] = e.deliverable
        self._endpoint(node, "provider", e.source)
        self._endpoint(node, "receiver", e.target)
        currency = e.currency or self.eco.currency
        if e.type == "money" and currency is not None:
            spec, shared = self.currency(currency)
        else:
            spec, shared = self.deliverable(e.deliverable)
        yield from shared
        node["vf:resourceConformsTo"] = spec
        node["vf:resourceClassifiedAs"] = [e.kind] if e.type is None else [e.kind, e.type]
        if e.type == "money" and currency is not None and e.value is not None:
            measure, shared = self.money(e.value)
            yield from shared
            node["vf:resourceQuantity"] = measure
        _put(node, "vf:note", e.description)
        _put(node, "glia:id", e.id)
        _put(node, "glia:exchangeKind", e.kind)
        _put(node, "glia:exchangeType", e.type)
        _put(node, "glia:value", e.value)
        _put(node, "glia:cost", e.cost)
        if e.currency is not None or e.value is not None or e.cost is not None:
            _put(node, "glia:currency", currency)
        _put(node, "glia:frequency", e.frequency)
        _put(node, "glia:period", e.period)
        _put(node, "glia:perceivedValue", e.perceived_value)
        if e.impact is not None:
            for asset, term in _IMPACT_TERMS.items():
                _put(node, term, getattr(e.impact, asset))
        _put(node, "glia:sequence", e.sequence)
        _put(node, "glia:attributes", e.attributes)
        yield node

    def opportunity(self, o: Opportunity) -> Iterator[dict[str, Any]]:
        iri = self.iri("opportunity", o.id)
        client = self.iri("participant", o.client)
        proposal: dict[str, Any] = {"@id": iri, "@type": "vf:Proposal", "vf:purpose": "vf:request"}
        _put(proposal, "vf:name", o.name or o.id)
        _put(proposal, "glia:id", o.id)
        _put(proposal, "vf:note", o.description)
        _put(proposal, "glia:client", client)
        if o.region is not None:
            location, shared = self.region(o.region)
            yield from shared
            proposal["vf:eligibleLocation"] = location
        _put(proposal, "vf:hasBeginning", o.start)
        _put(proposal, "vf:hasEnd", o.end)
        publishes = []
        for k, need in enumerate(o.needs, 1):
            spec, shared = self.capability(need.capability)
            yield from shared
            intent = {
                "@id": f"{iri}:need:{k}",
                "@type": "vf:Intent",
                "vf:action": "vf:work",
                "vf:receiver": client,
                "vf:resourceConformsTo": spec,
                "glia:level": need.level,
                "glia:count": need.count,
            }
            publishes.append(intent["@id"])
            yield intent
        _put(proposal, "vf:publishes", publishes)
        currency = o.currency or self.eco.currency
        if o.budget is not None:
            budget: dict[str, Any] = {
                "@id": f"{iri}:budget",
                "@type": "vf:Intent",
                "vf:action": "vf:transfer",
                "vf:provider": client,
                "vf:resourceClassifiedAs": ["tangible", "money"],
            }
            if currency is not None:
                spec, shared = self.currency(currency)
                yield from shared
                budget["vf:resourceConformsTo"] = spec
                measure, shared = self.money(o.budget)
                yield from shared
                budget["vf:resourceQuantity"] = measure
            _put(budget, "glia:value", o.budget)
            _put(budget, "glia:currency", currency)
            yield budget
            proposal["vf:reciprocal"] = [budget["@id"]]
        _put(proposal, "glia:budget", o.budget)
        _put(proposal, "glia:capitalNeeded", o.capital_needed)
        if o.currency is not None or o.budget is not None or o.capital_needed is not None:
            _put(proposal, "glia:currency", currency)
        _put(proposal, "glia:stage", o.stage)
        _put(proposal, "glia:attributes", o.attributes)
        yield proposal


def valueflows_nodes(eco: Ecosystem, *, base: str | None = None) -> Iterator[dict[str, Any]]:
    """The nodes of the ``@graph``, one at a time, in a stable order.

    Parameters
    ----------
    eco
        The ecosystem to export.
    base
        The prefix of every node's IRI; ``urn:glia:<slug>:`` by default,
        where the slug is :func:`ecosystem_slug` of the ecosystem's name.
        Ids are appended percent-encoded, after the kind of record:
        ``urn:glia:northbridge:participant:ana``.

    Raises
    ------
    ValueError
        If ``base`` is not an absolute IRI, or its scheme is a prefix of the
        context (``vf``, ``glia``, ``xsd``).

    Yields
    ------
    dict
        JSON-LD node objects using the terms of :data:`VF_CONTEXT`. A shared
        node (a region, capability, deliverable, currency or unit) comes once,
        just before the first node that refers to it.
    """
    return _Graph(eco, base).nodes()


def valueflows_document(eco: Ecosystem, *, base: str | None = None) -> dict[str, Any]:
    """The ValueFlows JSON-LD document of an ecosystem, in memory.

    Parameters
    ----------
    eco
        The ecosystem to export.
    base
        The prefix of every node's IRI (see :func:`valueflows_nodes`).

    Returns
    -------
    dict
        ``{"@context": VF_CONTEXT, "@graph": [...]}``, ready for
        :func:`json.dumps`. Money amounts are decimal strings.

    Examples
    --------
    >>> from glia.model import Ecosystem
    >>> eco = Ecosystem.model_validate({
    ...     "ecosystem": "Tiny",
    ...     "participants": [{"id": "ana"}, {"id": "acme", "kind": "organization"}],
    ...     "exchanges": [{"from": "acme", "to": "ana", "deliverable": "Fee",
    ...                    "kind": "tangible", "type": "money", "value": "1200.50",
    ...                    "currency": "EUR"}],
    ... })
    >>> doc = valueflows_document(eco)
    >>> intent = next(n for n in doc["@graph"] if n["@type"] == "vf:Intent")
    >>> intent["vf:provider"], intent["vf:action"]
    ('urn:glia:tiny:participant:acme', 'vf:transfer')
    >>> intent["vf:resourceQuantity"]["vf:hasNumericalValue"]
    '1200.50'
    """
    graph = list(valueflows_nodes(eco, base=base))
    return {"@context": copy.deepcopy(VF_CONTEXT), "@graph": graph}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def dump_valueflows(eco: Ecosystem, out: IO[str], *, base: str | None = None) -> dict[str, int]:
    """Write the ValueFlows JSON-LD document of an ecosystem to an open text stream.

    The ``@graph`` is streamed one node per line.

    Parameters
    ----------
    eco
        The ecosystem to export.
    out
        A text stream opened for writing.
    base
        The prefix of every node's IRI (see :func:`valueflows_nodes`).

    Returns
    -------
    dict[str, int]
        Number of nodes written per ``@type`` (``vf:Person``, ``vf:Intent``,
        ...).
    """
    counts: Counter[str] = Counter()
    out.write('{\n  "@context": ')
    out.write(_json(VF_CONTEXT))
    out.write(',\n  "@graph": [')
    sep = "\n    "
    for node in valueflows_nodes(eco, base=base):
        out.write(sep + _json(node))
        sep = ",\n    "
        counts[node["@type"]] += 1
    out.write("\n  ]\n}\n" if counts else "]\n}\n")
    return dict(counts)


def write_valueflows(
    eco: Ecosystem, path: str | os.PathLike[str], *, base: str | None = None
) -> dict[str, int]:
    """Write an ecosystem to a ValueFlows JSON-LD file, atomically.

    Parameters
    ----------
    eco
        The ecosystem to export.
    path
        The file to write (``.jsonld`` is the usual suffix); its folder is
        created if needed. The document goes to a temporary file beside it
        and is moved into place only once complete.
    base
        The prefix of every node's IRI (see :func:`valueflows_nodes`).

    Returns
    -------
    dict[str, int]
        Number of nodes written per ``@type``.
    """
    with atomic_output(Path(path)) as out:
        return dump_valueflows(eco, out, base=base)
