"""Glia: an open operating system for business ecosystems and value networks.

The one front door for scripts and notebooks::

    import glia

    eco = glia.read("examples/northbridge.yaml")      # any file Glia reads
    store = glia.Store.open(workspace=".glia")        # SQLite, or GLIA_DATABASE_URL
    store.import_ecosystem(eco, replace=True)
    snap = store.snapshot("Northbridge")              # column arrays for engines
    glia.export(eco, "graphml", "northbridge.graphml")

    # the loop: an opportunity from lead to reviewed (see docs/engage.md)
    store.advance("Northbridge", "coop-traceability", "qualified", by="ben")
"""

from typing import TYPE_CHECKING

from .engage import STAGES, Agreement, Commitment, Promise, Refused
from .io import read
from .io.export import EXPORT_FORMATS, export
from .model import (
    AssetImpact,
    Cluster,
    Ecosystem,
    Exchange,
    InvalidInput,
    Location,
    Need,
    Opportunity,
    Participant,
    Problem,
    Role,
    Tie,
)
from .store import Snapshot, Store

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .analysis import Analysis, AnalysisError, analyze
    from .swarm import Swarm, form_swarm

__all__ = [
    "EXPORT_FORMATS",
    "STAGES",
    "Agreement",
    "Analysis",
    "AnalysisError",
    "AssetImpact",
    "Cluster",
    "Commitment",
    "Ecosystem",
    "Exchange",
    "InvalidInput",
    "Location",
    "Need",
    "Opportunity",
    "Participant",
    "Problem",
    "Promise",
    "Refused",
    "Role",
    "Snapshot",
    "Store",
    "Swarm",
    "Tie",
    "__version__",
    "analyze",
    "export",
    "form_swarm",
    "read",
]


def __getattr__(name: str) -> object:
    """``glia.analyze``, ``glia.form_swarm`` and their types, imported on first use
    (SciPy and networkit take a second or two to load, which commands that do not
    analyse should not pay)."""
    if name in ("analyze", "Analysis", "AnalysisError"):
        from . import analysis

        return getattr(analysis, name)
    if name in ("form_swarm", "Swarm"):
        from . import swarm

        return getattr(swarm, name)
    raise AttributeError(f"module 'glia' has no attribute {name!r}")
