"""The web workspace (being written)."""

from fastapi import FastAPI

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Mount the workspace's pages and static files on ``app``."""
