"""Checking an ecosystem as a stream of rows, section by section.

One pipeline serves ``glia validate``, the import into the store and the
reading of a file into memory: rows arrive in batches, each batch is
validated into records, its references are checked against the sections
before it, and, while no problem has been found, the records go on to a
sink (the store writes them inside its open transaction). Once a problem is
found the sink sees nothing more, but checking goes on to the end so that
every problem is reported in one run.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field, ValidationError, field_validator

from ._check import (
    SECTIONS,
    ReferenceIndex,
    problems_from_error,
    validate_rows,
    validate_tie_rows,
)
from ._problems import MAX_PROBLEMS, NO_VALUE, Location, Problem
from ._records import FORMAT_VERSION, Attributes, Currency, Name, Record, Text, Tie

if TYPE_CHECKING:
    from ._columnar import TieColumns

__all__ = [
    "HEADER_FIELDS",
    "ColumnarSink",
    "ColumnarWriter",
    "Columns",
    "ColumnsUnavailable",
    "Header",
    "Sink",
    "StreamResult",
    "check_stream",
]

#: Top-level fields of a document besides the sections.
HEADER_FIELDS = ("glia", "ecosystem", "description", "currency", "attributes")

BATCH = 20_000


class Header(Record):
    """The top of a native file: format version, name, defaults."""

    glia: int
    ecosystem: Name
    description: Text | None = None
    currency: Currency | None = None
    attributes: Attributes = Field(default_factory=dict)

    @field_validator("glia")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != FORMAT_VERSION:
            raise ValueError(f"format version {FORMAT_VERSION}, the one this Glia reads")
        return value


class Sink(Protocol):
    """Receives valid records while the input has shown no problem."""

    def write(
        self, section: str, records: list[tuple[Location, Any]], index: ReferenceIndex
    ) -> None: ...


class ColumnarWriter(Protocol):
    """Writes checked tie batches in two steps, so that they can overlap.

    ``prepare`` turns a batch into what ``store`` writes, without touching
    the database: it runs in a worker thread, one batch ahead of ``store``
    (batches reach each in file order).
    """

    def prepare(self, ties: TieColumns) -> Any: ...

    def store(self, prepared: Any) -> None: ...


@runtime_checkable
class ColumnarSink(Sink, Protocol):
    """A sink that also takes ties a batch of columns at a time.

    ``columnar()`` opens an attempt and yields its :class:`ColumnarWriter`;
    leaving the attempt by an exception undoes everything written in it
    (the row path then runs instead).
    """

    def columnar(self) -> AbstractContextManager[ColumnarWriter]: ...


#: Raw tie columns of a source, a batch at a time (see :mod:`glia.model._columnar`).
Columns = Callable[[str], Iterable[Any] | None]


class ColumnsUnavailable(Exception):
    """Raised by a source's column batches when the file turns out not to be plain."""


class _NotPlain(Exception):
    """A batch the columnar path does not recognise: check the rows instead."""


@dataclass
class StreamResult:
    """What a checked stream left: its header, ids, and problems."""

    header: Header | None
    index: ReferenceIndex
    problems: list[Problem] = field(default_factory=list)
    total: int = 0

    @property
    def ok(self) -> bool:
        return self.total == 0 and self.header is not None


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.total = 0

    def extend(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.total += 1
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append(p)


def check_header(raw: Mapping[str, Any], source: str) -> tuple[Header | None, list[Problem]]:
    """Validate the top of a document."""
    top = Location(source)
    problems = []
    if "glia" not in raw:
        expected = f"'glia: {FORMAT_VERSION}' at the top (the format version)"
        problems.append(Problem(top, "glia", NO_VALUE, expected))
    if "ecosystem" not in raw:
        problems.append(Problem(top, "ecosystem", NO_VALUE, "the ecosystem's name"))
    values = {k: raw[k] for k in HEADER_FIELDS if k in raw}
    values.setdefault("glia", FORMAT_VERSION)
    values.setdefault("ecosystem", "unnamed")
    try:
        return Header.model_validate(values), problems
    except ValidationError as exc:
        return None, problems + problems_from_error(exc, top, Header)


def check_stream(
    header: Mapping[str, Any],
    rows: Callable[[str], Iterable[tuple[Location, Any]]],
    source: str,
    sink: Sink | None = None,
    reader_problems: Callable[[], Iterable[Problem]] | None = None,
    batch_size: int = BATCH,
    progress: Callable[[str, int], None] | None = None,
    columns: Columns | None = None,
) -> StreamResult:
    """Check a whole input; hand valid batches to ``sink`` until a problem shows.

    ``rows(section)`` yields ``(location, raw mapping or record)`` for one
    section; it is called once per section in :data:`SECTIONS` order.
    ``reader_problems`` returns what the reader itself found (broken
    encoding, missing columns); it is asked after each section.
    ``progress(section, rows)`` is told after each batch how many rows of
    the section have been checked.

    ``columns(section)``, when given, may offer the ties as Arrow batches of
    text; while no problem has been found, they are checked a column at a
    time (:class:`~glia.model._columnar.TieChecker`) and written through the
    sink's ``columnar()`` attempt (or only checked when there is no sink). If
    any batch is not plain, the attempt is undone and the rows are checked
    instead: the result is the same, only slower.
    """
    with _no_cyclic_gc():
        return _check_stream(
            header, rows, source, sink, reader_problems, batch_size, progress, columns
        )


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows stream through.

    Millions of short-lived records trigger a collection every few hundred
    allocations, each scanning the ever larger id maps: measured here, that
    triples the cost of validating a row. The pipeline creates no reference
    cycles, so plain reference counting frees everything meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_stream(
    header: Mapping[str, Any],
    rows: Callable[[str], Iterable[tuple[Location, Any]]],
    source: str,
    sink: Sink | None,
    reader_problems: Callable[[], Iterable[Problem]] | None,
    batch_size: int,
    progress: Callable[[str, int], None] | None,
    columns: Columns | None = None,
) -> StreamResult:
    found = _Collector()
    head, problems = check_header(header, source)
    found.extend(problems)
    index = ReferenceIndex()
    for section, model in SECTIONS.items():
        if model is Tie and columns is not None and found.total == 0:
            batches = columns(section)
            if batches is not None and _columnar_ties(batches, index, sink, progress):
                if reader_problems is not None:
                    found.extend(reader_problems())
                continue
        done = 0
        for batch in _batches(rows(section), batch_size):
            good: list[tuple[Location, Any]]
            if model is Tie:
                good, bad, rejected = validate_tie_rows(batch)
            else:
                good, bad, rejected = validate_rows(model, batch)
            found.extend(bad)
            found.extend(index.add_rejected(section, rejected))
            found.extend(index.add(section, good))
            if sink is not None and found.total == 0 and good:
                sink.write(section, good, index)
            if progress is not None:
                done += len(batch)
                progress(section, done)
        if reader_problems is not None:
            found.extend(reader_problems())
    order = {s: i for i, s in enumerate(SECTIONS)}
    found.problems.sort(
        key=lambda p: (
            p.location.source,
            -1 if p.location.section is None else order.get(p.location.section, len(order)),
            p.location.row or 0,
        )
    )
    return StreamResult(head, index, found.problems, found.total)


def _columnar_ties(
    batches: Iterable[Any],
    index: ReferenceIndex,
    sink: Sink | None,
    progress: Callable[[str, int], None] | None,
) -> bool:
    """Check (and write) the ties a batch of columns at a time; False to use the rows.

    Only while no problem has been found: then a file that is not plain
    leaves nothing behind (the sink's attempt is undone) and the row path
    reports its problems with their rows. Reading, checking and preparing
    the next batch run in a worker thread while the current one is stored:
    pyarrow and SQLite's stepping release the GIL, and the machine has
    more than one core.
    """
    attempt: AbstractContextManager[ColumnarWriter | None]
    if sink is None:
        attempt = _just_check()
    elif isinstance(sink, ColumnarSink):
        attempt = sink.columnar()
    else:
        return False
    from ._columnar import TieChecker  # pyarrow, only where a large import needs it

    checker = TieChecker(index.participants)
    pending = iter(batches)
    done = 0
    try:
        with attempt as writer:

            def produce() -> tuple[int, Any] | None:
                batch = next(pending, None)
                if batch is None:
                    return None
                checked = checker.check(batch)
                if checked is None:
                    raise _NotPlain
                return len(checked), None if writer is None else writer.prepare(checked)

            # The pool is left (and its worker joined) before the attempt is undone.
            with ThreadPoolExecutor(1, thread_name_prefix="glia-ties") as pool:
                ahead = pool.submit(produce)
                while (item := ahead.result()) is not None:
                    ahead = pool.submit(produce)
                    size, prepared = item
                    if writer is not None:
                        writer.store(prepared)
                    done += size
                    if progress is not None:
                        progress("ties", done)
    except (_NotPlain, ColumnsUnavailable):
        return False
    index.counts["ties"] += done
    return True


@contextmanager
def _just_check() -> Iterator[None]:
    yield None


def _batches(
    rows: Iterable[tuple[Location, Any]], size: int
) -> Iterator[list[tuple[Location, Any]]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def record_fields(model: type[BaseModel]) -> list[str]:
    """Field names as written in files (aliases where a field has one)."""
    return [f.alias or name for name, f in model.model_fields.items()]
