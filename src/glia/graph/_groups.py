"""Groupings: one label per participant, by cluster, cluster kind, region, kind or attribute.

Brokerage, the E-I index and the sweet spot compare ties inside and across
groups, which needs exactly one group per participant. Clusters overlap
(a participant may belong to several), so a cluster grouping takes each
participant's *first declared* cluster of the kind asked for:

``region``
    the participant's region.
``kind``
    person or organization.
``cluster``
    the first declared cluster that is not regional (else the first one).
``cluster:<kind>``
    the first declared cluster of that kind, e.g. ``cluster:business``.
``attribute:<name>``
    the value of a participant attribute, as text.

Participants outside every group have label ``-1``; measures treat them as
belonging to no group (their ties count as neither internal nor external).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..store import Snapshot

__all__ = ["GROUPINGS", "Grouping", "UnknownGrouping", "grouping"]

Int = npt.NDArray[np.int32]

GROUPINGS = ("region", "kind", "cluster", "cluster:<kind>", "attribute:<name>")


class UnknownGrouping(ValueError):
    """A grouping that cannot be made from this ecosystem."""


@dataclass(frozen=True, eq=False)
class Grouping:
    """``labels[i]`` is participant ``i``'s group, an index into ``names`` (``-1``: none)."""

    spec: str
    labels: Int
    names: list[str]

    @property
    def n_groups(self) -> int:
        return len(self.names)

    def sizes(self) -> npt.NDArray[np.int64]:
        return np.bincount(self.labels[self.labels >= 0], minlength=len(self.names))


def _codes(values: Sequence[Any]) -> tuple[Int, list[str]]:
    vocabulary: dict[str, int] = {}
    labels = np.array(
        [-1 if v is None else vocabulary.setdefault(str(v), len(vocabulary)) for v in values],
        dtype=np.int32,
    )
    return labels, list(vocabulary)


def _first_cluster(snapshot: Snapshot, allowed: npt.NDArray[np.bool_]) -> Int:
    """Each participant's first declared cluster among ``allowed`` clusters (``-1``: none)."""
    labels = np.full(snapshot.n_participants, -1, dtype=np.int32)
    mp, mc = snapshot.member_participant, snapshot.member_cluster
    keep = allowed[mc] if len(mc) else np.zeros(0, np.bool_)
    mp, mc = mp[keep], mc[keep]
    # memberships come ordered by (participant, position): the first of each wins
    first = np.ones(len(mp), dtype=np.bool_)
    first[1:] = mp[1:] != mp[:-1]
    labels[mp[first]] = mc[first]
    return labels


def _compact(labels: Int, names: Sequence[str]) -> tuple[Int, list[str]]:
    """Keep only the groups someone is in, renumbered in their original order."""
    used = np.unique(labels[labels >= 0])
    remap = np.full(len(names) + 1, -1, dtype=np.int32)
    remap[used] = np.arange(len(used), dtype=np.int32)
    return remap[labels], [names[i] for i in used]


def grouping(
    snapshot: Snapshot,
    spec: str,
    *,
    attribute: Callable[[str], Sequence[Any]] | None = None,
) -> Grouping:
    """The grouping named by ``spec`` (see the module's list).

    ``attribute(name)`` returns one value per participant (``None`` when
    absent); it is needed only for ``attribute:<name>``.
    """
    clusters_kind = np.asarray(snapshot.cluster_kind)
    kinds = snapshot.cluster_kinds
    if spec == "region":
        labels, names = snapshot.participant_region.astype(np.int32), list(snapshot.regions)
    elif spec == "kind":
        labels = snapshot.participant_kind.astype(np.int32)
        names = list(snapshot.participant_kinds)
    elif spec == "cluster":
        regional = kinds.index("regional") if "regional" in kinds else -2
        other = _first_cluster(snapshot, clusters_kind != regional)
        first = _first_cluster(snapshot, np.ones(len(clusters_kind), np.bool_))
        labels, names = np.where(other >= 0, other, first), list(snapshot.cluster_ids)
    elif spec.startswith("cluster:"):
        kind = spec.split(":", 1)[1]
        if kind not in kinds:
            known = ", ".join(sorted(kinds)) or "none"
            raise UnknownGrouping(
                f"unknown grouping {spec!r}: no cluster has kind {kind!r} (kinds here: {known})"
            )
        labels = _first_cluster(snapshot, clusters_kind == kinds.index(kind))
        names = list(snapshot.cluster_ids)
    elif spec.startswith("attribute:") and spec != "attribute:":
        name = spec.split(":", 1)[1]
        if attribute is None:
            raise UnknownGrouping(f"grouping {spec!r} needs the participants' attributes")
        values = list(attribute(name))
        if all(v is None for v in values):
            raise UnknownGrouping(
                f"unknown grouping {spec!r}: no participant has the attribute {name!r}"
            )
        labels, names = _codes(values)
    else:
        raise UnknownGrouping(f"unknown grouping {spec!r}: expected one of {', '.join(GROUPINGS)}")
    labels, names = _compact(np.asarray(labels, dtype=np.int32), names)
    return Grouping(spec, labels, names)
