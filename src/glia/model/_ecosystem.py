"""The ecosystem: one workspace's records, and the check of a whole document."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from ._check import SECTIONS, ReferenceIndex
from ._problems import NO_VALUE, InvalidInput, Location, Problem
from ._records import (
    Attributes,
    Cluster,
    Currency,
    Exchange,
    Name,
    Opportunity,
    Participant,
    Record,
    Role,
    Text,
    Tie,
)
from ._stream import HEADER_FIELDS, Header, check_stream

__all__ = ["CollectingSink", "DocumentRows", "Ecosystem", "check_references", "validate_document"]


class Ecosystem(Record):
    """A whole ecosystem: the content of one native file.

    Building one checks every record and every reference; a bad one raises
    ``pydantic.ValidationError``. Reading a file with
    :func:`validate_document` (or :func:`glia.read`) reports every problem
    with its place in the file instead.

    Examples
    --------
    >>> from glia.model import Ecosystem
    >>> eco = Ecosystem.model_validate({
    ...     "glia": 1, "ecosystem": "Tiny",
    ...     "participants": [{"id": "ana"}, {"id": "ben"}],
    ...     "ties": [{"from": "ana", "to": "ben", "layer": "informal", "type": "trust"}],
    ... })
    >>> eco.ties[0].source, eco.ties[0].weight
    ('ana', 1.0)
    """

    glia: Literal[1] = Field(default=1, description="format version")
    ecosystem: Name = Field(description="the ecosystem's name")
    description: Text | None = None
    currency: Currency | None = Field(default=None, description="default currency")
    attributes: Attributes = Field(default_factory=dict)
    clusters: tuple[Cluster, ...] = ()
    participants: tuple[Participant, ...] = ()
    roles: tuple[Role, ...] = ()
    ties: tuple[Tie, ...] = ()
    exchanges: tuple[Exchange, ...] = ()
    opportunities: tuple[Opportunity, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> Ecosystem:
        problems = check_references(self)
        if problems:
            raise ValueError("; ".join(str(p) for p in problems[:20]))
        return self

    @property
    def name(self) -> str:
        return self.ecosystem

    def counts(self) -> dict[str, int]:
        """Number of records in each section."""
        return {section: len(getattr(self, section)) for section in SECTIONS}

    def sections(self) -> Iterator[tuple[str, tuple[BaseModel, ...]]]:
        for section in SECTIONS:
            yield section, getattr(self, section)


def check_references(eco: Ecosystem, source: str = "<memory>") -> list[Problem]:
    """Every reference problem of an ecosystem built in memory."""
    index = ReferenceIndex()
    problems: list[Problem] = []
    for section, records in eco.sections():
        rows = ((Location(source, section, i + 1), r) for i, r in enumerate(records))
        problems.extend(index.add(section, rows))
    return problems


def validate_document(
    data: Any, source: str = "<memory>", lines: Mapping[int, int] | None = None
) -> Ecosystem:
    """Validate a parsed document (YAML or JSON) into an :class:`Ecosystem`.

    Every problem is collected, from the header to the last reference, and
    raised together as :class:`~glia.model.InvalidInput`. ``lines`` maps
    ``id()`` of parsed mappings to their line in the file, when the reader
    kept them, so that problems can name the line.
    """
    if not isinstance(data, Mapping):
        what = "an empty document" if data is None else type(data).__name__
        expected = "a mapping with 'glia: 1', 'ecosystem' and the sections"
        raise InvalidInput([Problem(Location(source), None, what, expected)])
    source_rows = DocumentRows(data, source, lines)
    sink = CollectingSink()
    result = check_stream(data, source_rows.rows, source, sink, source_rows.problems)
    if not result.ok or result.header is None:
        raise InvalidInput(result.problems, result.total)
    return sink.ecosystem(result.header)


class CollectingSink:
    """Keeps every valid record, to build an :class:`Ecosystem` in memory."""

    def __init__(self) -> None:
        self.records: dict[str, list[Any]] = {s: [] for s in SECTIONS}

    def write(self, section: str, records: list[tuple[Location, Any]], index: object) -> None:
        if section == "ties":  # ties travel as checked dicts (see validate_tie_rows)
            self.records[section].extend(Tie.model_validate(rec) for _, rec in records)
        else:
            self.records[section].extend(rec for _, rec in records)

    def ecosystem(self, header: Header) -> Ecosystem:
        values: dict[str, Any] = header.model_dump()
        values.update((k, tuple(v)) for k, v in self.records.items())
        return Ecosystem.model_construct(**values)


class DocumentRows:
    """Rows of a parsed native document, with the structural problems found."""

    def __init__(self, data: Mapping[str, Any], source: str, lines: Mapping[int, int] | None):
        self.data = data
        self.source = source
        self.lines = lines or {}
        self._problems: list[Problem] = []
        top = Location(source)
        known = set(HEADER_FIELDS) | set(SECTIONS)
        for key in data:
            if key not in known:
                expected = "a known top-level key (" + ", ".join([*HEADER_FIELDS, *SECTIONS]) + ")"
                self._problems.append(Problem(top, str(key), NO_VALUE, expected))

    def rows(self, section: str) -> Iterator[tuple[Location, Any]]:
        raw = self.data.get(section)
        if raw is None:
            return
        if not isinstance(raw, list):
            loc = Location(self.source, section)
            self._problems.append(Problem(loc, None, type(raw).__name__, "a list of records"))
            return
        for i, item in enumerate(raw):
            yield Location(self.source, section, i + 1, self.lines.get(id(item))), item

    def problems(self) -> list[Problem]:
        found, self._problems = self._problems, []
        return found
