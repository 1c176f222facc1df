"""Routes: see an ecosystem (``glia analyze``): measures, health, sweet spot, what-if, report.

Every route reads the ecosystem's common picture (``guard.require("read", eco,
"analysis")``: anyone with a role there), takes the snapshot of the store and
hands it to :func:`glia.analysis.analyze` with the options of ``glia analyze``
(``layers``, ``group``, ``method``, ``resolution``, ``seed``, ``rate``, ``at``),
then answers one view of the result:

- ``GET .../analysis``: the JSON of ``glia analyze --format json`` (the
  per-participant measures only with ``participants=true``; they are paged at
  ``.../analysis/participants``);
- ``GET .../analysis/participants``: one row per participant, sorted by any measure;
- ``GET .../analysis/findings``: the sections ``--format table`` prints;
- ``GET .../analysis/health``, ``.../analysis/sweetspot``: those parts, typed;
- ``GET .../analysis/whatif``: what leaves with some participants or a cluster
  (:func:`glia.analysis.remove`);
- ``GET .../report``: the self-contained HTML report (``--format html``).

Bad options answer 422 with the query parameter they came from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, fields
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from ...analysis import Analysis, AnalysisError, analyze, remove
from ...analysis._common import jsonable
from ...report import findings, html_report
from ...store import Snapshot, Store
from .._deps import CurrentGuard
from .._pages import Page, PageQuery, paginate
from .._problems import ApiProblem

__all__ = ["AnalysisCache", "Settings", "fingerprint", "router"]

router = APIRouter(tags=["analysis"])

LayerName = Literal["formal", "informal", "combined", "exchange"]
LAYERS: tuple[LayerName, ...] = ("formal", "informal", "combined", "exchange")

Scalar = bool | int | float | str | None


# -- settings -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """The options of ``glia analyze`` one request asks for (hashable: a cache key)."""

    layers: tuple[str, ...] = LAYERS
    group: str = "cluster"
    method: str = "modularity"
    resolution: float = 1.0
    seed: int = 0
    rate: float = 0.0
    at: dt.date | None = None


def _settings(
    layers: Annotated[
        list[LayerName] | None,
        Query(description="Layers to measure (repeat); default: all four"),
    ] = None,
    group: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="Grouping for brokerage and E-I: region, kind, cluster, "
            "cluster:<kind>, attribute:<name>",
        ),
    ] = "cluster",
    method: Annotated[
        Literal["modularity", "cpm"], Query(description="Leiden quality")
    ] = "modularity",
    resolution: Annotated[
        float, Query(ge=1e-12, le=1e6, allow_inf_nan=False, description="Leiden resolution")
    ] = 1.0,
    seed: Annotated[
        int, Query(ge=0, le=2**31 - 1, description="Random seed (Leiden, sampling)")
    ] = 0,
    rate: Annotated[
        float,
        Query(
            gt=-1,
            le=100,
            allow_inf_nan=False,
            description="Discount rate per period for net present values",
        ),
    ] = 0.0,
    at: Annotated[dt.date | None, Query(description="Only ties alive on this date")] = None,
) -> Settings:
    chosen = tuple(dict.fromkeys(layers)) if layers else LAYERS
    return Settings(chosen, group, method, resolution, seed, rate, at)


SettingsQuery = Annotated[Settings, Depends(_settings)]


# -- the cache ------------------------------------------------------------------------------
def fingerprint(snapshot: Snapshot) -> str:
    """A digest of everything in ``snapshot``: equal digests, equal snapshots."""
    digest = hashlib.blake2b(digest_size=20)
    for f in fields(snapshot):
        value = getattr(snapshot, f.name)
        digest.update(f.name.encode())
        if isinstance(value, np.ndarray) and value.dtype != object:
            digest.update(f"{value.dtype.str}{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).reshape(-1).view(np.uint8).data)
        else:
            digest.update(repr(value).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class AnalysisCache:
    """The last few analyses made, by ecosystem, content and settings (least recent out first).

    Why a cache: an analysis costs from a tenth of a second (the example) to
    minutes (a million ties), and a reader asks for several views of the same
    one in a row (the table, health, the sweet spot, the report), each one
    request. Why its key is not just (ecosystem, ``updated_at``): the store
    bumps ``updated_at`` on import only, while engagement writes (a new
    opportunity and its needs, ties the loop adds) change the snapshot too. So
    the snapshot is read on every request (milliseconds for the example; the
    store's one consistent read) and the key is its digest
    (:func:`fingerprint`), with ``updated_at`` (participants' attributes, read
    by an ``attribute:`` grouping, are not in the snapshot and change only on
    import) and the settings. The analysis, not the snapshot, is what is saved.
    An analysis is immutable once made, so threads share it.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Analysis] = OrderedDict()
        self._lock = threading.Lock()
        self.misses = 0

    def get(self, key: Hashable, make: Callable[[], Analysis]) -> Analysis:
        """The analysis kept under ``key``, else ``make()``'s, kept."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
            self.misses += 1
        made = make()  # outside the lock: other ecosystems need not wait
        with self._lock:
            self._items[key] = made
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return made


_CACHE_LOCK = threading.Lock()


def cache_of(request: Request) -> AnalysisCache:
    """The application's analysis cache (one per application, made on first use)."""
    state = request.app.state
    with _CACHE_LOCK:
        cache = getattr(state, "analysis_cache", None)
        if not isinstance(cache, AnalysisCache):
            cache = AnalysisCache()
            state.analysis_cache = cache
    return cache


def _attributes(store: Store, ecosystem: str, snap: Snapshot) -> Callable[[str], list[Any]]:
    """Participants' attribute ``name``, in snapshot order (for ``attribute:<name>``)."""

    def attribute(name: str) -> list[Any]:
        by_id = {p.id: p.attributes for p in store.load(ecosystem).participants}
        return [by_id.get(pid, {}).get(name) for pid in snap.participant_ids]

    return attribute


#: Where an analysis refusal comes from, by the start of its message.
_FIELDS = (
    ("unknown layer", "layers"),
    ("no layer", "layers"),
    ("unknown grouping", "group"),
    ("grouping", "group"),
    ("no participant has a group", "group"),
    ("unknown community method", "method"),
    ("resolution", "resolution"),
    ("seed", "seed"),
    ("unknown participant", "participant"),
    ("nothing to remove", "participant"),
    ("unknown cluster", "cluster"),
)


def refused(exc: AnalysisError, at: dt.date | None = None) -> ApiProblem:
    """A 422 problem for an analysis refusal, naming the query parameter at fault."""
    message = str(exc)
    where = next((name for start, name in _FIELDS if message.startswith(start)), None)
    if where is None and at is not None and "alive on" in message:
        where = "at"
    if where is None:
        return ApiProblem(422, "Analysis refused", message, "analysis-refused")
    location = f"query.{where}"
    return ApiProblem(
        422,
        "Analysis refused",
        f"{location}: {message}",
        "analysis-refused",
        problems=[{"location": location, "message": message, "type": "analysis-refused"}],
    )


def analysis_of(
    guard: CurrentGuard, ecosystem: str, settings: Settings, request: Request
) -> Analysis:
    """The analysis of ``ecosystem`` as it stands, with ``settings`` (cached)."""
    guard.require("read", ecosystem, "analysis")
    store = guard.store
    snap = store.snapshot(ecosystem)
    updated = next((e.updated_at for e in store.list() if e.name == ecosystem), None)
    key = (ecosystem, str(updated), fingerprint(snap), settings)

    def make() -> Analysis:
        attribute = None
        if settings.group.startswith("attribute:"):
            attribute = _attributes(store, ecosystem, snap)
        try:
            return analyze(
                snap,
                layers=settings.layers,
                group=settings.group,
                method=settings.method,
                resolution=settings.resolution,
                seed=settings.seed,
                rate=settings.rate,
                at=settings.at,
                attribute=attribute,
            )
        except AnalysisError as exc:
            raise refused(exc, settings.at) from None

    return cache_of(request).get(key, make)


# -- models ---------------------------------------------------------------------------------
class AnalysisOut(BaseModel):
    """What ``glia analyze --format json`` prints (keys documented in docs/analysis.md)."""

    glia_analysis: int = Field(description="Version of the layout")
    ecosystem: str
    settings: dict[str, Any]
    summary: dict[str, Any] = Field(
        description="Participants, clusters, roles, exchanges; per layer arcs, edges, sampling"
    )
    participants: dict[str, dict[str, Scalar]] | None = Field(
        default=None,
        description="Measures by participant id (only with participants=true; "
        "see also /analysis/participants)",
    )
    micmac: dict[str, Any]
    communities: dict[str, Any]
    brokerage: dict[str, Any]
    sweet_spot: dict[str, Any]
    value_network: dict[str, Any] | None
    flows: dict[str, Any] | None
    health: dict[str, Any] | None
    loops: dict[str, Any] | None
    single_points_of_failure: dict[str, Any]
    notes: list[str]
    timings: dict[str, float]


class ParticipantMeasures(BaseModel):
    """One participant's measures, by column name (``betweenness.combined``...)."""

    id: str
    name: str | None
    measures: dict[str, Scalar]


class FindingOut(BaseModel):
    """One finding of the report: a table, what it means and what to do."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    lines: list[str]
    figure: str | None = Field(default=None, description="Inline SVG (with figures=true)")


class SustainabilityOut(BaseModel):
    """Ulanowicz's measures of the money flows (None: undefined)."""

    tst: float | None
    capacity: float | None
    ascendency: float | None
    overhead: float | None
    alpha: float | None
    robustness: float | None
    alpha_optimum: float | None
    n_nodes: int
    n_flows: int
    log_base: str
    units: str


class HealthHubOut(BaseModel):
    participant: str
    kind: str = Field(description="keystone, dominator, niche or empty")
    degree: int
    captured: float | None
    created: float | None


class AnalysisHealthOut(BaseModel):
    """Health of the money flows; ``available`` is false without exchanges (see notes)."""

    ecosystem: str
    available: bool
    currency: str | None = None
    sustainability: SustainabilityOut | None = None
    hubs: list[HealthHubOut] = Field(default_factory=list)
    keystones: list[str] = Field(default_factory=list)
    dominators: list[str] = Field(default_factory=list)
    niche_level: int | None = None
    niche_count: int = 0
    niches: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class OverlapOut(BaseModel):
    """Formal and informal ties of a cluster (or year), and the share they have in common."""

    formal: int
    informal: int
    both: int
    union: int
    overlap: float | None


class ClusterOverlapOut(OverlapOut):
    id: str


class YearOverlapOut(OverlapOut):
    year: int


class UnsupportedPairOut(BaseModel):
    pair: list[str]
    weight: float | None
    bridge: bool
    crosses_groups: bool


class UnsupportedOut(BaseModel):
    count: int
    top: list[UnsupportedPairOut]


class FormalOnlyPairOut(BaseModel):
    pair: list[str]
    weight: float | None


class FormalOnlyOut(BaseModel):
    count: int
    top: list[FormalOnlyPairOut]


class SweetSpotParticipantOut(BaseModel):
    informal_ties: int
    with_formal: int
    share: float | None


class SweetSpotOut(BaseModel):
    """Where the formal organisation and the informal network meet."""

    ecosystem: str
    grouping: str
    formal: int
    informal: int
    both: int
    union: int
    overlap: float | None
    clusters: list[ClusterOverlapOut]
    informal_bridges: int
    unsupported: UnsupportedOut
    formal_only: FormalOnlyOut
    years: list[YearOverlapOut]
    participants: dict[str, SweetSpotParticipantOut] | None = Field(
        default=None, description="Per participant (with participants=true)"
    )


class WhatIfConnectivityOut(BaseModel):
    pairs_before: int
    pairs_after: int
    lost_pairs: int
    lost_share: float | None
    components_before: int
    components_after: int


class WhatIfFlowsOut(BaseModel):
    exchanges_touched: int
    exchanges_lost: int
    money_lost: float | None
    money_share: float | None
    currency: str | None


class WhatIfCapabilityOut(BaseModel):
    removed_level: int
    remaining_level: int


class WhatIfUnmetNeedOut(BaseModel):
    opportunity: str
    capability: str
    level: int
    count: int
    holders_before: int
    holders_after: int


class WhatIfOut(BaseModel):
    """What the ecosystem loses if these participants leave (``glia.analysis.remove``)."""

    ecosystem: str
    removed: list[str]
    connectivity: WhatIfConnectivityOut
    flows: WhatIfFlowsOut
    capabilities: dict[str, WhatIfCapabilityOut]
    uncovered: list[str] = Field(description="Capabilities no one left holds")
    unmet_needs: list[WhatIfUnmetNeedOut]
    clients_removed: list[str]


# -- routes ---------------------------------------------------------------------------------
_BASE = "/ecosystems/{ecosystem}"


@router.get(f"{_BASE}/analysis", response_model=AnalysisOut)
def get_analysis(
    ecosystem: str,
    guard: CurrentGuard,
    settings: SettingsQuery,
    request: Request,
    participants: Annotated[
        bool, Query(description="Include every participant's measures")
    ] = False,
) -> AnalysisOut:
    """The whole analysis, as `glia analyze --format json` prints it."""
    result = analysis_of(guard, ecosystem, settings, request)
    return AnalysisOut.model_validate(result.to_json(participants=participants))


def _columns(result: Analysis) -> dict[str, Any]:
    columns = result.participant_columns()
    columns.pop("name", None)
    return columns


@router.get(f"{_BASE}/analysis/participants", response_model=Page[ParticipantMeasures])
def list_participant_measures(
    ecosystem: str,
    guard: CurrentGuard,
    settings: SettingsQuery,
    page: PageQuery,
    request: Request,
    sort: Annotated[
        str | None,
        Query(
            max_length=200,
            description="id, name or a measure (e.g. betweenness.combined); none: map order",
        ),
    ] = None,
    order: Annotated[Literal["asc", "desc"], Query(description="Missing values last")] = "desc",
    measure: Annotated[
        list[str] | None,
        Query(
            description="Measures to include (repeat): a column (betweenness.informal) or "
            "a measure on every layer (betweenness); default: all"
        ),
    ] = None,
) -> Page[ParticipantMeasures]:
    """Every participant's measures (degree, betweenness, closeness, eigenvector...), sorted."""
    result = analysis_of(guard, ecosystem, settings, request)
    columns = _columns(result)
    chosen = list(columns)
    if measure:
        unknown = [
            m
            for m in measure
            if m not in columns and not any(c.split(".")[0] == m for c in columns)
        ]
        if unknown:
            raise _bad_query("measure", f"unknown measure {', '.join(map(repr, unknown))}")
        wanted = set(measure)
        chosen = [c for c in columns if c in wanted or c.split(".")[0] in wanted]
    ids, names = result.ids, result.names
    n = len(ids)
    order_of: list[int] = list(range(n))
    if sort is not None:
        if sort == "id":
            keys: list[Any] = list(ids)
        elif sort == "name":
            keys = [name or "" for name in names]
        elif sort in columns:
            keys = jsonable(columns[sort])
        else:
            raise _bad_query(
                "sort", f"unknown measure {sort!r}: expected id, name or a measure column"
            )
        by_id = sorted(range(n), key=lambda i: ids[i])
        present = [i for i in by_id if keys[i] is not None]
        present.sort(key=lambda i: keys[i], reverse=order == "desc")  # stable: ties by id
        order_of = present + [i for i in by_id if keys[i] is None]
    shown = paginate(order_of, page, request)
    items = [
        ParticipantMeasures(
            id=ids[i],
            name=names[i],
            measures={c: jsonable(_item(columns[c], i)) for c in chosen},
        )
        for i in shown.items
    ]
    return Page[ParticipantMeasures](
        items=items, total=shown.total, limit=shown.limit, offset=shown.offset, next=shown.next
    )


def _item(column: Any, i: int) -> Any:
    value = column[i]
    return value.item() if isinstance(value, np.generic) else value


def _bad_query(name: str, message: str) -> ApiProblem:
    location = f"query.{name}"
    return ApiProblem(
        422,
        "Invalid request",
        f"{location}: {message}",
        "invalid-request",
        problems=[{"location": location, "message": message, "type": "value_error"}],
    )


@router.get(f"{_BASE}/analysis/findings", response_model=Page[FindingOut])
def list_findings(
    ecosystem: str,
    guard: CurrentGuard,
    settings: SettingsQuery,
    page: PageQuery,
    request: Request,
    top: Annotated[int, Query(ge=1, le=100, description="Rows per ranked table")] = 10,
    figures: Annotated[bool, Query(description="Include each section's SVG figure")] = False,
) -> Page[FindingOut]:
    """The findings, section by section, as `glia analyze --format table` prints them."""
    result = analysis_of(guard, ecosystem, settings, request)
    sections = [
        FindingOut(
            key=s.key,
            title=s.title,
            columns=[str(c) for c in s.columns],
            rows=[[str(x) for x in row] for row in s.rows],
            lines=list(s.lines),
            figure=s.figure if figures else None,
        )
        for s in findings(result, top=top)
    ]
    return paginate(sections, page, request)


@router.get(f"{_BASE}/analysis/health", response_model=AnalysisHealthOut)
def get_health(
    ecosystem: str, guard: CurrentGuard, settings: SettingsQuery, request: Request
) -> AnalysisHealthOut:
    """Health of the money flows: Ulanowicz's sustainability, keystones, dominators, niches."""
    result = analysis_of(guard, ecosystem, settings, request)
    h = result.health
    if h is None:
        return AnalysisHealthOut(
            ecosystem=result.ecosystem, available=False, notes=list(result.notes)
        )
    return AnalysisHealthOut.model_validate(
        {
            "ecosystem": result.ecosystem,
            "available": True,
            **h.to_json(),
            "keystones": h.keystones,
            "dominators": h.dominators,
            "notes": list(result.notes),
        }
    )


@router.get(f"{_BASE}/analysis/sweetspot", response_model=SweetSpotOut)
def get_sweet_spot(
    ecosystem: str,
    guard: CurrentGuard,
    settings: SettingsQuery,
    request: Request,
    participants: Annotated[bool, Query(description="Include each participant's share")] = False,
) -> SweetSpotOut:
    """The sweet spot: where formal and informal ties overlap, by cluster and year."""
    result = analysis_of(guard, ecosystem, settings, request)
    data = result.sweet_spot.to_json(participants=participants)
    return SweetSpotOut.model_validate({"ecosystem": result.ecosystem, **data})


@router.get(f"{_BASE}/analysis/whatif", response_model=WhatIfOut)
def what_if(
    ecosystem: str,
    guard: CurrentGuard,
    settings: SettingsQuery,
    request: Request,
    participant: Annotated[
        list[str] | None, Query(description="Ids of the participants who leave (repeat)")
    ] = None,
    cluster: Annotated[
        str | None, Query(max_length=200, description="A cluster whose members all leave")
    ] = None,
) -> WhatIfOut:
    """What if they left: lost connections, flows, capabilities and needs."""
    result = analysis_of(guard, ecosystem, settings, request)
    try:
        removal = remove(result.multiplex, participant, cluster=cluster, flows=result.flows)
    except AnalysisError as exc:
        raise refused(exc) from None
    return WhatIfOut.model_validate({"ecosystem": result.ecosystem, **removal.to_json()})


@router.get(
    f"{_BASE}/report",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}, "description": "The report"}},
)
def get_report(
    ecosystem: str,
    guard: CurrentGuard,
    settings: SettingsQuery,
    request: Request,
    top: Annotated[int, Query(ge=1, le=100, description="Rows per ranked table")] = 10,
) -> HTMLResponse:
    """The ecosystem report: one self-contained HTML page, as `glia analyze --format html`."""
    result = analysis_of(guard, ecosystem, settings, request)
    return HTMLResponse(html_report(result, top=top))
