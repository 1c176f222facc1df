"""A plain CSV table read as Arrow batches of text, for the columnar import of ties.

pyarrow's CSV reader parses blocks of the file on every core, where the
row path (:mod:`csv`, one row at a time) uses one. It parses quoting and
line endings by its own rules, so it is used only on files where no rule
can differ from the row path's: UTF-8 without a byte-order mark, no quote
character, no NUL byte, no carriage return but before a line feed (lines
may end in CRLF, as Python's :mod:`csv` writes them), one header row whose cells
are all columns of the section (in any case or spacing, as the row path
reads them), each once. Anything else is read by the row path; so is a
file whose rows pyarrow cannot split evenly (a row with too few or too
many cells, an empty line, bytes that are not UTF-8), which it says by
raising :class:`~glia.model.ColumnsUnavailable` from the batches.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..model import ColumnsUnavailable

__all__ = ["plain_header", "text_batches"]

#: Bytes that make a file's rows depend on the reader's rules (and a CR alone).
_UNPLAIN = (b'"', b"\x00")
_CHUNK = 16 << 20
#: Bytes of the file per Arrow batch: about 300,000 ties.
BLOCK = 32 << 20


def plain_header(path: Path, fields: Sequence[str]) -> tuple[list[str], str] | None:
    """The header's field names and the delimiter if ``path`` is plain (see the
    module), else None."""
    from .tabular import _delimiter, _normal

    try:
        with path.open("rb") as file:
            first = file.readline()
            if first.startswith(b"\xef\xbb\xbf"):
                return None
            chunk = first
            while chunk:
                if chunk.endswith(b"\r"):
                    chunk += file.read(1)
                if any(mark in chunk for mark in _UNPLAIN):
                    return None
                if chunk.count(b"\r") != chunk.count(b"\r\n"):
                    return None
                chunk = file.read(_CHUNK)
        head = first.decode("utf-8").removesuffix("\n").removesuffix("\r")
    except (OSError, UnicodeDecodeError):
        return None
    delimiter = _delimiter(head)
    names = [_normal(cell) for cell in head.split(delimiter)]
    if len(set(names)) != len(names) or not set(names) <= set(fields):
        return None
    return names, delimiter


def text_batches(path: Path, names: list[str], delimiter: str) -> Iterator[Any]:
    """The rows under the header as Arrow record batches of text columns."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    read = pcsv.ReadOptions(column_names=names, skip_rows=1, block_size=BLOCK, use_threads=True)
    parse = pcsv.ParseOptions(
        delimiter=delimiter, quote_char=False, newlines_in_values=False, ignore_empty_lines=False
    )
    convert = pcsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        strings_can_be_null=False,
        check_utf8=True,
    )
    try:
        with pcsv.open_csv(
            path, read_options=read, parse_options=parse, convert_options=convert
        ) as reader:
            yield from reader
    except (pa.ArrowException, OSError) as exc:
        raise ColumnsUnavailable(str(exc)) from None
