"""Value equations in the store: versioned per level, with each party's consent.

An equation belongs to a *level* and a *subject*: ``opportunity`` and an
opportunity's id (or ``*``: every opportunity without an equation of its own),
``organisation`` and an organisation's id, or ``network`` (subject ``""``).
Adding an equation for a level and subject that already has one makes the
next version; earlier versions stay, with their consents. A consent is given
to one version, by one party, on a date, and recorded with who recorded it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from ..ledger import ValueEquation
from ._reader import ecosystem_id
from ._tables import EQUATION_LEVELS, equation_consent, value_equation

__all__ = [
    "ANY_OPPORTUNITY",
    "EquationError",
    "EquationIndex",
    "Found",
    "StoredEquation",
    "add_equation",
    "consent",
    "delete_equations",
    "equations",
    "equations_for",
]

#: The subject of the equation of every opportunity without one of its own.
ANY_OPPORTUNITY = "*"


class EquationError(ValueError):
    """An equation or a consent that cannot be recorded, and why; nothing was written."""


@dataclass(frozen=True)
class StoredEquation:
    """One version of an equation as stored: where it applies, and the equation
    with the consents recorded for it."""

    level: str
    subject: str
    equation: ValueEquation
    recorded_by: str
    recorded_at: dt.datetime

    def label(self) -> str:
        where = {"network": "the network", "opportunity": "opportunity", "organisation": ""}
        subject = "every opportunity" if self.subject == ANY_OPPORTUNITY else self.subject
        place = where[self.level] if self.level == "network" else f"{self.level} {subject}"
        return f"{self.equation.name} v{self.equation.version} ({place})"


def _subject(level: str, subject: str | None) -> str:
    if level not in EQUATION_LEVELS:
        raise EquationError(f"level {level!r}: expected one of {', '.join(EQUATION_LEVELS)}")
    if level == "network":
        if subject:
            raise EquationError("a network equation has no subject")
        return ""
    if not subject or not subject.strip():
        raise EquationError(f"an {level} equation needs the {level}'s id")
    return subject.strip()


def _body(equation: ValueEquation) -> dict[str, Any]:
    return equation.model_dump(mode="json", exclude={"version", "consents"})


def add_equation(
    conn: Connection,
    name: str,
    level: str,
    subject: str | None,
    equation: ValueEquation,
    recorded_by: str,
    at: dt.datetime | None = None,
) -> StoredEquation:
    """Store ``equation`` as the next version for ``level`` and ``subject``.

    The equation's own ``version`` must be absent (1) or the next version;
    consents it carries are recorded as given by ``recorded_by``.
    """
    eco = ecosystem_id(conn, name)
    where = _subject(level, subject)
    if not recorded_by or not recorded_by.strip():
        raise EquationError("who records the equation (--by) is required")
    last = conn.execute(
        select(func.max(value_equation.c.version)).where(
            value_equation.c.ecosystem_id == eco,
            value_equation.c.level == level,
            value_equation.c.subject == where,
        )
    ).scalar_one_or_none()
    version = (last or 0) + 1
    fields_set = equation.model_fields_set
    if "version" in fields_set and equation.version != version:
        raise EquationError(
            f"{equation.name} says version {equation.version}; the next version here is {version}"
        )
    when = at or dt.datetime.now(dt.UTC)
    row_id = conn.execute(
        insert(value_equation)
        .values(
            ecosystem_id=eco,
            level=level,
            subject=where,
            version=version,
            body=_body(equation),
            recorded_by=recorded_by,
            recorded_at=when,
        )
        .returning(value_equation.c.id)
    ).scalar_one()
    for party, day in sorted(equation.consents.items()):
        conn.execute(
            insert(equation_consent).values(
                equation_id=row_id,
                party=party,
                consented_on=day,
                recorded_by=recorded_by,
                recorded_at=when,
            )
        )
    stored = equation.model_copy(update={"version": version})
    return StoredEquation(level, where, stored, recorded_by, when)


def equations(
    conn: Connection, name: str, level: str | None = None, subject: str | None = None
) -> list[StoredEquation]:
    """Every stored version (of one level and subject, if given), oldest first,
    with the consents recorded for each."""
    eco = ecosystem_id(conn, name)
    query = select(value_equation).where(value_equation.c.ecosystem_id == eco)
    if level is not None:
        query = query.where(
            value_equation.c.level == level,
            value_equation.c.subject == _subject(level, subject),
        )
    rows = conn.execute(
        query.order_by(value_equation.c.level, value_equation.c.subject, value_equation.c.version)
    ).all()
    consents: dict[int, dict[str, dt.date]] = {}
    ids = [r.id for r in rows]
    for start in range(0, len(ids), 500):
        for c in conn.execute(
            select(equation_consent).where(
                equation_consent.c.equation_id.in_(ids[start : start + 500])
            )
        ):
            consents.setdefault(c.equation_id, {})[c.party] = c.consented_on
    out = []
    for r in rows:
        eq = ValueEquation.model_validate(
            {**r.body, "version": r.version, "consents": consents.get(r.id, {})}
        )
        when = r.recorded_at if r.recorded_at.tzinfo else r.recorded_at.replace(tzinfo=dt.UTC)
        out.append(StoredEquation(r.level, r.subject, eq, r.recorded_by, when))
    return out


def consent(
    conn: Connection,
    name: str,
    level: str,
    subject: str | None,
    party: str,
    recorded_by: str,
    on: dt.date | None = None,
    version: int | None = None,
) -> StoredEquation:
    """Record ``party``'s consent to a version (default: the latest)."""
    eco = ecosystem_id(conn, name)
    where = _subject(level, subject)
    if not party or not party.strip():
        raise EquationError("the party who consents is required")
    query = select(value_equation.c.id, value_equation.c.version).where(
        value_equation.c.ecosystem_id == eco,
        value_equation.c.level == level,
        value_equation.c.subject == where,
    )
    rows = {r.version: r.id for r in conn.execute(query)}
    place = "the network" if level == "network" else f"{level} {where}"
    if not rows:
        raise EquationError(f"no equation for {place} in {name}")
    chosen = max(rows) if version is None else version
    if chosen not in rows:
        raise EquationError(
            f"no version {chosen} of the equation for {place}: versions "
            f"{', '.join(str(v) for v in sorted(rows))}"
        )
    already = conn.execute(
        select(equation_consent.c.consented_on).where(
            equation_consent.c.equation_id == rows[chosen], equation_consent.c.party == party
        )
    ).scalar_one_or_none()
    if already is not None:
        raise EquationError(
            f"{party} already consented to version {chosen} of the equation for {place} "
            f"(on {already})"
        )
    conn.execute(
        insert(equation_consent).values(
            equation_id=rows[chosen],
            party=party.strip(),
            consented_on=on or dt.date.today(),
            recorded_by=recorded_by,
            recorded_at=dt.datetime.now(dt.UTC),
        )
    )
    found = [e for e in equations(conn, name, level, subject) if e.equation.version == chosen]
    return found[0]


#: The versions that may apply to one opportunity, newest first: the network's,
#: the opportunity's (its own, else the one for every opportunity), each organisation's.
Found = tuple[list["StoredEquation"], list["StoredEquation"], dict[str, list["StoredEquation"]]]


class EquationIndex:
    """An ecosystem's stored equations, indexed to find those of any opportunity."""

    def __init__(self, stored: list[StoredEquation]) -> None:
        newest = sorted(stored, key=lambda e: -e.equation.version)
        self.network = [e for e in newest if e.level == "network"]
        self.own: dict[str, list[StoredEquation]] = {}
        self.orgs: dict[str, list[StoredEquation]] = {}
        for e in newest:
            if e.level == "opportunity":
                self.own.setdefault(e.subject, []).append(e)
            elif e.level == "organisation":
                self.orgs.setdefault(e.subject, []).append(e)

    def found(self, opportunity: str) -> Found:
        own = self.own.get(opportunity) or self.own.get(ANY_OPPORTUNITY, [])
        return self.network, own, self.orgs


def equations_for(conn: Connection, name: str, opportunity: str) -> Found:
    """The versions that may apply to ``opportunity`` (see :data:`Found`)."""
    return EquationIndex(equations(conn, name)).found(opportunity)


def delete_equations(conn: Connection, eco_id: int) -> None:
    """Remove an ecosystem's equations: only when the ecosystem itself is deleted."""
    ids = select(value_equation.c.id).where(value_equation.c.ecosystem_id == eco_id)
    conn.execute(delete(equation_consent).where(equation_consent.c.equation_id.in_(ids)))
    conn.execute(delete(value_equation).where(value_equation.c.ecosystem_id == eco_id))
