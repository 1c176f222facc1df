"""Checking records: one record at a time, then references across the whole input.

Two steps, both collecting :class:`~glia.model.Problem` values:

1. :func:`validate_rows` turns raw rows (mappings from a file) into records,
   a batch at a time through one pydantic ``TypeAdapter`` call (fast on the
   happy path), falling back to row by row only to locate problems.
2. :class:`ReferenceIndex` is fed the sections in file order (clusters,
   participants, roles, ties, exchanges, opportunities). Every reference
   points to an earlier section, so a stream of any length is checked with
   memory only for the id maps. It reports unknown ids, duplicate ids and ids
   shared by a role and a participant (which would make an exchange's
   endpoint ambiguous), and hands out the dense integer index of each record,
   which the store uses as its key.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, NotRequired, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from ._problems import NO_VALUE, Location, Problem
from ._records import (
    TIE_DATES,
    TIE_SELF_LOOP,
    Cluster,
    Exchange,
    Opportunity,
    Participant,
    Role,
    Tie,
)

__all__ = [
    "SECTIONS",
    "ReferenceIndex",
    "problems_from_error",
    "validate_rows",
    "validate_tie_rows",
]

M = TypeVar("M", bound=BaseModel)

#: The sections of an ecosystem, in the order references allow.
SECTIONS: dict[str, type[BaseModel]] = {
    "clusters": Cluster,
    "participants": Participant,
    "roles": Role,
    "ties": Tie,
    "exchanges": Exchange,
    "opportunities": Opportunity,
}

_ADAPTERS: dict[type[BaseModel], TypeAdapter[Any]] = {}


def _adapter(model: type[M]) -> TypeAdapter[list[M]]:
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return adapter


def _expected(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "a value: this field is required"
    if kind == "extra_forbidden":
        known = ", ".join(f.alias or name for name, f in model.model_fields.items())
        return f"one of the known fields ({known}); other data belongs under attributes"
    message = str(error["msg"])
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return "a value " + message.removeprefix("Input should be ")
    for prefix in ("Input should be ", "Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    if kind.startswith("string_pattern"):
        return "text with no leading or trailing blank (lowercase slug for kinds and types)"
    return message[:1].lower() + message[1:]


def problems_from_error(
    exc: ValidationError, location: Location, model: type[BaseModel], skip: int = 0
) -> list[Problem]:
    """Translate a pydantic error into problems; ``skip`` drops leading loc parts."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = error["loc"][skip:]
        column = ".".join(str(part) for part in loc) or None
        value = NO_VALUE if error["type"] == "missing" else error.get("input", NO_VALUE)
        if error["type"] in ("value_error", "assertion_error") and not loc:
            value = NO_VALUE
        problems.append(Problem(location, column, value, _expected(error, model)))
    return problems


#: A row that failed validation: where, its raw mapping, the fields found wrong.
Rejected = tuple[Location, Mapping[str, Any], frozenset[str]]


def _row_schema(model: type[BaseModel]) -> TypeAdapter[Any]:
    """A list of plain dicts checked field by field exactly as ``model`` checks them.

    Built from the model's own fields (types, constraints, aliases), so there
    is one definition. Used for ties, the section with tens of millions of
    rows: a validated dict costs a sixth of a model instance here. The
    model's rules beyond its fields (:data:`TIE_DATES`,
    :data:`TIE_SELF_LOOP`) are checked by :meth:`ReferenceIndex.add_ties`.
    """
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation: Any = info.annotation
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        fields[info.alias or name] = annotation if info.is_required() else NotRequired[annotation]
    row: Any = TypedDict(f"{model.__name__}Row", fields)  # type: ignore[misc]
    row.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
    return TypeAdapter(list[row])


#: Sections validated as plain dicts (see :func:`_row_schema`).
_BULK: dict[type[BaseModel], TypeAdapter[Any]] = {}


def _bulk_adapter(model: type[BaseModel]) -> TypeAdapter[Any]:
    adapter = _BULK.get(model)
    if adapter is None:
        adapter = _BULK[model] = _row_schema(model)
    return adapter


def validate_tie_rows(
    rows: Sequence[tuple[Location, Any]],
) -> tuple[list[tuple[Location, dict[str, Any]]], list[Problem], list[Rejected]]:
    """Validate tie rows into plain dicts (native field names; a field absent has its default).

    A field given with its default value may be kept or left out: the tie is
    the same either way.

    Tie records (from an ecosystem in memory) become dicts too. Rows with a
    problem are validated again one by one through :class:`Tie`, so messages
    are the same as for every other section.
    """
    raws = [
        raw.model_dump(by_alias=True, exclude_defaults=True) if isinstance(raw, Tie) else raw
        for _, raw in rows
    ]
    adapter = _bulk_adapter(Tie)
    try:
        values = adapter.validate_python(raws)
    except ValidationError:
        pass
    else:
        return [(loc, v) for (loc, _), v in zip(rows, values, strict=True)], [], []
    good: list[tuple[Location, dict[str, Any]]] = []
    checked, problems, rejected = validate_rows(
        Tie, [(loc, raw) for (loc, _), raw in zip(rows, raws, strict=True)]
    )
    for loc, tie in checked:
        good.append((loc, tie.model_dump(by_alias=True, exclude_defaults=True)))
    return good, problems, rejected


def validate_rows(
    model: type[M], rows: Sequence[tuple[Location, Any]]
) -> tuple[list[tuple[Location, M]], list[Problem], list[Rejected]]:
    """Validate a batch of raw rows into records of ``model``.

    Rows that are already records of ``model`` pass through untouched.
    Returns the valid records with their locations, the problems of the
    rest, and the rejected rows themselves, so that their ids and references
    can still be checked (see :meth:`ReferenceIndex.add_rejected`).
    """
    raws = [raw for _, raw in rows]
    try:
        records = _adapter(model).validate_python(raws)
    except ValidationError:
        pass
    else:
        return [(loc, rec) for (loc, _), rec in zip(rows, records, strict=True)], [], []
    good: list[tuple[Location, M]] = []
    problems: list[Problem] = []
    rejected: list[Rejected] = []
    for loc, raw in rows:
        if not isinstance(raw, Mapping | BaseModel):
            expected = f"a mapping of {model.__name__.lower()} fields"
            problems.append(Problem(loc, None, raw, expected))
            continue
        try:
            good.append((loc, model.model_validate(raw)))
        except ValidationError as exc:
            found = problems_from_error(exc, loc, model)
            problems.extend(found)
            if isinstance(raw, Mapping):
                wrong = frozenset((p.column or "").split(".")[0] for p in found)
                rejected.append((loc, raw, wrong))
    return good, problems, rejected


class ReferenceIndex:
    """Ids seen so far, their dense indexes, and the reference problems found."""

    def __init__(self) -> None:
        self.clusters: dict[str, int] = {}
        self.participants: dict[str, int] = {}
        self.roles: dict[str, int] = {}
        self.exchanges: dict[str, int] = {}
        self.opportunities: dict[str, int] = {}
        self.counts: dict[str, int] = dict.fromkeys(SECTIONS, 0)
        self.tie_endpoints: tuple[list[int], list[int]] = ([], [])
        # Row of each registered id, by index: 8 bytes an id rather than a Location.
        self._rows: dict[str, array[int]] = {}

    # -- helpers -----------------------------------------------------------------
    def _register(
        self, section: str, table: dict[str, int], ident: str, loc: Location
    ) -> Problem | None:
        rows = self._rows.setdefault(section, array("q"))
        if ident in table:
            first = rows[table[ident]]
            where = f" (first used in row {first})" if first >= 0 else ""
            return Problem(loc, "id", ident, f"an id not used before in {section}{where}")
        table[ident] = len(table)
        rows.append(-1 if loc.row is None else loc.row)
        return None

    def _unknown(self, loc: Location, column: str, ident: str, what: str) -> Problem:
        return Problem(loc, column, ident, f"the id of a known {what}")

    # -- sections, in order ---------------------------------------------------------
    def add_clusters(self, rows: Iterable[tuple[Location, Cluster]]) -> list[Problem]:
        problems = []
        for loc, c in rows:
            self.counts["clusters"] += 1
            if (p := self._register("clusters", self.clusters, c.id, loc)) is not None:
                problems.append(p)
        return problems

    def add_participants(self, rows: Iterable[tuple[Location, Participant]]) -> list[Problem]:
        problems = []
        clusters = self.clusters
        for loc, p in rows:
            self.counts["participants"] += 1
            if (dup := self._register("participants", self.participants, p.id, loc)) is not None:
                problems.append(dup)
            seen: set[str] = set()
            for i, c in enumerate(p.clusters):
                if c not in clusters:
                    problems.append(self._unknown(loc, f"clusters.{i}", c, "cluster"))
                elif c in seen:
                    problems.append(Problem(loc, f"clusters.{i}", c, "each cluster listed once"))
                seen.add(c)
        return problems

    def add_roles(self, rows: Iterable[tuple[Location, Role]]) -> list[Problem]:
        problems = []
        participants = self.participants
        for loc, r in rows:
            self.counts["roles"] += 1
            if (dup := self._register("roles", self.roles, r.id, loc)) is not None:
                problems.append(dup)
            if r.id in participants:
                problems.append(
                    Problem(
                        loc, "id", r.id, "an id that no participant has (exchanges name either)"
                    )
                )
            seen: set[str] = set()
            for i, who in enumerate(r.played_by):
                if who not in participants:
                    problems.append(self._unknown(loc, f"played_by.{i}", who, "participant"))
                elif who in seen:
                    problems.append(Problem(loc, f"played_by.{i}", who, "each player listed once"))
                seen.add(who)
        return problems

    def add_ties(self, rows: Iterable[tuple[Location, dict[str, Any] | Tie]]) -> list[Problem]:
        """Check tie rows (plain dicts, see :func:`validate_tie_rows`).

        Resolves each endpoint once: :attr:`tie_endpoints` holds the source and
        target indexes of the batch, for the store to write without looking
        them up again (a lookup in a map of a million ids is not cheap).
        """
        problems = []
        participants = self.participants
        sources: list[int] = []
        targets: list[int] = []
        n = 0
        for loc, t in rows:
            n += 1
            if isinstance(t, Tie):  # a record built in memory
                t = {"from": t.source, "to": t.target, "since": t.since, "until": t.until}
            source, target = t["from"], t["to"]
            i = participants.get(source, -1)
            j = participants.get(target, -1)
            if i < 0:
                problems.append(self._unknown(loc, "from", source, "participant"))
            if j < 0:
                problems.append(self._unknown(loc, "to", target, "participant"))
            if source == target:
                problems.append(Problem(loc, None, NO_VALUE, TIE_SELF_LOOP))
            since, until = t.get("since"), t.get("until")
            if since and until and until < since:
                problems.append(Problem(loc, None, NO_VALUE, TIE_DATES))
            sources.append(i)
            targets.append(j)
        self.counts["ties"] += n
        self.tie_endpoints = (sources, targets)
        return problems

    def add_exchanges(self, rows: Iterable[tuple[Location, Exchange]]) -> list[Problem]:
        problems = []
        for loc, e in rows:
            self.counts["exchanges"] += 1
            if e.id is not None and (dup := self._register("exchanges", self.exchanges, e.id, loc)):
                problems.append(dup)
            for column, ident in (("from", e.source), ("to", e.target)):
                if ident not in self.roles and ident not in self.participants:
                    problems.append(self._unknown(loc, column, ident, "role or participant"))
        return problems

    def add_opportunities(self, rows: Iterable[tuple[Location, Opportunity]]) -> list[Problem]:
        problems = []
        for loc, o in rows:
            self.counts["opportunities"] += 1
            if (dup := self._register("opportunities", self.opportunities, o.id, loc)) is not None:
                problems.append(dup)
            if o.client not in self.participants:
                problems.append(self._unknown(loc, "client", o.client, "participant"))
        return problems

    def add_rejected(self, section: str, rows: Iterable[Rejected]) -> list[Problem]:
        """Check what can be checked of records that failed validation.

        Their ids are registered (so references to them are not reported as
        unknown) and their references are checked, except in fields already
        reported wrong: one run lists every problem of a record.
        """
        problems: list[Problem] = []
        table = getattr(self, section, None)
        for loc, raw, wrong in rows:
            self.counts[section] += 1
            ident = raw.get("id")
            known_id = isinstance(table, dict) and isinstance(ident, str) and "id" not in wrong
            if known_id and (dup := self._register(section, table, ident, loc)) is not None:  # type: ignore[arg-type]
                problems.append(dup)
            for column, what, known in self._references(section):
                if column in wrong:
                    continue
                value = raw.get(column)
                items = [(column, value)] if isinstance(value, str) else []
                if isinstance(value, list | tuple):
                    items = [
                        (f"{column}.{i}", v) for i, v in enumerate(value) if isinstance(v, str)
                    ]
                for where, ref in items:
                    if not any(ref in table_ for table_ in known):
                        problems.append(self._unknown(loc, where, ref, what))
        return problems

    def _references(self, section: str) -> list[tuple[str, str, tuple[dict[str, int], ...]]]:
        """The reference fields of a section: column, what it names, where to look."""
        people = (self.participants,)
        fields: dict[str, list[tuple[str, str, tuple[dict[str, int], ...]]]] = {
            "participants": [("clusters", "cluster", (self.clusters,))],
            "roles": [("played_by", "participant", people)],
            "ties": [("from", "participant", people), ("to", "participant", people)],
            "exchanges": [
                ("from", "role or participant", (self.roles, self.participants)),
                ("to", "role or participant", (self.roles, self.participants)),
            ],
            "opportunities": [("client", "participant", people)],
        }
        return fields.get(section, [])

    def add(self, section: str, rows: Iterable[tuple[Location, Any]]) -> list[Problem]:
        """Feed one section's records (in section order)."""
        method = getattr(self, f"add_{section}")
        problems: list[Problem] = method(rows)
        return problems

    def endpoint(self, ident: str) -> tuple[str, int]:
        """Resolve an exchange endpoint to ``("role"|"participant", index)``."""
        if ident in self.roles:
            return "role", self.roles[ident]
        return "participant", self.participants[ident]
