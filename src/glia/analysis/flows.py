"""Value flows: money (e3value), present value, and indirect value (stakeholder loops).

Three views of what flows through an ecosystem's exchanges:

**Money flow** (:func:`money_flows`), after e3value's net value flow
(Gordijn and Akkermans; *e3value user manual*, ch. 7,
https://e3value-user-manual.thevalueengineers.nl/bookch7.html). Each exchange
whose type is ``money`` (by default) and that has a value is annualised::

    annual = value x frequency x periods_per_year(period)

with ``week`` 52, ``month`` 12, ``quarter`` 4, ``year`` 1, ``once`` 1, and no
period 1 (Glia's choice: an amount with no period is one occurrence, like
``once``, and falls in the year analysed). Only amounts in the ecosystem
currency count: exchanges in another currency are left out and counted in
:attr:`MoneyFlows.excluded_currency` (no conversion is guessed). An amount
with no currency is in the ecosystem currency (the file's ``currency`` is
the default of every amount). Amounts are carried onto participants: a role
endpoint splits the amount equally among the role's players (Glia's rule; a
role nobody plays carries nothing and the exchange is counted in
:attr:`MoneyFlows.unplayed`), so a role-to-role exchange of 600 between a
role of 2 players and one of 3 puts 100 on each of the 6 pairs. Money a
participant would pay itself (it plays both ends) is dropped.

**Net present value** (:func:`npv`, :func:`participant_npv`), as the e3value
manual's discounted net present cash flow of a time series. Its section 7.2
(https://e3value-user-manual.thevalueengineers.nl/bookse40.html) sums, over
the periods ``p = 0..m`` of a time series, revenues minus expenses minus
investments; section 7.3 discounts each period's net (its exact wording was
not retrieved here; Glia uses standard discounting, period 0 undiscounted)::

    NPV = sum_{p=0}^{N-1} net_p / (1 + rate)^p

No depreciation is added (it would count the investment twice). For a
participant, ``net_p`` is its recurring annual net flow (exchanges with a
period of a week, month, quarter or year) in every period, plus its
one-off net flow (``once`` or no period) in period 0 only: Glia's reading
of a snapshot, which has no dated time series.

**Stakeholder value network** (:func:`stakeholder_loops`), after the
stakeholder value network analysis of B. G. Cameron, W. Feng and E. F.
Crawley at MIT, as summarised in Glia's methods notes (the papers were not
re-read for this module). Flows are scored
in [0, 1]: Glia scores a flow ``(v + 5) / 10`` from its perceived value
``v`` in -5..+5, and 0.5 where none is given (Glia's operationalisation).
A value loop is a simple directed cycle through the focal node; its score
is the product of its flows' scores, and a stakeholder's importance is::

    I(i) = sum_{loops l containing i} s(l) / sum_{all loops l} s(l)

The nodes are those of the value network analysis (:mod:`glia.analysis.vna`):
roles, and participants that are themselves an endpoint of an exchange.
Loops are simple cycles of at most ``max_length`` flows (the bound is in
the result), found by a depth-first search from the focal node that only
steps to nodes from which the focal node is still reachable within the
bound; past ``max_loops`` loops the search stops with a clear
:class:`AnalysisError` rather than run away (loop counts grow exponentially
with length on dense networks). Parallel flows between two nodes make one
arc whose score is the sum of theirs: a node loop then scores the sum, over
every choice of one flow per step, of the products, so importances equal
those of enumerating flow by flow (tested against brute force).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from ..graph import exchange_pairs
from ..store import Snapshot
from ._common import AnalysisError, frame, jsonable

__all__ = [
    "PERIODS",
    "PERIODS_PER_YEAR",
    "MoneyFlows",
    "ParticipantNPV",
    "StakeholderLoops",
    "flow_scores",
    "money_flows",
    "npv",
    "participant_npv",
    "stakeholder_loops",
]

Int = npt.NDArray[np.int32]
Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

#: Period buckets of :attr:`MoneyFlows.by_period`: the snapshot's periods, then "none".
PERIODS = ("once", "week", "month", "quarter", "year", "none")
#: Occurrences per year of each period bucket (Glia counts "once" and "none" once).
PERIODS_PER_YEAR = {"once": 1.0, "week": 52.0, "month": 12.0, "quarter": 4.0, "year": 1.0}
PERIODS_PER_YEAR["none"] = 1.0
_RECURRING = np.array([p in ("week", "month", "quarter", "year") for p in PERIODS])


# -- shared helpers (used by vna, health and whatif too) ---------------------------------------
def _bucket(snapshot: Snapshot) -> npt.NDArray[np.int64]:
    """Index into :data:`PERIODS` of each exchange (``none`` for no period)."""
    code = snapshot.exchange_period.astype(np.int64)
    remap = np.array([PERIODS.index(p) for p in snapshot.exchange_periods], dtype=np.int64)
    none = PERIODS.index("none")
    return np.where(code >= 0, remap[np.clip(code, 0, None)] if len(remap) else none, none)


def _occurrences(snapshot: Snapshot) -> Float:
    """Occurrences per period of each exchange (its frequency; 1 where missing)."""
    f = np.asarray(snapshot.exchange_frequency, dtype=np.float64)
    return np.where(np.isfinite(f) & (f > 0), f, 1.0)


def _annual(snapshot: Snapshot, amounts: Float) -> Float:
    """``amounts`` (one per exchange, per occurrence) x frequency x periods per year."""
    per_year = np.array([PERIODS_PER_YEAR[p] for p in PERIODS])
    return np.asarray(amounts * _occurrences(snapshot) * per_year[_bucket(snapshot)], np.float64)


def _currency_mask(
    snapshot: Snapshot, valued: Bool, currency: str | None
) -> tuple[str | None, Bool, int]:
    """The ecosystem currency, which valued exchanges are in it, and how many are not.

    ``currency=None`` takes the ecosystem's own currency, or, when the file
    names none, the currency most valued exchanges name (ties: the first named
    in the snapshot); amounts with no currency are always in it.
    """
    codes = np.asarray(snapshot.exchange_currency)
    if currency is None:
        currency = snapshot.currency
    if currency is None:
        named = codes[valued & (codes >= 0)]
        if len(named):
            counts = np.bincount(named, minlength=len(snapshot.currencies))
            currency = snapshot.currencies[int(np.argmax(counts))]
    code = snapshot.currencies.index(currency) if currency in snapshot.currencies else -2
    same = valued & ((codes == code) | (codes < 0))
    return currency, same, int((valued & ~same).sum())


def _check_types(snapshot: Snapshot, types: Sequence[str] | None) -> Bool:
    """Exchanges whose type is one of ``types`` (all when ``None``)."""
    n = len(snapshot.exchange_source)
    if types is None:
        return np.ones(n, dtype=np.bool_)
    if isinstance(types, str):
        types = (types,)
    unknown = [t for t in types if t not in snapshot.exchange_types]
    if unknown:
        raise AnalysisError(
            f"unknown exchange type {', '.join(map(repr, unknown))}: expected some of "
            f"{', '.join(snapshot.exchange_types)}, or None for every exchange with a value"
        )
    codes = [snapshot.exchange_types.index(t) for t in types]
    return np.isin(snapshot.exchange_type, codes)


def _carry(snapshot: Snapshot, which: Bool) -> tuple[Int, Int, Int, Float]:
    """``(exchange, sender, receiver, share)`` for the participant pairs of chosen exchanges.

    Role endpoints stand for each of their players; ``share`` is the part of
    the exchange a pair carries, ``1 / (senders x receivers)``.
    """
    exch, sender, receiver = exchange_pairs(snapshot, which)
    pairs = np.bincount(exch, minlength=len(snapshot.exchange_source))
    return exch, sender, receiver, 1.0 / pairs[exch].astype(np.float64)


@dataclass(frozen=True, eq=False)
class _Nodes:
    """The value network's nodes: roles, then participants that are exchange endpoints.

    ``source[e]``/``target[e]`` is the node of each end of exchange ``e``.
    ``outside[v]``: ``v`` is a participant who plays no role (outside the
    role network).
    """

    ids: list[str]
    kinds: list[str]
    names: list[str | None]
    n_roles: int
    participant: Int
    source: Int
    target: Int
    outside: Bool

    @property
    def n(self) -> int:
        return len(self.ids)


def _nodes(snapshot: Snapshot) -> _Nodes:
    role_code = snapshot.endpoint_kinds.index("role")
    n_roles = len(snapshot.role_ids)
    sk, tk = snapshot.exchange_source_kind, snapshot.exchange_target_kind
    s, t = snapshot.exchange_source, snapshot.exchange_target
    direct = np.unique(np.concatenate([s[sk != role_code], t[tk != role_code]])).astype(np.int32)
    rank = np.full(snapshot.n_participants, -1, dtype=np.int64)
    rank[direct] = np.arange(len(direct)) + n_roles

    def node(kind: npt.NDArray[np.int8], idx: Int) -> Int:
        result = np.asarray(idx, dtype=np.int32).copy()
        direct_end = kind != role_code
        result[direct_end] = rank[idx[direct_end]]
        return result

    plays = np.zeros(snapshot.n_participants, dtype=np.bool_)
    plays[snapshot.player_participant] = True
    outside = np.concatenate([np.zeros(n_roles, np.bool_), ~plays[direct]])
    pids, pnames = snapshot.participant_ids, snapshot.participant_names
    return _Nodes(
        ids=list(snapshot.role_ids) + [pids[i] for i in direct.tolist()],
        kinds=["role"] * n_roles + ["participant"] * len(direct),
        names=list(snapshot.role_names) + [pnames[i] for i in direct.tolist()],
        n_roles=n_roles,
        participant=direct,
        source=node(sk, s),
        target=node(tk, t),
        outside=outside,
    )


# -- money flow ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MoneyFlows:
    """Annualised money between participants, in one currency.

    ``exchange``/``annual``: the exchanges counted and their annualised
    amounts. ``money_in``, ``money_out``, ``net`` (in minus out): per
    participant, per year. ``by_period[i, b]``: participant ``i``'s net flow
    from exchanges of period bucket ``buckets[b]``, per that period (value x
    frequency, not annualised: a weekly bucket is per week). ``matrix[i, j]``:
    annual money from ``i`` to ``j`` (``scipy.sparse.csr_array``, no
    diagonal). ``npv``: each participant's net present value over
    ``periods`` years at ``rate`` (see :func:`participant_npv`).
    """

    currency: str | None
    types: tuple[str, ...] | None
    participant_ids: list[str]
    exchange: Int
    annual: Float
    excluded_currency: int
    unplayed: int
    money_in: Float
    money_out: Float
    net: Float
    by_period: Float
    matrix: sp.csr_array
    rate: float
    periods: int
    npv: Float
    buckets: tuple[str, ...] = PERIODS

    @property
    def tst(self) -> float:
        """Total money flowing between participants per year."""
        return float(self.matrix.sum())

    @property
    def one_off(self) -> Float:
        """Net of one-off flows (``once`` and no period) per participant."""
        return _one_off(self.by_period)

    @property
    def recurring(self) -> Float:
        """Annual net of recurring flows (week, month, quarter, year) per participant."""
        return _recurring(self.by_period)

    def columns(self) -> dict[str, Float]:
        """Per-participant columns: ``money_in``, ``money_out``, ``money_net``, ``money_npv``."""
        return {
            "money_in": self.money_in,
            "money_out": self.money_out,
            "money_net": self.net,
            "money_npv": self.npv,
        }

    def to_pandas(self) -> Any:
        """One row per participant: the :meth:`columns`, then the net per period bucket."""
        cols: dict[str, Any] = dict(self.columns())
        for b, p in enumerate(self.buckets):
            cols[f"net_per_{p}" if p not in ("once", "none") else f"net_{p}"] = self.by_period[:, b]
        return frame(cols, self.participant_ids, "participant")

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = jsonable(
            {
                "currency": self.currency,
                "types": list(self.types) if self.types is not None else None,
                "exchanges": len(self.exchange),
                "excluded_currency": self.excluded_currency,
                "unplayed": self.unplayed,
                "tst": self.tst,
                "rate": self.rate,
                "periods": self.periods,
                "participants": {
                    pid: {
                        "in": self.money_in[i],
                        "out": self.money_out[i],
                        "net": self.net[i],
                        "npv": self.npv[i],
                    }
                    for i, pid in enumerate(self.participant_ids)
                    if self.money_in[i] or self.money_out[i]
                },
            }
        )
        return result


def _one_off(by_period: Float) -> Float:
    return np.asarray(by_period[:, ~_RECURRING].sum(axis=1), dtype=np.float64)


def _recurring(by_period: Float) -> Float:
    per_year = np.array(
        [PERIODS_PER_YEAR[p] if r else 0.0 for p, r in zip(PERIODS, _RECURRING, strict=True)]
    )
    return np.asarray(by_period @ per_year, dtype=np.float64)


def money_flows(
    snapshot: Snapshot,
    *,
    currency: str | None = None,
    types: Sequence[str] | None = ("money",),
    rate: float = 0.0,
    periods: int = 1,
) -> MoneyFlows:
    """Annualised money flows between participants (see the module's notes).

    Parameters
    ----------
    snapshot
        The ecosystem.
    currency
        The ecosystem currency; ``None`` takes the one most valued exchanges
        name. Amounts in any other currency are left out and counted.
    types
        Exchange types that carry money: ``("money",)`` by default; ``None``
        counts every exchange that has a value (for maps that value
        deliverables but record no payments).
    rate, periods
        Discount rate per year and number of years of :attr:`MoneyFlows.npv`
        (by default one undiscounted year: the NPV is the annual net flow).

    Returns
    -------
    MoneyFlows
        Empty (all zeros) when no exchange carries money: a defined result.

    Examples
    --------
    >>> import glia
    >>> from glia.store import snapshot_of
    >>> flows = money_flows(snapshot_of(glia.read("examples/northbridge.yaml")))
    >>> flows.currency, round(flows.tst)
    ('EUR', 1977586)
    """
    annuity = _annuity(periods, rate)
    n = snapshot.n_participants
    value = np.asarray(snapshot.exchange_value, dtype=np.float64)
    valued = np.isfinite(value) & _check_types(snapshot, types)
    currency, counted, excluded = _currency_mask(snapshot, valued, currency)
    annual_all = _annual(snapshot, np.where(counted, value, 0.0))
    exch, sender, receiver, share = _carry(snapshot, counted)
    placed = np.zeros(len(value), dtype=np.bool_)
    placed[exch] = True
    unplayed = int((counted & ~placed).sum())
    keep = sender != receiver
    exch, sender, receiver, share = exch[keep], sender[keep], receiver[keep], share[keep]
    amount = annual_all[exch] * share
    matrix = sp.csr_array((amount, (sender, receiver)), shape=(n, n))
    matrix.sum_duplicates()
    money_in = np.bincount(receiver, weights=amount, minlength=n).astype(np.float64)
    money_out = np.bincount(sender, weights=amount, minlength=n).astype(np.float64)
    per_period = (np.where(counted, value, 0.0) * _occurrences(snapshot))[exch] * share
    bucket = _bucket(snapshot)[exch]
    nb = len(PERIODS)
    into = np.bincount(
        receiver.astype(np.int64) * nb + bucket, weights=per_period, minlength=n * nb
    )
    out = np.bincount(sender.astype(np.int64) * nb + bucket, weights=per_period, minlength=n * nb)
    by_period = np.asarray(into - out, dtype=np.float64).reshape(n, nb)
    idx = np.flatnonzero(counted).astype(np.int32)
    return MoneyFlows(
        currency=currency,
        types=None if types is None else ((types,) if isinstance(types, str) else tuple(types)),
        participant_ids=snapshot.participant_ids,
        exchange=idx,
        annual=annual_all[idx],
        excluded_currency=excluded,
        unplayed=unplayed,
        money_in=money_in,
        money_out=money_out,
        net=money_in - money_out,
        by_period=by_period,
        matrix=matrix,
        rate=float(rate),
        periods=int(periods),
        npv=_one_off(by_period) + _recurring(by_period) * annuity,
    )


# -- net present value ----------------------------------------------------------------------
def npv(cash_flows: npt.ArrayLike, rate: float) -> Any:
    """Net present value of cash flows ``cf_0 .. cf_{N-1}`` at ``rate`` per period.

    ``NPV = sum_{p=0}^{N-1} cf_p / (1 + rate)^p``: period 0 is not discounted
    (e3value user manual, ch. 7, discounted net present cash flow). Along the
    last axis: a 2-D array gives one NPV per row.

    >>> round(npv([-1000, 500, 500, 500], 0.0), 2)
    500.0
    >>> round(npv([-1000, 400, 400, 400], 0.1), 2)
    -5.26
    """
    if not math.isfinite(rate) or rate <= -1:
        raise AnalysisError(f"discount rate must be a number above -1 (e.g. 0.05), not {rate}")
    cf = np.asarray(cash_flows, dtype=np.float64)
    if cf.ndim == 0:
        cf = cf.reshape(1)
    factor = (1.0 + rate) ** -np.arange(cf.shape[-1], dtype=np.float64)
    result = cf @ factor
    return float(result) if np.ndim(result) == 0 else result


@dataclass(frozen=True, eq=False)
class ParticipantNPV:
    """Per participant: one-off and recurring net flow, and their NPV over ``periods`` years."""

    participant_ids: list[str]
    one_off: Float
    recurring: Float
    npv: Float
    periods: int
    rate: float
    currency: str | None

    def to_pandas(self) -> Any:
        return frame(
            {"one_off": self.one_off, "recurring": self.recurring, "npv": self.npv},
            self.participant_ids,
            "participant",
        )

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = jsonable(
            {
                "periods": self.periods,
                "rate": self.rate,
                "currency": self.currency,
                "npv": {
                    pid: self.npv[i]
                    for i, pid in enumerate(self.participant_ids)
                    if self.one_off[i] or self.recurring[i]
                },
            }
        )
        return result


def _annuity(periods: int, rate: float) -> float:
    """``sum_{p=0}^{periods-1} (1 + rate)^-p``, after checking both."""
    if isinstance(periods, bool) or not isinstance(periods, int | np.integer) or periods < 1:
        raise AnalysisError(f"periods must be a whole number of years, at least 1, not {periods}")
    return float(npv(np.ones(int(periods)), rate))


def participant_npv(flows: MoneyFlows, periods: int, rate: float) -> ParticipantNPV:
    """Each participant's NPV over ``periods`` years of its net money flow at ``rate``.

    Period ``p`` carries the recurring annual net flow, and period 0 also the
    one-off net flow (see the module's notes)::

        NPV_i = one_off_i + recurring_i x sum_{p=0}^{periods-1} (1 + rate)^-p
    """
    annuity = _annuity(periods, rate)
    one_off, recurring = flows.one_off, flows.recurring
    return ParticipantNPV(
        participant_ids=flows.participant_ids,
        one_off=one_off,
        recurring=recurring,
        npv=one_off + recurring * annuity,
        periods=int(periods),
        rate=float(rate),
        currency=flows.currency,
    )


# -- stakeholder value network ------------------------------------------------------------------
def flow_scores(snapshot: Snapshot) -> Float:
    """Score in [0, 1] of each exchange: ``(perceived + 5) / 10``, 0.5 where none is given."""
    pv = np.asarray(snapshot.exchange_perceived_value, dtype=np.float64)
    return np.where(np.isfinite(pv), (np.clip(pv, -5, 5) + 5.0) / 10.0, 0.5)


@dataclass(frozen=True, eq=False)
class StakeholderLoops:
    """Value loops through a focal node, and each node's importance.

    ``loops[k]`` is a tuple of node numbers starting at the focal node (the
    loop returns to it); ``scores[k]`` its score; ``flow_loops[k]`` how many
    loops of single flows it stands for. Parallel flows between two nodes
    are one arc whose score is the sum of theirs: a node loop's score is
    then the sum of the products over every choice of one flow per step, so
    importances equal those of enumerating the flows one by one.
    """

    node_ids: list[str]
    node_kinds: list[str]
    focal: int
    max_length: int
    loops: list[tuple[int, ...]]
    scores: Float
    flow_loops: npt.NDArray[np.int64]
    importance: Float
    loop_count: npt.NDArray[np.int64]

    @property
    def total(self) -> float:
        return float(self.scores.sum())

    def loop_names(self) -> list[list[str]]:
        return [[self.node_ids[v] for v in loop] for loop in self.loops]

    def to_pandas(self) -> Any:
        """Importance of each node (the focal node's is 1)."""
        return frame(
            {"kind": self.node_kinds, "importance": self.importance, "loops": self.loop_count},
            self.node_ids,
            "node",
        )

    def loops_frame(self) -> Any:
        return frame(
            {
                "loop": [" -> ".join([*names, names[0]]) for names in self.loop_names()],
                "length": [len(loop) for loop in self.loops],
                "score": self.scores,
                "flow_loops": self.flow_loops,
            }
        )

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = jsonable(
            {
                "focal": self.node_ids[self.focal],
                "max_length": self.max_length,
                "total": self.total,
                "loops": [
                    {"nodes": names, "score": s}
                    for names, s in zip(self.loop_names(), self.scores, strict=True)
                ],
                "importance": {
                    self.node_ids[i]: float(v) for i, v in enumerate(self.importance) if v > 0
                },
            }
        )
        return result


def _simple_loops(
    indptr: npt.NDArray[np.int64],
    indices: Int,
    weight: Float,
    multiplicity: npt.NDArray[np.int64],
    focal: int,
    max_length: int,
    max_loops: int,
    back: npt.NDArray[np.int64],
) -> tuple[list[tuple[int, ...]], list[float], list[int]]:
    """Simple directed cycles through ``focal`` of at most ``max_length`` arcs.

    Depth-first from ``focal`` over CSR arcs; a path is extended only to a
    node ``w`` from which ``focal`` can still be reached within the bound
    (``back[w]``: fewest arcs from ``w`` back to ``focal``), so the search
    stays near the loops it can find. Each loop is found once, as the
    rotation that starts at ``focal``. Returns ``(loops, scores, flow
    loops)``: scores and parallel-flow counts are products along the loop.
    """
    loops: list[tuple[int, ...]] = []
    scores: list[float] = []
    counts: list[int] = []
    path = [focal]
    on_path = {focal}
    score = [1.0]
    count = [1]
    stack = [(focal, int(indptr[focal]))]  # (node, next arc position)
    budget = 50 * max_loops + 1_000_000  # arcs looked at, a bound on the time taken
    while stack:
        budget -= 1
        if budget < 0:
            raise AnalysisError(
                f"the search for value loops of at most {max_length} flows through this node "
                "grew too large: lower max_length"
            )
        v, pos = stack[-1]
        if pos >= indptr[v + 1]:
            stack.pop()
            if len(path) > 1:
                on_path.discard(path.pop())
                score.pop()
                count.pop()
            continue
        stack[-1] = (v, pos + 1)
        w = int(indices[pos])
        if w == focal:
            loops.append(tuple(path))
            scores.append(score[-1] * float(weight[pos]))
            counts.append(count[-1] * int(multiplicity[pos]))
            if len(loops) > max_loops:
                raise AnalysisError(
                    f"more than {max_loops} value loops of at most {max_length} flows through "
                    f"this node: lower max_length or raise max_loops"
                )
            continue
        if w in on_path or len(path) + back[w] > max_length:
            continue
        path.append(w)
        on_path.add(w)
        score.append(score[-1] * float(weight[pos]))
        count.append(count[-1] * int(multiplicity[pos]))
        stack.append((w, int(indptr[w])))
    return loops, scores, counts


def stakeholder_loops(
    snapshot: Snapshot,
    focal: str,
    *,
    max_length: int = 5,
    max_loops: int = 100_000,
) -> StakeholderLoops:
    """Value loops through ``focal`` and each stakeholder's importance (Cameron, Feng, Crawley).

    Parameters
    ----------
    snapshot
        The ecosystem.
    focal
        A role id, or the id of a participant that is itself an endpoint of
        an exchange.
    max_length
        The longest loop counted, in flows (2: direct give and take).
    max_loops
        Refuse (``AnalysisError``) rather than enumerate more loops than this.

    Returns
    -------
    StakeholderLoops
        With no loop through ``focal``: no loops, importance all 0.
    """
    if not isinstance(max_loops, int | np.integer) or max_loops < 1:
        raise AnalysisError(f"max_loops must be a whole number, at least 1, not {max_loops}")
    if not isinstance(max_length, int | np.integer) or max_length < 2:
        raise AnalysisError(
            f"max_length must be a whole number of flows, at least 2, not {max_length}"
        )
    nodes = _nodes(snapshot)
    index = {v: i for i, v in enumerate(nodes.ids)}
    if focal not in index:
        if focal in snapshot.participant_ids:
            p = snapshot.participant_ids.index(focal)
            roles = [
                snapshot.role_ids[r] for r in snapshot.player_role[snapshot.player_participant == p]
            ]
            hint = (
                f"it exchanges only through its roles ({', '.join(roles)}): choose one of them"
                if roles
                else "it takes part in no exchange"
            )
            raise AnalysisError(f"participant {focal!r} is not a node of the value network: {hint}")
        raise AnalysisError(
            f"unknown focal node {focal!r}: expected a role id or the id of a participant "
            "that is an endpoint of an exchange"
        )
    f = index[focal]
    n = nodes.n
    scores_e = flow_scores(snapshot)
    # one arc per ordered pair: scores summed, flows counted (explicit, zeros kept)
    key = nodes.source.astype(np.int64) * n + nodes.target
    pairs, inverse = np.unique(key, return_inverse=True)
    arc_score = np.bincount(inverse, weights=scores_e, minlength=len(pairs)).astype(np.float64)
    arc_flows = np.bincount(inverse, minlength=len(pairs)).astype(np.int64)
    tail = (pairs // n).astype(np.int64)  # sorted: the arcs come in CSR order
    head = (pairs % n).astype(np.int32)
    indptr = np.searchsorted(tail, np.arange(n + 1)).astype(np.int64)
    reverse = sp.csr_array((np.ones(len(pairs)), (head, tail)), shape=(n, n))
    back_f = shortest_path(reverse, unweighted=True, indices=[f])[0]
    back = np.where(np.isfinite(back_f), back_f, n + max_length + 1).astype(np.int64)
    loops, scores, counts = _simple_loops(
        indptr, head, arc_score, arc_flows, f, int(max_length), int(max_loops), back
    )
    order = sorted(range(len(loops)), key=lambda k: (-scores[k], len(loops[k]), loops[k]))
    loops = [loops[k] for k in order]
    score_arr = np.array([scores[k] for k in order], dtype=np.float64)
    flow_arr = np.array([counts[k] for k in order], dtype=np.int64)
    importance = np.zeros(n, dtype=np.float64)
    loop_count = np.zeros(n, dtype=np.int64)
    if loops:
        members = np.concatenate([np.asarray(loop, dtype=np.int64) for loop in loops])
        which = np.repeat(np.arange(len(loops)), [len(loop) for loop in loops])
        weights = np.bincount(members, weights=score_arr[which], minlength=n)
        total = float(score_arr.sum())
        importance = np.asarray(weights / total if total > 0 else weights, dtype=np.float64)
        loop_count = np.bincount(members, minlength=n).astype(np.int64)
    return StakeholderLoops(
        node_ids=nodes.ids,
        node_kinds=nodes.kinds,
        focal=f,
        max_length=int(max_length),
        loops=loops,
        scores=score_arr,
        flow_loops=flow_arr,
        importance=importance,
        loop_count=loop_count,
    )
