"""See the ecosystem: network measures, communities, brokerage, the sweet spot,
value network analysis, money flows, health and what-if.

One concept per module; :func:`analyze` composes them on one multiplex.
Every function takes :mod:`glia.graph` layers or a store snapshot and
returns typed results with ``to_json()`` and, where a table fits,
``to_pandas()``.
"""

from ._analyze import Analysis, analyze
from ._common import AnalysisError
from .brokerage import Brokerage, brokerage
from .centrality import Centrality, centrality
from .communities import Communities, communities
from .flows import MoneyFlows, money_flows, npv, stakeholder_loops
from .health import Health, health, ulanowicz
from .micmac import Micmac, micmac
from .sweetspot import SweetSpot, sweet_spot
from .vna import ValueNetwork, value_network
from .whatif import Failures, Removal, remove, single_points_of_failure

__all__ = [
    "Analysis",
    "AnalysisError",
    "Brokerage",
    "Centrality",
    "Communities",
    "Failures",
    "Health",
    "Micmac",
    "MoneyFlows",
    "Removal",
    "SweetSpot",
    "ValueNetwork",
    "analyze",
    "brokerage",
    "centrality",
    "communities",
    "health",
    "micmac",
    "money_flows",
    "npv",
    "remove",
    "single_points_of_failure",
    "stakeholder_loops",
    "sweet_spot",
    "ulanowicz",
    "value_network",
]
