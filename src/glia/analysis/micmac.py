"""MICMAC: who drives the system and who depends on it, directly and indirectly.

Structural analysis after Godet (Arcade, Godet, Meunier and Roubelat,
"Structural analysis with the MICMAC method and actors' strategy with MACTOR
method", in Glenn and Gordon (eds.), *Futures Research Methodology* v3.0,
AC/UNU Millennium Project, 2009), on the layer's **arcs**: ``M[i, j]`` is
the summed weight of the arcs ``i -> j`` (how strongly ``i`` acts on ``j``).

Direct classification
    ``influence`` (Godet's motricity, "driving power") is the row sum of
    ``M``, ``exposure`` (dependence) the column sum.
Indirect classification
    Godet raises the matrix to successive powers: the row and column sums of
    ``M^k`` weigh every walk of length ``k``, so influence that travels
    through intermediaries counts. Glia computes ``M^k 1`` and
    ``(M^T)^k 1`` by sparse matrix-vector products only (never a dense
    ``n x n`` matrix), rescaling the vector to sum 1 after each product so
    nothing overflows, and stops at the first power whose rankings of both
    influence and exposure equal those of the power before ("the hierarchy
    stabilises", which Godet reports after about seven or eight powers), or
    at ``steps``. The indirect values are reported rescaled to the direct
    total, so both classifications share one scale.

    Why powers and not the reachability matrix of ISM-MICMAC (row and column
    sums of the transitive closure, which ``docs/methods`` first listed):
    in a network with a large strongly connected core every node of the
    core reaches, and is reached by, the same set, so reachability ranks
    them all alike; it also needs the closure, O(n m) in general. Powers
    separate the core by how much flows through each node and cost one
    sparse product per step.

    How the ranks stabilise: when ``M`` is irreducible and aperiodic the
    normalised ``M^k 1`` converges to the Perron vector of ``M`` (and
    ``(M^T)^k 1`` to the left one), at the rate ``|lambda_2 / lambda_1|^k``,
    so the ranking settles once that rate has separated the values. A
    periodic structure (say a two-sided market, where walks alternate
    between sides) makes the ranks oscillate: then ``stable`` is false and
    the classification is the one at ``steps``. Nodes that reach no cycle
    have no walks of length beyond their longest chain, so their indirect
    influence is 0. An acyclic layer has no walks past its longest chain:
    the iteration stops at the last power with any walk (``acyclic``), so
    the indirect classification describes the heads and tails of the
    longest chains.

Quadrants
    split at the medians of the values (a value strictly above the median is
    "high"): ``autonomous`` (low influence, low exposure), ``dependent``
    (low influence, high exposure), ``linkage`` (high, high; Godet's relay
    variables, unstable: whatever acts on them comes back), ``driver``
    (high influence, low exposure; Godet's "influent" or independent
    variables). With many zeros the median is 0 and any influence is high.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from ..graph import Layer
from ._common import AnalysisError, frame, jsonable

__all__ = ["QUADRANTS", "Micmac", "micmac"]

Float = npt.NDArray[np.float64]
Str = npt.NDArray[np.str_]

#: Quadrant names, by (high influence, high exposure).
QUADRANTS = {
    (False, False): "autonomous",
    (False, True): "dependent",
    (True, True): "linkage",
    (True, False): "driver",
}


@dataclass(frozen=True, eq=False)
class Micmac:
    """Direct and indirect influence and exposure of each node, and its quadrant."""

    layer: str
    n: int
    #: Row sums of the arc matrix (driving power).
    influence: Float
    #: Column sums of the arc matrix (dependence).
    exposure: Float
    #: Row sums of ``M^power``, rescaled to the direct total.
    indirect_influence: Float
    #: Column sums of ``M^power``, rescaled to the direct total.
    indirect_exposure: Float
    #: Quadrant of the indirect classification.
    quadrant: Str
    #: Quadrant of the direct classification.
    direct_quadrant: Str
    #: Power of ``M`` the indirect classification uses.
    power: int
    #: Largest power allowed.
    steps: int
    #: Whether the rankings were unchanged from ``power - 1`` to ``power``.
    stable: bool
    #: Whether walks died out before ``steps`` (no cycle reachable).
    acyclic: bool
    medians: dict[str, float]

    def columns(self) -> dict[str, Any]:
        """Per-node columns by name."""
        return {
            "influence": self.influence,
            "exposure": self.exposure,
            "indirect_influence": self.indirect_influence,
            "indirect_exposure": self.indirect_exposure,
            "quadrant": self.quadrant,
            "direct_quadrant": self.direct_quadrant,
        }

    def summary(self) -> dict[str, Any]:
        """How the classification was made and how many nodes fall in each quadrant."""
        counts = {q: int((self.quadrant == q).sum()) for q in QUADRANTS.values()}
        direct = {q: int((self.direct_quadrant == q).sum()) for q in QUADRANTS.values()}
        result: dict[str, Any] = jsonable(
            {
                "layer": self.layer,
                "n": self.n,
                "power": self.power,
                "steps": self.steps,
                "stable": self.stable,
                "acyclic": self.acyclic,
                "medians": self.medians,
                "quadrants": counts,
                "direct_quadrants": direct,
            }
        )
        return result

    def to_pandas(self, ids: Sequence[str] | None = None) -> Any:
        """One row per node (index: ``ids`` when given): the :meth:`columns`."""
        return frame(self.columns(), ids)

    def to_json(self) -> dict[str, Any]:
        """:meth:`summary`, and ``measures``: column name -> list."""
        return {**self.summary(), "measures": jsonable(self.columns())}


def _ranking(x: Float) -> npt.NDArray[np.float64]:
    top = float(x.max()) if len(x) else 0.0
    scaled = np.round(x / top, 12) if top > 0 else x
    # scipy.stats.rankdata(-scaled, method="min"), without importing scipy.stats (1.3 s)
    values = -scaled
    return (np.searchsorted(np.sort(values), values, side="left") + 1).astype(np.float64)


def _quadrants(influence: Float, exposure: Float) -> tuple[Str, float, float]:
    if len(influence) == 0:
        return np.zeros(0, dtype="<U10"), 0.0, 0.0
    mi, me = float(np.median(influence)), float(np.median(exposure))
    high_i, high_e = influence > mi, exposure > me
    names = np.empty(len(influence), dtype="<U10")
    for (hi, he), name in QUADRANTS.items():
        names[(high_i == hi) & (high_e == he)] = name
    return names, mi, me


def micmac(layer: Layer, *, steps: int = 8) -> Micmac:
    """MICMAC of ``layer``'s arcs: influence and exposure, direct and by powers of ``M``.

    ``steps`` is the largest power (Godet's classification usually settles by
    7 or 8); the iteration stops earlier once the rankings repeat. See the
    module docstring for the rule and its reasons.
    """
    if steps < 1:
        raise AnalysisError(f"steps must be 1 or more (got {steps})")
    w = layer.weight
    if len(w) and not (np.all(np.isfinite(w)) and w.min() >= 0):
        raise AnalysisError(
            f"layer {layer.name!r} has a negative or non-finite arc weight: "
            "MICMAC needs influence intensities of 0 or more"
        )
    n = layer.n
    m = sp.csr_array((w, (layer.source, layer.target)), shape=(n, n))
    mt = m.T.tocsr()
    influence = np.bincount(layer.source, weights=w, minlength=n).astype(np.float64)
    exposure = np.bincount(layer.target, weights=w, minlength=n).astype(np.float64)
    total = float(influence.sum())
    x, y = influence.copy(), exposure.copy()
    power, stable, acyclic = 1, False, total == 0
    if total > 0:
        x /= total
        y /= total
        rank_x, rank_y = _ranking(x), _ranking(y)
        while power < steps:
            nx_, ny_ = m @ x, mt @ y
            walks = float(nx_.sum())
            if walks <= 0 or float(ny_.sum()) <= 0:
                acyclic = True  # no walk of length power + 1: keep the last power
                break
            nx_ /= walks
            ny_ /= float(ny_.sum())
            power += 1
            x, y = nx_, ny_
            new_x, new_y = _ranking(x), _ranking(y)
            if np.array_equal(new_x, rank_x) and np.array_equal(new_y, rank_y):
                stable = True
                break
            rank_x, rank_y = new_x, new_y
    indirect_influence = x * total
    indirect_exposure = y * total
    quadrant, mi, me = _quadrants(indirect_influence, indirect_exposure)
    direct_quadrant, di, de = _quadrants(influence, exposure)
    return Micmac(
        layer=layer.name,
        n=n,
        influence=influence,
        exposure=exposure,
        indirect_influence=indirect_influence,
        indirect_exposure=indirect_exposure,
        quadrant=quadrant,
        direct_quadrant=direct_quadrant,
        power=power,
        steps=steps,
        stable=stable or total == 0,
        acyclic=acyclic,
        medians={
            "influence": di,
            "exposure": de,
            "indirect_influence": mi,
            "indirect_exposure": me,
        },
    )
