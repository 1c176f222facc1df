"""Example ecosystems shipped with Glia (``examples/`` in the repository links here)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["example_path"]


def example_path(name: str = "northbridge") -> Path:
    """The path of an example ecosystem file shipped in the package."""
    path = Path(str(resources.files(__name__) / f"{name}.yaml"))
    if not path.is_file():
        raise FileNotFoundError(f"no example named {name!r}")
    return path
