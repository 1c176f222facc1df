"""Graphs of an ecosystem: the multiplex layers, as arrays any engine loads fast.

>>> import glia
>>> from glia.graph import build
>>> from glia.store import snapshot_of
>>> mx = build(snapshot_of(glia.read("examples/northbridge.yaml")))
>>> mx.informal
Layer('informal', n=40, arcs=..., edges=...)
"""

from ._groups import GROUPINGS, Grouping, UnknownGrouping, grouping
from ._layer import Layer
from ._multiplex import (
    LAYERS,
    ClusterProjection,
    Multiplex,
    UnknownLayer,
    alive_ties,
    build,
    endpoints,
    exchange_pairs,
)

__all__ = [
    "GROUPINGS",
    "LAYERS",
    "ClusterProjection",
    "Grouping",
    "Layer",
    "Multiplex",
    "UnknownGrouping",
    "UnknownLayer",
    "alive_ties",
    "build",
    "endpoints",
    "exchange_pairs",
    "grouping",
]
