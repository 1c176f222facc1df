"""What every analysis shares: tables for pandas, JSON-safe values, clear refusals."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["AnalysisError", "frame", "jsonable"]


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
