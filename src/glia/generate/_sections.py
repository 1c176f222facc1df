"""The sections of a generated ecosystem, each a generator of plain mappings.

Every section is drawn in chunks: the random numbers of a chunk come from its
own stream (see :func:`glia.generate._plan.stream`), are drawn as whole NumPy
arrays, converted to Python lists once, and turned into mappings in one tight
loop. Nothing but the current chunk is held, so a section of any length is
produced in bounded memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._plan import (
    CAP_NAMES,
    CAPS,
    EXCHANGES,
    I64,
    MAX_PROFILE,
    OPPORTUNITIES,
    PARTICIPANTS,
    ROLES,
    TIES,
    Plan,
    stream,
)
from ._words import (
    CAPABILITIES,
    DELIVERABLES,
    FIRST_NAMES,
    KNOWLEDGE_THEMES,
    LAST_NAMES,
    ORG_SUFFIXES,
    PLACE_ENDS,
    PLACE_STARTS,
    PROJECT_NOUNS,
    ROLE_NAMES,
    SECTORS,
    STAGES,
)

__all__ = [
    "CHUNK",
    "FORMAL_TYPES",
    "INFORMAL_TYPES",
    "capabilities",
    "clusters",
    "exchanges",
    "opportunities",
    "participants",
    "roles",
    "tie_arrays",
    "ties",
]

#: Rows per chunk. Fixed: the output depends on it, so it is not a knob.
CHUNK = 32_768

Row = dict[str, Any]

# -- clusters ------------------------------------------------------------------------------


def clusters(plan: Plan) -> Iterator[Row]:
    """Regions, business clusters, knowledge clusters, capital clusters."""
    for i, name in enumerate(plan.region_names):
        yield {"id": plan.region_id(i), "name": name, "kind": "regional"}
    for i, name in enumerate(plan.business_names):
        profile = plan.profile[i, : plan.profile_len[i]]
        yield {
            "id": plan.business_id(i),
            "name": name,
            "kind": "business",
            "description": "Capabilities: " + ", ".join(CAP_NAMES[c] for c in profile),
            "attributes": {"region": plan.region_id(int(plan.community_home[i]))},
        }
    nb = plan.n_business
    for i, name in enumerate(plan.knowledge_names):
        profile = plan.profile[nb + i, : plan.profile_len[nb + i]]
        yield {
            "id": plan.knowledge_id(i),
            "name": name,
            "kind": "knowledge",
            "description": "Capabilities: " + ", ".join(CAP_NAMES[c] for c in profile),
            "attributes": {"region": plan.region_id(int(plan.community_home[nb + i]))},
        }
    for i, name in enumerate(plan.capital_names):
        yield {
            "id": plan.capital_id(i),
            "name": name,
            "kind": "capital",
            "attributes": {"region": plan.region_id(int(plan.capital_home[i]))},
        }


# -- participants ----------------------------------------------------------------------------

_PERSON_LEVELS = np.cumsum([0.12, 0.28, 0.32, 0.19, 0.09])
_ORG_LEVELS = np.cumsum([0.05, 0.15, 0.30, 0.30, 0.20])
_PERSON_HOURS = np.array([4, 6, 8, 10, 12, 16, 20, 24, 32, 40])
_PERSON_HOURS_P = np.array([0.08, 0.08, 0.14, 0.14, 0.1, 0.14, 0.12, 0.08, 0.06, 0.06])
_ORG_HOURS = np.array([40, 60, 80, 120, 160])
_ORG_HOURS_P = np.array([0.3, 0.25, 0.2, 0.15, 0.1])


def _span(n: int, chunk: int) -> tuple[int, int]:
    lo = chunk * CHUNK
    return lo, min(n, lo + CHUNK)


def capabilities(plan: Plan, chunk: int) -> tuple[I64, I64]:
    """Capability codes and levels of one chunk of participants.

    Returns two ``(rows, 6)`` arrays; a code of -1 is an empty slot. Each
    capability comes, with probability 0.8, from the profile of one of the
    participant's business/knowledge clusters, else from the whole list;
    persons hold 1-4, organizations 2-6; repeats are dropped.
    """
    lo, hi = _span(plan.n, chunk)
    rng = stream(plan.params.seed, CAPS, chunk)
    n = hi - lo
    who = np.arange(lo, hi, dtype=np.int64)
    org = plan.is_org[lo:hi]
    count = np.where(org, 2 + rng.binomial(4, 0.5, n), 1 + rng.binomial(3, 0.4, n))
    caps = np.full((n, MAX_PROFILE), -1, dtype=np.int64)
    levels = np.zeros((n, MAX_PROFILE), dtype=np.int64)
    for j in range(MAX_PROFILE):
        community = plan.community_of(rng, who)
        length = plan.profile_len[community]
        slot = (rng.random(n) * length).astype(np.int64)
        from_profile = plan.profile[community, slot]
        anywhere = rng.integers(0, len(CAP_NAMES), n)
        code = np.where(rng.random(n) < 0.8, from_profile, anywhere)
        for i in range(j):
            code = np.where(code == caps[:, i], -1, code)
        caps[:, j] = np.where(j < count, code, -1)
        u = rng.random(n)
        levels[:, j] = 1 + np.where(
            org,
            np.searchsorted(_ORG_LEVELS[:-1], u, side="right"),
            np.searchsorted(_PERSON_LEVELS[:-1], u, side="right"),
        )
    return caps, levels


def _n_chunks(n: int) -> int:
    return (n + CHUNK - 1) // CHUNK


def participants(plan: Plan) -> Iterator[Row]:
    """Participants: name, kind, region, clusters, capabilities, capacity, rate."""
    fmt = plan.participant_format
    region_ids = [plan.region_id(i) for i in range(plan.n_regions)]
    business_ids = [plan.business_id(i) for i in range(plan.n_business)]
    knowledge_ids = [plan.knowledge_id(i) for i in range(plan.n_knowledge)]
    capital_ids = [plan.capital_id(i) for i in range(plan.n_capital)]
    nb = plan.n_business
    words = [SECTORS[t].words for t in plan.business_theme] + [
        KNOWLEDGE_THEMES[t].words for t in plan.knowledge_theme
    ]
    places = [a + b for a in PLACE_STARTS for b in PLACE_ENDS]
    for chunk in range(_n_chunks(plan.n)):
        lo, hi = _span(plan.n, chunk)
        n = hi - lo
        rng = stream(plan.params.seed, PARTICIPANTS, chunk)
        org = plan.is_org[lo:hi]
        caps, levels = capabilities(plan, chunk)
        business = plan.business[lo:hi].astype(np.int64)
        knowledge = plan.knowledge[lo:hi].astype(np.int64)
        primary = np.where(business >= 0, business, nb + knowledge)
        name_a = rng.integers(0, 1 << 30, n)
        name_b = rng.integers(0, 1 << 30, n)
        name_c = rng.integers(0, 1 << 30, n)
        hours = np.where(
            org,
            rng.choice(_ORG_HOURS, n, p=_ORG_HOURS_P),
            rng.choice(_PERSON_HOURS, n, p=_PERSON_HOURS_P),
        )
        rate = np.exp(rng.normal(np.log(70.0), 0.4, n)) * np.where(org, 1.4, 1.0)
        rate = np.clip(np.round(rate / 5.0) * 5.0, 25, 400).astype(np.int64)
        capital_code = plan.capital[lo:hi].astype(np.int64)
        money = np.exp(rng.normal(np.where(org, np.log(400_000.0), np.log(60_000.0)), 1.1))
        money = np.clip(np.round(money, -3), 5_000, 50_000_000).astype(np.int64)
        columns = zip(
            range(lo, hi),
            org.tolist(),
            plan.region[lo:hi].tolist(),
            business.tolist(),
            knowledge.tolist(),
            capital_code.tolist(),
            primary.tolist(),
            name_a.tolist(),
            name_b.tolist(),
            name_c.tolist(),
            caps.tolist(),
            levels.tolist(),
            hours.tolist(),
            rate.tolist(),
            money.tolist(),
            strict=True,
        )
        for i, is_org, reg, b, k, c, prim, w1, w2, w3, cap_row, lvl_row, h, r, m in columns:
            if is_org:
                theme_words = words[prim]
                name = (
                    f"{places[w1 % len(places)]} {theme_words[w2 % len(theme_words)]} "
                    f"{ORG_SUFFIXES[w3 % len(ORG_SUFFIXES)]}"
                )
            else:
                name = f"{FIRST_NAMES[w1 % len(FIRST_NAMES)]} {LAST_NAMES[w2 % len(LAST_NAMES)]}"
            region = region_ids[reg]
            member = [region]
            if b >= 0:
                member.append(business_ids[b])
            if k >= 0:
                member.append(knowledge_ids[k])
            if c >= 0:
                member.append(capital_ids[c])
            row: Row = {
                "id": fmt % i,
                "name": name,
                "kind": "organization" if is_org else "person",
                "region": region,
                "clusters": member,
                "capabilities": {
                    CAP_NAMES[code]: level
                    for code, level in zip(cap_row, lvl_row, strict=True)
                    if code >= 0
                },
                "capacity_hours_per_week": h,
                "rate_per_hour": r,
            }
            if c >= 0:
                row["capital_available"] = m
            yield row


# -- roles -----------------------------------------------------------------------------------


def role_count(plan: Plan) -> int:
    return plan.n // 100 + 5


def _role_communities(plan: Plan) -> I64:
    """The business/knowledge cluster each role belongs to (by cluster size)."""
    rng = stream(plan.params.seed, ROLES, 1)
    sizes = plan.by_community.sizes.astype(np.float64)
    result: I64 = rng.choice(len(sizes), size=role_count(plan), p=sizes / sizes.sum())
    return result


def roles(plan: Plan) -> Iterator[Row]:
    """Roles of the value network, each played by 1-12 members of one cluster."""
    rng = stream(plan.params.seed, ROLES)
    n_roles = role_count(plan)
    community = _role_communities(plan)
    base = rng.integers(0, len(ROLE_NAMES), n_roles)
    players = np.minimum(rng.geometric(0.35, n_roles), 12)
    offsets = np.concatenate(([0], np.cumsum(players)))
    who = plan.by_community.draw(rng, np.repeat(community, players)).tolist()
    fmt = plan.participant_format
    width = max(3, len(str(n_roles)))
    for i in range(n_roles):
        c = int(community[i])
        played = dict.fromkeys(fmt % p for p in who[offsets[i] : offsets[i + 1]])
        yield {
            "id": f"role{i + 1:0{width}d}",
            "name": f"{ROLE_NAMES[int(base[i])]}, {plan.community_name(c)}",
            "played_by": list(played),
            "attributes": {"cluster": plan.community_id(c)},
        }


def role_ids(plan: Plan) -> list[str]:
    width = max(3, len(str(role_count(plan))))
    return [f"role{i + 1:0{width}d}" for i in range(role_count(plan))]


# -- ties ------------------------------------------------------------------------------------

#: Tie types per layer, and their shares by the kinds of the two endpoints
#: (person-person, person-organization, organization-organization).
FORMAL_TYPES = ("contract", "membership", "reports-to", "partnership")
INFORMAL_TYPES = ("advice", "trust", "friendship", "collaboration")
_FORMAL_P = np.cumsum(
    [
        [0.35, 0.0, 0.45, 0.20],
        [0.45, 0.50, 0.05, 0.0],
        [0.45, 0.20, 0.0, 0.35],
    ],
    axis=1,
)
_INFORMAL_P = np.cumsum(
    [
        [0.30, 0.20, 0.25, 0.25],
        [0.35, 0.30, 0.0, 0.35],
        [0.0, 0.40, 0.0, 0.60],
    ],
    axis=1,
)
_TYPE_NAMES = np.array(FORMAL_TYPES + INFORMAL_TYPES, dtype=object)
_REPORTS_TO, _ADVICE, _MEMBERSHIP = 2, 4, 1
_LAYER_NAMES = np.array(["formal", "informal"], dtype=object)


def tie_count(plan: Plan) -> int:
    return round(plan.params.ties_per_participant * plan.n) if plan.n > 1 else 0


def _unique_pairs(plan: Plan, rng: np.random.Generator, n: int) -> tuple[I64, I64]:
    """``n`` distinct unordered pairs (as far as a few rounds of drawing allow)."""
    u = np.empty(0, dtype=np.int64)
    v = np.empty(0, dtype=np.int64)
    for _ in range(8):
        need = n - u.shape[0]
        if need <= 0:
            break
        draw = need + need // 8 + 16
        a = plan.by_region.draw_all(rng, draw)
        b = plan.partners(rng, a)
        u = np.concatenate((u, a))
        v = np.concatenate((v, b))
        key = np.minimum(u, v) * plan.n + np.maximum(u, v)
        _, first = np.unique(key, return_index=True)
        first.sort()
        u, v = u[first], v[first]
    if u.shape[0] < n:  # fewer distinct pairs exist than asked for: allow repeats
        a = plan.by_region.draw_all(rng, n - u.shape[0])
        u = np.concatenate((u, a))
        v = np.concatenate((v, plan.partners(rng, a)))
    return u[:n], v[:n]


def tie_arrays(plan: Plan, chunk: int) -> dict[str, NDArray[Any]]:
    """The ties of one chunk as arrays (see :func:`ties` for their meaning).

    Keys: ``from``, ``to`` (participant numbers), ``layer`` (0 formal,
    1 informal), ``type`` (index into formal then informal types),
    ``weight``, ``directed``, ``since``, ``until`` (days after
    ``as_of`` − 40 years, -1 when absent).
    """
    p = plan.params
    total = tie_count(plan)
    lo, hi = _span(total, chunk)
    rows = hi - lo
    rng = stream(p.seed, TIES, chunk)
    both = p.formal_share * p.overlap
    formal_only = p.formal_share - both
    pairs = int(rows / (1 + both) + 8 * rows**0.5) + 32
    u, v = _unique_pairs(plan, rng, pairs)
    layer_draw = rng.random(len(u))
    # 0 formal only, 1 formal and informal, 2 informal only
    pair_layers = np.where(layer_draw < formal_only, 0, np.where(layer_draw < p.formal_share, 1, 2))
    repeat = np.where(pair_layers == 1, 2, 1)
    first_of_pair = np.repeat(np.cumsum(repeat) - repeat, repeat)
    pair_index = np.repeat(np.arange(u.shape[0]), repeat)
    second = np.arange(pair_index.shape[0]) - first_of_pair  # 1 for the informal half
    layer = np.where(pair_layers[pair_index] == 2, 1, second)[:rows]
    pair_index = pair_index[:rows]
    in_both = (pair_layers[pair_index] == 1)[:rows]
    a = u[pair_index]
    b = v[pair_index]
    n = int(a.shape[0])

    # types by the kinds of the endpoints
    kinds = plan.is_org[a].astype(np.int64) + plan.is_org[b].astype(np.int64)
    draw = rng.random(n)
    formal_type = (draw[:, None] >= _FORMAL_P[kinds, :-1]).sum(axis=1)
    informal_type = 4 + (draw[:, None] >= _INFORMAL_P[kinds, :-1]).sum(axis=1)
    kind = np.where(layer == 0, formal_type, informal_type)

    # direction: reports-to points up (to the more active), advice mostly too;
    # membership from the person to the organization; the rest either way
    act_a = plan.activity[a]
    act_b = plan.activity[b]
    up = act_a > act_b  # a is the more active: swap to point at it
    flip = rng.random(n)
    swap = np.where(
        kind == _REPORTS_TO,
        up,
        np.where(
            kind == _ADVICE,
            np.where(flip < 0.75, up, ~up),
            np.where(
                (kind == _MEMBERSHIP) & (kinds == 1),
                plan.is_org[a],
                flip < 0.5,
            ),
        ),
    )
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    directed = (kind == _REPORTS_TO) | (kind == _ADVICE)

    # weights: formal ties stronger, pairs on both layers strongest
    weight = np.where(layer == 0, rng.beta(2.5, 1.5, n), rng.beta(2.0, 2.0, n))
    weight = np.where(in_both, 0.3 + 0.7 * weight, weight)
    weight = np.clip(np.round(weight, 2), 0.05, 1.0)

    # dates: most formal ties have a start, some an end; few informal ones do
    dated = rng.random(n) < np.where(layer == 0, 0.7, 0.25)
    ended = dated & (rng.random(n) < np.where(layer == 0, 0.25, 0.05))
    age = np.minimum(rng.exponential(5 * 365.25, n), 25 * 365.25).astype(np.int64) + 7
    since = np.where(dated, _ORIGIN_DAYS - age, -1)
    length = (30 + rng.exponential(3 * 365.25, n)).astype(np.int64)
    until = np.where(ended, np.minimum(since + length, _ORIGIN_DAYS + 5 * 366), -1)
    return {
        "from": a,
        "to": b,
        "layer": layer,
        "type": kind,
        "weight": weight,
        "directed": directed,
        "since": since,
        "until": until,
    }


# Dates are carried as day numbers from as_of - 40 years (the origin of the table).
_ORIGIN_DAYS = 40 * 366


def _date_table(as_of: dt.date) -> list[dt.date]:
    start = as_of - dt.timedelta(days=_ORIGIN_DAYS)
    return [start + dt.timedelta(days=i) for i in range(_ORIGIN_DAYS + 12 * 366)]


def ties(plan: Plan) -> Iterator[Row]:
    """Ties on two layers with heavy-tailed degrees and community structure."""
    fmt = plan.participant_format
    dates = _date_table(plan.params.as_of)
    for chunk in range(_n_chunks(tie_count(plan))):
        t = tie_arrays(plan, chunk)
        columns = zip(
            [fmt % x for x in t["from"].tolist()],
            [fmt % x for x in t["to"].tolist()],
            _LAYER_NAMES[t["layer"]].tolist(),
            _TYPE_NAMES[t["type"]].tolist(),
            t["weight"].tolist(),
            t["directed"].tolist(),
            t["since"].tolist(),
            t["until"].tolist(),
            strict=True,
        )
        for a, b, layer, kind, weight, directed, since, until in columns:
            row = {"from": a, "to": b, "layer": layer, "type": kind, "weight": weight}
            if directed:
                row["directed"] = True
            if since >= 0:
                row["since"] = dates[since]
                if until >= 0:
                    row["until"] = dates[until]
            yield row


# -- exchanges -------------------------------------------------------------------------------

_TANGIBLE = ("goods", "service", "money", "contract")
_TANGIBLE_P = np.cumsum([0.25, 0.40, 0.25, 0.10])
_INTANGIBLE = ("knowledge", "benefit")
_VALUE_MEDIAN = np.log(np.array([5_000.0, 8_000.0, 20_000.0, 50_000.0]))
_PERIODS = ("once", "week", "month", "quarter", "year")
_PERIOD_P = np.array([0.25, 0.10, 0.30, 0.20, 0.15])
_MAX_FREQUENCY = np.array([1, 3, 4, 2, 4])
_PERCEIVED = np.arange(-2, 6)
_PERCEIVED_P = np.array([0.02, 0.03, 0.05, 0.15, 0.25, 0.25, 0.15, 0.10])
_ASSETS = ("financial", "human_competence", "internal_structure", "business_relationships")
_IMPACT_P = np.array([0.03, 0.07, 0.30, 0.40, 0.20])


def exchange_count(plan: Plan) -> int:
    return max(6, plan.n // 2)


def exchanges(plan: Plan) -> Iterator[Row]:
    """Value exchanges, mostly between roles of one cluster, some between participants."""
    p = plan.params
    total = exchange_count(plan)
    names = role_ids(plan)
    n_roles = len(names)
    community = _role_communities(plan)
    by_cluster = np.argsort(community, kind="stable")
    counts = np.bincount(community, minlength=plan.n_communities)
    starts = np.concatenate(([0], np.cumsum(counts)))
    fmt = plan.participant_format
    width = max(3, len(str(total)))
    for chunk in range(_n_chunks(total)):
        lo, hi = _span(total, chunk)
        n = hi - lo
        rng = stream(p.seed, EXCHANGES, chunk)
        # endpoints: 70% role to role (60% of those inside one cluster), else participants
        between_roles = (rng.random(n) < 0.7) | (plan.n < 2)
        ra = rng.integers(0, n_roles, n)
        c = community[ra]
        same = rng.random(n) < 0.6
        rb_same = by_cluster[starts[c] + (rng.random(n) * counts[c]).astype(np.int64)]
        rb = np.where(same, rb_same, rng.integers(0, n_roles, n))
        clash = rb == ra
        rb = np.where(clash, (ra + 1 + rng.integers(0, n_roles - 1, n)) % n_roles, rb)
        pa = plan.by_region.draw_all(rng, n)
        pb = plan.partners(rng, pa) if plan.n > 1 else pa
        # what flows
        tangible = rng.random(n) < 0.6
        t_type = np.searchsorted(_TANGIBLE_P[:-1], rng.random(n), side="right")
        i_type = (rng.random(n) < 0.4).astype(np.int64)
        deliverable = rng.integers(0, 1 << 30, n)
        value = np.exp(rng.normal(_VALUE_MEDIAN[t_type], 1.0))
        value = np.clip(np.round(value, -2), 100, 10_000_000).astype(np.int64)
        period = rng.choice(len(_PERIODS), n, p=_PERIOD_P)
        frequency = 1 + (rng.random(n) * _MAX_FREQUENCY[period]).astype(np.int64)
        perceived = rng.choice(_PERCEIVED, n, p=_PERCEIVED_P)
        has_perceived = ~tangible | (rng.random(n) < 0.3)
        perceived = np.where(has_perceived & tangible, np.maximum(perceived, 1), perceived)
        has_cost = tangible & (rng.random(n) < 0.4)
        cost = np.round(value * rng.uniform(0.3, 0.9, n), -1).astype(np.int64)
        has_impact = rng.random(n) < 0.35
        impact = rng.choice(5, (n, 4), p=_IMPACT_P) - 2
        impact_on = rng.random((n, 4)) < 0.6
        impact_on[:, 0] |= ~impact_on.any(axis=1)
        sequence = np.where(rng.random(n) < 0.2, rng.integers(1, 9, n), 0)
        columns = zip(
            range(lo, hi),
            between_roles.tolist(),
            ra.tolist(),
            rb.tolist(),
            pa.tolist(),
            pb.tolist(),
            tangible.tolist(),
            t_type.tolist(),
            i_type.tolist(),
            deliverable.tolist(),
            value.tolist(),
            period.tolist(),
            frequency.tolist(),
            np.where(has_perceived, perceived, -99).tolist(),
            np.where(has_cost, cost, -1).tolist(),
            np.where(has_impact[:, None] & impact_on, impact, -99).tolist(),
            sequence.tolist(),
            strict=True,
        )
        for (
            i,
            roles_,
            ra_,
            rb_,
            pa_,
            pb_,
            tang,
            tt,
            it,
            dl,
            val,
            per,
            fr,
            pv,
            co,
            im,
            seq,
        ) in columns:
            kind = _TANGIBLE[tt] if tang else _INTANGIBLE[it]
            options = DELIVERABLES[kind]
            row: Row = {
                "id": f"x{i + 1:0{width}d}",
                "from": names[ra_] if roles_ else fmt % pa_,
                "to": names[rb_] if roles_ else fmt % pb_,
                "deliverable": options[dl % len(options)],
                "kind": "tangible" if tang else "intangible",
                "type": kind,
            }
            if tang:
                row["value"] = val
                row["currency"] = "EUR"
            row["frequency"] = fr
            row["period"] = _PERIODS[per]
            if pv != -99:
                row["perceived_value"] = pv
            if co >= 0:
                row["cost"] = co
            if im[0] != -99 or im[1] != -99 or im[2] != -99 or im[3] != -99:
                row["impact"] = {asset: x for asset, x in zip(_ASSETS, im, strict=True) if x != -99}
            if seq:
                row["sequence"] = seq
            yield row


# -- opportunities ----------------------------------------------------------------------------


def opportunity_count(plan: Plan) -> int:
    return plan.n // 500 + 2


def held_levels(plan: Plan) -> I64:
    """``held[c, level]``: how many participants hold capability ``c`` at ``level`` or above."""
    held = np.zeros((len(CAP_NAMES), 6), dtype=np.int64)
    for chunk in range(_n_chunks(plan.n)):
        caps, levels = capabilities(plan, chunk)
        ok = caps >= 0
        np.add.at(held, (caps[ok], levels[ok]), 1)
    at_least: I64 = np.cumsum(held[:, ::-1], axis=1)[:, ::-1]
    return at_least


def opportunities(plan: Plan) -> Iterator[Row]:
    """Client opportunities whose needs are capabilities the ecosystem holds."""
    p = plan.params
    rng = stream(p.seed, OPPORTUNITIES)
    total = opportunity_count(plan)
    held = held_levels(plan)
    labels = dict(CAPABILITIES)
    orgs = np.flatnonzero(plan.is_org)
    pool = orgs if orgs.shape[0] else np.arange(plan.n)
    weight = np.cumsum(plan.activity[pool].astype(np.float64))
    pick = np.searchsorted(weight, rng.random(total) * weight[-1], side="right")
    clients = pool[np.minimum(pick, len(pool) - 1)]
    fmt = plan.participant_format
    width = max(3, len(str(total)))
    stage_names = [s for s, _ in STAGES]
    stage_p = np.array([share for _, share in STAGES])
    anywhere = [c for c in range(len(CAP_NAMES)) if held[c, 1] > 0]
    for i in range(total):
        client = int(clients[i])
        n_needs = int(rng.choice([1, 2, 3, 4], p=[0.3, 0.35, 0.25, 0.1]))
        profile: list[int] = []
        business, knowledge = int(plan.business[client]), int(plan.knowledge[client])
        for c in (business, plan.n_business + knowledge if knowledge >= 0 else -1):
            if c >= 0:
                profile += [int(x) for x in plan.profile[c, : plan.profile_len[c]]]
        local = [c for c in dict.fromkeys(profile) if held[c, 1] > 0]
        needs: list[Row] = []
        chosen: list[int] = []
        for _ in range(n_needs):
            source = local if local and rng.random() < 0.85 else anywhere
            options = [c for c in source if c not in chosen]
            if not options:
                break
            cap = options[int(rng.integers(len(options)))]
            chosen.append(cap)
            level = int(rng.choice([2, 3, 4, 5], p=[0.3, 0.35, 0.25, 0.1]))
            while level > 1 and held[cap, level] == 0:
                level -= 1
            count = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
            count = max(1, min(count, int(held[cap, level])))
            need: Row = {"capability": CAP_NAMES[cap]}
            if level > 1:
                need["level"] = level
            if count > 1:
                need["count"] = count
            needs.append(need)
        first = CAP_NAMES[chosen[0]] if chosen else "facilitation"
        budget = int(np.clip(round(float(np.exp(rng.normal(np.log(60_000), 0.9))), -3), 5_000, 5e6))
        start = p.as_of + dt.timedelta(days=int(rng.integers(0, 270)))
        end = start + dt.timedelta(days=int(rng.integers(30, 540)))
        row: Row = {
            "id": f"opp{i + 1:0{width}d}",
            "name": f"{labels[first]} {PROJECT_NOUNS[int(rng.integers(len(PROJECT_NOUNS)))]}",
            "client": fmt % client,
            "needs": needs,
            "region": plan.region_id(int(plan.region[client])),
            "budget": budget,
            "currency": "EUR",
        }
        if rng.random() < 0.25:
            capital = round(float(np.exp(rng.normal(np.log(250_000), 0.8))), -3)
            row["capital_needed"] = int(max(capital, 10_000))
        row["start"] = start
        row["end"] = end
        row["stage"] = stage_names[int(rng.choice(len(stage_names), p=stage_p))]
        yield row
