"""Ecosystem health: sustainability of the money flows (Ulanowicz) and keystones (Iansiti, Levien).

**Sustainability** (:func:`ulanowicz`), after Ulanowicz, Goerner, Lietaer and
Gomez (2009), "Quantifying sustainability: resilience, efficiency and the
return of information theory", *Ecological Complexity* 6:27-36. On a flow
matrix ``T`` (``T[i, j]``: flow from ``i`` to ``j``, non-negative), with
``T_i. = sum_j T_ij`` and ``T_.j = sum_i T_ij``::

    TST   = sum_ij T_ij                                   total system throughput
    C     = -sum_ij T_ij log(T_ij / TST)                   development capacity
    A     =  sum_ij T_ij log(T_ij TST / (T_i. T_.j))       ascendency
    Phi   = C - A                                          overhead (reserve)
    alpha = A / C                                          degree of order
    R     = -alpha log(alpha)                              robustness

sums over the flows ``T_ij > 0``. Logarithms are natural: ``C``, ``A`` and
``Phi`` are in currency-nats per year (the flows are annual money), ``alpha``
has no unit and does not depend on the base, and ``R`` peaks at
``alpha = 1/e`` (R = 1/e there). The paper also discusses a generalised
form of the curve (an exponent fitted to ecosystem data); Glia reports the
plain ``-alpha log alpha``. Too little ``alpha`` is stagnation by redundancy,
too much brittleness by efficiency (the paper's "window of vitality"). The
snapshot has no flows from or to outside the ecosystem (imports, exports,
dissipation), so ``T`` holds the internal flows only. The formulas are
those of Glia's methods notes (recalled from the paper; only its abstract
was read here): the hand-worked test checks the arithmetic, not the source.

**Keystones and dominators** (:func:`health`), after Iansiti and
Levien, *The Keystone Advantage* (2004): health is productivity, robustness
and niche creation; keystones and dominators both sit at hubs, dominators
take value from the network, keystones create and share it; niche players
are the bulk of it. Glia's operationalisation (its own, not the book's):

- **hubs**: the ``hubs`` participants with the most distinct exchange
  partners (the exchange layer's degree, either direction); ties by
  participant order; participants with no exchange are never hubs.
- **value captured**: the share of the money flow a participant receives,
  ``money_in / TST``.
- **value created for others**: the mean of two shares, the money it pays
  ``money_out / TST`` and the perceived value of the deliverables it
  sends, ``pv_out / sum pv_out`` (perceived value -5..+5, negative ratings
  counted as 0, roles split equally among their players as money is). With
  no perceived value anywhere, the money share alone.
- a hub is a **keystone** when created >= captured, a **dominator**
  otherwise; a participant that is not a hub and takes part in an exchange
  is a **niche** player.
- **niche count**: the number of distinct capabilities held at level
  ``niche_level`` (3) or above by at least one participant who is not a
  hub: the specialised niches the bulk of the network fills.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from ..graph import Multiplex
from ._common import AnalysisError, frame, jsonable
from .flows import MoneyFlows, _carry, money_flows

__all__ = ["Health", "Sustainability", "health", "ulanowicz"]

Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

#: Where ``-alpha log alpha`` peaks.
ALPHA_OPTIMUM = 1.0 / math.e


@dataclass(frozen=True, eq=False)
class Sustainability:
    """Ulanowicz's measures of one flow matrix (see the module's formulas).

    ``alpha`` and ``robustness`` are NaN when ``capacity`` is 0 (a single
    flow: nothing to divide).
    """

    tst: float
    capacity: float
    ascendency: float
    overhead: float
    alpha: float
    robustness: float
    n_nodes: int
    n_flows: int
    log_base: str = "e"
    units: str = "flow x nats"

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = jsonable(
            {
                "tst": self.tst,
                "capacity": self.capacity,
                "ascendency": self.ascendency,
                "overhead": self.overhead,
                "alpha": self.alpha,
                "robustness": self.robustness,
                "alpha_optimum": ALPHA_OPTIMUM,
                "n_nodes": self.n_nodes,
                "n_flows": self.n_flows,
                "log_base": self.log_base,
                "units": self.units,
            }
        )
        return result


def ulanowicz(
    matrix: npt.ArrayLike | sp.sparray | sp.spmatrix, units: str = "flow"
) -> Sustainability:
    """TST, capacity, ascendency, overhead, alpha and robustness of a flow matrix.

    ``matrix`` is square, dense or SciPy sparse, non-negative. No flow at
    all is an :class:`AnalysisError`.

    >>> s = ulanowicz([[0, 2], [2, 0]])
    >>> round(s.capacity, 4), round(s.ascendency, 4), s.alpha
    (2.7726, 2.7726, 1.0)
    """
    if sp.issparse(matrix):
        m = sp.coo_array(matrix)
        m.sum_duplicates()
        shape = m.shape
        rows, cols, t = m.row, m.col, np.asarray(m.data, dtype=np.float64)
    else:
        dense = np.asarray(matrix, dtype=np.float64)
        if dense.ndim != 2:
            raise AnalysisError(f"a flow matrix has two dimensions, not {dense.ndim}")
        shape = dense.shape
        rows, cols = np.nonzero(dense)
        t = dense[rows, cols]
    if shape[0] != shape[1]:
        raise AnalysisError(f"a flow matrix is square (node x node), not {shape[0]} x {shape[1]}")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise AnalysisError("flows must be finite and non-negative")
    keep = t > 0
    rows, cols, t = rows[keep], cols[keep], t[keep]
    tst = float(t.sum())
    if tst <= 0:
        raise AnalysisError(
            "no flows: sustainability needs at least one positive flow (for money, exchanges "
            "with a value in the ecosystem currency)"
        )
    n = int(shape[0])
    out = np.bincount(rows, weights=t, minlength=n)
    into = np.bincount(cols, weights=t, minlength=n)
    capacity = float(-(t * np.log(t / tst)).sum())
    ascendency = float((t * np.log(t * tst / (out[rows] * into[cols]))).sum())
    capacity, ascendency = max(capacity, 0.0), max(ascendency, 0.0)  # rounding below 0
    if capacity > 0:
        alpha = min(ascendency / capacity, 1.0)
        robustness = -alpha * math.log(alpha) if alpha > 0 else 0.0
    else:
        alpha = robustness = float("nan")
    return Sustainability(
        tst=tst,
        capacity=capacity,
        ascendency=ascendency,
        overhead=capacity - ascendency,
        alpha=alpha,
        robustness=robustness,
        n_nodes=int(np.count_nonzero(out + into)),
        n_flows=len(t),
        units=f"{units} x nats",
    )


@dataclass(frozen=True, eq=False)
class Health:
    """Sustainability of the money flows, and each participant's place (see the module).

    Per participant: ``degree`` (distinct exchange partners), ``captured``,
    ``created_money``, ``created_perceived``, ``created``, ``hub``, and
    ``kind``: ``keystone``, ``dominator``, ``niche`` or ``""`` (no exchange).
    """

    participant_ids: list[str]
    currency: str | None
    sustainability: Sustainability
    degree: npt.NDArray[np.int32]
    money_in: Float
    money_out: Float
    captured: Float
    created_money: Float
    created_perceived: Float
    created: Float
    hub: Bool
    kind: list[str]
    niches: list[str]
    niche_level: int

    @property
    def niche_count(self) -> int:
        return len(self.niches)

    @property
    def keystones(self) -> list[str]:
        return [p for p, k in zip(self.participant_ids, self.kind, strict=True) if k == "keystone"]

    @property
    def dominators(self) -> list[str]:
        return [p for p, k in zip(self.participant_ids, self.kind, strict=True) if k == "dominator"]

    def to_pandas(self) -> Any:
        return frame(
            {
                "degree": self.degree,
                "money_in": self.money_in,
                "money_out": self.money_out,
                "captured": self.captured,
                "created_money": self.created_money,
                "created_perceived": self.created_perceived,
                "created": self.created,
                "hub": self.hub,
                "kind": self.kind,
            },
            self.participant_ids,
            "participant",
        )

    def to_json(self) -> dict[str, Any]:
        hubs = np.flatnonzero(self.hub).tolist()
        result: dict[str, Any] = jsonable(
            {
                "currency": self.currency,
                "sustainability": self.sustainability.to_json(),
                "hubs": [
                    {
                        "participant": self.participant_ids[i],
                        "kind": self.kind[i],
                        "degree": self.degree[i],
                        "captured": self.captured[i],
                        "created": self.created[i],
                    }
                    for i in hubs
                ],
                "niche_level": self.niche_level,
                "niche_count": self.niche_count,
                "niches": self.niches,
            }
        )
        return result


def _perceived_out(multiplex: Multiplex) -> Float:
    """Positive perceived value of the deliverables each participant sends (roles split)."""
    s = multiplex.snapshot
    pv = np.asarray(s.exchange_perceived_value, dtype=np.float64)
    rated = np.isfinite(pv) & (pv > 0)
    exch, sender, receiver, share = _carry(s, rated)
    # a pair carries share = 1/(senders x receivers); a sender's part is 1/senders
    keep = sender != receiver
    return np.bincount(
        sender[keep], weights=pv[exch[keep]] * share[keep], minlength=multiplex.n
    ).astype(np.float64)


def health(
    multiplex: Multiplex,
    flows: MoneyFlows | None = None,
    *,
    currency: str | None = None,
    hubs: int = 10,
    niche_level: int = 3,
) -> Health:
    """Ulanowicz's sustainability of the money flows, keystones, dominators and niches.

    Parameters
    ----------
    multiplex
        The ecosystem's layers (the exchange layer gives the hubs).
    flows
        Money flows already computed (else :func:`~glia.analysis.flows.money_flows`
        with ``currency``).
    hubs
        How many participants count as hubs.
    niche_level
        The capability level (1-5) a niche needs.

    Examples
    --------
    >>> import glia
    >>> from glia.graph import build
    >>> from glia.store import snapshot_of
    >>> h = health(build(snapshot_of(glia.read("examples/northbridge.yaml"))), hubs=3)
    >>> 0 < h.sustainability.alpha < 1
    True
    """
    if not isinstance(hubs, int | np.integer) or hubs < 0:
        raise AnalysisError(f"hubs must be a whole number, 0 or more, not {hubs}")
    if not isinstance(niche_level, int | np.integer) or not 1 <= niche_level <= 5:
        raise AnalysisError(f"niche_level must be a capability level 1-5, not {niche_level}")
    s = multiplex.snapshot
    if flows is None:
        flows = money_flows(s, currency=currency)
    if flows.tst <= 0:
        named = f" in {flows.currency}" if flows.currency else ""
        raise AnalysisError(
            f"no money flows{named}: ecosystem health needs exchanges of type money with a "
            "value between participants (or roles that someone plays)"
        )
    sustainability = ulanowicz(flows.matrix, units=flows.currency or "money")
    n = multiplex.n
    tst = flows.tst
    degree = multiplex.exchange.degree
    ranked = np.lexsort((np.arange(n), -degree.astype(np.int64)))
    ranked = ranked[degree[ranked] > 0][: int(hubs)]
    is_hub = np.zeros(n, dtype=np.bool_)
    is_hub[ranked] = True
    captured = flows.money_in / tst
    created_money = flows.money_out / tst
    pv_out = _perceived_out(multiplex)
    total_pv = float(pv_out.sum())
    if total_pv > 0:
        created_perceived = pv_out / total_pv
        created = 0.5 * (created_money + created_perceived)
    else:
        created_perceived = np.zeros(n, dtype=np.float64)
        created = created_money
    kind = np.where(
        is_hub,
        np.where(created >= captured, "keystone", "dominator"),
        np.where(degree > 0, "niche", ""),
    )
    holder = s.holder_participant
    niche = (~is_hub[holder]) & (s.holder_level >= niche_level) if len(holder) else holder > 0
    niches = sorted(s.capabilities[c] for c in np.unique(s.holder_capability[niche]).tolist())
    return Health(
        participant_ids=s.participant_ids,
        currency=flows.currency,
        sustainability=sustainability,
        degree=degree,
        money_in=flows.money_in,
        money_out=flows.money_out,
        captured=captured,
        created_money=created_money,
        created_perceived=created_perceived,
        created=created,
        hub=is_hub,
        kind=kind.tolist(),
        niches=niches,
        niche_level=int(niche_level),
    )
