"""Smart swarm: form the team for a client opportunity from the network of practice.

The pipeline (research and measurements in ``shared/methods/swarm.md``):

1. **Distance.** Ties of a pair combine, per layer weight, into a chance of
   effective collaboration ``p``; the working distance of a tie is ``1 / p``;
   distances between candidates are shortest paths, capped at a horizon on
   networks of more than 5,000 participants (:class:`Network`,
   :func:`glia.swarm._distance.pairwise`). Distrust ties forbid a pair instead.
2. **Candidates.** Per need, the best ``per_need`` eligible holders (region,
   availability, exclusions), plus capital providers and connectors.
3. **Objective.** ``distance * sum of pairwise distances + cost * share of the
   budget + load * sum of exp(3 load) - 1 - bridge * clusters bridged + region *
   members outside a preferred region`` (:mod:`glia.swarm._pool`).
4. **Search.** RarestFirst and min-leader-distance seeds, then drop/add/swap
   local search; up to ``top`` distinct teams.
5. **Proof.** The exact model (HiGHS) proves the optimum or a bound within a
   time limit; every team carries its gap to the bound.
6. **Explanation.** Per member: needs covered, ties to the others, load, cost;
   the rarest need; why the runners-up lost; and when no team exists, which
   need fails and who comes closest.

>>> import glia
>>> swarm = glia.form_swarm("examples/northbridge.yaml", opportunity="coop-traceability")
>>> swarm.feasible, swarm.optimal
(True, True)
"""

from ._exact import Exact
from ._form import AUTO_EXACT, Member, Swarm, Team, TieTo, form_swarm, request_for, solve_request
from ._network import EXACT_DISTANCE_LIMIT, HORIZON, PER_NEED, Near, Network, Shortfall
from ._pool import COMPONENTS, Pool
from ._request import (
    DISTRUST,
    LayerWeights,
    Request,
    RequestError,
    Weights,
    need_label,
    parse_need,
    parse_weights,
)

__all__ = [
    "AUTO_EXACT",
    "COMPONENTS",
    "DISTRUST",
    "EXACT_DISTANCE_LIMIT",
    "HORIZON",
    "PER_NEED",
    "Exact",
    "LayerWeights",
    "Member",
    "Near",
    "Network",
    "Pool",
    "Request",
    "RequestError",
    "Shortfall",
    "Swarm",
    "Team",
    "TieTo",
    "Weights",
    "form_swarm",
    "need_label",
    "parse_need",
    "parse_weights",
    "request_for",
    "solve_request",
]
