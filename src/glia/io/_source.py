"""Sources: any readable ecosystem input, seen as a header and sections of rows.

Every reader (native YAML/JSON, a CSV folder, an XLSX workbook, the
element/connection layout of mapping tools, an :class:`Ecosystem` in memory)
presents the same face, :class:`Source`: a header mapping and, per section,
an iterator of ``(Location, raw row)``. Raw rows use the native file's field
names (``from``/``to`` for endpoints). The checking and writing pipeline in
:func:`glia.model.check_stream` then treats them all alike, so a rule is
written once whatever the file type.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..model import Ecosystem, Location, Problem

__all__ = ["EcosystemSource", "Source"]


class Source:
    """Base of all sources: a header, rows per section, reader problems.

    Subclasses set :attr:`name` (shown in messages), fill :attr:`header`, and
    implement :meth:`rows`. Problems the reader itself meets (a missing
    column, bytes that are not UTF-8) go to :meth:`add_problem`; the pipeline
    collects them with :meth:`problems` after each section.
    """

    name: str = "<memory>"

    def __init__(self, name: str) -> None:
        self.name = name
        self.header: dict[str, Any] = {}
        self._problems: list[Problem] = []

    def rows(self, section: str) -> Iterator[tuple[Location, Any]]:
        raise NotImplementedError

    def columns(self, section: str) -> Iterator[Any] | None:
        """The section as Arrow batches of text columns, where the source can
        offer them cheaply and exactly (see :mod:`glia.model._columnar`);
        None means: read the rows."""
        return None

    def add_problem(self, problem: Problem) -> None:
        self._problems.append(problem)

    def problems(self) -> list[Problem]:
        found, self._problems = self._problems, []
        return found

    def refine(self, problems: list[Problem]) -> list[Problem]:
        """Put problems in the source's own terms (its column names, its order).

        Called once with all the problems of a check, before they are shown.
        """
        return problems

    def close(self) -> None:
        """Release open files; sources are also context managers."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EcosystemSource(Source):
    """An ecosystem already in memory (already valid records)."""

    def __init__(self, eco: Ecosystem, name: str = "<memory>") -> None:
        super().__init__(name)
        self.ecosystem = eco
        self.header = eco.model_dump(include={"glia", "ecosystem", "description", "currency"})
        self.header["attributes"] = dict(eco.attributes)

    def rows(self, section: str) -> Iterator[tuple[Location, Any]]:
        for i, record in enumerate(getattr(self.ecosystem, section)):
            yield Location(self.name, section, i + 1), record


class MappingSource(Source):
    """A parsed native document (a mapping with header keys and section lists)."""

    def __init__(
        self, data: Mapping[str, Any], name: str, lines: Mapping[int, int] | None = None
    ) -> None:
        from ..model import DocumentRows

        super().__init__(name)
        self.header = dict(data)
        self._doc = DocumentRows(data, name, lines)

    def rows(self, section: str) -> Iterator[tuple[Location, Any]]:
        return self._doc.rows(section)

    def problems(self) -> list[Problem]:
        return super().problems() + self._doc.problems()
