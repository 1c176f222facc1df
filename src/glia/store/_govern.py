"""Governance in the store: principles, aspirations, the facts checks read, reviews.

Each function runs inside the caller's transaction. Setting principles or
aspirations replaces the ecosystem's whole set with the one given, after
every item was checked (:func:`glia.govern.read_principles` names each
problem), so a refused set changes nothing. An aspiration that keeps its key
keeps the day it was last reviewed, unless the new set says otherwise.

:func:`governance_view` reads the facts of :class:`~glia.govern.GovernView`
with one query per table (the ledger's events once, without their hashes,
and its chain verified as ``glia ledger verify`` does). :func:`review` puts the
pack together against the last review held; :func:`record_review` stores the
pack's figures as the next review, so the following pack reports what changed,
and marks the aspirations that were due as reviewed that day.

Deleting an ecosystem removes these rows with the engagement's
(:func:`glia.store._engage.delete_engagement`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ..engage import Agreement, stage_of
from ..govern import (
    Aspiration,
    CommitmentView,
    GovernError,
    GovernView,
    LedgerView,
    OpportunityView,
    PastReview,
    Principle,
    PrincipleResult,
    ReviewPack,
    TransitionView,
    Work,
    check_principles,
    credited_value,
    is_contribution,
    review_pack,
)
from ..ledger._allocate import HOURS
from ..model import InvalidInput, Location, Problem
from ._ledger import check
from ._reader import ecosystem_id
from ._snapshot import read_snapshot
from ._tables import (
    agreement,
    agreement_consent,
    aspiration,
    cluster,
    commitment,
    ecosystem,
    ledger_event,
    membership,
    opportunity,
    participant,
    pipeline_event,
    principle,
    team_member,
)
from ._tables import review as review_table

__all__ = [
    "aspirations",
    "check_principles_of",
    "governance_view",
    "past_reviews",
    "principles",
    "record_review",
    "review",
    "set_aspirations",
    "set_principles",
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _who(by: str) -> str:
    if not isinstance(by, str) or not by.strip():
        raise GovernError("who does it (--by) is required")
    return by.strip()


def _unique(keys: Iterable[str], section: str) -> None:
    seen: dict[str, int] = {}
    problems = []
    for row, key in enumerate(keys, start=1):
        if key in seen:
            problems.append(
                Problem(
                    Location("<memory>", section, row),
                    "key",
                    key,
                    f"a key not used before (item {seen[key]} has it)",
                )
            )
        seen.setdefault(key, row)
    if problems:
        raise InvalidInput(problems)


# -- principles -------------------------------------------------------------------------
def set_principles(
    conn: Connection, name: str, items: Sequence[Principle], by: str
) -> list[Principle]:
    """Replace the ecosystem's principles with ``items`` (all or nothing)."""
    by = _who(by)
    eco = ecosystem_id(conn, name)
    _unique((p.key for p in items), "principles")
    conn.execute(delete(principle).where(principle.c.ecosystem_id == eco))
    when = _now()
    if items:
        conn.execute(
            insert(principle),
            [
                {
                    "ecosystem_id": eco,
                    "key": p.key,
                    "text": p.text,
                    "rule": None if p.rule is None else dict(p.rule),
                    "recorded_by": by,
                    "recorded_at": when,
                }
                for p in items
            ],
        )
    return principles(conn, name)


def principles(conn: Connection, name: str) -> list[Principle]:
    """The ecosystem's principles, in the order they were set."""
    eco = ecosystem_id(conn, name)
    rows = conn.execute(
        select(principle.c.key, principle.c.text, principle.c.rule)
        .where(principle.c.ecosystem_id == eco)
        .order_by(principle.c.id)
    )
    return [Principle(r.key, r.text, r.rule) for r in rows]


def check_principles_of(conn: Connection, name: str) -> list[PrincipleResult]:
    """Every principle of the ecosystem, checked against the network as it stands."""
    return check_principles(principles(conn, name), governance_view(conn, name))


# -- aspirations ------------------------------------------------------------------------
def set_aspirations(
    conn: Connection, name: str, items: Sequence[Aspiration], by: str
) -> list[Aspiration]:
    """Replace the ecosystem's aspirations with ``items`` (all or nothing); a key kept
    keeps its last review unless the item gives one."""
    by = _who(by)
    eco = ecosystem_id(conn, name)
    _unique((a.key for a in items), "aspirations")
    before = {a.key: a.last_reviewed for a in aspirations(conn, name)}
    conn.execute(delete(aspiration).where(aspiration.c.ecosystem_id == eco))
    when = _now()
    rows = []
    for a in items:
        last = a.last_reviewed
        kept = before.get(a.key)
        if last is None and kept is not None and kept >= a.since:
            last = kept
        rows.append(
            {
                "ecosystem_id": eco,
                "key": a.key,
                "text": a.text,
                "cadence_days": a.cadence_days,
                "since": a.since,
                "last_reviewed": last,
                "recorded_by": by,
                "recorded_at": when,
            }
        )
    if rows:
        conn.execute(insert(aspiration), rows)
    return aspirations(conn, name)


def aspirations(conn: Connection, name: str) -> list[Aspiration]:
    """The ecosystem's aspirations, in the order they were set."""
    eco = ecosystem_id(conn, name)
    rows = conn.execute(
        select(aspiration).where(aspiration.c.ecosystem_id == eco).order_by(aspiration.c.id)
    )
    return [Aspiration(r.key, r.text, r.cadence_days, r.since, r.last_reviewed) for r in rows]


# -- the view ---------------------------------------------------------------------------
def _agreed_at(conn: Connection, eco: int) -> dict[str, dt.datetime]:
    """Per opportunity: when the first fully consented version of its agreement was complete."""
    consents: dict[int, dict[str, dt.datetime]] = defaultdict(dict)
    for r in conn.execute(
        select(
            agreement_consent.c.agreement_id,
            agreement_consent.c.party,
            agreement_consent.c.consented_at,
        )
        .join(agreement, agreement.c.id == agreement_consent.c.agreement_id)
        .where(agreement.c.ecosystem_id == eco)
    ):
        consents[r.agreement_id][r.party] = _aware(r.consented_at)
    out: dict[str, dt.datetime] = {}
    for r in conn.execute(
        select(agreement.c.id, agreement.c.opportunity, agreement.c.body).where(
            agreement.c.ecosystem_id == eco
        )
    ):
        given = consents.get(r.id, {})
        parties = Agreement.model_validate(r.body).parties
        if not all(p in given for p in parties):
            continue
        complete = max(given[p] for p in parties)
        if r.opportunity not in out or complete < out[r.opportunity]:
            out[r.opportunity] = complete
    return out


def _clusters(
    conn: Connection, eco: int, who: Iterable[str]
) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    wanted = sorted(set(who))
    found: dict[str, list[str]] = defaultdict(list)
    kinds: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(participant.c.slug, cluster.c.slug.label("cluster"), cluster.c.kind)
            .join(
                membership,
                (membership.c.ecosystem_id == participant.c.ecosystem_id)
                & (membership.c.participant_idx == participant.c.idx),
            )
            .join(
                cluster,
                (cluster.c.ecosystem_id == membership.c.ecosystem_id)
                & (cluster.c.idx == membership.c.cluster_idx),
            )
            .where(
                participant.c.ecosystem_id == eco,
                participant.c.slug.in_(wanted[start : start + 500]),
            )
            .order_by(participant.c.slug, membership.c.position)
        )
        for r in rows:
            found[r.slug].append(r.cluster)
            kinds[r.cluster] = r.kind
    return {p: tuple(cs) for p, cs in found.items()}, kinds


def _ledger(conn: Connection, name: str, eco: int) -> tuple[LedgerView, tuple[Work, ...]]:
    """The ledger's figures and its work, from one read of its events (no hashes)."""
    rates = {
        r.slug: Decimal(r.rate_per_hour)
        for r in conn.execute(
            select(participant.c.slug, participant.c.rate_per_hour).where(
                participant.c.ecosystem_id == eco, participant.c.rate_per_hour.is_not(None)
            )
        )
    }
    rows = conn.execute(
        select(
            ledger_event.c.seq,
            ledger_event.c.action,
            ledger_event.c.agent,
            ledger_event.c.opportunity,
            ledger_event.c.quantity,
            ledger_event.c.unit,
            ledger_event.c.value,
            ledger_event.c.reverses,
            ledger_event.c.recorded_at,
        )
        .where(ledger_event.c.ecosystem_id == eco)
        .order_by(ledger_event.c.seq)
    ).all()
    reversed_ = {r.reverses for r in rows if r.reverses is not None}
    zero = Decimal(0)
    by_action: dict[str, int] = defaultdict(int)
    money: dict[str, Decimal] = defaultdict(Decimal)
    contributed: dict[str, Decimal] = defaultdict(Decimal)
    shares: dict[str, Decimal] = defaultdict(Decimal)
    uncredited = 0
    work = []
    for r in rows:
        by_action[r.action] += 1
        value = None if r.value is None else Decimal(r.value)
        if r.action in ("income", "allocation", "payout"):
            money[r.action] += value or zero
            if r.action == "allocation":
                shares[r.agent] += value or zero
            continue
        if not is_contribution(r.action):
            continue
        quantity = None if r.quantity is None else Decimal(r.quantity)
        credit = credited_value(quantity, r.unit, value, rates.get(r.agent))
        if credit is None:
            if r.reverses is None and r.seq not in reversed_:
                uncredited += 1
        else:
            contributed[r.agent] += credit
        unit = (r.unit or "").strip().lower()
        if (
            r.action == "work"
            and quantity is not None
            and (not unit or unit in HOURS)
            and r.reverses is None
            and r.seq not in reversed_
        ):
            work.append(Work(r.seq, r.agent, r.opportunity, float(quantity), _aware(r.recorded_at)))
    chain = check(conn, name)
    currency = conn.execute(select(ecosystem.c.currency).where(ecosystem.c.id == eco)).scalar()
    view = LedgerView(
        events=len(rows),
        last_seq=rows[-1].seq if rows else 0,
        by_action=dict(by_action),
        currency=currency,
        income=money["income"],
        allocated=money["allocation"],
        paid=money["payout"],
        intact=chain.intact,
        broken=None if chain.broken is None else chain.broken.message,
        contributed=dict(contributed),
        uncredited=uncredited,
        shares=dict(shares),
    )
    return view, tuple(work)


def governance_view(conn: Connection, name: str, after_step: int | None = None) -> GovernView:
    """The facts the checks and the review pack read (``transitions``: the pipeline
    steps after step ``after_step``, all of them when None)."""
    eco = ecosystem_id(conn, name)
    teams: dict[str, list[str]] = defaultdict(list)
    for r in conn.execute(
        select(team_member.c.opportunity, team_member.c.participant)
        .where(team_member.c.ecosystem_id == eco)
        .order_by(team_member.c.opportunity, team_member.c.participant)
    ):
        teams[r.opportunity].append(r.participant)
    agreed = _agreed_at(conn, eco)
    opps = tuple(
        OpportunityView(
            r.slug, r.client, stage_of(r.stage), tuple(teams.get(r.slug, ())), agreed.get(r.slug)
        )
        for r in conn.execute(
            select(opportunity.c.slug, opportunity.c.stage, participant.c.slug.label("client"))
            .join(
                participant,
                (participant.c.ecosystem_id == opportunity.c.ecosystem_id)
                & (participant.c.idx == opportunity.c.client_idx),
            )
            .where(opportunity.c.ecosystem_id == eco)
            .order_by(opportunity.c.slug)
        )
    )
    involved = [o.client for o in opps] + [m for o in opps for m in o.team]
    clusters, kinds = _clusters(conn, eco, involved)
    promises = tuple(
        CommitmentView(
            r.number, r.debtor, r.creditor, r.opportunity, r.state, float(r.hours_per_week)
        )
        for r in conn.execute(
            select(
                commitment.c.number,
                commitment.c.debtor,
                commitment.c.creditor,
                commitment.c.opportunity,
                commitment.c.state,
                commitment.c.hours_per_week,
            )
            .where(commitment.c.ecosystem_id == eco)
            .order_by(commitment.c.number)
        )
    )
    steps = select(pipeline_event).where(pipeline_event.c.ecosystem_id == eco)
    if after_step is not None:
        steps = steps.where(pipeline_event.c.id > after_step)
    transitions = tuple(
        TransitionView(r.opportunity, r.source, r.target, r.actor, _aware(r.at))
        for r in conn.execute(steps.order_by(pipeline_event.c.id))
    )
    last_step = conn.execute(
        select(func.max(pipeline_event.c.id)).where(pipeline_event.c.ecosystem_id == eco)
    ).scalar()
    ledger, work = _ledger(conn, name, eco)
    return GovernView(
        ecosystem=name,
        opportunities=opps,
        clusters=clusters,
        cluster_kinds=kinds,
        work=work,
        commitments=promises,
        ledger=ledger,
        transitions=transitions,
        last_step=last_step or 0,
    )


# -- reviews ----------------------------------------------------------------------------
def past_reviews(conn: Connection, name: str) -> list[PastReview]:
    """Every review held, oldest first."""
    eco = ecosystem_id(conn, name)
    rows = conn.execute(
        select(review_table)
        .where(review_table.c.ecosystem_id == eco)
        .order_by(review_table.c.number)
    )
    return [_past(r) for r in rows]


def _last_review(conn: Connection, eco: int) -> PastReview | None:
    r = conn.execute(
        select(review_table)
        .where(review_table.c.ecosystem_id == eco)
        .order_by(review_table.c.number.desc())
        .limit(1)
    ).one_or_none()
    return None if r is None else _past(r)


def _past(r: Any) -> PastReview:
    """A stored review; its marks are kept with its figures, under ``marks``."""
    figures = dict(r.figures)
    marks = figures.pop("marks", None) or {}
    return PastReview(r.number, r.held_on, r.held_by, figures, _aware(r.recorded_at), dict(marks))


def review(conn: Connection, name: str, today: dt.date | None = None) -> ReviewPack:
    """The review pack for a session held ``today`` (default: today, UTC)."""
    day = today or _now().date()
    eco = ecosystem_id(conn, name)
    previous = _last_review(conn, eco)
    after = None if previous is None else int(previous.marks.get("pipeline_step", 0))
    view = governance_view(conn, name, after)
    return review_pack(
        view,
        read_snapshot(conn, name),
        principles(conn, name),
        aspirations(conn, name),
        day,
        previous,
    )


def record_review(conn: Connection, name: str, by: str, today: dt.date | None = None) -> ReviewPack:
    """Hold the review: store its figures as the next review and mark the aspirations
    that were due as reviewed ``today``. Refused (nothing changed) without ``by``, or
    dated before the last review held."""
    by = _who(by)
    day = today or _now().date()
    eco = ecosystem_id(conn, name)
    previous = _last_review(conn, eco)
    if previous is not None and day < previous.held_on:
        raise GovernError(
            f"review {previous.number} of {name} was held on {previous.held_on.isoformat()}; "
            f"a review on {day.isoformat()} would come before it"
        )
    pack = review(conn, name, day)
    conn.execute(
        insert(review_table).values(
            ecosystem_id=eco,
            number=pack.number,
            held_on=day,
            held_by=by,
            figures={**pack.figures, "marks": pack.marks},
            recorded_at=_now(),
        )
    )
    due = [a.key for a in pack.due]
    if due:
        conn.execute(
            update(aspiration)
            .where(aspiration.c.ecosystem_id == eco, aspiration.c.key.in_(due))
            .values(last_reviewed=day)
        )
    return pack
