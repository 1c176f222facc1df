"""The engagement in the store: pipeline, agreements, commitments, conversations, the loop.

Each function runs inside the caller's transaction and either does all it says
or raises :class:`~glia.engage.Refused` (or
:class:`~glia.store.UnknownEcosystem`) before writing anything, so a refusal
changes nothing. The rules themselves live in :mod:`glia.engage`; this module
reads the facts they need, and writes the state and the events.

Opportunities and participants are named by their ids, as in the ledger, so
the engagement outlives re-imports of the map; the stage is kept in the
opportunity's row and restored from the pipeline's history after a re-import.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ..engage import (
    ACTIVE,
    TEMPLATES,
    Agreement,
    Commitment,
    Facts,
    Flow,
    Refused,
    advance,
    apply,
    create,
    kept_pairs,
    next_messages,
    next_stages,
    perceived_value,
    planned_against_actual,
    stage_of,
    step,
    strengthen,
)
from ..model import Opportunity
from ._equations import EquationError, add_equation, equations
from ._equations import consent as consent_equation
from ._reader import ecosystem_id
from ._tables import (
    ENDPOINT_KINDS,
    EXCHANGE_KINDS,
    LAYERS,
    agreement,
    agreement_consent,
    capability,
    commitment,
    commitment_event,
    conversation,
    conversation_message,
    exchange,
    ledger_event,
    loop_change,
    need,
    opportunity,
    participant,
    pipeline_event,
    satisfaction,
    team_member,
    tie,
    tie_type,
)

__all__ = [
    "OpportunityState",
    "StoredAgreement",
    "Transition",
    "advance_opportunity",
    "close_loop",
    "commitments",
    "committed_hours",
    "consent_agreement",
    "create_commitment",
    "create_opportunity",
    "draft_agreement",
    "operate",
    "opportunity_state",
    "owes",
    "record_satisfaction",
    "restore_stages",
    "send_message",
    "start_conversation",
    "sweep",
]

#: The tie type that kept commitments strengthen (informal layer).
COLLABORATION = "collaboration"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _who(actor: str) -> str:
    if not actor or not actor.strip():
        raise Refused("who does it (--by) is required")
    return actor.strip()


def _participants(
    conn: Connection, eco: int, ids: Sequence[str], strict: bool = True
) -> dict[str, int]:
    """Dense keys of ``ids``; refuses naming every id that is not a participant,
    or with ``strict=False`` leaves them out (the loop skips people a re-import
    removed from the map)."""
    wanted = sorted(set(ids))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(participant.c.slug, participant.c.idx).where(
                participant.c.ecosystem_id == eco,
                participant.c.slug.in_(wanted[start : start + 500]),
            )
        )
        found.update({r.slug: r.idx for r in rows})
    missing = [w for w in wanted if w not in found]
    if missing and strict:
        raise Refused(f"not participants of the ecosystem: {', '.join(missing)}")
    return found


# -- opportunities and their pipeline -------------------------------------------------
@dataclass(frozen=True)
class Transition:
    """One step of an opportunity's pipeline, as recorded."""

    source: str
    target: str
    actor: str
    why: str | None
    at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "by": self.actor,
            "why": self.why,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True)
class OpportunityState:
    """Where an opportunity stands: stage, what the guards see, its team, its history."""

    id: str
    name: str | None
    client: str
    stage: str
    stored_stage: str | None
    budget: Decimal | None
    currency: str | None
    facts: Facts
    team: dict[str, str | None]
    history: list[Transition]
    next: list[str]
    satisfaction: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "client": self.client,
            "stage": self.stage,
            "budget": None if self.budget is None else str(self.budget),
            "currency": self.currency,
            "team": self.team,
            "agreement_version": self.facts.agreement_version,
            "waiting_for": None if self.facts.waiting_for is None else list(self.facts.waiting_for),
            "income": str(self.facts.income),
            "satisfaction": self.satisfaction,
            "next": self.next,
            "history": [t.to_json() for t in self.history],
        }


def _opportunity_row(conn: Connection, eco: int, opp: str) -> Any:
    row = conn.execute(
        select(
            opportunity.c.idx,
            opportunity.c.slug,
            opportunity.c.name,
            opportunity.c.stage,
            opportunity.c.budget,
            opportunity.c.currency,
            participant.c.slug.label("client"),
        )
        .join(
            participant,
            (participant.c.ecosystem_id == opportunity.c.ecosystem_id)
            & (participant.c.idx == opportunity.c.client_idx),
        )
        .where(opportunity.c.ecosystem_id == eco, opportunity.c.slug == opp)
    ).one_or_none()
    if row is None:
        raise Refused(f"no opportunity {opp!r} in this ecosystem")
    return row


def create_opportunity(
    conn: Connection, name: str, record: Opportunity, actor: str, why: str | None = None
) -> OpportunityState:
    """Add a new opportunity to the map, at ``lead``, and record its first event."""
    actor = _who(actor)
    eco = ecosystem_id(conn, name)
    exists = conn.execute(
        select(opportunity.c.idx).where(
            opportunity.c.ecosystem_id == eco, opportunity.c.slug == record.id
        )
    ).first()
    if exists is not None:
        raise Refused(f"opportunity {record.id!r} already exists")
    if record.stage not in (None, "lead"):
        raise Refused(f"a new opportunity starts at lead, not {record.stage}")
    who = _participants(conn, eco, [record.client])
    idx = conn.execute(
        select(func.coalesce(func.max(opportunity.c.idx) + 1, 0)).where(
            opportunity.c.ecosystem_id == eco
        )
    ).scalar_one()
    caps = {
        r.name: r.idx
        for r in conn.execute(
            select(capability.c.name, capability.c.idx).where(capability.c.ecosystem_id == eco)
        )
    }
    for n in record.needs:
        if n.capability not in caps:
            caps[n.capability] = len(caps)
            conn.execute(
                insert(capability).values(
                    ecosystem_id=eco, idx=caps[n.capability], name=n.capability
                )
            )
    conn.execute(
        insert(opportunity).values(
            ecosystem_id=eco,
            idx=idx,
            slug=record.id,
            name=record.name,
            client_idx=who[record.client],
            region=record.region,
            budget=record.budget,
            capital_needed=record.capital_needed,
            currency=record.currency,
            start_date=record.start,
            end_date=record.end,
            stage="lead",
            description=record.description,
            attributes=record.attributes or None,
        )
    )
    for pos, n in enumerate(record.needs):
        conn.execute(
            insert(need).values(
                ecosystem_id=eco,
                opportunity_idx=idx,
                position=pos,
                capability_idx=caps[n.capability],
                level=n.level,
                count=n.count,
            )
        )
    _record_transition(conn, eco, record.id, "", "lead", actor, why or "created", _now())
    return opportunity_state(conn, name, record.id)


def _record_transition(
    conn: Connection,
    eco: int,
    opp: str,
    source: str,
    target: str,
    actor: str,
    why: str | None,
    at: dt.datetime,
) -> None:
    conn.execute(
        insert(pipeline_event).values(
            ecosystem_id=eco,
            opportunity=opp,
            source=source,
            target=target,
            actor=actor,
            why=why,
            at=at,
        )
    )


def _latest_agreement(conn: Connection, eco: int, opp: str) -> Any:
    return conn.execute(
        select(agreement)
        .where(agreement.c.ecosystem_id == eco, agreement.c.opportunity == opp)
        .order_by(agreement.c.version.desc())
        .limit(1)
    ).one_or_none()


def _consents(conn: Connection, agreement_id: int) -> dict[str, dt.datetime]:
    return {
        r.party: _aware(r.consented_at)
        for r in conn.execute(
            select(agreement_consent.c.party, agreement_consent.c.consented_at).where(
                agreement_consent.c.agreement_id == agreement_id
            )
        )
    }


def _income(conn: Connection, eco: int, opp: str) -> Decimal:
    values = conn.execute(
        select(ledger_event.c.value).where(
            ledger_event.c.ecosystem_id == eco,
            ledger_event.c.opportunity == opp,
            ledger_event.c.action == "income",
        )
    ).scalars()
    return sum((Decimal(v) for v in values if v is not None), Decimal(0))


def _satisfaction(conn: Connection, eco: int, opp: str) -> int | None:
    return conn.execute(
        select(satisfaction.c.score)
        .where(satisfaction.c.ecosystem_id == eco, satisfaction.c.opportunity == opp)
        .order_by(satisfaction.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _facts(conn: Connection, eco: int, opp: str) -> Facts:
    latest = _latest_agreement(conn, eco, opp)
    waiting: tuple[str, ...] | None = None
    version = None
    if latest is not None:
        parties = Agreement.model_validate(latest.body).parties
        given = _consents(conn, latest.id)
        waiting = tuple(p for p in parties if p not in given)
        version = latest.version
    return Facts(
        waiting_for=waiting,
        income=_income(conn, eco, opp),
        satisfaction=_satisfaction(conn, eco, opp) is not None,
        agreement_version=version,
    )


def _team(conn: Connection, eco: int, opp: str) -> dict[str, str | None]:
    rows = conn.execute(
        select(team_member.c.participant, team_member.c.role)
        .where(team_member.c.ecosystem_id == eco, team_member.c.opportunity == opp)
        .order_by(team_member.c.participant)
    )
    return {r.participant: r.role for r in rows}


def opportunity_state(conn: Connection, name: str, opp: str) -> OpportunityState:
    """The opportunity's stage, guards' facts, team and pipeline history."""
    eco = ecosystem_id(conn, name)
    row = _opportunity_row(conn, eco, opp)
    history = [
        Transition(r.source, r.target, r.actor, r.why, _aware(r.at))
        for r in conn.execute(
            select(pipeline_event)
            .where(pipeline_event.c.ecosystem_id == eco, pipeline_event.c.opportunity == opp)
            .order_by(pipeline_event.c.id)
        )
    ]
    stage = stage_of(row.stage)
    return OpportunityState(
        id=row.slug,
        name=row.name,
        client=row.client,
        stage=stage,
        stored_stage=row.stage,
        budget=None if row.budget is None else Decimal(row.budget),
        currency=row.currency,
        facts=_facts(conn, eco, opp),
        team=_team(conn, eco, opp),
        history=history,
        next=next_stages(stage),
        satisfaction=_satisfaction(conn, eco, opp),
    )


def opportunity_stages(conn: Connection, name: str) -> list[tuple[str, str | None, str]]:
    """Every opportunity of the ecosystem: (id, name, pipeline stage), by id."""
    eco = ecosystem_id(conn, name)
    rows = conn.execute(
        select(opportunity.c.slug, opportunity.c.name, opportunity.c.stage)
        .where(opportunity.c.ecosystem_id == eco)
        .order_by(opportunity.c.slug)
    )
    return [(r.slug, r.name, stage_of(r.stage)) for r in rows]


def advance_opportunity(
    conn: Connection,
    name: str,
    opp: str,
    target: str,
    actor: str,
    why: str | None = None,
    at: dt.datetime | None = None,
) -> OpportunityState:
    """Move the opportunity to ``target`` if its guard allows; record who, when, why.

    Reaching ``agreed`` turns the agreement's promises into commitments;
    reaching ``reviewed`` closes the loop (:func:`close_loop`).
    """
    actor = _who(actor)
    eco = ecosystem_id(conn, name)
    row = _opportunity_row(conn, eco, opp)
    facts = _facts(conn, eco, opp)
    source = stage_of(row.stage)
    new = advance(opp, source, target, facts)
    when = at or _now()
    conn.execute(
        update(opportunity)
        .where(opportunity.c.ecosystem_id == eco, opportunity.c.idx == row.idx)
        .values(stage=new)
    )
    _record_transition(conn, eco, opp, source, new, actor, why, when)
    if new == "agreed":
        latest = _latest_agreement(conn, eco, opp)
        _commit_promises(conn, eco, opp, latest, actor, when)
    if new == "reviewed":
        close_loop(conn, name, opp, when)
    return opportunity_state(conn, name, opp)


def restore_stages(conn: Connection, eco: int) -> int:
    """After a re-import of the map, put back each opportunity's stage from its
    pipeline history (the engagement outlives the file). Returns how many changed."""
    last = (
        select(pipeline_event.c.opportunity, func.max(pipeline_event.c.id).label("id"))
        .where(pipeline_event.c.ecosystem_id == eco)
        .group_by(pipeline_event.c.opportunity)
        .subquery()
    )
    rows = conn.execute(
        select(pipeline_event.c.opportunity, pipeline_event.c.target).join(
            last, last.c.id == pipeline_event.c.id
        )
    ).all()
    changed = 0
    for r in rows:
        result = conn.execute(
            update(opportunity)
            .where(
                opportunity.c.ecosystem_id == eco,
                opportunity.c.slug == r.opportunity,
                opportunity.c.stage.is_distinct_from(r.target),
            )
            .values(stage=r.target)
        )
        changed += result.rowcount or 0
    return changed


# -- the team ---------------------------------------------------------------------------
def pick_team(
    conn: Connection,
    name: str,
    opp: str,
    members: Mapping[str, str | None],
    actor: str,
) -> dict[str, str | None]:
    """Set the swarm picked for the opportunity (members and their roles)."""
    actor = _who(actor)
    eco = ecosystem_id(conn, name)
    row = _opportunity_row(conn, eco, opp)
    stage = stage_of(row.stage)
    if stage not in ("lead", "qualified", "swarming"):
        raise Refused(
            f"{opp} is {stage}: its team is set by its agreement now (glia agreement draft)"
        )
    if not members:
        raise Refused("a team needs at least one member")
    if row.client in members:
        raise Refused(f"the client {row.client} cannot be in the team")
    _participants(conn, eco, list(members))
    _write_team(conn, eco, opp, members, actor)
    return _team(conn, eco, opp)


def _write_team(
    conn: Connection, eco: int, opp: str, members: Mapping[str, str | None], actor: str
) -> None:
    conn.execute(
        delete(team_member).where(
            team_member.c.ecosystem_id == eco, team_member.c.opportunity == opp
        )
    )
    when = _now()
    for who, role in sorted(members.items()):
        conn.execute(
            insert(team_member).values(
                ecosystem_id=eco,
                opportunity=opp,
                participant=who,
                role=role,
                picked_by=actor,
                picked_at=when,
            )
        )


# -- agreements -----------------------------------------------------------------------
@dataclass(frozen=True)
class StoredAgreement:
    """One version of an opportunity's agreement, with the consents given to it."""

    opportunity: str
    version: int
    agreement: Agreement
    consents: dict[str, dt.datetime]
    equation_version: int | None
    drafted_by: str
    drafted_at: dt.datetime

    @property
    def waiting_for(self) -> list[str]:
        return [p for p in self.agreement.parties if p not in self.consents]

    def to_json(self) -> dict[str, Any]:
        return {
            "opportunity": self.opportunity,
            "version": self.version,
            "parties": list(self.agreement.parties),
            "consents": {p: t.isoformat() for p, t in sorted(self.consents.items())},
            "waiting_for": self.waiting_for,
            "equation_version": self.equation_version,
            "drafted_by": self.drafted_by,
            "drafted_at": self.drafted_at.isoformat(),
            "agreement": self.agreement.body(),
        }


def agreements(conn: Connection, name: str, opp: str) -> list[StoredAgreement]:
    """Every version of the opportunity's agreement, oldest first."""
    eco = ecosystem_id(conn, name)
    _opportunity_row(conn, eco, opp)
    rows = conn.execute(
        select(agreement)
        .where(agreement.c.ecosystem_id == eco, agreement.c.opportunity == opp)
        .order_by(agreement.c.version)
    ).all()
    eqs = {e.equation.version: e.equation for e in equations(conn, name, "opportunity", opp)}
    out = []
    for r in rows:
        body = dict(r.body)
        if r.equation_version is not None and r.equation_version in eqs:
            eq = eqs[r.equation_version]
            body["equation"] = eq.model_dump(mode="json", exclude={"version", "consents"})
        out.append(
            StoredAgreement(
                opp,
                r.version,
                Agreement.model_validate(body),
                _consents(conn, r.id),
                r.equation_version,
                r.drafted_by,
                _aware(r.drafted_at),
            )
        )
    return out


def draft_agreement(
    conn: Connection, name: str, opp: str, draft: Agreement, actor: str
) -> StoredAgreement:
    """Record the next version of the opportunity's agreement.

    Its parties must be participants and its client the opportunity's client.
    Its value equation, if it has one, is stored as the opportunity's next
    equation version, with every party of the agreement among the equation's
    parties; without one, the new version keeps the equation of the last.
    The team of the opportunity becomes the agreement's swarm.
    """
    actor = _who(actor)
    eco = ecosystem_id(conn, name)
    row = _opportunity_row(conn, eco, opp)
    stage = stage_of(row.stage)
    if stage in ("paid", "reviewed", "lost", "cancelled"):
        raise Refused(f"{opp} is {stage}: its agreement can no longer change")
    if draft.client != row.client:
        raise Refused(f"the client of {opp} is {row.client}, not {draft.client}")
    _participants(conn, eco, list(draft.parties))
    latest = _latest_agreement(conn, eco, opp)
    version = 1 if latest is None else latest.version + 1
    equation_version = None if latest is None else latest.equation_version
    if draft.equation is not None:
        eq = draft.equation.model_copy(
            update={
                "parties": tuple(dict.fromkeys((*draft.equation.parties, *draft.parties))),
                "consents": {},
            }
        )
        try:
            stored = add_equation(conn, name, "opportunity", opp, eq, actor)
        except EquationError as exc:
            raise Refused(f"the agreement's equation: {exc}") from None
        equation_version = stored.equation.version
    when = _now()
    conn.execute(
        insert(agreement).values(
            ecosystem_id=eco,
            opportunity=opp,
            version=version,
            body=draft.body(),
            equation_version=equation_version,
            drafted_by=actor,
            drafted_at=when,
        )
    )
    _write_team(conn, eco, opp, {m: draft.roles.get(m) for m in draft.swarm}, actor)
    return agreements(conn, name, opp)[-1]


def consent_agreement(
    conn: Connection,
    name: str,
    opp: str,
    party: str,
    actor: str | None = None,
    version: int | None = None,
    at: dt.datetime | None = None,
) -> StoredAgreement:
    """Record ``party``'s consent to a version of the agreement (default: the latest),
    and to its value equation.

    Refused when ``party`` is not a party of that version, or already consented.
    When the consent completes a renegotiated version of an opportunity already
    agreed, the commitments of the earlier version still open are released and
    the new version's promises become commitments.
    """
    party = _who(party)
    actor = _who(actor or party)
    eco = ecosystem_id(conn, name)
    row = _opportunity_row(conn, eco, opp)
    versions = agreements(conn, name, opp)
    if not versions:
        raise Refused(f"{opp} has no agreement to consent to: draft one first")
    chosen = (
        versions[-1]
        if version is None
        else next((v for v in versions if v.version == version), None)
    )
    if chosen is None:
        known = ", ".join(str(v.version) for v in versions)
        raise Refused(f"no version {version} of the agreement for {opp}: versions {known}")
    if chosen.version != versions[-1].version:
        raise Refused(
            f"version {chosen.version} of the agreement for {opp} was renegotiated; "
            f"consent goes to the latest, version {versions[-1].version}"
        )
    parties = chosen.agreement.parties
    if party not in parties:
        raise Refused(
            f"{party} is not a party to version {chosen.version} of the agreement for {opp} "
            f"(parties: {', '.join(parties)})"
        )
    if party in chosen.consents:
        raise Refused(
            f"{party} already consented to version {chosen.version} of the agreement for {opp} "
            f"(at {chosen.consents[party].isoformat()})"
        )
    when = at or _now()
    agreement_id = conn.execute(
        select(agreement.c.id).where(
            agreement.c.ecosystem_id == eco,
            agreement.c.opportunity == opp,
            agreement.c.version == chosen.version,
        )
    ).scalar_one()
    conn.execute(
        insert(agreement_consent).values(
            agreement_id=agreement_id, party=party, consented_at=when, recorded_by=actor
        )
    )
    if chosen.equation_version is not None:
        eq = next(
            e
            for e in equations(conn, name, "opportunity", opp)
            if e.equation.version == chosen.equation_version
        )
        if party not in eq.equation.consents:
            consent_equation(
                conn, name, "opportunity", opp, party, actor, when.date(), chosen.equation_version
            )
    done = agreements(conn, name, opp)[-1]
    stage = stage_of(row.stage)
    if not done.waiting_for and stage in ("agreed", "delivering", "delivered", "accepted"):
        latest = _latest_agreement(conn, eco, opp)
        _commit_promises(conn, eco, opp, latest, actor, when)
    return done


# -- commitments ------------------------------------------------------------------------
def _commitment(r: Any) -> Commitment:
    return Commitment(
        number=r.number,
        debtor=r.debtor,
        creditor=r.creditor,
        antecedent=r.antecedent,
        consequent=r.consequent,
        state=r.state,
        due=r.due,
        opportunity=r.opportunity,
        hours_per_week=float(r.hours_per_week),
        value=None if r.value is None else Decimal(r.value),
        currency=r.currency,
        agreement_version=r.agreement_version,
    )


def _next_number(conn: Connection, eco: int, table: Any) -> int:
    return int(
        conn.execute(
            select(func.coalesce(func.max(table.c.number), 0) + 1).where(
                table.c.ecosystem_id == eco
            )
        ).scalar_one()
    )


def _insert_commitment(
    conn: Connection, eco: int, c: Commitment, actor: str, when: dt.datetime, note: str | None
) -> Commitment:
    row_id = conn.execute(
        insert(commitment)
        .values(
            ecosystem_id=eco,
            number=c.number,
            opportunity=c.opportunity,
            agreement_version=c.agreement_version,
            debtor=c.debtor,
            creditor=c.creditor,
            antecedent=c.antecedent,
            consequent=c.consequent,
            due=c.due,
            state=c.state,
            hours_per_week=c.hours_per_week,
            value=c.value,
            currency=c.currency,
            created_by=actor,
            created_at=when,
        )
        .returning(commitment.c.id)
    ).scalar_one()
    _commitment_event(conn, row_id, "create", actor, None, c.state, None, note, when)
    return c


def create_commitment(
    conn: Connection,
    name: str,
    debtor: str,
    creditor: str,
    consequent: str,
    actor: str | None = None,
    antecedent: str = "true",
    due: dt.date | None = None,
    opportunity_id: str | None = None,
    hours_per_week: float = 0.0,
    value: Decimal | None = None,
    currency: str | None = None,
    note: str | None = None,
) -> Commitment:
    """Record a new commitment made by ``debtor`` (the one who promises)."""
    actor = _who(actor or debtor)
    if actor != debtor:
        raise Refused(f"a commitment is made by its debtor, {debtor}, not {actor}")
    eco = ecosystem_id(conn, name)
    _participants(conn, eco, [debtor, creditor])
    if opportunity_id is not None:
        _opportunity_row(conn, eco, opportunity_id)
    c = create(
        _next_number(conn, eco, commitment),
        debtor,
        creditor,
        antecedent,
        consequent,
        due=due,
        opportunity=opportunity_id,
        hours_per_week=float(hours_per_week),
        value=value,
        currency=currency,
    )
    return _insert_commitment(conn, eco, c, actor, _now(), note)


def _commit_promises(
    conn: Connection, eco: int, opp: str, latest: Any, actor: str, when: dt.datetime
) -> None:
    """Turn the promises of the agreed version into commitments; release the open
    commitments of an earlier version (renegotiation)."""
    if latest is None:
        return
    already = conn.execute(
        select(func.count())
        .select_from(commitment)
        .where(
            commitment.c.ecosystem_id == eco,
            commitment.c.opportunity == opp,
            commitment.c.agreement_version == latest.version,
        )
    ).scalar_one()
    if already:
        return
    older = conn.execute(
        select(commitment).where(
            commitment.c.ecosystem_id == eco,
            commitment.c.opportunity == opp,
            commitment.c.agreement_version < latest.version,
            commitment.c.state.in_(ACTIVE),
        )
    ).all()
    for r in older:
        _set_state(
            conn, r.id, r.state, "released", "release", actor, None,
            f"renegotiated: version {latest.version} of the agreement replaces it", when,
        )  # fmt: skip
    body = Agreement.model_validate(latest.body)
    number = _next_number(conn, eco, commitment)
    for i, p in enumerate(body.promises):
        c = create(
            number + i,
            p.debtor,
            p.creditor,
            p.antecedent,
            p.consequent,
            due=p.due,
            opportunity=opp,
            hours_per_week=p.hours_per_week,
            value=p.value,
            currency=p.currency or body.currency,
            agreement_version=latest.version,
        )
        _insert_commitment(
            conn, eco, c, actor, when, f"promise {i + 1} of version {latest.version}"
        )


def _set_state(
    conn: Connection,
    row_id: int,
    source: str,
    target: str,
    operation: str,
    actor: str,
    party: str | None,
    note: str | None,
    when: dt.datetime,
    changes: Mapping[str, Any] | None = None,
) -> None:
    conn.execute(
        update(commitment)
        .where(commitment.c.id == row_id)
        .values(state=target, **dict(changes or {}))
    )
    _commitment_event(conn, row_id, operation, actor, source, target, party, note, when)


def _commitment_event(
    conn: Connection,
    row_id: int,
    operation: str,
    actor: str,
    source: str | None,
    target: str,
    party: str | None,
    note: str | None,
    when: dt.datetime,
) -> None:
    conn.execute(
        insert(commitment_event).values(
            commitment_id=row_id,
            operation=operation,
            actor=actor,
            source=source,
            target=target,
            party=party,
            note=note,
            at=when,
        )
    )


def _commitment_row(conn: Connection, eco: int, number: int) -> Any:
    row = conn.execute(
        select(commitment).where(commitment.c.ecosystem_id == eco, commitment.c.number == number)
    ).one_or_none()
    if row is None:
        raise Refused(f"no commitment C{number} in this ecosystem")
    return row


def operate(
    conn: Connection,
    name: str,
    number: int,
    op: str,
    actor: str,
    party: str | None = None,
    note: str | None = None,
    today: dt.date | None = None,
) -> Commitment:
    """Apply an operation (detach, discharge, violate, expire, cancel, release,
    delegate, assign) to commitment ``number``; record it as an event."""
    actor = _who(actor)
    eco = ecosystem_id(conn, name)
    row = _commitment_row(conn, eco, number)
    before = _commitment(row)
    if op in ("delegate", "assign") and party:
        _participants(conn, eco, [party])
    after = apply(before, op, actor, today or dt.date.today(), party)
    changes = {}
    if after.debtor != before.debtor:
        changes["debtor"] = after.debtor
    if after.creditor != before.creditor:
        changes["creditor"] = after.creditor
    _set_state(conn, row.id, before.state, after.state, op, actor, party, note, _now(), changes)
    return after


def sweep(
    conn: Connection, name: str, actor: str, today: dt.date | None = None
) -> list[Commitment]:
    """Mark every active commitment past its due date: detached ones violated,
    conditional ones expired. Returns those changed."""
    actor = _who(actor)
    day = today or dt.date.today()
    eco = ecosystem_id(conn, name)
    rows = conn.execute(
        select(commitment).where(
            commitment.c.ecosystem_id == eco,
            commitment.c.state.in_(ACTIVE),
            commitment.c.due < day,
        )
    ).all()
    out = []
    when = _now()
    for r in rows:
        c = _commitment(r)
        op = "violate" if c.state == "detached" else "expire"
        after = apply(c, op, actor, day)
        _set_state(conn, r.id, c.state, after.state, op, actor, None, "due date passed", when)
        out.append(after)
    return sorted(out, key=lambda c: c.number)


def commitments(
    conn: Connection,
    name: str,
    opportunity_id: str | None = None,
    state: str | None = None,
    debtor: str | None = None,
    creditor: str | None = None,
    overdue_on: dt.date | None = None,
) -> list[Commitment]:
    """Commitments by number, filtered; ``overdue_on``: active and due before that day."""
    eco = ecosystem_id(conn, name)
    q = select(commitment).where(commitment.c.ecosystem_id == eco)
    if opportunity_id is not None:
        q = q.where(commitment.c.opportunity == opportunity_id)
    if state is not None:
        q = q.where(commitment.c.state == state)
    if debtor is not None:
        q = q.where(commitment.c.debtor == debtor)
    if creditor is not None:
        q = q.where(commitment.c.creditor == creditor)
    if overdue_on is not None:
        q = q.where(commitment.c.state.in_(ACTIVE), commitment.c.due < overdue_on)
    return [_commitment(r) for r in conn.execute(q.order_by(commitment.c.number))]


def commitment_history(conn: Connection, name: str, number: int) -> list[dict[str, Any]]:
    """Every operation on commitment ``number``, in order."""
    eco = ecosystem_id(conn, name)
    row = _commitment_row(conn, eco, number)
    return [
        {
            "operation": r.operation,
            "by": r.actor,
            "from": r.source,
            "to": r.target,
            "party": r.party,
            "note": r.note,
            "at": _aware(r.at).isoformat(),
        }
        for r in conn.execute(
            select(commitment_event)
            .where(commitment_event.c.commitment_id == row.id)
            .order_by(commitment_event.c.id)
        )
    ]


@dataclass(frozen=True)
class Owed:
    """What one participant owes another: open commitments, by state, and their value."""

    debtor: str
    creditor: str
    detached: int
    conditional: int
    value: Decimal
    hours_per_week: float


def owes(conn: Connection, name: str) -> list[Owed]:
    """Who owes whom: active commitments grouped by debtor and creditor (SQL)."""
    eco = ecosystem_id(conn, name)
    rows = conn.execute(
        select(
            commitment.c.debtor,
            commitment.c.creditor,
            commitment.c.state,
            func.count().label("n"),
            func.sum(commitment.c.hours_per_week).label("hours"),
        )
        .where(commitment.c.ecosystem_id == eco, commitment.c.state.in_(ACTIVE))
        .group_by(commitment.c.debtor, commitment.c.creditor, commitment.c.state)
    ).all()
    values: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for v in conn.execute(
        select(commitment.c.debtor, commitment.c.creditor, commitment.c.value).where(
            commitment.c.ecosystem_id == eco,
            commitment.c.state.in_(ACTIVE),
            commitment.c.value.is_not(None),
        )
    ):
        values[(v.debtor, v.creditor)] += Decimal(v.value)
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        g = grouped.setdefault(
            (r.debtor, r.creditor), {"detached": 0, "conditional": 0, "hours": 0.0}
        )
        g[r.state] += int(r.n)
        g["hours"] += float(r.hours or 0.0)
    return [
        Owed(d, c, g["detached"], g["conditional"], values[(d, c)], g["hours"])
        for (d, c), g in sorted(grouped.items())
    ]


def committed_hours(conn: Connection, name: str) -> dict[str, float]:
    """Hours per week each participant has promised in active commitments (SQL sum):
    the load the swarm subtracts from capacity."""
    eco = ecosystem_id(conn, name)
    rows = conn.execute(
        select(commitment.c.debtor, func.sum(commitment.c.hours_per_week))
        .where(commitment.c.ecosystem_id == eco, commitment.c.state.in_(ACTIVE))
        .group_by(commitment.c.debtor)
    )
    return {d: float(h) for d, h in rows if h}


# -- conversations (protocol templates) --------------------------------------------------
@dataclass(frozen=True)
class Conversation:
    """A conversation following a protocol template, and where it stands."""

    number: int
    template: str
    requester: str
    provider: str
    subject: str
    last_message: str
    next: list[str]
    commitment: int | None
    messages: list[tuple[str, str, str | None]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "template": self.template,
            "requester": self.requester,
            "provider": self.provider,
            "subject": self.subject,
            "last": self.last_message,
            "next": self.next,
            "commitment": self.commitment,
            "messages": [{"message": m, "from": s, "note": n} for m, s, n in self.messages],
        }


def conversation_state(conn: Connection, name: str, number: int) -> Conversation:
    eco = ecosystem_id(conn, name)
    row = conn.execute(
        select(conversation).where(
            conversation.c.ecosystem_id == eco, conversation.c.number == number
        )
    ).one_or_none()
    if row is None:
        raise Refused(f"no conversation {number} in this ecosystem")
    msgs = [
        (m.message, m.sender, m.note)
        for m in conn.execute(
            select(conversation_message)
            .where(conversation_message.c.conversation_id == row.id)
            .order_by(conversation_message.c.id)
        )
    ]
    return Conversation(
        row.number,
        row.template,
        row.requester,
        row.provider,
        row.subject,
        row.last_message,
        next_messages(TEMPLATES[row.template], row.last_message),
        row.commitment_number,
        msgs,
    )


def start_conversation(
    conn: Connection,
    name: str,
    template: str,
    requester: str,
    provider: str,
    subject: str,
    sender: str,
    opportunity_id: str | None = None,
    due: dt.date | None = None,
    hours_per_week: float = 0.0,
    value: Decimal | None = None,
    currency: str | None = None,
    note: str | None = None,
) -> Conversation:
    """Open a conversation with its first message (``request``, or ``offer``)."""
    if template not in TEMPLATES:
        raise Refused(f"no protocol template {template!r}; templates: {', '.join(TEMPLATES)}")
    eco = ecosystem_id(conn, name)
    if requester == provider:
        raise Refused("a conversation needs two different participants")
    _participants(conn, eco, [requester, provider])
    if opportunity_id is not None:
        _opportunity_row(conn, eco, opportunity_id)
    if not subject.strip():
        raise Refused("a conversation needs a subject: what is asked or offered")
    number = _next_number(conn, eco, conversation)
    conn.execute(
        insert(conversation).values(
            ecosystem_id=eco,
            number=number,
            template=template,
            requester=requester,
            provider=provider,
            subject=subject.strip(),
            opportunity=opportunity_id,
            due=due,
            hours_per_week=float(hours_per_week),
            value=value,
            currency=currency,
            last_message="",
            commitment_number=None,
        )
    )
    first = TEMPLATES[template].steps[0].message
    return send_message(conn, name, number, first, sender, note)


def send_message(
    conn: Connection,
    name: str,
    number: int,
    message: str,
    sender: str,
    note: str | None = None,
) -> Conversation:
    """Send the next message of a conversation; refused out of protocol order or
    from the wrong side. The message acts on the conversation's commitment."""
    sender = _who(sender)
    eco = ecosystem_id(conn, name)
    row = conn.execute(
        select(conversation).where(
            conversation.c.ecosystem_id == eco, conversation.c.number == number
        )
    ).one_or_none()
    if row is None:
        raise Refused(f"no conversation {number} in this ecosystem")
    sides = {row.requester: "requester", row.provider: "provider"}
    if sender not in sides:
        raise Refused(
            f"{sender} is not in conversation {number} ({row.requester} and {row.provider})"
        )
    template = TEMPLATES[row.template]
    found = step(template, row.last_message, message, sides[sender])
    commitment_number = row.commitment_number
    today = dt.date.today()
    if found.effect == "create":
        c = create_commitment(
            conn,
            name,
            row.provider,
            row.requester,
            row.subject,
            actor=row.provider,
            antecedent=f"{row.requester} accepts",
            due=row.due,
            opportunity_id=row.opportunity,
            hours_per_week=row.hours_per_week,
            value=None if row.value is None else Decimal(row.value),
            currency=row.currency,
            note=f"offer in conversation {number}",
        )
        commitment_number = c.number
    elif found.effect is not None:
        assert commitment_number is not None
        operate(conn, name, commitment_number, found.effect, sender, None, note, today)
    conn.execute(
        update(conversation)
        .where(conversation.c.id == row.id)
        .values(last_message=message, commitment_number=commitment_number)
    )
    conn.execute(
        insert(conversation_message).values(
            conversation_id=row.id, message=message, sender=sender, note=note, at=_now()
        )
    )
    return conversation_state(conn, name, number)


# -- satisfaction and the loop ------------------------------------------------------------
def record_satisfaction(
    conn: Connection, name: str, opp: str, score: int, recorded_by: str, note: str | None = None
) -> int:
    """Record the client's satisfaction with the opportunity: a score from 0 to 10."""
    recorded_by = _who(recorded_by)
    eco = ecosystem_id(conn, name)
    row = _opportunity_row(conn, eco, opp)
    stage = stage_of(row.stage)
    if stage not in ("delivered", "accepted", "paid", "reviewed"):
        raise Refused(f"{opp} is {stage}: satisfaction is recorded once it is delivered")
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise Refused(f"satisfaction {score!r}: expected a whole number from 0 to 10")
    conn.execute(
        insert(satisfaction).values(
            ecosystem_id=eco,
            opportunity=opp,
            score=score,
            scored_by=recorded_by,
            note=note,
            at=_now(),
        )
    )
    return score


@dataclass(frozen=True)
class LoopResult:
    """What closing the loop of an opportunity changed in the map."""

    opportunity: str
    ties: list[dict[str, Any]]
    flows: list[Flow]
    satisfaction: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "opportunity": self.opportunity,
            "ties": self.ties,
            "flows": [f.to_json() for f in self.flows],
            "satisfaction": self.satisfaction,
        }


def _tie_type_idx(conn: Connection, eco: int, name: str) -> int:
    idx = conn.execute(
        select(tie_type.c.idx).where(tie_type.c.ecosystem_id == eco, tie_type.c.name == name)
    ).scalar_one_or_none()
    if idx is not None:
        return int(idx)
    new = conn.execute(
        select(func.coalesce(func.max(tie_type.c.idx) + 1, 0)).where(tie_type.c.ecosystem_id == eco)
    ).scalar_one()
    conn.execute(insert(tie_type).values(ecosystem_id=eco, idx=new, name=name))
    return int(new)


def _strengthen_ties(
    conn: Connection, eco: int, opp: str, kept: Mapping[tuple[str, str], int], day: dt.date
) -> list[dict[str, Any]]:
    if not kept:
        return []
    idx = _participants(conn, eco, sorted({p for pair in kept for p in pair}), strict=False)
    type_idx = _tie_type_idx(conn, eco, COLLABORATION)
    informal = LAYERS.index("informal")
    next_idx = conn.execute(
        select(func.coalesce(func.max(tie.c.idx) + 1, 0)).where(tie.c.ecosystem_id == eco)
    ).scalar_one()
    changes = []
    for (a, b), k in sorted(kept.items()):
        if a not in idx or b not in idx:  # no longer in the map (re-imported without them)
            continue
        ia, ib = idx[a], idx[b]
        existing = conn.execute(
            select(tie.c.idx, tie.c.weight)
            .where(
                tie.c.ecosystem_id == eco,
                tie.c.layer == informal,
                tie.c.type_idx == type_idx,
                ((tie.c.source_idx == ia) & (tie.c.target_idx == ib))
                | ((tie.c.source_idx == ib) & (tie.c.target_idx == ia)),
            )
            .order_by(tie.c.idx)
            .limit(1)
        ).one_or_none()
        before = None if existing is None else float(existing.weight)
        after = strengthen(before, k)
        if existing is None:
            conn.execute(
                insert(tie).values(
                    ecosystem_id=eco,
                    idx=next_idx,
                    source_idx=ia,
                    target_idx=ib,
                    layer=informal,
                    type_idx=type_idx,
                    weight=after,
                    directed=False,
                    since=day,
                    until=None,
                    attributes={"learned_from": opp},
                )
            )
            next_idx += 1
        else:
            conn.execute(
                update(tie)
                .where(tie.c.ecosystem_id == eco, tie.c.idx == existing.idx)
                .values(weight=after)
            )
        changes.append({"between": [a, b], "kept": k, "before": before, "after": after})
    return changes


def _write_flows(
    conn: Connection,
    eco: int,
    opp: str,
    flows: Sequence[Flow],
    client: str,
    score: int | None,
    currency: str | None,
) -> None:
    """Planned and actual flows between participants become exchanges of the map."""
    ends = sorted(({f.source for f in flows} | {f.target for f in flows}) - {"swarm"})
    idx = _participants(conn, eco, ends, strict=False)
    next_idx = conn.execute(
        select(func.coalesce(func.max(exchange.c.idx) + 1, 0)).where(exchange.c.ecosystem_id == eco)
    ).scalar_one()
    person = ENDPOINT_KINDS.index("participant")
    tangible = EXCHANGE_KINDS.index("tangible")
    for n, f in enumerate(flows):
        if f.source not in idx or f.target not in idx:
            continue
        for basis, amount in (("planned", f.planned), ("actual", f.actual)):
            if basis == "planned" and f.status == "unplanned":
                continue
            if basis == "actual" and f.status != "kept" and f.status != "unplanned":
                continue
            perceived = perceived_value(score) if (
                basis == "actual" and score is not None and f.target == client
            ) else None  # fmt: skip
            conn.execute(
                insert(exchange).values(
                    ecosystem_id=eco,
                    idx=next_idx,
                    slug=f"{opp}-{basis}-{n + 1}",
                    source_kind=person,
                    source_idx=idx[f.source],
                    target_kind=person,
                    target_idx=idx[f.target],
                    deliverable=f.deliverable,
                    kind=tangible,
                    type=f.kind,
                    value=amount,
                    currency=currency if amount is not None else None,
                    frequency=1.0,
                    period="once",
                    perceived_value=perceived,
                    attributes={
                        "opportunity": opp,
                        "basis": basis,
                        "status": f.status,
                        **({"commitment": f.commitment} if f.commitment else {}),
                    },
                )
            )
            next_idx += 1


def close_loop(conn: Connection, name: str, opp: str, at: dt.datetime) -> LoopResult:
    """What the reviewed opportunity teaches the map (rules in :mod:`glia.engage._loop`):
    ties strengthened by kept commitments, planned and actual exchanges, the
    client's satisfaction attached. Each change is kept in ``loop_change``."""
    eco = ecosystem_id(conn, name)
    row = _opportunity_row(conn, eco, opp)
    done = commitments(conn, name, opp)
    kept = kept_pairs(done)
    ties = _strengthen_ties(conn, eco, opp, kept, at.date())
    allocations: dict[str, Decimal] = defaultdict(Decimal)
    for r in conn.execute(
        select(ledger_event.c.agent, ledger_event.c.value).where(
            ledger_event.c.ecosystem_id == eco,
            ledger_event.c.opportunity == opp,
            ledger_event.c.action == "allocation",
        )
    ):
        if r.value is not None:
            allocations[r.agent] += Decimal(r.value)
    latest = _latest_agreement(conn, eco, opp)
    budget = None if row.budget is None else Decimal(row.budget)
    if latest is not None and latest.body.get("budget") is not None:
        budget = Decimal(str(latest.body["budget"]))
    known = set(_participants(conn, eco, list(allocations), strict=False))
    flows = planned_against_actual(
        done,
        row.client,
        budget,
        _income(conn, eco, opp),
        [(who, v) for who, v in allocations.items() if who in known and v],
    )
    score = _satisfaction(conn, eco, opp)
    _write_flows(conn, eco, opp, flows, row.client, score, row.currency)
    if score is not None:
        attrs = conn.execute(
            select(opportunity.c.attributes).where(
                opportunity.c.ecosystem_id == eco, opportunity.c.idx == row.idx
            )
        ).scalar_one()
        conn.execute(
            update(opportunity)
            .where(opportunity.c.ecosystem_id == eco, opportunity.c.idx == row.idx)
            .values(attributes={**(attrs or {}), "satisfaction": score})
        )
    result = LoopResult(opp, ties, flows, score)
    for kind, detail in (
        ("ties", {"ties": ties}),
        ("flows", {"flows": [f.to_json() for f in flows]}),
        ("satisfaction", {"satisfaction": score}),
    ):
        conn.execute(
            insert(loop_change).values(
                ecosystem_id=eco, opportunity=opp, kind=kind, detail=detail, at=at
            )
        )
    return result


def loop_result(conn: Connection, name: str, opp: str) -> dict[str, Any] | None:
    """What closing the loop of ``opp`` changed, as recorded; None before its review."""
    eco = ecosystem_id(conn, name)
    _opportunity_row(conn, eco, opp)
    rows = conn.execute(
        select(loop_change.c.kind, loop_change.c.detail)
        .where(loop_change.c.ecosystem_id == eco, loop_change.c.opportunity == opp)
        .order_by(loop_change.c.id)
    ).all()
    if not rows:
        return None
    out: dict[str, Any] = {"opportunity": opp}
    for r in rows:
        out.update(r.detail)
    return out


def delete_engagement(conn: Connection, eco: int) -> None:
    """Remove an ecosystem's engagement and governance rows (when it is deleted)."""
    from ._tables import ENGAGEMENT_TABLES

    ids = {
        "agreement_consent": select(agreement.c.id).where(agreement.c.ecosystem_id == eco),
        "commitment_event": select(commitment.c.id).where(commitment.c.ecosystem_id == eco),
        "conversation_message": select(conversation.c.id).where(conversation.c.ecosystem_id == eco),
    }
    for t in ENGAGEMENT_TABLES:
        if t.name == "agreement_consent":
            conn.execute(delete(t).where(t.c.agreement_id.in_(ids[t.name])))
        elif t.name == "commitment_event":
            conn.execute(delete(t).where(t.c.commitment_id.in_(ids[t.name])))
        elif t.name == "conversation_message":
            conn.execute(delete(t).where(t.c.conversation_id.in_(ids[t.name])))
        else:
            conn.execute(delete(t).where(t.c.ecosystem_id == eco))
