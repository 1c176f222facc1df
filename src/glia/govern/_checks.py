"""The checks a principle's rule can name. Each function's docstring states its rule.

A check takes the :class:`~glia.govern.GovernView` and its parameters, and
returns an :class:`~glia.govern.Outcome`: how many subjects it looked at and
a :class:`~glia.govern.Violation` per subject that breaks the rule, with the
numbers in its message. Registering a new check is one decorated function.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from ._principles import Outcome, Param, Violation, choice, names, register, share
from ._view import GovernView, OpportunityView

__all__ = [
    "commitments_kept",
    "consent_before_work",
    "ledger_intact",
    "max_work_share",
    "outside_client_cluster",
]

#: Stages whose swarm no longer matters to a principle about swarms.
CLOSED = ("lost", "cancelled")
#: Commitment states that stand for work carried (or being carried).
CARRYING = ("conditional", "detached", "discharged")


def _pct(x: float) -> str:
    return f"{x:.0%}" if abs(x * 100 - round(x * 100)) < 1e-9 else f"{x:.1%}"


def _hours(x: float) -> str:
    return f"{x:g}"


@register(
    "max-work-share",
    Param("limit", "a share between 0 and 1 (0.4, or 40%)", share, required=True),
)
def max_work_share(view: GovernView, limit: float) -> Outcome:
    """No one carries more than ``limit`` of a swarm's work.

    For each opportunity, a participant's work is the hours of their ``work``
    events for it in the ledger (net of reversals). When the ledger holds no
    work for an opportunity yet, the hours per week of its commitments that
    are or were being carried (conditional, detached, discharged) stand in
    for it, by debtor. A participant whose part of the opportunity's total is
    above ``limit`` breaks the rule. Opportunities with no hours either way
    are not checked; work recorded with no opportunity is no swarm's work.
    """
    recorded: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for w in view.work:
        if w.opportunity is not None:
            recorded[w.opportunity][w.agent] += w.hours
    promised: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for c in view.commitments:
        if c.opportunity is not None and c.state in CARRYING and c.hours_per_week > 0:
            promised[c.opportunity][c.debtor] += c.hours_per_week
    violations = []
    checked = 0
    for opp in sorted(set(recorded) | set(promised)):
        hours = {a: h for a, h in recorded.get(opp, {}).items() if h > 0}
        source = "hours of work recorded"
        if not hours:
            hours = dict(promised.get(opp, {}))
            source = "hours a week committed"
        total = sum(hours.values())
        if total <= 0:
            continue
        checked += 1
        for agent, h in sorted(hours.items(), key=lambda kv: (-kv[1], kv[0])):
            part = h / total
            if part > limit:
                violations.append(
                    Violation(
                        "",
                        opp,
                        f"{agent} carries {_pct(part)} of the work of {opp} ({_hours(h)} of "
                        f"{_hours(total)} {source}); the limit is {_pct(limit)}",
                        {
                            "participant": agent,
                            "hours": h,
                            "total": total,
                            "share": part,
                            "limit": limit,
                            "source": "ledger" if source.startswith("hours of") else "commitments",
                        },
                    )
                )
    return Outcome(checked, tuple(violations))


@register(
    "outside-client-cluster",
    Param("kinds", "a list of cluster kinds, e.g. [regional, business]", names),
)
def outside_client_cluster(view: GovernView, kinds: tuple[str, ...] | None = None) -> Outcome:
    """Every swarm includes someone from outside the client's clusters.

    A swarm is the team picked for an opportunity. It keeps the rule when at
    least one member belongs to none of the clusters the client belongs to;
    with ``kinds``, only the client's clusters of those kinds count
    (``[regional]``: someone from beyond the client's regional galaxy). A
    client in no such cluster has everyone outside. Opportunities with no
    team, lost or cancelled, are not checked.
    """

    def clusters_of(who: str) -> set[str]:
        mine = set(view.clusters.get(who, ()))
        if kinds is not None:
            mine = {c for c in mine if view.cluster_kinds.get(c) in kinds}
        return mine

    violations = []
    checked = 0
    for opp in sorted(view.opportunities, key=lambda o: o.id):
        if not opp.team or opp.stage in CLOSED:
            continue
        checked += 1
        theirs = clusters_of(opp.client)
        if any(not (set(view.clusters.get(m, ())) & theirs) for m in opp.team):
            continue
        of = "" if kinds is None else f" of kind {', '.join(kinds)}"
        violations.append(
            Violation(
                "",
                opp.id,
                f"every one of the {len(opp.team)} members of the swarm for {opp.id} "
                f"({', '.join(opp.team)}) shares a cluster{of} with the client {opp.client} "
                f"({', '.join(sorted(theirs))})",
                {"client": opp.client, "team": list(opp.team), "client_clusters": sorted(theirs)},
            )
        )
    return Outcome(checked, tuple(violations))


@register("consent-before-work")
def consent_before_work(view: GovernView) -> Outcome:
    """No work for an opportunity is recorded before its agreement is complete.

    An agreement is complete at the last consent given to the first version
    of it that every party consented to (the value equation it carries
    included). A ``work`` event of the opportunity recorded before that
    moment, or for an opportunity whose agreement no version ever completed,
    breaks the rule: one violation per opportunity, naming how many events and
    the earliest. The moment is the consent, not the pipeline's ``agreed``
    stage, because the stage follows the consent and an opportunity imported
    with its ledger may never have gone through the pipeline. Work recorded
    with no opportunity is not checked.
    """
    opportunities: dict[str, OpportunityView] = {o.id: o for o in view.opportunities}
    early: dict[str, list[int]] = defaultdict(list)
    first: dict[str, tuple[dt.datetime, int, str]] = {}
    seen: set[str] = set()
    for w in sorted(view.work, key=lambda w: w.seq):
        if w.opportunity is None:
            continue
        seen.add(w.opportunity)
        opp = opportunities.get(w.opportunity)
        agreed = None if opp is None else opp.agreed_at
        if agreed is None or w.at < agreed:
            early[w.opportunity].append(w.seq)
            first.setdefault(w.opportunity, (w.at, w.seq, w.agent))
    violations = []
    for opp_id in sorted(early):
        seqs = early[opp_id]
        at, seq, agent = first[opp_id]
        opp = opportunities.get(opp_id)
        agreed = None if opp is None else opp.agreed_at
        when = (
            f"before its agreement was complete ({agreed.isoformat()})"
            if agreed is not None
            else "and no version of its agreement has every party's consent"
        )
        n = len(seqs)
        violations.append(
            Violation(
                "",
                opp_id,
                f"{n} work event{'s' if n != 1 else ''} for {opp_id} recorded {when}; "
                f"the first: seq {seq}, {agent}, {at.isoformat()}",
                {"events": seqs, "agreed_at": None if agreed is None else agreed.isoformat()},
            )
        )
    return Outcome(len(seen), tuple(violations))


@register(
    "commitments-kept",
    Param("min", "a share between 0 and 1 (0.9, or 90%)", share, required=True),
    Param("per", "network or participant", choice("network", "participant"), default="network"),
)
def commitments_kept(view: GovernView, min: float, per: str = "network") -> Outcome:
    """At least ``min`` of the commitments that were owed to the end were kept.

    Of the finished commitments that were owed, discharged (kept) and violated
    (broken), the share discharged must be at least ``min``. Cancelled
    (withdrawn before anything was owed), expired (its condition never held)
    and released (the creditor let the debtor off) commitments count in
    neither, nor do active ones. With ``per: participant`` each debtor's share
    is checked, otherwise the network's. No finished commitment, nothing to check.
    """
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # kept, broken
    for c in view.commitments:
        if c.state not in ("discharged", "violated"):
            continue
        key = c.debtor if per == "participant" else "network"
        counts[key][0 if c.state == "discharged" else 1] += 1
    violations = []
    for subject, (kept, broken) in sorted(counts.items()):
        part = kept / (kept + broken)
        if part < min:
            who = "the network" if subject == "network" else subject
            violations.append(
                Violation(
                    "",
                    subject,
                    f"{who} kept {_pct(part)} of its finished commitments ({kept} discharged, "
                    f"{broken} violated); at least {_pct(min)} is asked",
                    {"discharged": kept, "violated": broken, "share": part, "min": min},
                )
            )
    return Outcome(len(counts), tuple(violations))


@register("ledger-intact")
def ledger_intact(view: GovernView) -> Outcome:
    """The ledger's hash chain verifies: no event altered, removed, reordered or relinked.

    The store verifies the chain when it builds the view (as ``glia ledger
    verify`` does); a break is a violation naming the first broken event.
    """
    ledger = view.ledger
    if ledger.intact:
        return Outcome(1)
    return Outcome(
        1,
        (
            Violation(
                "",
                "ledger",
                f"the ledger's chain is broken: {ledger.broken}",
                {"events": ledger.events},
            ),
        ),
    )
