"""Principles and aspirations from YAML (or JSON) files, every problem reported.

A principles file::

    principles:
      - key: fair-load
        text: No one carries more than 40% of a swarm's work.
        rule: {check: max-work-share, limit: 0.4}
      - key: honour-every-contribution
        text: Every contribution, tangible or intangible, is honoured.

An aspirations file::

    aspirations:
      - key: one-galaxy
        text: Every quarter, a swarm that spans two regional galaxies.
        cadence: quarterly          # weekly, monthly (30 days), quarterly (91), yearly, or days
        since: 2025-01-01           # default: the day the file is set

The list may also stand alone, without its ``principles:`` or
``aspirations:`` heading. Reading checks the whole file and raises
:class:`~glia.model.InvalidInput` naming each problem's file, item number,
line and field, and what was expected; nothing is returned (and so nothing
written) unless every item is valid.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml

from ..model import NO_VALUE, InvalidInput, Location, Problem
from ._aspirations import Aspiration, cadence_days
from ._principles import KEY_LIMIT, Principle, rule_problems

__all__ = ["parse_aspirations", "parse_principles", "read_aspirations", "read_principles"]

T = TypeVar("T")

PRINCIPLE_FIELDS = ("key", "text", "rule")
ASPIRATION_FIELDS = ("key", "text", "cadence", "since", "last_reviewed")


def _plain(value: Any) -> Any:
    """Numbers read as Decimal become floats, so a rule can be stored as JSON."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _items(data: Any, section: str, source: str, problems: list[Problem]) -> list[tuple[int, Any]]:
    """The list of items under ``section`` (or the document itself when a list)."""
    where = Location(source, section)
    if isinstance(data, dict):
        extra = sorted(str(k) for k in data if k not in (section, "glia"))
        for k in extra:
            problems.append(
                Problem(Location(source), k, data[k], f"only {section} (and glia: 1) at the top")
            )
        if section not in data:
            problems.append(Problem(Location(source), section, NO_VALUE, f"a list of {section}"))
            return []
        data = data[section]
    if not isinstance(data, list):
        problems.append(Problem(where, None, data, f"a list of {section}"))
        return []
    if not data:
        problems.append(Problem(where, None, NO_VALUE, f"at least one item in {section}"))
    return list(enumerate(data, start=1))


def _parse(
    data: Any,
    section: str,
    fields: tuple[str, ...],
    source: str,
    lines: dict[int, int],
    build: Callable[[Callable[[str | None, Any, str], None], dict[str, Any]], T | None],
) -> list[T]:
    problems: list[Problem] = []
    out: list[T] = []
    seen: dict[str, int] = {}
    for row, item in _items(data, section, source, problems):
        where = Location(source, section, row, lines.get(id(item)))

        def problem(column: str | None, value: Any, expected: str, where: Location = where) -> None:
            problems.append(Problem(where, column, value, expected))

        if not isinstance(item, dict):
            problem(None, item, "a mapping with key and text")
            continue
        for extra in sorted(str(k) for k in item if k not in fields):
            problem(extra, item[extra], f"one of the fields {', '.join(fields)}")
        key = item.get("key")
        if not isinstance(key, str) or not key.strip() or len(key.strip()) > KEY_LIMIT:
            problem("key", key if key is not None else NO_VALUE, f"a key: 1-{KEY_LIMIT} characters")
        elif key.strip() in seen:
            problem("key", key, f"a key not used before (item {seen[key.strip()]} has it)")
        else:
            seen[key.strip()] = row
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            problem("text", text if text is not None else NO_VALUE, "the text, in words")
        before = len(problems)
        built = build(problem, item)
        if built is not None and len(problems) == before:
            out.append(built)
    if problems:
        raise InvalidInput(problems)
    return out


def parse_principles(
    data: Any, source: str = "<memory>", lines: dict[int, int] | None = None
) -> list[Principle]:
    """Principles from plain data (a document read from YAML or JSON); see the module."""

    def build(
        problem: Callable[[str | None, Any, str], None], item: dict[str, Any]
    ) -> Principle | None:
        rule = item.get("rule")
        found = rule_problems(rule)
        for column, value, expected in found:
            problem(column, value, expected)
        key, text = item.get("key"), item.get("text")
        if found or not isinstance(key, str) or not isinstance(text, str):
            return None
        try:
            return Principle(key.strip(), text.strip(), None if rule is None else _plain(rule))
        except ValueError:  # already reported field by field
            return None

    return _parse(data, "principles", PRINCIPLE_FIELDS, source, lines or {}, build)


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise ValueError(value)


def parse_aspirations(
    data: Any,
    source: str = "<memory>",
    lines: dict[int, int] | None = None,
    today: dt.date | None = None,
) -> list[Aspiration]:
    """Aspirations from plain data; ``since`` defaults to ``today``. See the module."""
    default_since = today or dt.date.today()

    def build(
        problem: Callable[[str | None, Any, str], None], item: dict[str, Any]
    ) -> Aspiration | None:
        ok = True
        cadence = item.get("cadence")
        days = 0
        try:
            days = cadence_days(cadence)
        except ValueError:
            ok = False
            problem(
                "cadence",
                cadence if cadence is not None else NO_VALUE,
                "weekly, monthly, quarterly, yearly, or a number of days (1 to 3650)",
            )
        dates: dict[str, dt.date | None] = {}
        for name in ("since", "last_reviewed"):
            value = item.get(name)
            if value is None:
                dates[name] = None
                continue
            try:
                dates[name] = _day(value)
            except ValueError:
                ok = False
                problem(name, value, "a date, YYYY-MM-DD")
        since = dates.get("since") or default_since
        last = dates.get("last_reviewed")
        if ok and last is not None and last < since:
            ok = False
            problem("last_reviewed", last, f"a date on or after since ({since})")
        key, text = item.get("key"), item.get("text")
        if not ok or not isinstance(key, str) or not isinstance(text, str):
            return None
        try:
            return Aspiration(key.strip(), text.strip(), days, since, last)
        except ValueError:  # already reported field by field
            return None

    return _parse(data, "aspirations", ASPIRATION_FIELDS, source, lines or {}, build)


_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader that records each mapping's line and leaves dates as text.

    Dates stay text so that an impossible one (2025-13-01) is reported as a
    problem of its field, where PyYAML's own date constructor would raise.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[int, int] = {}


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[dict[Any, Any]]:
    data: dict[Any, Any] = {}
    yield data
    data.update(loader.construct_mapping(node))
    loader.lines[id(data)] = node.start_mark.line + 1


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def _load(path: str | os.PathLike[str], section: str) -> tuple[Any, dict[int, int], str]:
    """The document of a YAML (or JSON: a subset of YAML) file, and its mappings' lines."""
    p = Path(path)
    name = str(p)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            [Problem(Location(name), None, NO_VALUE, f"a readable file ({exc.strerror})")]
        ) from None
    if not raw.strip():
        raise InvalidInput(
            [Problem(Location(name), None, NO_VALUE, f"a list of {section}; the file is empty")]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            [Problem(Location(name, line=line), None, NO_VALUE, "text encoded as UTF-8")]
        ) from None
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(
            [Problem(Location(name, line=at), None, NO_VALUE, f"valid YAML ({reason})")]
        ) from None
    finally:
        loader.dispose()
    return data, loader.lines, name


def read_principles(path: str | os.PathLike[str]) -> list[Principle]:
    """Principles from a YAML or JSON file; raises InvalidInput with every problem."""
    data, lines, name = _load(path, "principles")
    return parse_principles(data, name, lines)


def read_aspirations(
    path: str | os.PathLike[str], today: dt.date | None = None
) -> list[Aspiration]:
    """Aspirations from a YAML or JSON file; raises InvalidInput with every problem."""
    data, lines, name = _load(path, "aspirations")
    return parse_aspirations(data, name, lines, today)
