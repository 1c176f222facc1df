"""Glia: an open operating system for business ecosystems and value networks.

The one front door for scripts and notebooks::

    import glia

    eco = glia.read("examples/northbridge.yaml")      # any file Glia reads
    store = glia.Store.open(workspace=".glia")        # SQLite, or GLIA_DATABASE_URL
    store.import_ecosystem(eco, replace=True)
    snap = store.snapshot("Northbridge")              # column arrays for engines
    glia.export(eco, "graphml", "northbridge.graphml")
"""

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

__all__ = [
    "EXPORT_FORMATS",
    "AssetImpact",
    "Cluster",
    "Ecosystem",
    "Exchange",
    "InvalidInput",
    "Location",
    "Need",
    "Opportunity",
    "Participant",
    "Problem",
    "Role",
    "Snapshot",
    "Store",
    "Tie",
    "__version__",
    "export",
    "read",
]
