"""Choosing a reader for a path."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..model import (
    NO_VALUE,
    CollectingSink,
    Ecosystem,
    InvalidInput,
    Location,
    Problem,
    check_stream,
)
from ._source import Source
from .native import native_source

__all__ = ["open_source", "read", "read_source"]

#: Suffixes read as native documents.
NATIVE_SUFFIXES = (".yaml", ".yml", ".json")


def open_source(path: str | os.PathLike[str]) -> Source:
    """A :class:`Source` for any input Glia reads.

    A ``.yaml``/``.yml``/``.json`` file is a native document; a folder (of
    CSV files) or an ``.xlsx`` workbook is read as spreadsheets, in Glia's
    own layout or the element/connection layout of mapping tools.
    """
    p = Path(path)
    if not p.exists():
        raise InvalidInput(
            [Problem(Location(str(p)), None, NO_VALUE, "an existing file or folder")]
        )
    if p.is_dir() or p.suffix.lower() in (".xlsx", ".csv"):
        from .tabular import open_tabular

        return open_tabular(p)
    return native_source(p)


def read_source(source: Source, progress: Callable[[str, int], None] | None = None) -> Ecosystem:
    """Check a whole source and build the ecosystem in memory."""
    sink = CollectingSink()
    result = check_stream(
        source.header, source.rows, source.name, sink, source.problems, progress=progress
    )
    if not result.ok or result.header is None:
        raise InvalidInput(source.refine(result.problems), result.total)
    return sink.ecosystem(result.header)


def read(path: str | os.PathLike[str]) -> Ecosystem:
    """Read and validate any input into an :class:`~glia.model.Ecosystem`.

    Raises :class:`~glia.model.InvalidInput` with every problem found.
    """
    with open_source(path) as source:
        return read_source(source)
