"""The review pack: what a reflective session needs on the table.

:func:`review_pack` puts together, from the map's snapshot and the
:class:`~glia.govern.GovernView`:

- **figures** of the network now (participants, ties by layer, exchanges by
  kind, opportunities by stage, ledger events by action, income received,
  distributed and paid, commitments by state, the sweet spot's overlap,
  health, fairness, principles violated, aspirations due), and **what
  changed** since the last review held: each figure that differs from the
  figures that review stored, and the pipeline's steps since;
- **the sweet spot**: the overlap of formal and informal ties
  (:func:`glia.analysis.sweet_spot`);
- **health**: Ulanowicz's degree of order and robustness of the money flows,
  keystones, dominators and niches (:func:`glia.analysis.health`);
- **fairness**: shares of income against contributions (:func:`~glia.govern.fairness`);
- **principles** checked, the violated ones first; **aspirations** due.

Recording a review (:meth:`glia.store.Store.record_review`) stores the
figures, so the next pack reports what changed since.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from ..engage import COMMITMENT_STATES, STAGES
from ..ledger import ACTIONS
from ._aspirations import Aspiration
from ._fairness import Fairness, fairness
from ._principles import STATUSES, Principle, PrincipleResult, check_principles
from ._view import GovernView, TransitionView

if TYPE_CHECKING:
    from ..store import Snapshot

__all__ = ["Change", "PastReview", "ReviewPack", "changes", "flatten", "review_pack"]


@dataclass(frozen=True)
class PastReview:
    """A review held: its number, day, who held it, the figures it stored, and its
    marks (where the ledger and the pipeline stood: ``ledger_seq``, ``pipeline_step``)."""

    number: int
    held_on: dt.date
    held_by: str
    figures: Mapping[str, Any]
    recorded_at: dt.datetime | None = None
    marks: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """A figure that changed since the last review (None: absent then, or now)."""

    key: str
    before: Any
    now: Any

    @property
    def delta(self) -> Any:
        """``now - before`` when both are numbers (exact for money), else None."""
        a, b = _number(self.before), _number(self.now)
        if a is None or b is None:
            return None
        if isinstance(a, Decimal) or isinstance(b, Decimal):
            return Decimal(str(b)) - Decimal(str(a))
        return b - a

    def to_json(self) -> dict[str, Any]:
        delta = self.delta
        return {
            "figure": self.key,
            "before": self.before,
            "now": self.now,
            "change": str(delta) if isinstance(delta, Decimal) else delta,
        }


def _number(value: Any) -> int | float | Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def flatten(figures: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested figures as ``{"ties.formal": 73, ...}``."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _same(a: Any, b: Any) -> bool:
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        if isinstance(x, float) or isinstance(y, float):
            return math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-12)
        return Decimal(str(x)) == Decimal(str(y))
    return bool(a == b)


def changes(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[Change]:
    """Every figure that differs between two sets of figures, in the order of ``now``."""
    flat_before, flat_now = flatten(before), flatten(now)
    keys = list(flat_now) + [k for k in flat_before if k not in flat_now]
    return [
        Change(k, flat_before.get(k), flat_now.get(k))
        for k in keys
        if not _same(flat_before.get(k), flat_now.get(k))
    ]


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _map_figures(snapshot: Snapshot | None) -> dict[str, Any]:
    if snapshot is None:
        return {}
    import numpy as np

    def counts(names: Sequence[str], codes: Any) -> dict[str, int]:
        found = np.bincount(np.asarray(codes, dtype=np.int64), minlength=len(names))
        return {name: int(found[i]) for i, name in enumerate(names)}

    people = counts(snapshot.participant_kinds, snapshot.participant_kind)
    return {
        "participants": {"total": snapshot.n_participants, **people},
        "ties": counts(snapshot.layers, snapshot.tie_layer),
        "exchanges": counts(snapshot.exchange_kinds, snapshot.exchange_kind),
    }


def _sweet_spot(snapshot: Snapshot | None, notes: list[str]) -> dict[str, Any]:
    if snapshot is None:
        return {}
    from ..analysis import AnalysisError, sweet_spot
    from ..graph import build

    try:
        spot = sweet_spot(build(snapshot), top=0)
    except AnalysisError as exc:
        notes.append(f"sweet spot: {exc}")
        return {}
    return {
        "overlap": _finite(spot.overlap),
        "formal_pairs": spot.n_formal,
        "informal_pairs": spot.n_informal,
        "both": spot.n_both,
        "informal_unsupported": spot.n_unsupported,
        "formal_only": spot.n_formal_only,
    }


def _health(snapshot: Snapshot | None, notes: list[str]) -> dict[str, Any]:
    if snapshot is None:
        return {}
    from ..analysis import AnalysisError, health
    from ..graph import build

    try:
        h = health(build(snapshot))
    except AnalysisError as exc:
        notes.append(f"health: {exc}")
        return {}
    s = h.sustainability
    return {
        "currency": h.currency,
        "throughput": _finite(s.tst),
        "alpha": _finite(s.alpha),
        "robustness": _finite(s.robustness),
        "alpha_optimum": 1 / math.e,
        "keystones": h.keystones,
        "dominators": h.dominators,
        "niche_count": h.niche_count,
    }


@dataclass(frozen=True)
class ReviewPack:
    """The review pack (see the module). ``number`` is the number the review gets
    when recorded; ``previous`` the last review held, if any."""

    ecosystem: str
    today: dt.date
    number: int
    previous: PastReview | None
    figures: dict[str, Any]
    changes: tuple[Change, ...]
    transitions: tuple[TransitionView, ...]
    sweet_spot: dict[str, Any]
    health: dict[str, Any]
    fairness: Fairness
    principles: tuple[PrincipleResult, ...]
    aspirations: tuple[Aspiration, ...]
    notes: tuple[str, ...] = ()
    marks: dict[str, int] = field(default_factory=dict)

    @property
    def violated(self) -> list[PrincipleResult]:
        return [r for r in self.principles if r.status == "violated"]

    @property
    def due(self) -> list[Aspiration]:
        return [a for a in self.aspirations if a.due(self.today)]

    def to_json(self) -> dict[str, Any]:
        prev = self.previous
        return {
            "ecosystem": self.ecosystem,
            "review": self.number,
            "today": self.today.isoformat(),
            "previous": None
            if prev is None
            else {"review": prev.number, "held_on": prev.held_on.isoformat(), "by": prev.held_by},
            "changes": [c.to_json() for c in self.changes],
            "transitions": [
                {
                    "opportunity": t.opportunity,
                    "from": t.source,
                    "to": t.target,
                    "by": t.by,
                    "at": t.at.isoformat(),
                }
                for t in self.transitions
            ],
            "figures": self.figures,
            "sweet_spot": self.sweet_spot,
            "health": self.health,
            "fairness": self.fairness.to_json(),
            "principles": [r.to_json() for r in self.principles],
            "aspirations_due": [a.to_json(self.today) for a in self.due],
            "aspirations": [a.to_json(self.today) for a in self.aspirations],
            "notes": list(self.notes),
            "marks": dict(self.marks),
        }

    def to_markdown(self) -> str:
        return _markdown(self)


def review_pack(
    view: GovernView,
    snapshot: Snapshot | None,
    principles: Sequence[Principle],
    aspirations: Sequence[Aspiration],
    today: dt.date,
    previous: PastReview | None = None,
) -> ReviewPack:
    """Put the review pack together (see the module). Without a snapshot, the map's
    figures, the sweet spot and health are left out."""
    notes: list[str] = []
    results = check_principles(principles, view)
    order = {s: i for i, s in enumerate(STATUSES)}
    results.sort(key=lambda r: order[r.status])
    ledger = view.ledger
    fair = fairness(
        ledger.contributed, ledger.shares, uncredited=ledger.uncredited, currency=ledger.currency
    )
    spot = _sweet_spot(snapshot, notes)
    fitness = _health(snapshot, notes)
    stages = dict.fromkeys(STAGES, 0)
    for o in view.opportunities:
        stages[o.stage] = stages.get(o.stage, 0) + 1
    states = dict.fromkeys(COMMITMENT_STATES, 0)
    for c in view.commitments:
        states[c.state] = states.get(c.state, 0) + 1
    by_action = {a: int(ledger.by_action.get(a, 0)) for a in ACTIONS}
    by_action.update({a: int(n) for a, n in ledger.by_action.items() if a not in by_action})
    figures: dict[str, Any] = {
        **_map_figures(snapshot),
        "opportunities": stages,
        "ledger": {"events": ledger.events, **by_action},
        "income": {
            "currency": ledger.currency,
            "received": str(ledger.income),
            "distributed": str(ledger.allocated),
            "paid": str(ledger.paid),
        },
        "commitments": states,
        "sweet_spot": {"overlap": spot.get("overlap")},
        "health": {k: fitness.get(k) for k in ("alpha", "robustness", "throughput")},
        "fairness": {
            "gini_contributions": fair.gini_contributions,
            "gini_shares": fair.gini_shares,
            "concentration": fair.concentration,
            "deviation": fair.deviation,
        },
        "principles": {
            "violated": sum(r.status == "violated" for r in results),
            "violations": sum(len(r.violations) for r in results),
        },
        "aspirations": {"due": sum(a.due(today) for a in aspirations)},
    }
    found = () if previous is None else tuple(changes(previous.figures, figures))
    if fair.uncredited:
        notes.append(
            f"fairness: {fair.uncredited} contribution event(s) with no money value (no value "
            "recorded, and no hours at a known rate) are not counted in the contributions"
        )
    return ReviewPack(
        ecosystem=view.ecosystem,
        today=today,
        number=1 if previous is None else previous.number + 1,
        previous=previous,
        figures=figures,
        changes=found,
        transitions=view.transitions,
        sweet_spot=spot,
        health=fitness,
        fairness=fair,
        principles=tuple(results),
        aspirations=tuple(sorted(aspirations, key=lambda a: (a.next_review, a.key))),
        notes=tuple(notes),
        marks={"ledger_seq": ledger.last_seq, "pipeline_step": view.last_step},
    )


# -- Markdown ---------------------------------------------------------------------------
def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _signed(delta: Any) -> str:
    if delta is None:
        return ""
    if isinstance(delta, float):
        return f"{delta:+.3f}".rstrip("0").rstrip(".")
    return f"{delta:+}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(pack: ReviewPack) -> str:
    out: list[str] = [f"# Review {pack.number} of {pack.ecosystem}, {pack.today.isoformat()}", ""]
    prev = pack.previous
    out += ["## What changed", ""]
    if prev is None:
        out += ["The first review: there is no earlier review to compare with.", ""]
    else:
        out += [
            f"Since review {prev.number}, held on {prev.held_on.isoformat()} by {prev.held_by}:",
            "",
        ]
        if not pack.changes and not pack.transitions:
            out += ["nothing in the figures.", ""]
    if pack.changes:
        out += ["| figure | before | now | change |", "|---|---:|---:|---:|"]
        out += [
            f"| {c.key} | {_cell(_fmt(c.before))} | {_cell(_fmt(c.now))} | {_signed(c.delta)} |"
            for c in pack.changes
        ]
        out.append("")
    if pack.transitions:
        out += ["Pipeline steps:", ""]
        out += [
            f"- {t.at.date().isoformat()} {t.opportunity}: {t.source} → {t.target} ({t.by})"
            for t in pack.transitions
        ]
        out.append("")
    fig = pack.figures
    if "participants" in fig:
        p, t, x = fig["participants"], fig["ties"], fig["exchanges"]
        kinds = ", ".join(f"{n} {k}" for k, n in p.items() if k != "total")
        out += [
            "## The network now",
            "",
            f"- {p['total']} participants ({kinds}); "
            + ", ".join(f"{n} {k}" for k, n in t.items())
            + " ties; "
            + ", ".join(f"{n} {k}" for k, n in x.items())
            + " exchanges",
        ]
    else:
        out += ["## The network now", ""]
    stages = ", ".join(f"{n} {s}" for s, n in fig["opportunities"].items() if n)
    out.append(f"- opportunities: {stages or 'none'}")
    money = fig["income"]
    cur = f" {money['currency']}" if money["currency"] else ""
    out.append(
        f"- ledger: {fig['ledger']['events']} events; income received "
        f"{_fmt(Decimal(money['received']))}{cur}, distributed "
        f"{_fmt(Decimal(money['distributed']))}{cur}, paid {_fmt(Decimal(money['paid']))}{cur}"
    )
    states = ", ".join(f"{n} {s}" for s, n in fig["commitments"].items() if n)
    out += [f"- commitments: {states or 'none'}", ""]
    if pack.sweet_spot:
        s = pack.sweet_spot
        out += [
            "## The sweet spot",
            "",
            f"Formal and informal ties overlap on {s['both']} of {s['formal_pairs']} formal and "
            f"{s['informal_pairs']} informal pairs: an overlap (Jaccard) of {_fmt(s['overlap'])}. "
            f"{s['informal_unsupported']} informal ties with no formal support are bridges of the "
            f"informal network; {s['formal_only']} formal ties have no informal life.",
            "",
        ]
    if pack.health:
        h = pack.health
        out += [
            "## Health",
            "",
            f"- money flows: {_fmt(h['throughput'])} {h['currency'] or ''} a year in total; "
            f"degree of order {_fmt(h['alpha'])} (robustness {_fmt(h['robustness'])}, "
            f"at its highest at {_fmt(h['alpha_optimum'])})",
            f"- keystones: {_fmt(h['keystones'])}; dominators: {_fmt(h['dominators'])}; "
            f"niches filled: {h['niche_count']}",
            "",
        ]
    f = pack.fairness
    out += ["## Fairness", ""]
    if f.gini_shares is None:
        out.append("No income distributed yet: nothing to compare with the contributions.")
        if f.gini_contributions is not None:
            out.append(
                f"Contributions credited: {_fmt(f.contributed)} among {f.participants} "
                f"participants, Gini {_fmt(f.gini_contributions)}."
            )
        out.append("")
    else:
        cur = f" {f.currency}" if f.currency else ""
        out += [
            f"- {_fmt(f.distributed)}{cur} distributed among {f.participants} participants "
            f"who contributed {_fmt(f.contributed)}{cur} credited",
            f"- Gini of shares {_fmt(f.gini_shares)}, of contributions "
            f"{_fmt(f.gini_contributions)}; concentration of shares by contribution "
            f"{_fmt(f.concentration)}",
            f"- distance from proportional: {_fmt(f.deviation)} (the share of the income that "
            "would move for everyone to receive in proportion to their contributions)",
            "",
            "| participant | contributed | share of contributions | received | share of income |",
            "|---|---:|---:|---:|---:|",
        ]
        out += [
            f"| {g.participant} | {_fmt(g.contributed)} | {g.contribution_share:.1%} | "
            f"{_fmt(g.received)} | {g.income_share:.1%} |"
            for g in f.furthest
        ]
        out.append("")
    out += ["## Principles", ""]
    if not pack.principles:
        out += ["No principles set (glia principles set).", ""]
    for r in pack.principles:
        out.append(f"- **{r.principle.key}** ({r.status}): {r.principle.text}")
        out += [f"  - {v.message}" for v in r.violations]
    if pack.principles:
        out.append("")
    out += ["## Aspirations due", ""]
    due = pack.due
    if not pack.aspirations:
        out += ["No aspirations set (glia aspirations set).", ""]
    elif not due:
        nxt = pack.aspirations[0]
        out += [f"None due; the next: {nxt.key} on {nxt.next_review.isoformat()}.", ""]
    else:
        for a in due:
            last = a.last_reviewed.isoformat() if a.last_reviewed else "never"
            out.append(
                f"- **{a.key}** ({a.cadence}, last reviewed {last}, due "
                f"{a.next_review.isoformat()}): {a.text}"
            )
        out.append("")
    if pack.notes:
        out += ["## Notes", ""]
        out += [f"- {n}" for n in pack.notes]
        out.append("")
    return "\n".join(out)
