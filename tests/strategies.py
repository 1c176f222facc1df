"""Hypothesis strategies: valid ecosystems with every field in play."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from glia.model import Ecosystem

ids = st.from_regex(r"[a-z][a-z0-9-]{0,7}", fullmatch=True)
# Any text a person may type: no surrogates (not encodable), no NUL.
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
)
names = texts.filter(lambda s: s == s.strip() and s.strip() != "")
money = st.decimals(
    min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False
).map(lambda d: d.normalize() if d == d.to_integral_value() else d)
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    texts,
)
attributes = st.dictionaries(ids, scalars, max_size=3)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@st.composite
def ecosystems(draw: st.DrawFn, max_participants: int = 8) -> Ecosystem:
    """A valid ecosystem; every optional field appears in some draws."""
    cluster_ids = draw(st.lists(ids, unique=True, max_size=4))
    clusters = [
        _clean(
            {
                "id": c,
                "kind": draw(
                    st.sampled_from(["regional", "business", "knowledge", "capital", "guild"])
                ),
                "name": draw(_maybe(names)),
                "description": draw(_maybe(texts)),
                "attributes": draw(attributes),
            }
        )
        for c in cluster_ids
    ]
    people = draw(st.lists(ids, unique=True, min_size=2, max_size=max_participants))
    participants = [
        _clean(
            {
                "id": p,
                "name": draw(_maybe(names)),
                "kind": draw(st.sampled_from(["person", "organization"])),
                "region": draw(_maybe(ids)),
                "clusters": draw(st.lists(st.sampled_from(cluster_ids), unique=True))
                if cluster_ids
                else [],
                "capabilities": draw(
                    st.dictionaries(ids, st.integers(min_value=1, max_value=5), max_size=3)
                ),
                "capacity_hours_per_week": draw(
                    _maybe(st.floats(min_value=0, max_value=168, allow_nan=False))
                ),
                "rate_per_hour": draw(_maybe(money)),
                "capital_available": draw(_maybe(money)),
                "description": draw(_maybe(texts)),
                "attributes": draw(attributes),
            }
        )
        for p in people
    ]
    role_ids = draw(st.lists(ids.filter(lambda r: r not in people), unique=True, max_size=3))
    roles = [
        _clean(
            {
                "id": r,
                "name": draw(_maybe(names)),
                "played_by": draw(st.lists(st.sampled_from(people), unique=True, max_size=3)),
                "description": draw(_maybe(texts)),
                "attributes": draw(attributes),
            }
        )
        for r in role_ids
    ]
    ties = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        a, b = draw(st.lists(st.sampled_from(people), min_size=2, max_size=2, unique=True))
        since = draw(_maybe(dates))
        until = draw(_maybe(dates))
        if since and until and until < since:
            since, until = until, since
        ties.append(
            _clean(
                {
                    "from": a,
                    "to": b,
                    "layer": draw(st.sampled_from(["formal", "informal"])),
                    "type": draw(_maybe(st.sampled_from(["contract", "trust", "advice"]))),
                    "weight": draw(st.floats(min_value=0, max_value=1, allow_nan=False)),
                    "directed": draw(st.booleans()),
                    "since": since,
                    "until": until,
                    "attributes": draw(attributes),
                }
            )
        )
    endpoints = people + role_ids
    exchanges = []
    exchange_ids = draw(st.lists(ids, unique=True, max_size=6))
    for i in range(draw(st.integers(min_value=0, max_value=6))):
        a, b = draw(st.lists(st.sampled_from(endpoints), min_size=2, max_size=2, unique=True))
        kind = draw(st.sampled_from(["tangible", "intangible"]))
        types = (
            ["goods", "service", "money", "contract"]
            if kind == "tangible"
            else [
                "knowledge",
                "benefit",
            ]
        )
        impact = draw(
            _maybe(
                st.fixed_dictionaries(
                    {},
                    optional={
                        k: st.integers(min_value=-2, max_value=2)
                        for k in (
                            "financial",
                            "human_competence",
                            "internal_structure",
                            "business_relationships",
                        )
                    },
                ).filter(bool)
            )
        )
        exchanges.append(
            _clean(
                {
                    "id": exchange_ids[i] if i < len(exchange_ids) else None,
                    "from": a,
                    "to": b,
                    "deliverable": draw(names),
                    "kind": kind,
                    "type": draw(_maybe(st.sampled_from(types))),
                    "value": draw(_maybe(money)),
                    "currency": draw(_maybe(st.sampled_from(["EUR", "USD"]))),
                    "frequency": draw(st.floats(min_value=0.01, max_value=1000, allow_nan=False)),
                    "period": draw(_maybe(st.sampled_from(["once", "month", "year"]))),
                    "perceived_value": draw(_maybe(st.integers(min_value=-5, max_value=5))),
                    "cost": draw(_maybe(money)),
                    "impact": impact,
                    "sequence": draw(_maybe(st.integers(min_value=1, max_value=99))),
                    "description": draw(_maybe(texts)),
                    "attributes": draw(attributes),
                }
            )
        )
    opportunities = []
    for o in draw(st.lists(ids, unique=True, max_size=3)):
        start = draw(_maybe(dates))
        end = draw(_maybe(dates))
        if start and end and end < start:
            start, end = end, start
        opportunities.append(
            _clean(
                {
                    "id": o,
                    "name": draw(_maybe(names)),
                    "client": draw(st.sampled_from(people)),
                    "needs": draw(
                        st.lists(
                            st.fixed_dictionaries(
                                {
                                    "capability": ids,
                                    "level": st.integers(min_value=1, max_value=5),
                                    "count": st.integers(min_value=1, max_value=4),
                                }
                            ),
                            max_size=3,
                        )
                    ),
                    "region": draw(_maybe(ids)),
                    "budget": draw(_maybe(money)),
                    "capital_needed": draw(_maybe(money)),
                    "currency": draw(_maybe(st.sampled_from(["EUR", "GBP"]))),
                    "start": start,
                    "end": end,
                    "stage": draw(_maybe(st.sampled_from(["lead", "proposal", "won"]))),
                    "description": draw(_maybe(texts)),
                    "attributes": draw(attributes),
                }
            )
        )
    return Ecosystem.model_validate(
        _clean(
            {
                "glia": 1,
                "ecosystem": draw(names),
                "description": draw(_maybe(texts)),
                "currency": draw(_maybe(st.sampled_from(["EUR", "USD"]))),
                "attributes": draw(attributes),
                "clusters": clusters,
                "participants": participants,
                "roles": roles,
                "ties": ties,
                "exchanges": exchanges,
                "opportunities": opportunities,
            }
        )
    )
