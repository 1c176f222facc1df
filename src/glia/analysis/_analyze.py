"""``analyze()``: every analysis of an ecosystem, composed, with stable JSON keys.

One call builds the multiplex once and hands its layers to each engine:
centrality per layer, MICMAC, communities, brokerage, the sweet spot, value
network analysis, money flows, health and the single points of failure. The
result keeps each engine's typed result and adds the views a user reads:
``to_json()`` (documented keys, see ``docs/analysis.md``), ``to_pandas()``
(one row per participant, one column per measure) and the HTML report
(:func:`glia.report.html_report`).

The work runs on two threads: the layers' measures on the calling one (their
products and searches split over both cores in part), and meanwhile, one
after the other, Leiden, the slow part of brokerage, the sweet spot, value
network analysis, flows, health and the single points of failure; their
stage times in :attr:`Analysis.timings` therefore overlap. Results do not
depend on the threads.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..graph import LAYERS, Grouping, Multiplex, UnknownGrouping, UnknownLayer, build, grouping
from ..model import Ecosystem
from ..store import Snapshot, snapshot_of
from ._common import AnalysisError, Members, frame, json_chunks, jsonable
from .brokerage import Brokerage, brokerage, gould_fernandez_counts
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

#: Budget of sampled shortest-path work per layer, in sources x edges. On the
#: generated 1M-participant ecosystem's tie layers it takes 15 to 25 s here
#: (29 to 48 ns per source and edge on both cores: sparser layers have more
#: levels); at 100k the 256-source cap binds (2.2e8 on the combined layer, 2.4 s).
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
    def to_json(self, *, participants: bool = True) -> dict[str, Any]:
        """The documented JSON (``docs/analysis.md``): JSON-safe, stable keys.

        Without ``participants`` their measures are left out (``null``): a
        summary that costs nothing per participant.
        """
        document = self._document()
        if participants:
            document["participants"] = dict(self._participant_rows())
        return document

    def json_chunks(self) -> Iterator[str]:
        """:meth:`to_json` as text in pieces, as ``glia analyze --format json`` writes it.

        Indented two levels deep (a participant a line), the rest compact;
        ``json.loads`` of the joined pieces gives back :meth:`to_json`. The
        participants' rows are made a block at a time while they are written,
        so memory stays bounded by the block, not the ecosystem.
        """
        document = self._document()
        document["participants"] = Members(self._participant_rows)
        return json_chunks(document)

    def to_json_text(self) -> str:
        """:meth:`json_chunks` joined."""
        return "".join(self.json_chunks())

    def _participant_rows(self, block: int = 10_000) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(id, measures)`` per participant, made JSON-safe a block of rows at a time."""
        columns = self.participant_columns()
        keys = list(columns)
        for start in range(0, len(self.ids), block):
            stop = start + block
            rows = zip(*(jsonable(v[start:stop]) for v in columns.values()), strict=True)
            for pid, row in zip(self.ids[start:stop], rows, strict=True):
                yield pid, dict(zip(keys, row, strict=True))

    def _document(self) -> dict[str, Any]:
        """The JSON, its ``participants`` still ``None``."""
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
            "participants": None,
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

    # refused here, before the second thread starts work that would be waited for
    if pivots and pivots < 2:  # 0 or None: the default
        raise AnalysisError(f"pivots must be at least 2 (got {pivots})")
    if exact_limit is not None and exact_limit < 0:
        raise AnalysisError(f"exact_limit must be 0 or more (got {exact_limit})")
    options: dict[str, Any] = {"seed": seed}
    if exact_limit is not None:
        options["exact_limit"] = exact_limit
    measures: dict[str, Centrality] = {}
    side: dict[str, float] = {}  # the second thread's timings
    side_notes: list[str] = []

    def find_communities() -> Communities:
        with _timed(side, "communities"):
            return communities(
                mx.combined,
                method=method,  # type: ignore[arg-type]
                resolution=resolution,
                seed=seed,
                declared=groups,
                membership=mx.clusters.membership,
                cluster_ids=mx.clusters.ids,
            )

    def count_brokerage() -> Any:
        with _timed(side, "brokerage"):
            return gould_fernandez_counts(mx.combined, groups)

    def value_and_structure() -> tuple[Any, ...]:
        """What needs neither communities nor the layers' measures."""
        nonlocal focal
        with _timed(side, "sweet_spot"):
            spot = sweet_spot(mx, groups=groups)
        vna = flows = fitness = loops = None
        if len(snap.exchange_source):
            with _timed(side, "value_network"):
                vna = value_network(snap)
            chosen = focal is not None
            if focal is None:
                focal = vna.node_ids[int(np.argmax(vna.transactions))]
            try:
                with _timed(side, "loops"):
                    loops = stakeholder_loops(snap, focal, max_length=loop_length)
            except AnalysisError as exc:
                if chosen:  # the user's own focal: say what is wrong with it
                    raise
                side_notes.append(f"value loops around {focal}: {exc}")
            with _timed(side, "flows"):
                flows = money_flows(snap, rate=rate)
            try:
                with _timed(side, "health"):
                    fitness = health(mx, flows)
            except AnalysisError as exc:
                side_notes.append(f"health: {exc}")
        else:
            side_notes.append(
                "no exchanges: value network analysis, money flows and health are skipped"
            )
        with _timed(side, "failures"):
            failures = single_points_of_failure(mx)
        return spot, vna, flows, fitness, loops, failures

    # The measures of the layers use both cores only in part (their products
    # and searches split over threads; Burt's measures, the eigensolver's
    # steps and NumPy's bookkeeping do not). The other engines run one at a
    # time on a second thread meanwhile: Leiden first (graspologic-native's
    # Rust, which releases the GIL; about 2 GB at 1M participants, so it
    # overlaps the smaller layers, measured first), then the slow part of
    # brokerage, the sweet spot, value network, flows, health and single
    # points of failure (NumPy and SciPy, which release the GIL in their
    # loops). At 1M participants that fills most of the idle core.
    for name in LAYERS:  # the layers' shared matrices, built before two threads read them
        _ = mx.layer(name).degree
    second = ThreadPoolExecutor(1)
    try:
        found_later = second.submit(find_communities)
        counts_later = second.submit(count_brokerage)
        rest_later = second.submit(value_and_structure)
        for name in sorted(layers, key=lambda x: mx.layer(x).n_edges):
            layer = mx.layer(name)
            with _timed(timings, f"centrality.{name}"):
                measures[name] = centrality(
                    layer, pivots=pivots or default_pivots(layer.n_edges), **options
                )
        measures = {name: measures[name] for name in layers}
        for name in layers:
            if mx.layer(name).n_edges == 0:
                notes.append(
                    f"the {name} layer has no ties: its measures are zero, Burt's undefined"
                )
        micmac_layer = "exchange" if mx.exchange.n_arcs else "combined"
        with _timed(timings, "micmac"):
            influence = micmac(mx.layer(micmac_layer))
        found = found_later.result()
        base = "combined"
        combined = measures.get(base) or centrality(
            mx.combined, pivots=pivots or default_pivots(mx.combined.n_edges), **options
        )
        counts = counts_later.result()
        with _timed(side, "brokerage"):  # the second thread is done with this stage
            brokers = brokerage(
                mx.combined,
                groups,
                betweenness=combined.betweenness,
                constraint=combined.constraint,
                communities_labels=found.labels,
                counts=counts,
            )
        spot, vna, flows, fitness, loops, failures = rest_later.result()
    finally:  # on an error, what has not started need not run
        second.shutdown(cancel_futures=True)
    notes.extend(side_notes)
    timings.update(side)
    stages = ["snapshot", "layers", *(f"centrality.{name}" for name in layers), "micmac"]
    stages += ["communities", "brokerage", "sweet_spot", "value_network", "loops", "flows"]
    stages += ["health", "failures"]
    timings = {name: timings[name] for name in stages if name in timings}

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
