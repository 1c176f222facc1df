"""``analyze()``: every analysis of an ecosystem, composed, with stable JSON keys.

One call builds the multiplex once and hands its layers to each engine:
centrality per layer, MICMAC, communities, brokerage, the sweet spot, value
network analysis, money flows, health and the single points of failure. The
result keeps each engine's typed result and adds the views a user reads:
``to_json()`` (documented keys, see ``docs/analysis.md``), ``to_pandas()``
(one row per participant, one column per measure) and the HTML report
(:func:`glia.report.html_report`).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..graph import LAYERS, Grouping, Multiplex, UnknownGrouping, UnknownLayer, build, grouping
from ..model import Ecosystem
from ..store import Snapshot, snapshot_of
from ._common import AnalysisError, frame, jsonable
from .brokerage import Brokerage, brokerage
from .centrality import PIVOTS, Centrality, centrality
from .communities import Communities, communities
from .flows import MoneyFlows, StakeholderLoops, money_flows, stakeholder_loops
from .health import Health, health
from .micmac import Micmac, micmac
from .sweetspot import SweetSpot, sweet_spot
from .vna import ValueNetwork, value_network
from .whatif import Failures, single_points_of_failure

__all__ = ["Analysis", "analyze"]

#: Version of the JSON layout; bumped when a documented key changes meaning.
JSON_VERSION = 1

#: Budget of sampled shortest-path work per layer, in sources x edges: about
#: 6 s here (12.5 ns per source-edge, measured in centrality.py).
PATH_BUDGET = 5e8
#: Never fewer sampled sources than this, whatever the size.
MIN_PIVOTS = 32


def default_pivots(edges: int) -> int:
    """Sources sampled for betweenness and closeness when the caller names none.

    256 (``centrality.PIVOTS``) while that fits :data:`PATH_BUDGET`; fewer on
    larger layers (at least :data:`MIN_PIVOTS`), so a million participants
    are measured in minutes, not an hour. Fewer sources mean a larger error,
    and the result reports it.
    """
    return int(max(MIN_PIVOTS, min(PIVOTS, PATH_BUDGET // max(edges, 1))))


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything ``analyze()`` found, engine by engine."""

    ecosystem: str
    ids: list[str]
    names: list[str | None]
    settings: dict[str, Any]
    multiplex: Multiplex
    centrality: dict[str, Centrality]
    micmac: Micmac
    micmac_layer: str
    communities: Communities
    brokerage: Brokerage
    groups: Grouping
    sweet_spot: SweetSpot
    value_network: ValueNetwork | None
    flows: MoneyFlows | None
    health: Health | None
    loops: StakeholderLoops | None
    failures: Failures
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def label(self, who: int | str) -> str:
        """A participant's name, or its id (``who``: node number or id)."""
        i = self.multiplex.index[who] if isinstance(who, str) else int(who)
        return self.names[i] or self.ids[i]

    # -- tables ----------------------------------------------------------------------
    def participant_columns(self) -> dict[str, Any]:
        """Every per-participant measure as ``name -> array``, layer-qualified names."""
        columns: dict[str, Any] = {"name": [n or "" for n in self.names]}
        for layer, result in self.centrality.items():
            for measure, values in result.columns().items():
                columns[f"{measure}.{layer}"] = values
        for measure, values in self.micmac.columns().items():
            columns[f"micmac.{measure}"] = values
        columns["community"] = self.communities.labels
        for measure, values in self.brokerage.columns().items():
            columns[measure] = values
        for measure, values in self.sweet_spot.columns().items():
            columns[measure] = values
        if self.flows is not None:
            for measure, values in self.flows.columns().items():
                columns[measure] = values
        return columns

    def to_pandas(self) -> Any:
        """One row per participant (index: id), one column per measure."""
        return frame(self.participant_columns(), self.ids)

    # -- JSON ------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The documented JSON (``docs/analysis.md``): JSON-safe, stable keys."""
        columns = self.participant_columns()
        lists = {k: jsonable(v) for k, v in columns.items()}
        participants = {
            pid: {k: values[i] for k, values in lists.items()} for i, pid in enumerate(self.ids)
        }
        mx = self.multiplex
        return {
            "glia_analysis": JSON_VERSION,
            "ecosystem": self.ecosystem,
            "settings": jsonable(self.settings),
            "summary": {
                "participants": mx.n,
                "layers": {
                    name: {
                        "arcs": mx.layer(name).n_arcs,
                        "edges": mx.layer(name).n_edges,
                        **self.centrality[name].meta(),
                    }
                    for name in self.centrality
                },
                "clusters": len(mx.clusters.ids),
                "roles": len(mx.snapshot.role_ids),
                "exchanges": len(mx.snapshot.exchange_source),
            },
            "participants": participants,
            "micmac": {"layer": self.micmac_layer, **self.micmac.summary()},
            "communities": self.communities.to_json(),
            "brokerage": self.brokerage.to_json(),
            "sweet_spot": self.sweet_spot.to_json(),
            "value_network": None if self.value_network is None else self.value_network.to_json(),
            "flows": None if self.flows is None else self.flows.to_json(),
            "health": None if self.health is None else self.health.to_json(),
            "loops": None if self.loops is None else _loops_json(self.loops),
            "single_points_of_failure": self.failures.to_json(),
            "notes": list(self.notes),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


def _loops_json(loops: StakeholderLoops, top: int = 50) -> dict[str, Any]:
    """The loops' JSON, the ``top`` best-scoring loops only (there can be thousands)."""
    data = loops.to_json()
    data["loop_count"] = len(data["loops"])
    data["loops"] = sorted(data["loops"], key=lambda x: -(x["score"] or 0))[:top]
    return data


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started


def _snapshot(
    ecosystem: Ecosystem | Snapshot | str | os.PathLike[str],
) -> tuple[Snapshot, Callable[[str], Sequence[Any]] | None]:
    if isinstance(ecosystem, Snapshot):
        return ecosystem, None
    if not isinstance(ecosystem, Ecosystem):
        from ..io import read

        ecosystem = read(ecosystem)
    eco = ecosystem

    def attribute(name: str) -> list[Any]:
        return [p.attributes.get(name) for p in eco.participants]

    return snapshot_of(eco), attribute


def analyze(
    ecosystem: Ecosystem | Snapshot | str | os.PathLike[str],
    *,
    layers: Sequence[str] = LAYERS,
    group: str = "cluster",
    method: str = "modularity",
    resolution: float = 1.0,
    seed: int = 0,
    exact_limit: int | None = None,
    pivots: int | None = None,
    rate: float = 0.0,
    focal: str | None = None,
    loop_length: int = 4,
    at: dt.date | None = None,
    attribute: Callable[[str], Sequence[Any]] | None = None,
) -> Analysis:
    """Analyse an ecosystem: network measures, communities, brokerage, sweet spot,
    value network analysis, money flows, health and single points of failure.

    ``ecosystem`` is records (:func:`glia.read`), a path, or a store snapshot
    (:meth:`glia.Store.snapshot`). ``layers`` chooses the layers measured
    (formal, informal, combined, exchange); ``group`` the grouping for
    brokerage and the E-I index (region, kind, cluster, cluster:<kind>,
    attribute:<name>); ``method``/``resolution``/``seed`` the Leiden run;
    ``exact_limit``/``pivots`` when betweenness and closeness are sampled
    (default pivots: :func:`default_pivots`);
    ``rate`` the discount rate per period of the net present values;
    ``focal`` the participant or role whose value loops are scored (default:
    the role or participant with the most exchanges), up to ``loop_length``;
    ``at`` a date to see only the ties alive then.

    Raises :class:`AnalysisError` with a message naming the bad argument.

    >>> import glia
    >>> result = glia.analyze("examples/northbridge.yaml")
    >>> result.to_json()["participants"]["nrda"]["degree.combined"]
    15
    """
    timings: dict[str, float] = {}
    notes: list[str] = []
    layers = list(dict.fromkeys(layers))
    for name in layers:
        if name not in LAYERS:
            raise AnalysisError(str(UnknownLayer(name)))
    if not layers:
        raise AnalysisError(f"no layer chosen: expected one or more of {', '.join(LAYERS)}")
    with _timed(timings, "snapshot"):
        snap, own_attribute = _snapshot(ecosystem)
    attribute = attribute or own_attribute
    if snap.n_participants == 0:
        raise AnalysisError(f"ecosystem {snap.ecosystem!r} has no participants: nothing to analyse")
    with _timed(timings, "layers"):
        mx = build(snap, at=at)
    if mx.combined.n_edges == 0:
        when = f" alive on {at.isoformat()}" if at is not None else ""
        raise AnalysisError(
            f"ecosystem {snap.ecosystem!r} has no ties{when} between participants: "
            "nothing to measure (add ties on the formal or informal layer)"
        )
    try:
        groups = grouping(snap, group, attribute=attribute)
    except UnknownGrouping as exc:
        raise AnalysisError(str(exc)) from None

    options: dict[str, Any] = {"seed": seed}
    if exact_limit is not None:
        options["exact_limit"] = exact_limit
    measures: dict[str, Centrality] = {}
    for name in layers:
        layer = mx.layer(name)
        with _timed(timings, f"centrality.{name}"):
            measures[name] = centrality(
                layer, pivots=pivots or default_pivots(layer.n_edges), **options
            )
        if layer.n_edges == 0:
            notes.append(f"the {name} layer has no ties: its measures are zero, Burt's undefined")

    micmac_layer = "exchange" if mx.exchange.n_arcs else "combined"
    with _timed(timings, "micmac"):
        influence = micmac(mx.layer(micmac_layer))

    base = "combined"
    with _timed(timings, "communities"):
        found = communities(
            mx.combined,
            method=method,  # type: ignore[arg-type]
            resolution=resolution,
            seed=seed,
            declared=groups,
            membership=mx.clusters.membership,
            cluster_ids=mx.clusters.ids,
        )
    combined = measures.get(base) or centrality(
        mx.combined, pivots=pivots or default_pivots(mx.combined.n_edges), **options
    )
    with _timed(timings, "brokerage"):
        brokers = brokerage(
            mx.combined,
            groups,
            betweenness=combined.betweenness,
            constraint=combined.constraint,
            communities_labels=found.labels,
        )
    with _timed(timings, "sweet_spot"):
        spot = sweet_spot(mx, groups=groups)

    vna = flows = fitness = loops = None
    if len(snap.exchange_source):
        with _timed(timings, "value_network"):
            vna = value_network(snap)
        chosen = focal is not None
        if focal is None:
            focal = vna.node_ids[int(np.argmax(vna.transactions))]
        try:
            with _timed(timings, "loops"):
                loops = stakeholder_loops(snap, focal, max_length=loop_length)
        except AnalysisError as exc:
            if chosen:  # the user's own focal: say what is wrong with it
                raise
            notes.append(f"value loops around {focal}: {exc}")
        with _timed(timings, "flows"):
            flows = money_flows(snap, rate=rate)
        try:
            with _timed(timings, "health"):
                fitness = health(mx, flows)
        except AnalysisError as exc:
            notes.append(f"health: {exc}")
    else:
        notes.append("no exchanges: value network analysis, money flows and health are skipped")
    with _timed(timings, "failures"):
        failures = single_points_of_failure(mx)

    settings = {
        "layers": layers,
        "group": group,
        "method": method,
        "resolution": resolution,
        "seed": seed,
        "rate": rate,
        "focal": focal,
        "loop_length": loop_length,
        "at": None if at is None else at.isoformat(),
    }
    return Analysis(
        ecosystem=snap.ecosystem,
        ids=snap.participant_ids,
        names=snap.participant_names,
        settings=settings,
        multiplex=mx,
        centrality=measures,
        micmac=influence,
        micmac_layer=micmac_layer,
        communities=found,
        brokerage=brokers,
        groups=groups,
        sweet_spot=spot,
        value_network=vna,
        flows=flows,
        health=fitness,
        loops=loops,
        failures=failures,
        notes=notes,
        timings=timings,
    )
