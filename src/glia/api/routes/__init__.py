"""One router per resource; the application mounts each under ``/api/v1``."""

from fastapi import APIRouter

from . import analysis, auth, ecosystems, engage, govern, ledger, maps, swarm

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [
    auth.router,
    ecosystems.router,
    maps.router,
    analysis.router,
    swarm.router,
    engage.router,
    govern.router,
    ledger.router,
]
