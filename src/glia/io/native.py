"""The native file: YAML or JSON, versioned (``glia: 1``), lossless.

Reading keeps money exact (numbers with a fraction become ``Decimal``, never
float), remembers the line of each record for messages, and reports
duplicate keys, which a plain YAML loader would silently drop. A document
larger than :data:`MAX_DOCUMENT_BYTES` is refused with a message that points
to the CSV folder, the format for very large ecosystems, because YAML and
JSON are parsed whole.

Writing streams: records are emitted one per line in YAML flow style (or
JSON), so the generator and exports of any size run in bounded memory. The
emitter is hand-written for that reason, and for speed (``yaml.dump`` per
record is about fifty times slower); it quotes every string that a YAML 1.1
reader could take for anything but a string.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal

import yaml
from pydantic import BaseModel

from ..model import (
    HEADER_FIELDS,
    NO_VALUE,
    SECTIONS,
    Ecosystem,
    InvalidInput,
    Location,
    Problem,
    validate_document,
)
from ._files import atomic_output
from ._source import MappingSource

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "dump_native",
    "load_document",
    "read_native",
    "write_native",
]

#: Largest YAML/JSON document read whole (``GLIA_MAX_DOCUMENT_BYTES`` overrides).
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024

NativeFormat = Literal["yaml", "json"]


def _max_bytes() -> int:
    value = os.environ.get("GLIA_MAX_DOCUMENT_BYTES")
    return int(value) if value and value.isdigit() else MAX_DOCUMENT_BYTES


# -- reading ---------------------------------------------------------------------------

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader: exact decimals, line numbers, duplicate keys reported."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[int, int] = {}
        self.duplicates: list[tuple[int, str]] = []


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[dict[Any, Any]]:
    data: dict[Any, Any] = {}
    yield data
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, str | int) and key in seen:
            loader.duplicates.append((key_node.start_mark.line + 1, str(key)))
        seen.add(key if isinstance(key, str | int) else id(key_node))
    data.update(loader.construct_mapping(node))
    loader.lines[id(data)] = node.start_mark.line + 1


def _construct_decimal(loader: _Loader, node: yaml.ScalarNode) -> Decimal | float:
    text = str(loader.construct_scalar(node)).replace("_", "")
    lowered = text.lower()
    if lowered in (".inf", "+.inf"):
        return math.inf
    if lowered == "-.inf":
        return -math.inf
    if lowered == ".nan":
        return math.nan
    return Decimal(text)


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """A date or time; an impossible one (2025-13-01) is a problem at its line, not a crash."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"a real calendar date, {node.value!r} is not one: {exc}", node.start_mark
        ) from None


# YAML 1.2 booleans: only true/false. YAML 1.1 also reads yes/no/on/off, which
# turns a country code NO into False and loses Norway.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load_document(path: Path) -> tuple[Any, dict[int, int]]:
    """Parse a native file into plain data and a map of record lines.

    Raises :class:`InvalidInput` for an empty, too large, non-UTF-8 or
    unparsable file, naming the line where the parser stopped.
    """
    name = str(path)
    where = Location(name)
    try:
        size = path.stat().st_size
    except OSError as exc:
        problem = Problem(where, None, NO_VALUE, f"a readable file ({exc.strerror})")
        raise InvalidInput([problem]) from None
    limit = _max_bytes()
    if size > limit:
        expected = (
            f"a YAML/JSON document of at most {_human(limit)} (this one is {_human(size)}); "
            "import very large ecosystems as a folder of CSV files"
        )
        raise InvalidInput([Problem(where, None, NO_VALUE, expected)])
    raw = path.read_bytes()
    if not raw.strip():
        raise InvalidInput(
            [Problem(where, None, NO_VALUE, "an ecosystem document; the file is empty")]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start : exc.start + 4]
        loc = Location(name, line=bad_line)
        raise InvalidInput([Problem(loc, None, bad, "text encoded as UTF-8")]) from None
    if _is_json(path, text):
        return _load_json(text, name), {}
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        problem = Problem(Location(name, line=line), None, NO_VALUE, f"valid YAML ({reason})")
        raise InvalidInput([problem]) from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise InvalidInput(
            [
                Problem(Location(name, line=line), key, NO_VALUE, "each key once in a mapping")
                for line, key in loader.duplicates
            ]
        )
    return data, loader.lines


def _is_json(path: Path, text: str) -> bool:
    return path.suffix.lower() == ".json" or text.lstrip().startswith(("{", "["))


def _load_json(text: str, name: str) -> Any:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                duplicates.append(key)
            out[key] = value
        return out

    try:
        data = json.loads(text, parse_float=Decimal, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        loc = Location(name, line=exc.lineno)
        problem = Problem(loc, None, NO_VALUE, f"valid JSON ({exc.msg}, column {exc.colno})")
        raise InvalidInput([problem]) from None
    if duplicates:
        raise InvalidInput(
            [
                Problem(Location(name), key, NO_VALUE, "each key once in an object")
                for key in duplicates
            ]
        )
    return data


def read_native(path: str | os.PathLike[str]) -> Ecosystem:
    """Read and validate a native YAML or JSON file.

    Raises :class:`~glia.model.InvalidInput` with every problem found.
    """
    p = Path(path)
    data, lines = load_document(p)
    return validate_document(data, str(p), lines)


def native_source(path: Path) -> MappingSource:
    """A native file as a :class:`~glia.io.Source` (parsed whole, then streamed)."""
    data, lines = load_document(path)
    if not isinstance(data, Mapping):
        what = type(data).__name__
        expected = "a mapping with 'glia: 1', 'ecosystem' and the sections"
        raise InvalidInput([Problem(Location(str(path)), None, what, expected)])
    return MappingSource(data, str(path), lines)


def _human(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


# -- writing ---------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*\Z")
_YAML11_WORDS = {"yes", "no", "true", "false", "on", "off", "null", "y", "n"}
# Characters a YAML reader refuses raw or takes as line breaks (NEL, LS, PS).
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def plain_record(record: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    """A record as the native file writes it: aliases, no empty or default fields."""
    if isinstance(record, BaseModel):
        return record.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
    return {k: v for k, v in record.items() if v is not None}


def _yaml_str(text: str) -> str:
    if _PLAIN.match(text) and text.lower() not in _YAML11_WORDS:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return _NON_PRINTABLE.sub(lambda m: _escape(m.group()), quoted)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _yaml_float(x: float) -> str:
    if math.isnan(x):
        return ".nan"
    if math.isinf(x):
        return ".inf" if x > 0 else "-.inf"
    text = repr(x)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        if exponent[0] not in "+-":
            exponent = "+" + exponent
        text = f"{mantissa}e{exponent}"
    elif "." not in text:
        text += ".0"
    return text


def _yaml(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _yaml_str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _yaml_float(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_yaml(str(k))}: {_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to YAML")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        as_float = float(value)
        if value == value.to_integral_value():
            return int(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _json(value: Any) -> str:
    return json.dumps(_jsonable(value), ensure_ascii=False, allow_nan=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal | dt.date):
        return _json_default(value)
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def dump_native(
    out: IO[str],
    header: Mapping[str, Any],
    sections: Mapping[str, Iterable[BaseModel | Mapping[str, Any]]],
    fmt: NativeFormat = "yaml",
) -> dict[str, int]:
    """Write a native document to an open text stream, one record per line.

    ``sections`` maps section names to iterables of records or plain
    mappings; they are consumed once, in :data:`SECTIONS` order. Returns the
    number of records written per section.
    """
    head = {k: header[k] for k in HEADER_FIELDS if header.get(k) not in (None, {}, ())}
    head.setdefault("glia", 1)
    counts = dict.fromkeys(SECTIONS, 0)
    if fmt == "yaml":
        for key, value in head.items():
            out.write(f"{key}: {_yaml(value)}\n")
        for section in SECTIONS:
            items = sections.get(section, ())
            first = True
            for record in items:
                if first:
                    out.write(f"{section}:\n")
                    first = False
                out.write(f"  - {_yaml(plain_record(record))}\n")
                counts[section] += 1
        return counts
    out.write("{\n")
    out.write(",\n".join(f"  {_json(k)}: {_json(v)}" for k, v in head.items()))
    for section in SECTIONS:
        out.write(f',\n  "{section}": [')
        sep = "\n    "
        for record in sections.get(section, ()):
            out.write(sep + _json(plain_record(record)))
            sep = ",\n    "
            counts[section] += 1
        out.write("\n  ]" if counts[section] else "]")
    out.write("\n}\n")
    return counts


def write_native(
    target: str | os.PathLike[str],
    ecosystem: Ecosystem | None = None,
    *,
    header: Mapping[str, Any] | None = None,
    sections: Mapping[str, Iterable[BaseModel | Mapping[str, Any]]] | None = None,
    fmt: NativeFormat | None = None,
) -> dict[str, int]:
    """Write an ecosystem (or a header and streamed sections) to a native file.

    The format follows ``fmt`` or the file's suffix (``.json`` for JSON,
    YAML otherwise). The file is written to a temporary name and moved into
    place, so a failed write leaves nothing half-written.
    """
    path = Path(target)
    if ecosystem is not None:
        header = ecosystem.model_dump(include=set(HEADER_FIELDS))
        sections = dict(ecosystem.sections())
    if header is None or sections is None:
        raise ValueError("give an ecosystem, or a header and sections")
    chosen: NativeFormat = fmt or ("json" if path.suffix.lower() == ".json" else "yaml")
    with atomic_output(path) as out:
        return dump_native(out, header, sections, chosen)
