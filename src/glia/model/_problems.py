"""Problems: what is wrong with an input, where, and what was expected.

Errors the user can fix are values, not the first exception (the habit of
beancount's loader): every reader and checker collects :class:`Problem`
records and returns or raises them together, so one run of ``glia validate``
lists everything that needs fixing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["InvalidInput", "Location", "Problem", "format_value"]

#: How many problems one report keeps in full; the rest are counted.
MAX_PROBLEMS = 1000


class Location(NamedTuple):
    """Where a record came from.

    ``source`` is a file name (or ``<memory>``), ``section`` the section of the
    native file or the sheet of a workbook, ``row`` the 1-based item number in a
    section (or the spreadsheet row number, header included), ``line`` the line
    in a text file when it is known. A named tuple, because one is made for
    every row read: cheaper than a dataclass by a factor of three.
    """

    source: str = "<memory>"
    section: str | None = None
    row: int | None = None
    line: int | None = None

    def describe(self) -> str:
        parts = [self.source]
        if self.section is not None:
            parts.append(self.section)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input.

    ``column`` names the field (dotted for nested fields, e.g.
    ``capabilities.agronomy``), ``value`` what was found, ``expected`` what
    would have been accepted, in words.
    """

    location: Location
    column: str | None
    value: Any
    expected: str

    def __str__(self) -> str:
        where = self.location.describe()
        if self.column:
            where += f", column {self.column}"
        if self.value is _MISSING:
            return f"{where}: expected {self.expected}"
        return f"{where}: got {format_value(self.value)}, expected {self.expected}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly form, for ``--format json`` and the API."""
        loc = self.location
        return {
            "source": loc.source,
            "section": loc.section,
            "row": loc.row,
            "line": loc.line,
            "column": self.column,
            "value": None if self.value is _MISSING else format_value(self.value),
            "expected": self.expected,
            "message": str(self),
        }


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


#: Marker for a problem that has no offending value (a missing column, say).
_MISSING: Any = _Missing()
NO_VALUE: Any = _MISSING


def format_value(value: Any, limit: int = 60) -> str:
    """Show a value the way a user typed it, shortened when long."""
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


class InvalidInput(Exception):
    """Raised when an input has problems; carries all of them.

    ``problems`` holds at most :data:`MAX_PROBLEMS`; ``total`` counts them all.
    """

    def __init__(self, problems: Iterable[Problem], total: int | None = None) -> None:
        self.problems = list(problems)
        self.total = len(self.problems) if total is None else total
        super().__init__(self.summary())

    def summary(self) -> str:
        n = self.total
        head = f"{n} problem{'s' if n != 1 else ''} found"
        lines = [head, *(f"  {p}" for p in self.problems[:20])]
        if n > 20:
            lines.append(f"  ... and {n - 20} more")
        return "\n".join(lines)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)
