"""Spreadsheets in and out: a folder of CSV files, an XLSX workbook, and the
element/connection layout of ecosystem-mapping tools.

Three readers present the common face of :class:`~glia.io.Source`:

- :class:`CsvFolderSource`: one CSV file per section (``clusters.csv``,
  ``participants.csv``, ``roles.csv``, ``ties.csv``, ``exchanges.csv``,
  ``opportunities.csv``) and an optional ``ecosystem.csv`` of ``key,value``
  rows. This is the format for very large ecosystems: rows are streamed, one
  at a time, and never held in memory.
- :class:`WorkbookSource`: an ``.xlsx`` workbook with the same sheets
  (``ecosystem`` included), read with openpyxl in read-only mode.
- :class:`ElementConnectionSource`: the layout of mapping tools such as Kumu,
  a sheet (or CSV file) of ``Elements`` and one of ``Connections``; it is
  small by nature and read whole, because a connection can change an element
  (a participant's clusters, a role's players) that is emitted before it.

:func:`open_tabular` chooses among them; :func:`read_tabular` reads a whole
ecosystem; :func:`write_tables` and :func:`write_ecosystem_tables` write the
native CSV folder or workbook. The column conventions are described in
``docs/spreadsheets.md``.

What is hand-written here, and why:

- Parsing is not: :mod:`csv` (the standard library's C parser) splits CSV
  rows and openpyxl reads and writes workbooks. pandas is not used: it reads
  whole files into memory and guesses types (the id ``007`` would become
  ``7``).
- UTF-8 is decoded line by line rather than by a text-mode file, so that a
  bad byte is reported with its row and line instead of a
  ``UnicodeDecodeError`` raised somewhere in an 8 KiB block; measured, it
  costs nothing (about one million rows per second either way).
- The mapping from columns to fields (lists separated by ``;``,
  ``capability:level`` pairs, the ``impact_*`` columns, free attributes, the
  element types of mapping tools) is Glia's own convention, so no library
  knows it.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import difflib
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel

from ..model import (
    ASSET_KINDS,
    CLUSTER_KINDS,
    FORMAT_VERSION,
    HEADER_FIELDS,
    NO_VALUE,
    SECTIONS,
    Ecosystem,
    InvalidInput,
    Location,
    Problem,
    record_fields,
)
from ._files import atomic_dir, atomic_output
from ._source import Source

__all__ = [
    "ECOSYSTEM_TABLE",
    "LIST_SEPARATOR",
    "CsvFolderSource",
    "ElementConnectionSource",
    "TabularFormat",
    "WorkbookSource",
    "open_tabular",
    "read_tabular",
    "write_ecosystem_tables",
    "write_tables",
]

TabularFormat = Literal["csv", "xlsx"]

#: The table (``ecosystem.csv`` or sheet ``ecosystem``) of ``key,value`` rows.
ECOSYSTEM_TABLE = "ecosystem"

#: Separates the items of a list in one cell (clusters, played_by, capabilities, needs).
LIST_SEPARATOR = ";"

#: The columns that hold an exchange's impact on the receiver's assets.
IMPACT_COLUMNS = tuple(f"impact_{kind}" for kind in ASSET_KINDS)

#: Prefix of a column that holds an attribute whose name is also a field's name.
ATTRIBUTE_PREFIX = "attributes."

#: Reader problems kept per file; beyond, they are counted in one last problem.
MAX_FILE_PROBLEMS = 1000

_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
_LIST_FIELDS = {"participants": ("clusters",), "roles": ("played_by",)}
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
_LEVEL = re.compile(r"\s*([0-9]{1,9})\s*\Z")
_LEVEL_COUNT = re.compile(r"\s*([0-9]{1,9})\s*(?:[xX×]\s*([0-9]{1,9})\s*)?\Z")
_EXCEL_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")
_EXCEL_MAX_TEXT = 32767

CAPABILITIES_FORM = (
    "capability:level pairs separated by ';', levels 1-5, each capability once "
    "(e.g. 'data-engineering:4; facilitation:3')"
)
NEEDS_FORM = (
    "capability:level with an optional xCOUNT, separated by ';' "
    "(e.g. 'data-engineering:3x2; agronomy:4')"
)

Scalar = bool | int | float | str | None


# -- cells -----------------------------------------------------------------------------


def _normal(text: str) -> str:
    """A header as a field name: ``Played By`` and ``played-by`` give ``played_by``."""
    return "_".join(text.strip().lower().replace("-", " ").split())


def _filled(value: Any) -> bool:
    return value is not None and value != ""


def _cell_text(value: Any) -> str:
    """A workbook cell as the text a CSV file would hold."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time() and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _text_scalar(text: Any) -> Scalar:
    """An attribute from CSV text: plain numbers and true/false are typed."""
    if not isinstance(text, str):
        return _cell_scalar(text)
    if len(text) > 100:  # Python refuses int() of thousands of digits; no number is that long
        return text
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    return text


def _cell_scalar(value: Any) -> Scalar:
    """An attribute from a workbook cell: the cell's own type is kept."""
    if isinstance(value, bool | int | float | str):
        return value
    return _cell_text(value)


def _split_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]


def _parse_capabilities(text: str) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for item in _split_list(text):
        name, colon, level = item.rpartition(":")
        match = _LEVEL.match(level)
        name = name.strip()
        if not colon or not name or match is None or name in found:
            return None
        found[name] = int(match.group(1))
    return found


def _parse_needs(text: str) -> list[dict[str, Any]] | None:
    needs: list[dict[str, Any]] = []
    for item in _split_list(text):
        name, colon, rest = item.rpartition(":")
        if not colon:
            needs.append({"capability": item})
            continue
        match = _LEVEL_COUNT.match(rest)
        name = name.strip()
        if match is None or not name:
            return None
        need: dict[str, Any] = {"capability": name, "level": int(match.group(1))}
        if match.group(2) is not None:
            need["count"] = int(match.group(2))
        needs.append(need)
    return needs


def _parse_json_attributes(text: Any) -> dict[str, Scalar] | None:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    if not all(v is None or isinstance(v, bool | int | float | str) for v in value.values()):
        return None
    return value


# -- sources ---------------------------------------------------------------------------


class _TabularSource(Source):
    """What the spreadsheet readers share: capped problems, the ecosystem table."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._file_problems = 0

    def refine(self, problems: list[Problem]) -> list[Problem]:
        """Spreadsheet column names (``impact_financial``), ordered by table and row."""
        return sorted(
            (_spreadsheet_column(p) for p in problems),
            key=lambda p: (_problem_order(p.location.section), p.location.row or 0),
        )

    def _report(self, problem: Problem) -> None:
        self._file_problems += 1
        if self._file_problems <= MAX_FILE_PROBLEMS:
            self.add_problem(problem)

    def _start_file(self) -> None:
        self._file_problems = 0

    def _end_file(self, label: str) -> None:
        hidden = self._file_problems - MAX_FILE_PROBLEMS
        if hidden > 0:
            expected = f"fewer problems: {hidden} more in this file are not listed"
            self.add_problem(Problem(Location(self.name, label), None, NO_VALUE, expected))
        self._file_problems = 0

    # -- reading tables --------------------------------------------------------------
    def _csv_rows(self, path: Path, label: str) -> Iterator[tuple[int, list[str]]]:
        """Rows of a CSV file with their spreadsheet numbers (the header is row 1)."""
        try:
            file = path.open("rb")
        except OSError as exc:
            expected = f"a readable file ({exc.strerror})"
            self._report(Problem(Location(self.name, label), None, NO_VALUE, expected))
            return
        with file:
            start = file.peek(8192)[:8192]
            if b"\r" in start and b"\n" not in start:
                expected = "lines ending with a line feed; save the file again as CSV UTF-8"
                self._report(Problem(Location(self.name, label, 1), None, NO_VALUE, expected))
                return
            bad: list[tuple[int, bytes]] = []
            first = file.readline()
            try:
                head = first.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                bad.append((1, first[exc.start : exc.start + 4]))
                head = first.decode("utf-8-sig", "replace")
            reader = csv.reader(chain((head,), _utf8_lines(file, bad)), delimiter=_delimiter(head))
            number = 0
            try:
                for row in reader:
                    number += 1
                    if bad:
                        for line, chunk in bad:
                            where = Location(self.name, label, number, line)
                            self._report(Problem(where, None, chunk, "text encoded as UTF-8"))
                        bad.clear()
                    yield number, row
            except csv.Error as exc:
                reason = str(exc)
                if "new-line" in reason:
                    reason = "lines ending with a line feed; save the file again as CSV UTF-8"
                where = Location(self.name, label, number + 1, reader.line_num)
                self._report(Problem(where, None, NO_VALUE, f"well-formed CSV ({reason})"))

    def _sheet_rows(self, sheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """Rows of a read-only worksheet with their numbers (the header is row 1)."""
        # Some writers store a wrong size; read-only mode would stop there.
        sheet.reset_dimensions()
        number = 0
        try:
            for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
                yield number, row
        except Exception as exc:  # a damaged sheet: openpyxl raises many kinds
            where = Location(self.name, sheet.title, number + 1)
            self._report(Problem(where, None, NO_VALUE, f"a readable sheet ({exc})"))

    def _read_ecosystem(
        self, label: str, rows: Iterator[tuple[int, Sequence[Any]]], typed: bool
    ) -> None:
        """Fill :attr:`header` from ``key,value`` rows."""
        self._start_file()
        scalar = _cell_scalar if typed else _text_scalar
        seen: dict[str, int] = {}
        attributes: dict[str, Scalar] = {}
        for number, row in rows:
            if not any(_filled(c) for c in row):
                continue
            if number == 1 and [_normal(_cell_text(c)) for c in row[:2]] == ["key", "value"]:
                continue
            where = Location(self.name, label, number)
            extra = [c for c in row[2:] if _filled(c)]
            if extra:
                self._report(Problem(where, None, extra[0], "two cells in a row: key and value"))
            if not _filled(row[0]):
                self._report(Problem(where, "key", NO_VALUE, "a key before the value"))
                continue
            key_text = _cell_text(row[0]).strip()
            value = row[1] if len(row) > 1 else None
            field = _normal(key_text)
            field = "ecosystem" if field == "name" else field
            if key_text.lower().startswith(ATTRIBUTE_PREFIX):
                field, attribute = "", key_text[len(ATTRIBUTE_PREFIX) :]
            elif field in HEADER_FIELDS:
                attribute = ""
            else:
                field, attribute = "", key_text
            name = field or ATTRIBUTE_PREFIX + attribute
            if name in seen:
                expected = f"each key once (first at row {seen[name]})"
                self._report(Problem(where, "key", key_text, expected))
                continue
            seen[name] = number
            if not _filled(value):
                continue
            if field == "attributes":
                parsed = _parse_json_attributes(value)
                if parsed is None:
                    expected = "a JSON object of names to text, numbers, true or false"
                    self._report(Problem(where, "value", value, expected))
                else:
                    attributes = {**parsed, **attributes}
            elif field:
                self.header[field] = _cell_text(value)
            else:
                attributes[attribute] = scalar(value)
        if attributes:
            self.header["attributes"] = attributes
        self._end_file(label)


def _utf8_lines(file: IO[bytes], bad: list[tuple[int, bytes]]) -> Iterator[str]:
    """Decode lines one by one; note where bytes are not UTF-8, and go on."""
    for number, raw in enumerate(file, 2):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.append((number, raw[exc.start : exc.start + 4]))
            yield raw.decode("utf-8", "replace")


def _delimiter(header_line: str) -> str:
    """Comma, unless the header row is separated by semicolons or tabs (Excel in
    many European locales writes ``;``)."""
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


class _Columns:
    """How the header row of one native section maps cells to raw fields."""

    def __init__(
        self,
        section: str,
        header: Sequence[Any],
        where: Location,
        report: Callable[[Problem], None],
    ) -> None:
        model = SECTIONS[section]
        fields = record_fields(model)
        known = {f for f in fields if f not in ("attributes", "impact")}
        if section == "exchanges":
            known.update(IMPACT_COLUMNS)
        self.report = report
        self.width = len(header)
        self.names: list[str] = []
        self.attributes: list[tuple[int, str]] = []
        self.unnamed: list[int] = []
        self.json_column: int | None = None
        present: dict[str, int] = {}
        for i, cell in enumerate(header):
            text = _cell_text(cell).strip() if _filled(cell) else ""
            key = _normal(text)
            name = ""
            if not text:
                self.unnamed.append(i)
                self.names.append("")
                continue
            if text.lower().startswith(ATTRIBUTE_PREFIX):
                ident = ATTRIBUTE_PREFIX + text[len(ATTRIBUTE_PREFIX) :]
            elif key == "attributes" or key in known:
                ident = name = key
            else:
                ident = ATTRIBUTE_PREFIX + text
            if ident in present:
                expected = f"each column once in the header row (first in column {present[ident]})"
                report(Problem(where, text, NO_VALUE, expected))
                self.names.append("")
                continue
            present[ident] = i + 1
            if name == "attributes":
                self.json_column = i
                name = ""
            elif not name:
                self.attributes.append((i, ident[len(ATTRIBUTE_PREFIX) :]))
            self.names.append(name)
        required = [
            f.alias or n
            for n, f in model.model_fields.items()
            if f.is_required() and (f.alias or n) not in present
        ]
        for column in required:
            expected = f"a column '{column}' in the header row (required for {section})"
            report(Problem(where, column, NO_VALUE, expected))
        self.missing = required
        self.lists = tuple(f for f in _LIST_FIELDS.get(section, ()) if f in present)
        self.capabilities = section == "participants" and "capabilities" in present
        self.needs = section == "opportunities" and "needs" in present
        self.impact = [(c, c.removeprefix("impact_")) for c in IMPACT_COLUMNS if c in present]
        # Rows need ``finish`` only for these; a JSON attributes column only
        # when its cell is filled (the common case in large files: it is empty).
        self.plain = not (
            self.attributes
            or self.unnamed
            or self.lists
            or self.capabilities
            or self.needs
            or self.impact
            or self.names.count("") > (self.json_column is not None)
        )

    def finish(
        self,
        raw: dict[str, Any],
        row: Sequence[Any],
        where: Location,
        scalar: Callable[[Any], Scalar],
    ) -> dict[str, Any]:
        """Turn cells that hold lists, pairs or attributes into native values."""
        raw.pop("", None)
        for i in self.unnamed:
            if i < len(row) and _filled(row[i]):
                expected = "no value in a column without a name in the header row"
                self.report(Problem(where, f"column {i + 1}", row[i], expected))
                break
        for name in self.lists:
            if name in raw:
                raw[name] = _split_list(raw[name])
        if self.capabilities and "capabilities" in raw:
            capabilities = _parse_capabilities(raw["capabilities"])
            if capabilities is None:
                self.report(Problem(where, "capabilities", raw["capabilities"], CAPABILITIES_FORM))
                del raw["capabilities"]
            else:
                raw["capabilities"] = capabilities
        if self.needs and "needs" in raw:
            needs = _parse_needs(raw["needs"])
            if needs is None:
                self.report(Problem(where, "needs", raw["needs"], NEEDS_FORM))
                del raw["needs"]
            else:
                raw["needs"] = needs
        if self.impact:
            impact = {asset: raw.pop(column) for column, asset in self.impact if column in raw}
            if impact:
                raw["impact"] = impact
        attributes: dict[str, Scalar] = {}
        if self.json_column is not None and self.json_column < len(row):
            text = row[self.json_column]
            if _filled(text):
                parsed = _parse_json_attributes(text)
                if parsed is None:
                    expected = "a JSON object of names to text, numbers, true or false"
                    self.report(Problem(where, "attributes", text, expected))
                else:
                    attributes.update(parsed)
        for i, key in self.attributes:
            if i < len(row):
                value = row[i]
                if _filled(value):
                    attributes[key] = scalar(value)
        if attributes:
            raw["attributes"] = attributes
        return raw


class _NativeTables(_TabularSource):
    """Sections read from native tables, one table per section."""

    def _table(self, section: str) -> tuple[str, Iterator[tuple[int, Sequence[Any]]], bool] | None:
        """The label, rows and typedness of a section's table, if there is one."""
        raise NotImplementedError

    def rows(self, section: str) -> Iterator[tuple[Location, Any]]:
        found = self._table(section)
        if found is None:
            return
        label, rows, typed = found
        self._start_file()
        first = next(rows, None)
        if first is not None and not any(_filled(c) for c in first[1]):
            # An empty file is an empty section; data under an empty header is not.
            if any(any(_filled(c) for c in row) for _, row in rows):
                expected = "a header row naming the columns"
                self._report(Problem(Location(self.name, label, 1), None, NO_VALUE, expected))
        elif first is not None:
            columns = _Columns(section, first[1], Location(self.name, label, 1), self._report)
            if not columns.missing:
                if typed:
                    yield from self._typed_rows(label, columns, rows)
                else:
                    yield from self._text_rows(label, columns, rows)
        for _ in rows:  # drain, so that a CSV file's problems are all seen
            pass
        self._end_file(label)

    def _text_rows(
        self, label: str, columns: _Columns, rows: Iterator[tuple[int, Sequence[Any]]]
    ) -> Iterator[tuple[Location, Any]]:
        # The hot path of a large import: one dict comprehension per row.
        names, width, plain, source = columns.names, columns.width, columns.plain, self.name
        finish, report, json_column = columns.finish, self._report, columns.json_column
        for number, row in rows:
            raw = {k: v for k, v in zip(names, row, strict=False) if v}
            if len(row) > width:
                extra = [c for c in row[width:] if c]
                if extra:
                    where = Location(source, label, number)
                    expected = f"at most {width} cells in a row, one per column of the header row"
                    report(Problem(where, None, extra[0], expected))
            if not raw:
                continue
            where = Location(source, label, number)
            if not plain or (
                json_column is not None and json_column < len(row) and row[json_column]
            ):
                raw = finish(raw, row, where, _text_scalar)
            yield where, raw

    def _typed_rows(
        self, label: str, columns: _Columns, rows: Iterator[tuple[int, Sequence[Any]]]
    ) -> Iterator[tuple[Location, Any]]:
        names, width = columns.names, columns.width
        for number, row in rows:
            raw = {
                k: v if isinstance(v, str) else _cell_text(v)
                for k, v in zip(names, row, strict=False)
                if v is not None and v != ""
            }
            where = Location(self.name, label, number)
            if len(row) > width:
                extra = [c for c in row[width:] if _filled(c)]
                if extra:
                    expected = f"at most {width} cells in a row, one per column of the header row"
                    self._report(Problem(where, None, extra[0], expected))
            if not raw and not any(_filled(row[i]) for i, _ in columns.attributes if i < len(row)):
                continue
            yield where, columns.finish(raw, row, where, _cell_scalar)


def _csv_files(folder: Path) -> dict[str, Path]:
    """The folder's CSV files by lowercase name (the first, by name, wins on a tie)."""
    found: dict[str, Path] = {}
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        if entry.name.lower().endswith(".csv") and entry.is_file():
            found.setdefault(entry.name.lower(), Path(entry.path))
    return found


def _near_misses(names: Iterable[str], wanted: Sequence[str]) -> dict[str, str]:
    """Names that look like a misspelt wanted name (``participant.csv``); the
    suffix is left out of the comparison, so ``notes.csv`` is not ``ties.csv``."""
    stems = {w.removesuffix(".csv"): w for w in wanted}
    misses = {}
    for name in names:
        if name not in wanted:
            close = difflib.get_close_matches(name.removesuffix(".csv"), stems, n=1, cutoff=0.8)
            if close:
                misses[name] = stems[close[0]]
    return misses


class CsvFolderSource(_NativeTables):
    """A folder of CSV files, one per section, streamed row by row.

    Parameters
    ----------
    path
        The folder. File names are matched without regard to case. An absent
        file is an empty section; ``ecosystem.csv`` (rows of ``key,value``)
        is optional and the ecosystem is named after the folder without it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "tiny"
    >>> folder.mkdir()
    >>> _ = (folder / "participants.csv").write_text("id,kind\\nana,person\\n")
    >>> source = CsvFolderSource(folder)
    >>> source.header["ecosystem"]
    'tiny'
    >>> [(loc.section, loc.row, raw) for loc, raw in source.rows("participants")]
    [('participants.csv', 2, {'id': 'ana', 'kind': 'person'})]
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        folder = Path(path)
        super().__init__(str(folder))
        self.folder = folder
        self.files = _csv_files(folder)
        self.header = {"glia": FORMAT_VERSION, "ecosystem": folder.resolve().name or "unnamed"}
        wanted = [f"{s}.csv" for s in (ECOSYSTEM_TABLE, *SECTIONS)]
        for name, meant in _near_misses(self.files, wanted).items():
            expected = f"a file named after a section ({meant}?); this one is not read"
            label = self.files[name].name
            self.add_problem(Problem(Location(self.name, label), None, NO_VALUE, expected))
        eco = self.files.get(f"{ECOSYSTEM_TABLE}.csv")
        if eco is not None:
            self._read_ecosystem(eco.name, self._csv_rows(eco, eco.name), typed=False)

    def _table(self, section: str) -> tuple[str, Iterator[tuple[int, Sequence[Any]]], bool] | None:
        path = self.files.get(f"{section}.csv")
        if path is None:
            return None
        return path.name, self._csv_rows(path, path.name), False

    def columns(self, section: str) -> Iterator[Any] | None:
        """``ties.csv`` as Arrow batches when it is plain (see :mod:`glia.io._arrow`)."""
        from ._arrow import plain_header, text_batches

        path = self.files.get(f"{section}.csv")
        if section != "ties" or path is None:
            return None
        from ..model._columnar import TIE_COLUMNS

        found = plain_header(path, TIE_COLUMNS)
        if found is None:
            return None
        names, delimiter = found
        return text_batches(path, names, delimiter)


def _open_workbook(path: Path) -> Any:
    """Open a workbook read-only, or raise :class:`InvalidInput` saying why not."""
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        reason = str(exc) or type(exc).__name__
        expected = f"a readable .xlsx workbook ({reason})"
        raise InvalidInput([Problem(Location(str(path)), None, NO_VALUE, expected)]) from None


def _sheets(workbook: Any) -> dict[str, Any]:
    """Worksheets by lowercase title (the first wins on a tie)."""
    found: dict[str, Any] = {}
    for sheet in workbook.worksheets:
        found.setdefault(str(sheet.title).strip().lower(), sheet)
    return found


class WorkbookSource(_NativeTables):
    """An XLSX workbook with one sheet per section (and ``ecosystem``).

    Parameters
    ----------
    path
        The ``.xlsx`` file. Sheet names are matched without regard to case;
        other sheets are ignored. Cells keep their type for attributes (a
        text cell stays text); for fields they are read as a CSV file would
        hold them.
    workbook
        An already opened read-only workbook of ``path`` (used by
        :func:`open_tabular`, which looks inside to decide).
    """

    def __init__(self, path: str | os.PathLike[str], workbook: Any = None) -> None:
        file = Path(path)
        super().__init__(str(file))
        self.workbook = workbook if workbook is not None else _open_workbook(file)
        self.sheets = _sheets(self.workbook)
        self.header = {"glia": FORMAT_VERSION, "ecosystem": file.stem or "unnamed"}
        wanted = [ECOSYSTEM_TABLE, *SECTIONS]
        for name, meant in _near_misses(self.sheets, wanted).items():
            expected = f"a sheet named after a section ({meant}?); this one is not read"
            title = self.sheets[name].title
            self.add_problem(Problem(Location(self.name, title), None, NO_VALUE, expected))
        eco = self.sheets.get(ECOSYSTEM_TABLE)
        if eco is not None:
            self._read_ecosystem(eco.title, self._sheet_rows(eco), typed=True)

    def _table(self, section: str) -> tuple[str, Iterator[tuple[int, Sequence[Any]]], bool] | None:
        sheet = self.sheets.get(section)
        if sheet is None:
            return None
        return str(sheet.title), self._sheet_rows(sheet), True

    def close(self) -> None:
        self.workbook.close()


# -- the element/connection layout of mapping tools -------------------------------------

#: Element types (lowercase) read as organizations; any other type is a person.
ORGANIZATION_TYPES = ("organization", "organisation", "company", "institution", "firm")

#: Connection types (slugs) on the formal layer when no ``Layer`` column says otherwise.
FORMAL_TYPES = (
    "contract",
    "membership",
    "reports-to",
    "partnership",
    "employment",
    "ownership",
    "supplier",
    "formal",
)

#: The kind given to an element of type plain ``cluster``.
PLAIN_CLUSTER_KIND = "business"

_TIE_COLUMNS = {"since": "since", "until": "until"}
_EXCHANGE_COLUMNS = {
    name: name
    for name in (
        "id",
        "value",
        "currency",
        "frequency",
        "period",
        "perceived_value",
        "cost",
        "sequence",
        *IMPACT_COLUMNS,
    )
}


def _slug(text: str) -> str:
    return "-".join(text.strip().lower().replace("_", " ").split())


def _element_kind(type_text: str) -> tuple[str, str | None]:
    """The section an element of this type goes to, and its kind."""
    t = " ".join(type_text.lower().split())
    if t == "role":
        return "roles", None
    if t == "cluster":
        return "clusters", PLAIN_CLUSTER_KIND
    if t in CLUSTER_KINDS:
        return "clusters", t
    if t.endswith(" cluster"):
        return "clusters", _slug(t.removesuffix(" cluster"))
    if t in ORGANIZATION_TYPES:
        return "participants", "organization"
    return "participants", "person"


class ElementConnectionSource(_TabularSource):
    """The element/connection layout of ecosystem-mapping tools (Kumu).

    Parameters
    ----------
    path
        A workbook with sheets ``Elements`` and ``Connections``, or a folder
        with ``elements.csv`` and ``connections.csv`` (names in any case); an
        ``ecosystem`` sheet or ``ecosystem.csv`` is read as in the native
        layout. How types and connections map to Glia's records is described
        in ``docs/spreadsheets.md``.
    workbook
        An already opened read-only workbook of ``path``.

    Notes
    -----
    Both tables are read whole on the first call of :meth:`rows`: a
    membership connection adds a cluster to a participant, which comes
    before the ties in section order.
    """

    def __init__(self, path: str | os.PathLike[str], workbook: Any = None) -> None:
        where = Path(path)
        super().__init__(str(where))
        self.workbook: Any = None
        self.files: dict[str, Path] = {}
        self.sheets: dict[str, Any] = {}
        if where.is_dir():
            self.files = _csv_files(where)
            self.header = {"glia": FORMAT_VERSION, "ecosystem": where.resolve().name or "unnamed"}
        else:
            self.workbook = workbook if workbook is not None else _open_workbook(where)
            self.sheets = _sheets(self.workbook)
            self.header = {"glia": FORMAT_VERSION, "ecosystem": where.stem or "unnamed"}
        eco = self._table(ECOSYSTEM_TABLE)
        if eco is not None:
            self._read_ecosystem(eco[0], eco[1], eco[2])
        self._records: dict[str, list[tuple[Location, Any]]] | None = None

    def _table(self, name: str) -> tuple[str, Iterator[tuple[int, Sequence[Any]]], bool] | None:
        if self.workbook is not None:
            sheet = self.sheets.get(name)
            if sheet is None:
                return None
            return str(sheet.title), self._sheet_rows(sheet), True
        path = self.files.get(f"{name}.csv")
        if path is None:
            return None
        return path.name, self._csv_rows(path, path.name), False

    def close(self) -> None:
        if self.workbook is not None:
            self.workbook.close()

    def rows(self, section: str) -> Iterator[tuple[Location, Any]]:
        if self._records is None:
            self._records = self._load()
        return iter(self._records.get(section, ()))

    # -- loading -------------------------------------------------------------------
    def _header(
        self, label: str, rows: Iterator[tuple[int, Sequence[Any]]], required: Sequence[str]
    ) -> list[str] | None:
        """Normalised column names of a table, or None when a required one is missing."""
        first = next(rows, None)
        header = [_cell_text(c).strip() if _filled(c) else "" for c in (first[1] if first else ())]
        names = [_normal(h) for h in header]
        where = Location(self.name, label, 1)
        missing = False
        for column in required:
            if column.lower() not in names:
                expected = f"a column '{column}' in the header row"
                self._report(Problem(where, column, NO_VALUE, expected))
                missing = True
        return None if missing else header

    def _cells(self, header: list[str], row: Sequence[Any]) -> dict[str, Any]:
        """A row as ``{normalised column: cell}``, the first column of a name winning."""
        cells: dict[str, Any] = {}
        for name, value in zip(header, row, strict=False):
            if name and _filled(value):
                cells.setdefault(name, value)
        return cells

    def _load(self) -> dict[str, list[tuple[Location, Any]]]:
        out: dict[str, list[tuple[Location, Any]]] = {s: [] for s in SECTIONS}
        elements: dict[str, tuple[str, dict[str, Any], int]] = {}
        table = self._table("elements")
        if table is not None:
            self._load_elements(table[0], table[1], table[2], out, elements)
        table = self._table("connections")
        if table is not None:
            self._load_connections(table[0], table[1], table[2], out, elements)
        return out

    def _load_elements(
        self,
        label: str,
        rows: Iterator[tuple[int, Sequence[Any]]],
        typed: bool,
        out: dict[str, list[tuple[Location, Any]]],
        elements: dict[str, tuple[str, dict[str, Any], int]],
    ) -> None:
        self._start_file()
        header = self._header(label, rows, ["Label"])
        scalar = _cell_scalar if typed else _text_scalar
        if header is not None:
            names = [_normal(h) for h in header]
            for number, row in rows:
                cells = self._cells(names, row)
                if not cells:
                    continue
                where = Location(self.name, label, number)
                ident = _cell_text(cells.pop("label", "")).strip()
                if not ident:
                    self._report(
                        Problem(where, "Label", NO_VALUE, "a Label: every element has one")
                    )
                    continue
                if ident in elements:
                    expected = (
                        f"a Label used by one element only (first at row {elements[ident][2]})"
                    )
                    self._report(Problem(where, "Label", ident, expected))
                    continue
                type_text = _cell_text(cells.pop("type", "")).strip()
                section, kind = _element_kind(type_text)
                raw: dict[str, Any] = {"id": ident}
                if kind is not None:
                    raw["kind"] = kind
                if "description" in cells:
                    raw["description"] = _cell_text(cells.pop("description"))
                attributes: dict[str, Scalar] = {}
                if type_text:
                    attributes["type"] = type_text
                if "tags" in cells:
                    attributes["tags"] = scalar(cells.pop("tags"))
                for column, value in zip(header, row, strict=False):
                    if _normal(column) in cells and column and _filled(value):
                        attributes.setdefault(column, scalar(value))
                if attributes:
                    raw["attributes"] = attributes
                elements[ident] = (section, raw, number)
                out[section].append((where, raw))
        for _ in rows:
            pass
        self._end_file(label)

    def _load_connections(
        self,
        label: str,
        rows: Iterator[tuple[int, Sequence[Any]]],
        typed: bool,
        out: dict[str, list[tuple[Location, Any]]],
        elements: dict[str, tuple[str, dict[str, Any], int]],
    ) -> None:
        self._start_file()
        header = self._header(label, rows, ["From", "To"])
        scalar = _cell_scalar if typed else _text_scalar
        if header is not None:
            names = [_normal(h) for h in header]
            originals = dict(zip(names, header, strict=True))
            for number, row in rows:
                cells = self._cells(names, row)
                if not cells:
                    continue
                where = Location(self.name, label, number)
                ends: list[tuple[str, str, dict[str, Any]]] = []
                for column in ("from", "to"):
                    ident = _cell_text(cells.pop(column, "")).strip()
                    title = column.capitalize()
                    if not ident:
                        self._report(Problem(where, title, NO_VALUE, "the Label of an element"))
                    elif ident not in elements:
                        expected = "the Label of an element in the elements table"
                        self._report(Problem(where, title, ident, expected))
                    else:
                        section, raw, _ = elements[ident]
                        ends.append((ident, section, raw))
                if len(ends) == 2:
                    record = self._connection(where, cells, ends[0], ends[1])
                    if record is not None:
                        section, raw = record
                        attributes: dict[str, Scalar] = {}
                        for name, value in cells.items():
                            column = originals[name]
                            key = "tags" if name == "tags" else column
                            attributes.setdefault(key, scalar(value))
                        if attributes:
                            raw["attributes"] = attributes
                        out[section].append((where, raw))
        for _ in rows:
            pass
        self._end_file(label)

    def _connection(
        self,
        where: Location,
        cells: dict[str, Any],
        a: tuple[str, str, dict[str, Any]],
        b: tuple[str, str, dict[str, Any]],
    ) -> tuple[str, dict[str, Any]] | None:
        """One connection as a tie or an exchange; memberships and players change
        the element instead (and return None). Used cells are removed from ``cells``;
        what remains becomes attributes."""
        type_cell = cells.pop("type", None)
        if type_cell is None:
            type_cell = cells.pop("connection_type", None)
        type_text = _cell_text(type_cell).strip() if type_cell is not None else ""
        kind_text = _cell_text(cells.get("kind", "")).strip().lower()
        kinds = ("tangible", "intangible")
        sections = {a[1], b[1]}
        if kind_text in kinds or type_text.lower() in kinds:
            if "clusters" in sections:
                expected = "an exchange between roles or participants, not clusters"
                self._report(Problem(where, None, f"{a[0]} → {b[0]}", expected))
                return None
            raw: dict[str, Any] = {"from": a[0], "to": b[0]}
            if kind_text in kinds:
                cells.pop("kind")
                raw["kind"] = kind_text
                if type_text:
                    raw["type"] = _slug(type_text)
            else:
                raw["kind"] = type_text.lower()
            for column in ("deliverable", "label", "description"):
                if column in cells:
                    raw["deliverable"] = _cell_text(cells.pop(column))
                    break
            if "description" in cells:
                raw["description"] = _cell_text(cells.pop("description"))
            for column, field in _EXCHANGE_COLUMNS.items():
                if column in cells:
                    raw[field] = _cell_text(cells.pop(column))
            impact = {c.removeprefix("impact_"): raw.pop(c) for c in IMPACT_COLUMNS if c in raw}
            if impact:
                raw["impact"] = impact
            return "exchanges", raw
        if sections == {"participants"}:
            return self._tie(where, cells, a[0], b[0], type_text)
        if sections == {"participants", "clusters"}:
            member, group = (a, b) if a[1] == "participants" else (b, a)
            clusters = member[2].setdefault("clusters", [])
            if group[0] not in clusters:
                clusters.append(group[0])
            cells.clear()
            return None
        if sections == {"participants", "roles"}:
            player, role = (a, b) if a[1] == "participants" else (b, a)
            players = role[2].setdefault("played_by", [])
            if player[0] not in players:
                players.append(player[0])
            cells.clear()
            return None
        expected = (
            "a connection between two participants (a tie), a participant and a "
            "cluster (membership), a participant and a role (who plays it), or a "
            "tangible or intangible exchange between roles and participants"
        )
        self._report(Problem(where, None, f"{a[1][:-1]} {a[0]} → {b[1][:-1]} {b[0]}", expected))
        return None

    def _tie(
        self, where: Location, cells: dict[str, Any], source: str, target: str, type_text: str
    ) -> tuple[str, dict[str, Any]] | None:
        raw: dict[str, Any] = {"from": source, "to": target}
        slug = _slug(type_text) if type_text else None
        if slug:
            raw["type"] = slug
        layer = cells.pop("layer", None)
        if layer is not None:
            raw["layer"] = _cell_text(layer).strip().lower()
        else:
            raw["layer"] = "formal" if slug in FORMAL_TYPES else "informal"
        direction = cells.pop("direction", None)
        text = _cell_text(direction).strip().lower() if direction is not None else "directed"
        if text == "directed":
            raw["directed"] = True
        elif text in ("undirected", "mutual"):
            raw["directed"] = False
        else:
            expected = "directed, undirected or mutual"
            self._report(Problem(where, "Direction", direction, expected))
        for column in ("strength", "weight"):
            if column in cells:
                raw["weight"] = _cell_text(cells.pop(column))
                break
        for column, field in _TIE_COLUMNS.items():
            if column in cells:
                raw[field] = _cell_text(cells.pop(column))
        return "ties", raw


# -- choosing and reading ----------------------------------------------------------------


def open_tabular(path: str | os.PathLike[str]) -> Source:
    """Open a spreadsheet input as a :class:`~glia.io.Source`.

    A folder with ``participants.csv`` (or any other section file, or only
    ``ecosystem.csv``) is a :class:`CsvFolderSource`; a folder with
    ``elements.csv`` is an :class:`ElementConnectionSource`. An ``.xlsx``
    workbook is native when it has a section sheet, or the mapping-tool
    layout when it has an ``Elements`` sheet.

    Raises
    ------
    InvalidInput
        When the path is missing, unreadable, or none of these.
    """
    p = Path(path)
    where = Location(str(p))
    sections = ", ".join(f"{s}.csv" for s in SECTIONS)
    if p.is_dir():
        names = set(_csv_files(p))
        native = any(f"{s}.csv" in names for s in SECTIONS)
        mapping = "elements.csv" in names
        if native and mapping:
            expected = "either section files or elements.csv and connections.csv, not both"
            raise InvalidInput([Problem(where, None, NO_VALUE, expected)])
        if mapping:
            return ElementConnectionSource(p)
        if native or f"{ECOSYSTEM_TABLE}.csv" in names:
            return CsvFolderSource(p)
        expected = (
            f"a folder with one CSV file per section ({sections}) "
            "or with elements.csv and connections.csv"
        )
        raise InvalidInput([Problem(where, None, NO_VALUE, expected)])
    if p.is_file() and p.suffix.lower() in _WORKBOOK_SUFFIXES:
        workbook = _open_workbook(p)
        sheets = _sheets(workbook)
        native = any(s in sheets for s in SECTIONS)
        mapping = "elements" in sheets
        if (native and mapping) or not (native or mapping or ECOSYSTEM_TABLE in sheets):
            workbook.close()
            found = ", ".join(str(s.title) for s in workbook.worksheets) or "none"
            expected = (
                "a workbook with one sheet per section ("
                + ", ".join(SECTIONS)
                + f") or with sheets Elements and Connections, not both (sheets: {found})"
            )
            raise InvalidInput([Problem(where, None, NO_VALUE, expected)])
        if mapping:
            return ElementConnectionSource(p, workbook)
        return WorkbookSource(p, workbook)
    if p.is_file():
        expected = f"a folder of CSV files ({sections}) or an .xlsx workbook"
        raise InvalidInput([Problem(where, None, p.suffix or p.name, expected)])
    expected = "an existing folder of CSV files or .xlsx workbook"
    raise InvalidInput([Problem(where, None, NO_VALUE, expected)])


def _problem_order(section: str | None) -> int:
    if section is None:
        return -1
    table = section.lower().removesuffix(".csv")
    order = [ECOSYSTEM_TABLE, *SECTIONS, "elements", "connections"]
    return order.index(table) if table in order else len(order)


def _spreadsheet_column(problem: Problem) -> Problem:
    """Name the column a spreadsheet has: ``impact_financial`` for ``impact.financial``."""
    column = problem.column
    if column is not None and column.startswith("impact."):
        column = "impact_" + column.removeprefix("impact.")
        return Problem(problem.location, column, problem.value, problem.expected)
    return problem


def read_tabular(path: str | os.PathLike[str]) -> Ecosystem:
    """Read and validate a spreadsheet input (see :func:`open_tabular`).

    Raises
    ------
    InvalidInput
        With every problem found, ordered by table and row.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "tiny"
    >>> folder.mkdir()
    >>> _ = (folder / "participants.csv").write_text("id\\nana\\nben\\n")
    >>> _ = (folder / "ties.csv").write_text("from,to,layer,weight\\nana,ben,informal,0.8\\n")
    >>> eco = read_tabular(folder)
    >>> eco.name, [t.weight for t in eco.ties]
    ('tiny', [0.8])
    """
    from ._open import read_source

    with open_tabular(path) as source:
        return read_source(source)


# -- writing ---------------------------------------------------------------------------


def _attribute_column(key: str, reserved: set[str]) -> str:
    """The column of an attribute; prefixed where the bare name would read as a field."""
    if key != key.strip() or not key or _normal(key) in reserved:
        return ATTRIBUTE_PREFIX + key
    if key.lower().startswith(ATTRIBUTE_PREFIX):
        return ATTRIBUTE_PREFIX + key
    return key


def _get(record: Any, alias: str, name: str) -> Any:
    if isinstance(record, BaseModel):
        return getattr(record, name)
    value = record.get(alias)
    return record.get(name) if value is None and alias != name else value


def _join_ids(values: Iterable[str], what: str) -> str:
    items = list(values)
    for item in items:
        if LIST_SEPARATOR in item:
            raise ValueError(f"{what} {item!r} holds ';', which separates a list in a cell")
    return "; ".join(items)


def _capabilities_text(value: Any) -> str:
    if not value:
        return ""
    pairs = [f"{name}:{level}" for name, level in value.items()]
    _join_ids(value, "the capability")
    return "; ".join(pairs)


def _needs_text(value: Any) -> str:
    parts = []
    for need in value or ():
        capability = _get(need, "capability", "capability")
        level = _get(need, "level", "level") or 1
        count = _get(need, "count", "count") or 1
        _join_ids([capability], "the capability")
        parts.append(f"{capability}:{level}" + (f"x{count}" if count != 1 else ""))
    return "; ".join(parts)


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _plain_cell(value: Any, typed: bool) -> bool:
    """Whether an attribute value reads back unchanged from a cell of its own.

    In CSV, text that looks like a number or true/false would come back typed;
    in both formats an empty or missing value would not come back at all.
    Such values go to the ``attributes`` column as JSON instead.
    """
    if value is None or (isinstance(value, str) and not value):
        return False
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return _excel_exact(value) if typed else math.isfinite(value)
    if typed or not isinstance(value, str):
        return True
    return isinstance(_text_scalar(value), str)


def _json_attributes(attributes: Mapping[str, Any]) -> str:
    return json.dumps(dict(attributes), ensure_ascii=False)


class _SectionPlan:
    """The columns of one section and how a record fills them."""

    def __init__(self, section: str, items: Iterable[Any], typed: bool) -> None:
        model = SECTIONS[section]
        self.section = section
        self.typed = typed
        self.fields: list[tuple[str, str]] = []
        self.columns: list[str] = []
        for name, info in model.model_fields.items():
            alias = info.alias or name
            if name == "attributes":
                continue
            self.fields.append((alias, name))
            self.columns.extend(IMPACT_COLUMNS if name == "impact" else (alias,))
        reserved = {*record_fields(model), *IMPACT_COLUMNS}
        # A list or tuple is read twice: once here for the attribute names.
        self.keys: list[str] | None = None
        self.json = True
        if isinstance(items, Sequence):
            keys: dict[str, None] = {}
            self.json = False
            for record in items:
                for key, value in (_get(record, "attributes", "attributes") or {}).items():
                    if _plain_cell(value, typed):
                        keys[key] = None
                    else:
                        self.json = True
            self.keys = list(keys)
            self.columns.extend(_attribute_column(k, reserved) for k in self.keys)
        if self.json:
            self.columns.append("attributes")

    def cells(self, record: Any) -> list[Any]:
        """The row of one record: text for CSV, typed values for a workbook."""
        row: list[Any] = []
        for alias, name in self.fields:
            value = _get(record, alias, name)
            if name == "impact":
                row.extend(None if value is None else _get(value, k, k) for k in ASSET_KINDS)
            elif name in ("clusters", "played_by"):
                row.append(_join_ids(value or (), f"the {self.section[:-1]} id"))
            elif name == "capabilities":
                row.append(_capabilities_text(value))
            elif name == "needs":
                row.append(_needs_text(value))
            else:
                row.append(value)
        attributes: Mapping[str, Any] = _get(record, "attributes", "attributes") or {}
        if self.keys is None:
            row.append(_json_attributes(attributes) if attributes else None)
        else:
            typed = self.typed
            for key in self.keys:
                value = attributes.get(key)
                row.append(value if _plain_cell(value, typed) else None)
            if self.json:
                rest = {k: v for k, v in attributes.items() if not _plain_cell(v, typed)}
                row.append(_json_attributes(rest) if rest else None)
        if self.typed:
            return row
        return [v if isinstance(v, str) else _value_text(v) for v in row]


def _header_rows(header: Mapping[str, Any], typed: bool) -> list[tuple[str, Any]]:
    """The ``key,value`` rows of the ecosystem table."""
    rows: list[tuple[str, Any]] = [("glia", header.get("glia") or FORMAT_VERSION)]
    for key in ("ecosystem", "description", "currency"):
        if header.get(key) is not None:
            rows.append((key, header[key]))
    reserved = {"glia", "ecosystem", "name", "description", "currency", "key", "attributes"}
    rest: dict[str, Any] = {}
    for key, value in (header.get("attributes") or {}).items():
        if _plain_cell(value, typed):
            rows.append((_attribute_column(str(key), reserved), value))
        else:
            rest[str(key)] = value
    if rest:
        rows.append(("attributes", _json_attributes(rest)))
    return rows


def _check_folder(path: Path) -> None:
    """Refuse to replace a folder that holds anything but Glia's tables."""
    if not path.exists():
        return
    if not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a folder")
    ours = {f"{s}.csv" for s in (ECOSYSTEM_TABLE, *SECTIONS)}
    others = [e.name for e in os.scandir(path) if e.name.lower() not in ours]
    if others:
        raise FileExistsError(
            f"{path} holds other files ({', '.join(sorted(others)[:5])}); "
            "write the tables to a new or empty folder"
        )


def _write_csv(
    path: Path,
    header: Mapping[str, Any],
    sections: Mapping[str, Iterable[BaseModel | Mapping[str, Any]]],
) -> dict[str, int]:
    _check_folder(path)
    counts = dict.fromkeys(SECTIONS, 0)
    with atomic_dir(path) as folder:
        with (folder / f"{ECOSYSTEM_TABLE}.csv").open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["key", "value"])
            for key, value in _header_rows(header, typed=False):
                writer.writerow([key, _value_text(value)])
        for section in SECTIONS:
            items = sections.get(section, ())
            plan = _SectionPlan(section, items, typed=False)
            file: IO[str] | None = None
            try:
                for record in items:
                    if file is None:
                        file = (folder / f"{section}.csv").open("w", encoding="utf-8", newline="")
                        writer = csv.writer(file)
                        writer.writerow(plan.columns)
                    writer.writerow(plan.cells(record))
                    counts[section] += 1
            finally:
                if file is not None:
                    file.close()
    return counts


def _excel_exact(number: float) -> bool:
    """Whether a number survives a workbook: openpyxl writes 16 significant digits."""
    if not math.isfinite(number):
        return False
    shown = format(number, ".16g")
    if isinstance(number, int):
        return shown == str(number)  # an exponent would read back as a float
    return float(shown) == number


def _xlsx_value(value: Any, sheet: Any) -> Any:
    """A value as a workbook cell: numbers stay numbers where exact, text stays text."""
    from openpyxl.cell.cell import ERROR_CODES, WriteOnlyCell

    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value if _excel_exact(value) else _value_text(value)
    if isinstance(value, Decimal):
        as_float = float(value)
        exact = Decimal(repr(as_float)) == value and _excel_exact(as_float)
        return as_float if exact else format(value, "f")
    if isinstance(value, dt.date):
        return value
    text = str(value)
    if _EXCEL_ILLEGAL.search(text) or len(text) > _EXCEL_MAX_TEXT:
        raise ValueError(
            f"cannot write {text[:40]!r} to a workbook: a cell holds at most "
            f"{_EXCEL_MAX_TEXT} characters and no control characters; write CSV instead"
        )
    if text.startswith("=") or text in ERROR_CODES:
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"  # text, not a formula or an error code
        return cell
    return text


def _write_xlsx(
    path: Path,
    header: Mapping[str, Any],
    sections: Mapping[str, Iterable[BaseModel | Mapping[str, Any]]],
) -> dict[str, int]:
    from openpyxl import Workbook

    counts = dict.fromkeys(SECTIONS, 0)
    workbook = Workbook(write_only=True)
    try:
        sheet = workbook.create_sheet(ECOSYSTEM_TABLE)
        sheet.append(["key", "value"])
        for key, value in _header_rows(header, typed=True):
            sheet.append([key, _xlsx_value(value, sheet)])
        for section in SECTIONS:
            items = sections.get(section, ())
            plan = _SectionPlan(section, items, typed=True)
            sheet = None
            for record in items:
                if sheet is None:
                    sheet = workbook.create_sheet(section)
                    sheet.append(plan.columns)
                sheet.append([_xlsx_value(v, sheet) for v in plan.cells(record)])
                counts[section] += 1
    except BaseException:
        # Finish the sheets' temporary files now, not in a noisy garbage collection.
        for open_sheet in workbook.worksheets:
            with contextlib.suppress(Exception):  # the first error is the one to see
                open_sheet.close()
        raise
    # atomic_output opens a text file; the workbook is a zip written to its bytes.
    with atomic_output(path) as out:
        workbook.save(out.buffer)  # type: ignore[attr-defined]
    return counts


def write_tables(
    path: str | os.PathLike[str],
    header: Mapping[str, Any],
    sections: Mapping[str, Iterable[BaseModel | Mapping[str, Any]]],
    fmt: TabularFormat | None = None,
) -> dict[str, int]:
    """Write an ecosystem as a folder of CSV files or as an XLSX workbook.

    Parameters
    ----------
    path
        The folder (CSV) or ``.xlsx`` file. An existing folder is replaced
        only if it holds nothing but Glia's tables.
    header
        The header fields (``ecosystem``, ``description``, ``currency``,
        ``attributes``).
    sections
        Section name to records (or plain mappings in native names), each
        consumed once in section order. A list or tuple is read twice: first
        for the attribute names, which become one column each; any other
        iterable is streamed and its attributes go to one ``attributes``
        column holding a JSON object.
    fmt
        ``"csv"`` or ``"xlsx"``; by default ``xlsx`` for a ``.xlsx`` path.

    Returns
    -------
    dict
        Records written per section.

    Raises
    ------
    ValueError
        For a value the format cannot hold (an id with ``;`` in a list cell,
        a control character in a workbook). Nothing is written then.
    FileExistsError
        When ``path`` is a folder holding other files.
    """
    target = Path(path)
    chosen = fmt or ("xlsx" if target.suffix.lower() in _WORKBOOK_SUFFIXES else "csv")
    if chosen == "csv":
        return _write_csv(target, header, sections)
    if chosen == "xlsx":
        return _write_xlsx(target, header, sections)
    raise ValueError(f"unknown table format {chosen!r}: csv or xlsx")


def write_ecosystem_tables(
    eco: Ecosystem, path: str | os.PathLike[str], fmt: TabularFormat | None = None
) -> dict[str, int]:
    """Write an :class:`Ecosystem` with :func:`write_tables`, an attribute per column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from glia.model import Ecosystem
    >>> eco = Ecosystem.model_validate({"ecosystem": "Tiny", "participants": [{"id": "ana"}]})
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "tiny"
    >>> write_ecosystem_tables(eco, folder)["participants"]
    1
    >>> read_tabular(folder) == eco
    True
    """
    header = eco.model_dump(include=set(HEADER_FIELDS))
    return write_tables(path, header, dict(eco.sections()), fmt)
