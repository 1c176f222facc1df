"""The plan of a generated ecosystem: a few NumPy arrays per participant.

The plan holds what every section needs to agree on: the clusters, each
participant's kind, region, business/knowledge/capital cluster and activity
(the weight that gives heavy-tailed degrees), and the samplers that draw a
participant by activity from the whole ecosystem, from one region or from one
community. It costs about 41 bytes per participant (41 MB at a million);
every section is then generated in chunks from it.

Randomness: each section and each chunk draws from its own stream,
``SeedSequence(seed, spawn_key=(section, chunk))``, so a chunk's content
depends only on the seed, the knobs and its number, never on what was
generated before it or on how the output is consumed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._words import (
    CAPABILITIES,
    CAPITAL_THEMES,
    KNOWLEDGE_THEMES,
    PLACE_ENDS,
    PLACE_STARTS,
    SECTORS,
)

__all__ = ["Params", "Plan", "Sampler", "stream"]

I32 = NDArray[np.int32]
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Bool = NDArray[np.bool_]

# Stream numbers (the first element of a spawn key), one per purpose.
PLAN, PARTICIPANTS, CAPS, ROLES, TIES, EXCHANGES, OPPORTUNITIES = range(7)

#: Capability slugs, in code order.
CAP_NAMES: tuple[str, ...] = tuple(slug for slug, _ in CAPABILITIES)
CAP_INDEX: dict[str, int] = {slug: i for i, slug in enumerate(CAP_NAMES)}

MAX_PROFILE = 6

# Most of a cluster's activity one member may hold.
COMMUNITY_SHARE = 0.02

# Participants per block when the plan draws their attributes.
_BLOCK = 1 << 18


def stream(seed: int, section: int, chunk: int = 0) -> np.random.Generator:
    """The random stream of one chunk of one section."""
    seq = np.random.SeedSequence(seed, spawn_key=(section, chunk))
    return np.random.Generator(np.random.PCG64(seq))


@dataclass(frozen=True)
class Params:
    """The knobs of a generated ecosystem (see :func:`glia.generate.generate`)."""

    participants: int
    seed: int
    ties_per_participant: float
    organization_share: float
    within_community: float
    within_region: float
    formal_share: float
    overlap: float
    tail: float
    as_of: dt.date

    def check(self) -> None:
        """Refuse knobs out of range, naming the knob."""
        if not 1 <= self.participants <= 100_000_000:
            raise ValueError("participants must be between 1 and 100,000,000")
        if self.seed < 0:
            raise ValueError("seed must be a non-negative integer")
        if not (
            0 <= self.ties_per_participant <= 1000 and math.isfinite(self.ties_per_participant)
        ):
            raise ValueError("ties_per_participant must be between 0 and 1000")
        for name in (
            "organization_share",
            "within_community",
            "within_region",
            "formal_share",
            "overlap",
        ):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if not 1.05 <= self.tail <= 10:
            raise ValueError("tail (the Pareto shape of activity) must be between 1.05 and 10")


class Sampler:
    """Draw members of groups with probability proportional to a weight.

    Members are stored grouped (``order``), with the running sum of their
    weights (``cum``, with a leading zero); group ``g`` occupies positions
    ``start[g]:start[g+1]``. A draw is a uniform number inside the group's
    slice of the running sum and a binary search: vectorised, no per-group
    tables.
    """

    def __init__(
        self,
        groups: NDArray[np.integer[Any]],
        members: I32 | None,
        activity: F64,
        n_groups: int,
    ) -> None:
        # ``members[i]`` belongs to ``groups[i]`` (``members`` None: member i);
        # written to keep temporaries small, as this runs once on N rows.
        counts = np.bincount(groups, minlength=n_groups)
        self.start: I64 = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self.sizes: I64 = counts.astype(np.int64)
        del counts
        order = np.argsort(groups, kind="stable")
        self.order: I32 = order.astype(np.int32) if members is None else members[order]
        del order
        self.cum: F64 = np.empty(self.order.shape[0] + 1, dtype=np.float64)
        self.cum[0] = 0.0
        np.cumsum(activity[self.order], out=self.cum[1:])

    def total(self, group: I64) -> F64:
        """Weight of each given group."""
        result: F64 = self.cum[self.start[group + 1]] - self.cum[self.start[group]]
        return result

    def draw(self, rng: np.random.Generator, group: I64) -> I64:
        """One member of each given group (groups must not be empty)."""
        lo = self.cum[self.start[group]]
        hi = self.cum[self.start[group + 1]]
        x = lo + rng.random(len(group)) * (hi - lo)
        pos = _locate(self.cum, x) - 1
        pos = np.clip(pos, self.start[group], self.start[group + 1] - 1)
        result: I64 = self.order[pos].astype(np.int64)
        return result

    def draw_all(self, rng: np.random.Generator, n: int) -> I64:
        """``n`` members drawn from all groups together."""
        x = rng.random(n) * self.cum[-1]
        pos = _locate(self.cum, x) - 1
        pos = np.clip(pos, 0, self.order.shape[0] - 1)
        result: I64 = self.order[pos].astype(np.int64)
        return result

    def nbytes(self) -> int:
        return int(self.order.nbytes + self.cum.nbytes + self.start.nbytes + self.sizes.nbytes)


def _locate(cum: F64, x: F64) -> I64:
    """``np.searchsorted(cum, x, side="right")``, searching in sorted order
    (six times faster on large tables: the searches stay in cache)."""
    order = np.argsort(x)
    pos = np.empty(x.shape[0], dtype=np.int64)
    pos[order] = np.searchsorted(cum, x[order], side="right")
    return pos


def _heavy_weights(rng: np.random.Generator, n: int, shape: float, floor: float) -> F64:
    """Heavy-tailed shares summing to one, each at least ``floor / n``."""
    raw = rng.pareto(shape, n) + 1.0
    shares = raw / raw.sum()
    mixed: F64 = (1.0 - floor) * shares + floor / n
    return mixed


def _place_names(rng: np.random.Generator, n: int) -> list[str]:
    combos = len(PLACE_STARTS) * len(PLACE_ENDS)
    picks = rng.permutation(combos)
    names = []
    for i in range(n):
        code = int(picks[i % combos])
        name = PLACE_STARTS[code // len(PLACE_ENDS)] + PLACE_ENDS[code % len(PLACE_ENDS)]
        names.append(name if i < combos else f"{name} {i // combos + 1}")
    return names


def _numbered(names: list[str]) -> list[str]:
    """Make names unique by numbering the repeats ("Agritech Cluster 2")."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return out


class Plan:
    """Clusters, per-participant arrays and samplers of one generated ecosystem."""

    def __init__(self, params: Params) -> None:
        params.check()
        self.params = params
        n = self.n = params.participants
        rng = stream(params.seed, PLAN)

        # -- clusters -------------------------------------------------------------------
        self.n_regions = min(n // 20_000 + 3, 50)
        self.n_business = min(n // 2_000 + 4, 500)
        self.n_knowledge = min(n // 5_000 + 3, 200)
        self.n_capital = min(n // 50_000 + 2, 30)
        self.n_communities = self.n_business + self.n_knowledge
        nr, nb, nk, nc = self.n_regions, self.n_business, self.n_knowledge, self.n_capital

        places = _place_names(rng, nr + nb + nk + nc)
        region_share = np.sort(_heavy_weights(rng, nr, 1.5, 0.3))[::-1]
        self.region_names = [
            f"{places[0]} City-Region" if i == 0 else f"{places[i]} Region" for i in range(nr)
        ]

        # Themes: every theme once before any repeats, then at random.
        self.business_theme = self._themes(rng, nb, len(SECTORS))
        self.knowledge_theme = self._themes(rng, nk, len(KNOWLEDGE_THEMES))
        self.capital_theme = self._themes(rng, nc, len(CAPITAL_THEMES))
        home = rng.choice(nr, size=nb + nk + nc, p=region_share)
        self.community_home: I64 = home[: nb + nk].astype(np.int64)
        self.capital_home: I64 = home[nb + nk :].astype(np.int64)
        business_share = _heavy_weights(rng, nb, 1.2, 0.15)
        knowledge_share = _heavy_weights(rng, nk, 1.2, 0.15)
        capital_share = _heavy_weights(rng, nc, 1.5, 0.3)

        def where(i: int, regional: bool) -> str:
            return (
                f" ({self.region_names[int(home[i])].removesuffix(' Region')})" if regional else ""
            )

        self.business_names = _numbered(
            [
                f"{SECTORS[t].name} Cluster" + where(i, nb > len(SECTORS))
                for i, t in enumerate(self.business_theme)
            ]
        )
        self.knowledge_names = _numbered(
            [
                KNOWLEDGE_THEMES[t].name + where(nb + i, nk > len(KNOWLEDGE_THEMES))
                for i, t in enumerate(self.knowledge_theme)
            ]
        )
        self.capital_names = _numbered(
            [
                f"{self.region_names[int(home[nb + nk + i])].removesuffix(' Region')} "
                f"{CAPITAL_THEMES[t]}"
                for i, t in enumerate(self.capital_theme)
            ]
        )

        # Capability profiles: 3-6 capabilities per business/knowledge cluster.
        self.profile = np.full((nb + nk, MAX_PROFILE), -1, dtype=np.int64)
        self.profile_len = np.zeros(nb + nk, dtype=np.int64)
        for c in range(nb + nk):
            theme = (
                SECTORS[self.business_theme[c]]
                if c < nb
                else KNOWLEDGE_THEMES[self.knowledge_theme[c - nb]]
            )
            pool = [CAP_INDEX[s] for s in theme.capabilities]
            size = int(rng.integers(3, MAX_PROFILE + 1))
            chosen = [pool[int(i)] for i in rng.permutation(len(pool))[: min(size, len(pool))]]
            while len(chosen) < size:
                extra = int(rng.integers(len(CAP_NAMES)))
                if extra not in chosen:
                    chosen.append(extra)
            self.profile[c, : len(chosen)] = chosen
            self.profile_len[c] = len(chosen)

        # -- participants ---------------------------------------------------------------
        # Drawn in blocks (each from its own stream) to bound the temporaries.
        self.is_org: Bool = np.empty(n, dtype=np.bool_)
        self.business = np.empty(n, dtype=np.int16)
        self.knowledge = np.empty(n, dtype=np.int16)
        self.capital = np.empty(n, dtype=np.int16)
        self.region = np.empty(n, dtype=np.int16)
        activity = np.empty(n, dtype=np.float64)
        for block, lo in enumerate(range(0, n, _BLOCK)):
            hi = min(n, lo + _BLOCK)
            m = hi - lo
            rb = stream(params.seed, PLAN, 1 + block)
            org = rb.random(m) < params.organization_share
            has_business = rb.random(m) < np.where(org, 0.92, 0.72)
            has_knowledge = (rb.random(m) < np.where(org, 0.3, 0.55)) | ~has_business
            business = np.where(has_business, rb.choice(nb, size=m, p=business_share), -1)
            knowledge = np.where(has_knowledge, rb.choice(nk, size=m, p=knowledge_share), -1)
            in_capital = rb.random(m) < np.where(org, 0.12, 0.02)
            capital = np.where(in_capital, rb.choice(nc, size=m, p=capital_share), -1)
            anchor = np.where(
                has_business,
                self.community_home[np.maximum(business, 0)],
                self.community_home[nb + np.maximum(knowledge, 0)],
            )
            local = rb.random(m) < 0.82
            region = np.where(local, anchor, rb.choice(nr, size=m, p=region_share))
            self.is_org[lo:hi] = org
            self.business[lo:hi] = business
            self.knowledge[lo:hi] = knowledge
            self.capital[lo:hi] = capital
            self.region[lo:hi] = region
            # Activity: Pareto tail, organizations busier.
            activity[lo:hi] = (rb.pareto(params.tail, m) + 1.0) * np.where(org, 2.5, 1.0)

        # Cap activity twice, so that repeated pairs stay rare: no one's
        # expected degree exceeds about sqrt(2 x ties) (the Chung-Lu cut-off),
        # and no one holds more than COMMUNITY_SHARE of the activity of a
        # cluster they belong to (else every member would tie to them again
        # and again); hubs therefore sit in the large clusters.
        ties = params.ties_per_participant * n
        if ties > 0:
            for _ in range(3):
                cap = activity.sum() / math.sqrt(2.0 * ties)
                np.minimum(activity, max(cap, 1.0), out=activity)
                self._cap_by_community(activity)
        self.activity = activity.astype(np.float32)

        # -- samplers -------------------------------------------------------------------
        self.by_region = Sampler(self.region, None, activity, nr)
        b = np.flatnonzero(self.business >= 0).astype(np.int32)
        k = np.flatnonzero(self.knowledge >= 0).astype(np.int32)
        groups = np.concatenate((self.business[b], nb + self.knowledge[k]))
        self.by_community = Sampler(groups, np.concatenate((b, k)), activity, nb + nk)
        del groups, activity, b, k

        self.cluster_counts = {
            "regional": nr,
            "business": nb,
            "knowledge": nk,
            "capital": nc,
        }

    def _cap_by_community(self, activity: F64) -> None:
        """Lower ``activity`` to COMMUNITY_SHARE of each member's smallest cluster."""
        nb = self.n_business
        limit = np.full(self.n, np.inf)
        for codes, offset in ((self.business, 0), (self.knowledge, nb)):
            member = codes >= 0
            groups = codes[member].astype(np.int64) + offset
            totals = np.bincount(groups, weights=activity[member], minlength=self.n_communities)
            limit[member] = np.minimum(limit[member], COMMUNITY_SHARE * totals[groups])
        np.minimum(activity, np.maximum(limit, 1.0), out=activity)

    @staticmethod
    def _themes(rng: np.random.Generator, n: int, n_themes: int) -> list[int]:
        first = [int(t) for t in rng.permutation(n_themes)]
        rest = [int(t) for t in rng.integers(0, n_themes, size=max(0, n - n_themes))]
        return (first + rest)[:n]

    # -- ids ----------------------------------------------------------------------------
    def region_id(self, i: int) -> str:
        return f"r{i + 1:02d}"

    def business_id(self, i: int) -> str:
        return f"b{i + 1:03d}"

    def knowledge_id(self, i: int) -> str:
        return f"k{i + 1:03d}"

    def capital_id(self, i: int) -> str:
        return f"c{i + 1:02d}"

    def community_id(self, c: int) -> str:
        return (
            self.business_id(c) if c < self.n_business else self.knowledge_id(c - self.n_business)
        )

    def community_name(self, c: int) -> str:
        nb = self.n_business
        return self.business_names[c] if c < nb else self.knowledge_names[c - nb]

    @property
    def participant_format(self) -> str:
        """``%``-format of participant ids: ``p`` and zero-padded digits."""
        return f"p%0{max(3, len(str(self.n - 1)))}d"

    # -- sampling -------------------------------------------------------------------------
    def community_of(self, rng: np.random.Generator, who: I64) -> I64:
        """One business or knowledge cluster of each participant (business 60%)."""
        b = self.business[who].astype(np.int64)
        k = self.knowledge[who].astype(np.int64)
        pick_business = (b >= 0) & ((k < 0) | (rng.random(len(who)) < 0.6))
        result: I64 = np.where(pick_business, b, self.n_business + k)
        return result

    def partners(self, rng: np.random.Generator, u: I64) -> I64:
        """A partner for each participant in ``u``: mostly from a shared cluster,
        else from the same region, else from anywhere; never ``u`` itself."""
        n = int(u.shape[0])
        p = self.params
        v = np.empty(n, dtype=np.int64)
        mode = rng.random(n)
        in_comm = mode < p.within_community
        in_region = ~in_comm & (
            mode < p.within_community + (1 - p.within_community) * p.within_region
        )
        anywhere = ~(in_comm | in_region)
        if in_comm.any():
            v[in_comm] = self.by_community.draw(rng, self.community_of(rng, u[in_comm]))
        if in_region.any():
            v[in_region] = self.by_region.draw(rng, self.region[u[in_region]].astype(np.int64))
        if anywhere.any():
            v[anywhere] = self.by_region.draw_all(rng, int(anywhere.sum()))
        return self.not_self(rng, u, v)

    def not_self(self, rng: np.random.Generator, u: I64, v: I64) -> I64:
        """Replace ``v[i] == u[i]`` by another participant, uniformly."""
        same = u == v
        if same.any() and self.n > 1:
            shift = 1 + rng.integers(0, self.n - 1, size=int(same.sum()))
            v[same] = (u[same] + shift) % self.n
        return v

    def nbytes(self) -> int:
        """Memory held by the plan's arrays."""
        arrays: list[Any] = [
            self.is_org,
            self.business,
            self.knowledge,
            self.capital,
            self.region,
            self.activity,
        ]
        return (
            sum(int(a.nbytes) for a in arrays)
            + self.by_region.nbytes()
            + self.by_community.nbytes()
        )
