"""Reading ecosystems back: the whole record set, summaries, the list."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Integer, cast, func, select

from ..model import Ecosystem
from ._tables import (
    ENDPOINT_KINDS,
    EXCHANGE_KINDS,
    LAYERS,
    PARTICIPANT_KINDS,
    capability,
    cluster,
    ecosystem,
    exchange,
    membership,
    need,
    opportunity,
    participant,
    participant_capability,
    role,
    role_player,
    tie,
    tie_type,
)

__all__ = ["EcosystemInfo", "Summary", "list_ecosystems", "load_ecosystem", "summarize"]


@dataclass(frozen=True)
class EcosystemInfo:
    """One line of ``glia list``."""

    id: int
    name: str
    counts: dict[str, int]
    source: str | None
    updated_at: Any


@dataclass(frozen=True)
class Summary:
    """What ``glia show`` prints: counts by kind, clusters, layers, exchanges."""

    info: EcosystemInfo
    description: str | None
    participants_by_kind: dict[str, int]
    clusters: list[dict[str, Any]] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    capabilities: list[dict[str, Any]] = field(default_factory=list)


class UnknownEcosystem(LookupError):
    """No ecosystem of that name in the database."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        hint = f"; known: {', '.join(known)}" if known else "; the database has none yet"
        super().__init__(f"no ecosystem named '{name}'{hint}")


def list_ecosystems(conn: Connection) -> list[EcosystemInfo]:
    rows = conn.execute(
        select(
            ecosystem.c.id,
            ecosystem.c.name,
            ecosystem.c.counts,
            ecosystem.c.source,
            ecosystem.c.updated_at,
        ).order_by(ecosystem.c.name)
    )
    return [EcosystemInfo(r.id, r.name, dict(r.counts), r.source, r.updated_at) for r in rows]


def _info(conn: Connection, name: str) -> tuple[EcosystemInfo, Any]:
    row = conn.execute(select(ecosystem).where(ecosystem.c.name == name)).one_or_none()
    if row is None:
        raise UnknownEcosystem(name, [e.name for e in list_ecosystems(conn)])
    return EcosystemInfo(row.id, row.name, dict(row.counts), row.source, row.updated_at), row


def ecosystem_id(conn: Connection, name: str) -> int:
    return _info(conn, name)[0].id


def _attrs(value: Any) -> dict[str, Any]:
    return dict(value) if value else {}


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != {}}


def load_ecosystem(conn: Connection, name: str) -> Ecosystem:
    """The whole ecosystem as records (validated again on the way out)."""
    info, head = _info(conn, name)
    eco = info.id

    def rows(table: Any, *order: Any) -> Any:
        return conn.execute(select(table).where(table.c.ecosystem_id == eco).order_by(*order))

    cluster_slug: dict[int, str] = {}
    clusters = []
    for r in rows(cluster, cluster.c.idx):
        cluster_slug[r.idx] = r.slug
        clusters.append(
            _drop_none(
                {
                    "id": r.slug,
                    "name": r.name,
                    "kind": r.kind,
                    "description": r.description,
                    "attributes": _attrs(r.attributes),
                }
            )
        )
    caps = {r.idx: r.name for r in rows(capability, capability.c.idx)}
    member_of: dict[int, list[str]] = defaultdict(list)
    for r in rows(membership, membership.c.participant_idx, membership.c.position):
        member_of[r.participant_idx].append(cluster_slug[r.cluster_idx])
    held: dict[int, dict[str, int]] = defaultdict(dict)
    for r in rows(participant_capability, participant_capability.c.participant_idx):
        held[r.participant_idx][caps[r.capability_idx]] = r.level
    who: dict[int, str] = {}
    participants = []
    for r in rows(participant, participant.c.idx):
        who[r.idx] = r.slug
        participants.append(
            _drop_none(
                {
                    "id": r.slug,
                    "name": r.name,
                    "kind": PARTICIPANT_KINDS[r.kind],
                    "region": r.region,
                    "clusters": member_of.get(r.idx),
                    "capabilities": held.get(r.idx),
                    "capacity_hours_per_week": r.capacity_hours_per_week,
                    "rate_per_hour": r.rate_per_hour,
                    "capital_available": r.capital_available,
                    "description": r.description,
                    "attributes": _attrs(r.attributes),
                }
            )
        )
    players: dict[int, list[str]] = defaultdict(list)
    for r in rows(role_player, role_player.c.role_idx, role_player.c.position):
        players[r.role_idx].append(who[r.participant_idx])
    role_slug: dict[int, str] = {}
    roles = []
    for r in rows(role, role.c.idx):
        role_slug[r.idx] = r.slug
        roles.append(
            _drop_none(
                {
                    "id": r.slug,
                    "name": r.name,
                    "played_by": players.get(r.idx),
                    "description": r.description,
                    "attributes": _attrs(r.attributes),
                }
            )
        )
    types = {r.idx: r.name for r in rows(tie_type, tie_type.c.idx)}
    ties = [
        _drop_none(
            {
                "from": who[r.source_idx],
                "to": who[r.target_idx],
                "layer": LAYERS[r.layer],
                "type": types.get(r.type_idx) if r.type_idx is not None else None,
                "weight": r.weight,
                "directed": r.directed,
                "since": r.since,
                "until": r.until,
                "attributes": _attrs(r.attributes),
            }
        )
        for r in rows(tie, tie.c.idx)
    ]
    endpoint = {"participant": who, "role": role_slug}
    exchanges = []
    for r in rows(exchange, exchange.c.idx):
        impact = _drop_none(
            {
                "financial": r.impact_financial,
                "human_competence": r.impact_human_competence,
                "internal_structure": r.impact_internal_structure,
                "business_relationships": r.impact_business_relationships,
            }
        )
        exchanges.append(
            _drop_none(
                {
                    "id": r.slug,
                    "from": endpoint[ENDPOINT_KINDS[r.source_kind]][r.source_idx],
                    "to": endpoint[ENDPOINT_KINDS[r.target_kind]][r.target_idx],
                    "deliverable": r.deliverable,
                    "kind": EXCHANGE_KINDS[r.kind],
                    "type": r.type,
                    "value": r.value,
                    "currency": r.currency,
                    "frequency": r.frequency,
                    "period": r.period,
                    "perceived_value": r.perceived_value,
                    "cost": r.cost,
                    "impact": impact or None,
                    "sequence": r.sequence,
                    "description": r.description,
                    "attributes": _attrs(r.attributes),
                }
            )
        )
    needs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows(need, need.c.opportunity_idx, need.c.position):
        needs[r.opportunity_idx].append(
            {"capability": caps[r.capability_idx], "level": r.level, "count": r.count}
        )
    opportunities = [
        _drop_none(
            {
                "id": r.slug,
                "name": r.name,
                "client": who[r.client_idx],
                "needs": needs.get(r.idx),
                "region": r.region,
                "budget": r.budget,
                "capital_needed": r.capital_needed,
                "currency": r.currency,
                "start": r.start_date,
                "end": r.end_date,
                "stage": r.stage,
                "description": r.description,
                "attributes": _attrs(r.attributes),
            }
        )
        for r in rows(opportunity, opportunity.c.idx)
    ]
    return Ecosystem.model_validate(
        _drop_none(
            {
                "glia": 1,
                "ecosystem": head.name,
                "description": head.description,
                "currency": head.currency,
                "attributes": _attrs(head.attributes),
                "clusters": clusters,
                "participants": participants,
                "roles": roles,
                "ties": ties,
                "exchanges": exchanges,
                "opportunities": opportunities,
            }
        )
    )


def summarize(conn: Connection, name: str) -> Summary:
    """Counts by kind, clusters with their members, layers by type, exchanges by kind."""
    info, head = _info(conn, name)
    eco = info.id
    by_kind = {
        PARTICIPANT_KINDS[k]: n
        for k, n in conn.execute(
            select(participant.c.kind, func.count())
            .where(participant.c.ecosystem_id == eco)
            .group_by(participant.c.kind)
        )
    }
    members = (
        select(membership.c.cluster_idx, func.count().label("members"))
        .where(membership.c.ecosystem_id == eco)
        .group_by(membership.c.cluster_idx)
        .subquery()
    )
    clusters = [
        {"id": r.slug, "name": r.name, "kind": r.kind, "members": r.members or 0}
        for r in conn.execute(
            select(cluster.c.slug, cluster.c.name, cluster.c.kind, members.c.members)
            .outerjoin(members, members.c.cluster_idx == cluster.c.idx)
            .where(cluster.c.ecosystem_id == eco)
            .order_by(cluster.c.kind, cluster.c.slug)
        )
    ]
    type_names = {
        r.idx: r.name
        for r in conn.execute(
            select(tie_type.c.idx, tie_type.c.name).where(tie_type.c.ecosystem_id == eco)
        )
    }
    layers = [
        {
            "layer": LAYERS[r.layer],
            "type": type_names.get(r.type_idx, "-") if r.type_idx is not None else "-",
            "ties": r.n,
            "directed": r.directed or 0,
            "mean_weight": float(r.mean_weight or 0.0),
        }
        for r in conn.execute(
            select(
                tie.c.layer,
                tie.c.type_idx,
                func.count().label("n"),
                func.sum(cast(tie.c.directed, Integer)).label("directed"),
                func.avg(tie.c.weight).label("mean_weight"),
            )
            .where(tie.c.ecosystem_id == eco)
            .group_by(tie.c.layer, tie.c.type_idx)
            .order_by(tie.c.layer, func.count().desc())
        )
    ]
    exchanges = [
        {"kind": EXCHANGE_KINDS[r.kind], "type": r.type or "-", "exchanges": r.n}
        for r in conn.execute(
            select(exchange.c.kind, exchange.c.type, func.count().label("n"))
            .where(exchange.c.ecosystem_id == eco)
            .group_by(exchange.c.kind, exchange.c.type)
            .order_by(exchange.c.kind, exchange.c.type)
        )
    ]
    capabilities = [
        {"capability": r.name, "holders": r.n, "max_level": r.top}
        for r in conn.execute(
            select(
                capability.c.name,
                func.count().label("n"),
                func.max(participant_capability.c.level).label("top"),
            )
            .join(
                participant_capability,
                (participant_capability.c.ecosystem_id == capability.c.ecosystem_id)
                & (participant_capability.c.capability_idx == capability.c.idx),
            )
            .where(capability.c.ecosystem_id == eco)
            .group_by(capability.c.name)
            .order_by(func.count().desc(), capability.c.name)
            .limit(15)
        )
    ]
    return Summary(info, head.description, by_kind, clusters, layers, exchanges, capabilities)
