"""GraphML export: the ecosystem as one directed multigraph, for NetworkX, igraph and Gephi.

The writer is hand-written rather than built on NetworkX (which Glia keeps as a
test oracle, not a runtime dependency) or ElementTree (which holds the whole
tree in memory). It streams: after one pass over the records to learn which
attribute keys occur and with which types (GraphML declares every ``<key>``
before the graph), a second pass writes one element per line, so memory beyond
the ecosystem itself stays bounded by the number of distinct keys.

Mapping (``docs/exports.md`` has the full tables):

* one ``<graph edgedefault="directed">``; parallel edges are allowed and every
  edge has an ``id``;
* nodes are participants, roles and clusters, told apart by the node attribute
  ``node_type``. A cluster may share its id with a participant or a role, so
  every node id carries its type as a prefix: ``participant:ana``,
  ``role:client``, ``cluster:data``. Characters outside ``[A-Za-z0-9_-]`` are
  written as ``.<hex code point>.`` (``Ana Ruiz`` becomes ``Ana.20.Ruiz``),
  which keeps ids valid ``xs:NMTOKEN`` values as the GraphML schema asks and
  keeps the mapping one-to-one; the id as written in Glia is in ``glia_id``;
* edges carry ``layer``: ``formal`` and ``informal`` (ties), ``membership``
  (participant to cluster), ``plays`` (participant to role) and ``exchange``
  (role or participant to role or participant);
* a tie's direction is the data attribute ``directed`` (boolean), never the
  XML ``directed`` attribute, which NetworkX refuses inside a directed graph;
* capabilities become one integer attribute per capability
  (``capability.data-engineering`` = 4), so Gephi can filter on a level range;
  free attributes become ``attr.<key>``;
* an attribute whose values mix types across elements is declared ``string``
  (integers mixed with floats become ``double`` when no integer loses
  precision); money is written as its exact decimal text under a ``double``
  key.

Text is escaped for XML; characters that XML 1.0 forbids (most C0 control
characters, lone surrogates, U+FFFE and U+FFFF) are replaced by U+FFFD, and a
carriage return is written as ``&#13;`` so that it survives parsing.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Literal
from xml.sax.saxutils import escape, quoteattr

from ..model import ASSET_KINDS, Ecosystem
from ._files import atomic_output

__all__ = [
    "GRAPHML_LAYERS",
    "dump_graphml",
    "graphml_lines",
    "graphml_node_id",
    "write_graphml",
]

#: The values of the edge attribute ``layer``.
GRAPHML_LAYERS = ("formal", "informal", "membership", "plays", "exchange")

NodeType = Literal["participant", "role", "cluster"]
Domain = Literal["graph", "node", "edge"]
Value = str | bool | int | float | Decimal
Items = list[tuple[str, Value]]

_NS = "http://graphml.graphdrawing.org/xmlns"
_SCHEMA = "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"
_TOKEN_SAFE = re.compile(r"[A-Za-z0-9_-]+")
# Characters XML 1.0 allows: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
_XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_SPECIAL = re.compile("[&<>\r]|" + _XML_FORBIDDEN.pattern)
_INT32 = 2**31
_INT64 = 2**63
_DOUBLE_EXACT = 2**53


def graphml_node_id(node_type: NodeType, ident: str) -> str:
    """The GraphML node id of a participant, role or cluster.

    Parameters
    ----------
    node_type
        ``"participant"``, ``"role"`` or ``"cluster"``.
    ident
        The record's id as written in Glia.

    Returns
    -------
    str
        ``<node_type>:<ident>``, with every character outside
        ``[A-Za-z0-9_-]`` written as ``.<hex code point>.``.

    Examples
    --------
    >>> graphml_node_id("participant", "ana")
    'participant:ana'
    >>> graphml_node_id("cluster", "Agri Tech")
    'cluster:Agri.20.Tech'
    """
    return f"{node_type}:{_token(ident)}"


def _token(ident: str) -> str:
    if _TOKEN_SAFE.fullmatch(ident):
        return ident
    out: list[str] = []
    pos = 0
    for match in _TOKEN_SAFE.finditer(ident):
        out.extend(f".{ord(c):x}." for c in ident[pos : match.start()])
        out.append(match.group())
        pos = match.end()
    out.extend(f".{ord(c):x}." for c in ident[pos:])
    return "".join(out)


# -- values and types ------------------------------------------------------------------


def _xml_text(text: str) -> str:
    if _XML_SPECIAL.search(text) is None:
        return text
    cleaned = _XML_FORBIDDEN.sub("\ufffd", text)
    return escape(cleaned, {"\r": "&#13;"})


def _xml_attr(text: str) -> str:
    return quoteattr(_XML_FORBIDDEN.sub("\ufffd", text))


def _kind(value: Value) -> str:
    """The GraphML type one value asks for."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        if -_INT32 <= value < _INT32:
            return "int"
        return "long" if -_INT64 <= value < _INT64 else "string"
    if isinstance(value, float | Decimal):
        return "double"
    return "string"


class _KeyType:
    """The GraphML type of one attribute, widened as values are seen."""

    __slots__ = ("inexact", "kinds")

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.inexact = False  # an integer a double cannot hold exactly

    def see(self, value: Value) -> None:
        self.kinds.add(_kind(value))
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _DOUBLE_EXACT:
            self.inexact = True

    def resolve(self) -> str:
        kinds = self.kinds
        if len(kinds) == 1:
            return next(iter(kinds))
        if kinds == {"int", "long"}:
            return "long"
        if kinds <= {"int", "long", "double"} and not self.inexact:
            return "double"
        return "string"


def _text(value: Value, key_type: str) -> str:
    """The text of a value under its key's declared type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "INF" if value > 0 else "-INF"
        return repr(value)
    if isinstance(value, int) and key_type == "double":
        return f"{value}.0"
    return str(value)


# -- the elements --------------------------------------------------------------------


def _add(items: Items, name: str, value: Value | dt.date | None) -> None:
    if value is None:
        return
    if isinstance(value, dt.date):
        items.append((name, value.isoformat()))
    else:
        items.append((name, value))


def _add_attributes(items: Items, attributes: dict[str, bool | int | float | str | None]) -> None:
    for key, value in attributes.items():
        _add(items, f"attr.{key}", value)


def _graph_items(eco: Ecosystem) -> Items:
    items: Items = []
    _add(items, "name", eco.ecosystem)
    _add(items, "description", eco.description)
    _add(items, "currency", eco.currency)
    _add_attributes(items, eco.attributes)
    return items


def _nodes(eco: Ecosystem) -> Iterator[tuple[NodeType, str, Items]]:
    for p in eco.participants:
        items: Items = [("node_type", "participant"), ("glia_id", p.id)]
        _add(items, "label", p.name or p.id)
        _add(items, "name", p.name)
        _add(items, "kind", p.kind)
        _add(items, "region", p.region)
        _add(items, "capacity_hours_per_week", p.capacity_hours_per_week)
        _add(items, "rate_per_hour", p.rate_per_hour)
        _add(items, "capital_available", p.capital_available)
        _add(items, "description", p.description)
        for capability, level in p.capabilities.items():
            _add(items, f"capability.{capability}", level)
        _add_attributes(items, p.attributes)
        yield "participant", p.id, items
    for r in eco.roles:
        items = [("node_type", "role"), ("glia_id", r.id)]
        _add(items, "label", r.name or r.id)
        _add(items, "name", r.name)
        _add(items, "description", r.description)
        _add_attributes(items, r.attributes)
        yield "role", r.id, items
    for c in eco.clusters:
        items = [("node_type", "cluster"), ("glia_id", c.id)]
        _add(items, "label", c.name or c.id)
        _add(items, "name", c.name)
        _add(items, "kind", c.kind)
        _add(items, "description", c.description)
        _add_attributes(items, c.attributes)
        yield "cluster", c.id, items


Node = tuple[NodeType, str]


def _edges(eco: Ecosystem) -> Iterator[tuple[str, Node, Node, Items]]:
    """Every edge as ``(id, source, target, items)``; ``items`` starts with the layer."""
    for n, t in enumerate(eco.ties, 1):
        items: Items = [("layer", t.layer)]
        _add(items, "label", t.type or t.layer)
        _add(items, "type", t.type)
        _add(items, "weight", t.weight)
        _add(items, "directed", t.directed)
        _add(items, "since", t.since)
        _add(items, "until", t.until)
        _add_attributes(items, t.attributes)
        yield f"tie:{n}", ("participant", t.source), ("participant", t.target), items
    n = 0
    for p in eco.participants:
        source: Node = ("participant", p.id)
        for cluster in p.clusters:
            n += 1
            items = [("layer", "membership"), ("label", "member of"), ("directed", True)]
            yield f"membership:{n}", source, ("cluster", cluster), items
    n = 0
    for r in eco.roles:
        target: Node = ("role", r.id)
        for player in r.played_by:
            n += 1
            items = [("layer", "plays"), ("label", "plays"), ("directed", True)]
            yield f"plays:{n}", ("participant", player), target, items
    roles = {r.id for r in eco.roles}

    def endpoint(ident: str) -> Node:
        return ("role" if ident in roles else "participant", ident)

    for n, e in enumerate(eco.exchanges, 1):
        items = [("layer", "exchange")]
        _add(items, "label", e.deliverable)
        _add(items, "glia_id", e.id)
        _add(items, "deliverable", e.deliverable)
        _add(items, "kind", e.kind)
        _add(items, "type", e.type)
        _add(items, "directed", True)
        _add(items, "value", e.value)
        _add(items, "currency", e.currency or eco.currency)
        _add(items, "frequency", e.frequency)
        _add(items, "period", e.period)
        _add(items, "perceived_value", e.perceived_value)
        _add(items, "cost", e.cost)
        if e.impact is not None:
            for asset in ASSET_KINDS:
                _add(items, f"impact.{asset}", getattr(e.impact, asset))
        _add(items, "sequence", e.sequence)
        _add(items, "description", e.description)
        _add_attributes(items, e.attributes)
        yield f"exchange:{n}", endpoint(e.source), endpoint(e.target), items


# -- writing -------------------------------------------------------------------------


class _Keys:
    """The declared keys: per domain, attribute name to (key id, GraphML type)."""

    def __init__(self) -> None:
        self.types: dict[Domain, dict[str, _KeyType]] = {"graph": {}, "node": {}, "edge": {}}
        self.ids: dict[Domain, dict[str, tuple[str, str]]] = {"graph": {}, "node": {}, "edge": {}}

    def see(self, domain: Domain, items: Iterable[tuple[str, Value]]) -> None:
        table = self.types[domain]
        for name, value in items:
            key_type = table.get(name)
            if key_type is None:
                key_type = table[name] = _KeyType()
            key_type.see(value)

    def declare(self) -> Iterator[str]:
        for domain in ("graph", "node", "edge"):
            ids = self.ids[domain]
            for i, (name, key_type) in enumerate(self.types[domain].items()):
                key_id = f"{domain[0]}{i}"
                resolved = key_type.resolve()
                ids[name] = (key_id, resolved)
                yield (
                    f"  <key id={_xml_attr(key_id)} for={_xml_attr(domain)} "
                    f"attr.name={_xml_attr(name)} attr.type={_xml_attr(resolved)}/>\n"
                )

    def data(self, domain: Domain, items: Items, indent: str) -> str:
        ids = self.ids[domain]
        parts = []
        for name, value in items:
            key_id, key_type = ids[name]
            text = _xml_text(_text(value, key_type))
            parts.append(f'{indent}<data key="{key_id}">{text}</data>\n')
        return "".join(parts)


class _Writer:
    """Produces the document line by line and counts what it wrote."""

    def __init__(self, eco: Ecosystem) -> None:
        self.eco = eco
        self.counts: dict[str, int] = dict.fromkeys(
            (
                "nodes",
                "edges",
                "participants",
                "roles",
                "clusters",
                "ties",
                "memberships",
                "plays",
                "exchanges",
            ),
            0,
        )

    def lines(self) -> Iterator[str]:
        eco = self.eco
        keys = _Keys()
        graph_items = _graph_items(eco)
        keys.see("graph", graph_items)
        for _, _, items in _nodes(eco):
            keys.see("node", items)
        for _, _, _, items in _edges(eco):
            keys.see("edge", items)

        yield '<?xml version="1.0" encoding="UTF-8"?>\n'
        yield "<!-- Written by Glia: one directed multigraph; see docs/exports.md -->\n"
        yield (
            f'<graphml xmlns="{_NS}"\n'
            '         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\n'
            f'         xsi:schemaLocation="{_NS} {_SCHEMA}">\n'
        )
        yield from keys.declare()
        yield '  <graph edgedefault="directed">\n'
        yield keys.data("graph", graph_items, "    ")
        counts = self.counts
        for node_type, ident, items in _nodes(eco):
            # Node and edge ids are NMTOKENs: nothing in them needs escaping.
            node_id = graphml_node_id(node_type, ident)
            data = keys.data("node", items, "      ")
            yield f'    <node id="{node_id}">\n{data}    </node>\n'
            counts["nodes"] += 1
            counts[f"{node_type}s"] += 1
        section = {
            "formal": "ties",
            "informal": "ties",
            "membership": "memberships",
            "plays": "plays",
            "exchange": "exchanges",
        }
        for edge_id, source, target, items in _edges(eco):
            source_id = graphml_node_id(*source)
            target_id = graphml_node_id(*target)
            data = keys.data("edge", items, "      ")
            yield (
                f'    <edge id="{edge_id}" source="{source_id}" target="{target_id}">\n'
                f"{data}    </edge>\n"
            )
            counts["edges"] += 1
            counts[section[str(items[0][1])]] += 1
        yield "  </graph>\n"
        yield "</graphml>\n"


def graphml_lines(eco: Ecosystem) -> Iterator[str]:
    """The GraphML document of an ecosystem, streamed in pieces.

    Parameters
    ----------
    eco
        The ecosystem to export.

    Yields
    ------
    str
        Successive pieces of the document: a line, or a whole ``<node>`` or
        ``<edge>`` element with its data, one per line; each ends with a
        newline.

    Examples
    --------
    >>> from glia.model import Ecosystem
    >>> eco = Ecosystem.model_validate({"ecosystem": "Tiny", "participants": [{"id": "ana"}]})
    >>> print("".join(graphml_lines(eco)).split("<graph ")[1].strip())
    edgedefault="directed">
        <data key="g0">Tiny</data>
        <node id="participant:ana">
          <data key="n0">participant</data>
          <data key="n1">ana</data>
          <data key="n2">ana</data>
          <data key="n3">person</data>
        </node>
      </graph>
    </graphml>
    """
    return _Writer(eco).lines()


def dump_graphml(eco: Ecosystem, out: IO[str]) -> dict[str, int]:
    """Write the GraphML document of an ecosystem to an open text stream.

    Parameters
    ----------
    eco
        The ecosystem to export.
    out
        A text stream opened for writing (UTF-8 is what the XML declaration
        announces).

    Returns
    -------
    dict[str, int]
        Number of ``nodes`` and ``edges`` written, and of each kind of them:
        ``participants``, ``roles``, ``clusters``, ``ties``, ``memberships``,
        ``plays`` and ``exchanges``.
    """
    writer = _Writer(eco)
    for line in writer.lines():
        out.write(line)
    return dict(writer.counts)


def write_graphml(eco: Ecosystem, path: str | os.PathLike[str]) -> dict[str, int]:
    """Write an ecosystem to a GraphML file, atomically.

    The document goes to a temporary file beside ``path`` and is moved into
    place only once complete, so a failed export leaves nothing half-written.

    Parameters
    ----------
    eco
        The ecosystem to export.
    path
        The file to write (its folder is created if needed).

    Returns
    -------
    dict[str, int]
        What was written, as :func:`dump_graphml` counts it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from glia.model import Ecosystem
    >>> eco = Ecosystem.model_validate({
    ...     "ecosystem": "Tiny",
    ...     "participants": [{"id": "ana"}, {"id": "ben"}],
    ...     "ties": [{"from": "ana", "to": "ben", "layer": "informal", "type": "trust"}],
    ... })
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     counts = write_graphml(eco, pathlib.Path(tmp) / "tiny.graphml")
    >>> counts["nodes"], counts["ties"]
    (2, 1)
    """
    with atomic_output(Path(path)) as out:
        return dump_graphml(eco, out)
