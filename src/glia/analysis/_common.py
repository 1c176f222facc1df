"""What every analysis shares: tables for pandas, JSON-safe values, clear refusals."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["AnalysisError", "entries", "frame", "jsonable"]


class AnalysisError(ValueError):
    """An analysis that cannot run on this input; the message says why and what would do."""


def frame(
    columns: Mapping[str, Any], index: Sequence[str] | None = None, index_name: str = "id"
) -> Any:
    """A ``pandas.DataFrame`` of ``columns`` (pandas is an optional extra)."""
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is in the dev extra
        raise ImportError("to_pandas() needs pandas: pip install 'glia[pandas]'") from exc
    df = pd.DataFrame(
        {k: np.asarray(v) if not isinstance(v, list) else v for k, v in columns.items()}
    )
    if index is not None:
        df.index = pd.Index(list(index), name=index_name)
    return df


def entries(matrix: Any, rows: Any, cols: Any) -> Any:
    """``matrix[rows[i], cols[i]]`` for every ``i``, as a NumPy array (0 where absent).

    SciPy answers from a CSR matrix in canonical form (sorted, no duplicates)
    by a binary search within each row: much faster than a search in one long
    sorted list of keys when rows are short. Empty look-ups give an empty array
    (SciPy would give an empty sparse one).
    """
    if len(rows) == 0:
        return np.zeros(0, dtype=matrix.dtype)
    return np.asarray(matrix[rows, cols]).ravel()


def jsonable(value: Any) -> Any:
    """``value`` with NumPy types made plain and NaN/infinity made ``None``."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
