"""Writing an ecosystem in any format Glia exports."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, get_args

from ..model import Ecosystem

__all__ = ["EXPORT_FORMATS", "ExportFormat", "export"]

ExportFormat = Literal["yaml", "json", "xlsx", "csv", "graphml", "valueflows"]
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)


def export(eco: Ecosystem, fmt: ExportFormat, path: str | os.PathLike[str]) -> dict[str, int]:
    """Write ``eco`` to ``path`` as ``fmt``; returns counts written.

    ``csv`` writes a folder of CSV files; every other format one file. Writes
    are atomic: a failure leaves no partial output.
    """
    target = Path(path)
    if fmt in ("yaml", "json"):
        from .native import write_native

        return write_native(target, eco, fmt=fmt)
    if fmt in ("xlsx", "csv"):
        from .tabular import write_ecosystem_tables

        return write_ecosystem_tables(eco, target, fmt)
    if fmt == "graphml":
        from .graphml import write_graphml

        return write_graphml(eco, target)
    if fmt == "valueflows":
        from .valueflows import write_valueflows

        return write_valueflows(eco, target)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
