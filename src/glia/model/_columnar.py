"""Ties checked a column at a time: the fast path of large CSV imports.

Why this exists beside the row path (:func:`validate_tie_rows` and
:meth:`ReferenceIndex.add_ties`): a tie costs about 18 µs there (reading the
row into a mapping, validating it, resolving both endpoints in a map of a
million ids, building its tuple), three minutes for the ten million ties of
a million-participant ecosystem. Here pyarrow's CSV reader parses the file
on every core and the :class:`~glia.model.Tie` rules run on whole columns.

It is a *recogniser*, not a second validator. :meth:`TieChecker.check`
accepts a batch only when every cell is in a plain form whose meaning
under the row path is certain, and otherwise answers ``None``; the caller
then checks the whole file row by row, which finds every problem and names
its row. A file accepted here is therefore one the row path accepts too,
stored with the same values (``tests/store/test_columnar_import.py`` compares the
two on generated files, odd cells included). The plain forms:

- ``from``/``to``: the id of a participant already read (so a valid id),
  and not the same on both sides;
- ``layer``: exactly ``formal`` or ``informal``;
- ``type``: empty, or a kind slug (``^[a-z][a-z0-9_-]*$``, 60 characters at
  most);
- ``weight``: empty, or a plain decimal number (digits, an optional
  fraction and exponent) from 0 to 1;
- ``directed``: empty, or one of the words pydantic reads as a boolean
  (:data:`TRUE_WORDS`, :data:`FALSE_WORDS`, in any case);
- ``since``/``until``: empty, or a real ``YYYY-MM-DD`` date from year 1,
  ``until`` not before ``since``;
- ``attributes``: empty.

Empty cells are absent fields, as in the row path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["FALSE_WORDS", "TIE_COLUMNS", "TRUE_WORDS", "TieChecker", "TieColumns"]

#: The columns a ties table may have for the columnar path (native field names).
TIE_COLUMNS = ("from", "to", "layer", "type", "weight", "directed", "since", "until", "attributes")

#: Words pydantic reads as ``True`` / ``False`` (compared in lower case).
TRUE_WORDS = ("true", "1", "yes", "on", "t", "y")
FALSE_WORDS = ("false", "0", "no", "off", "f", "n")

#: The tie layers, in the order of :attr:`TieColumns.layer`'s codes.
TIE_LAYERS = ("formal", "informal")

_KIND = r"^[a-z][a-z0-9_-]*$"
_DECIMAL = r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_WORDS = pa.array(TRUE_WORDS + FALSE_WORDS)
_TRUTH = np.array([True] * len(TRUE_WORDS) + [False] * len(FALSE_WORDS))
_LAYERS = pa.array(TIE_LAYERS)


@dataclass(frozen=True)
class TieColumns:
    """One checked batch of ties, column by column, in file order.

    ``source``/``target`` are participant indexes, ``layer`` an index into
    ``("formal", "informal")``; ``type``, ``since`` and ``until`` are string
    arrays with nulls where the cell was empty (dates as written, which is
    their ISO form).
    """

    source: npt.NDArray[np.int64]
    target: npt.NDArray[np.int64]
    layer: npt.NDArray[np.int64]
    type: pa.Array
    weight: npt.NDArray[np.float64]
    directed: npt.NDArray[np.bool_]
    since: pa.Array
    until: pa.Array

    def __len__(self) -> int:
        return len(self.source)


class TieChecker:
    """Checks batches of raw tie columns against the participants read so far.

    ``participants`` maps each participant id to its index (the
    :class:`~glia.model.ReferenceIndex`'s map, whose order is the indexes').
    """

    def __init__(self, participants: Mapping[str, int]) -> None:
        ids = list(participants)
        if any(i != k for k, i in enumerate(participants.values())):
            raise ValueError("participant indexes must follow the map's order")
        self._ids = pa.array(ids, type=pa.string())

    def check(self, batch: pa.RecordBatch) -> TieColumns | None:
        """The batch's ties, or ``None`` if any cell is not in a plain form.

        ``batch`` holds string columns named after :data:`TIE_COLUMNS`
        (``from``, ``to`` and ``layer`` at least), empty cells as ``""``.
        """
        names = set(batch.schema.names)
        if not {"from", "to", "layer"} <= names or not names <= set(TIE_COLUMNS):
            return None
        n = batch.num_rows
        column = batch.column

        def filled(name: str) -> pa.Array | None:
            """The column with empty cells as nulls, or None if absent or all empty."""
            if name not in names:
                return None
            values = column(name)
            empty = pc.equal(values, "")
            if pc.all(empty).as_py():
                return None
            return pc.if_else(empty, pa.scalar(None, pa.string()), values)

        if filled("attributes") is not None:
            return None
        # One lookup for both ends: each call hashes every participant id again.
        ends = pc.index_in(pa.concat_arrays([column("from"), column("to")]), value_set=self._ids)
        if ends.null_count:
            return None
        both = ends.to_numpy(zero_copy_only=False).astype(np.int64)
        src, dst = both[:n], both[n:]
        if np.any(src == dst):
            return None
        layer = pc.index_in(column("layer"), value_set=_LAYERS)
        if layer.null_count:
            return None

        kinds = filled("type")
        if kinds is None:
            kinds = pa.nulls(n, pa.string())
        elif not _all(pc.match_substring_regex(kinds, _KIND)) or not _all(
            pc.less_equal(pc.utf8_length(kinds), 60)
        ):
            return None

        weight = np.ones(n)
        text = filled("weight")
        if text is not None:
            if not _all(pc.match_substring_regex(text, _DECIMAL)):
                return None
            parsed = pc.cast(text, pa.float64())
            values = parsed.to_numpy(zero_copy_only=False)
            present = ~np.asarray(text.is_null().to_numpy(zero_copy_only=False))
            chosen = values[present]
            if not (np.all(chosen >= 0.0) and np.all(chosen <= 1.0)):
                return None
            weight[present] = chosen

        directed = np.zeros(n, dtype=np.bool_)
        text = filled("directed")
        if text is not None:
            word = pc.index_in(pc.utf8_lower(text), value_set=_WORDS)
            if word.null_count != text.null_count:
                return None
            present = np.asarray(text.is_valid().to_numpy(zero_copy_only=False))
            codes = word.to_numpy(zero_copy_only=False)
            directed[present] = _TRUTH[codes[present].astype(np.int64)]

        since, since_days = _dates(filled("since"), n)
        until, until_days = _dates(filled("until"), n)
        if since is None or until is None:
            return None
        if since_days is not None and until_days is not None:
            both = ~(np.isnan(since_days) | np.isnan(until_days))
            if np.any(until_days[both] < since_days[both]):
                return None
        return TieColumns(
            source=src,
            target=dst,
            layer=layer.to_numpy(zero_copy_only=False).astype(np.int64),
            type=kinds,
            weight=weight,
            directed=directed,
            since=since,
            until=until,
        )


def _all(mask: Any) -> bool:
    """True when every non-null entry of a boolean array is true."""
    found = pc.all(mask).as_py()
    return found is None or bool(found)


def _dates(text: pa.Array | None, n: int) -> tuple[pa.Array | None, Any]:
    """A date column as written and as day numbers (NaN where empty).

    ``(None, None)`` when a filled cell is not a real ``YYYY-MM-DD`` date of
    year 1 or later; an absent or empty column gives nulls and no days.
    """
    if text is None:
        return pa.nulls(n, pa.string()), None
    if not _all(pc.match_substring_regex(text, _DATE)):
        return None, None
    if not _all(pc.greater_equal(pc.utf8_slice_codeunits(text, 0, 4), "0001")):
        return None, None
    parsed = pc.cast(
        pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True), pa.date32()
    )
    if parsed.null_count != text.null_count:
        return None, None
    # strptime rolls 2024-02-30 over to 2024-03-01: only dates written as they read back are real.
    if not _all(pc.equal(pc.cast(parsed, pa.string()), text)):
        return None, None
    days = pc.cast(parsed, pa.int32()).to_numpy(zero_copy_only=False).astype(np.float64)
    return text, days
