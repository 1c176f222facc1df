"""Routes: ecosystems (list, import, show, export, delete), their members and access mode."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from ...access import ACCESS_MODES, AccessMode, RoleName
from ...io.export import ExportFormat, export
from .._deps import CurrentGuard
from .._pages import Page, PageQuery, paginate
from .._problems import ApiProblem

router = APIRouter(tags=["ecosystems"])

MAX_UPLOAD = 256 * 1024 * 1024

_MEDIA = {
    "yaml": ("application/yaml", "yaml"),
    "json": ("application/json", "json"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "graphml": ("application/graphml+xml", "graphml"),
    "valueflows": ("application/ld+json", "jsonld"),
}


class EcosystemOut(BaseModel):
    name: str
    counts: dict[str, int]
    source: str | None
    updated_at: dt.datetime | None
    role: str
    access: AccessMode


class SummaryOut(BaseModel):
    name: str
    description: str | None
    counts: dict[str, int]
    participants_by_kind: dict[str, int]
    clusters: list[dict[str, Any]]
    layers: list[dict[str, Any]]
    exchanges: list[dict[str, Any]]
    capabilities: list[dict[str, Any]]
    access: AccessMode


class ImportOut(BaseModel):
    ecosystem: str
    replaced: bool
    counts: dict[str, int]


class AccessIn(BaseModel):
    mode: AccessMode


class AccessOut(BaseModel):
    ecosystem: str
    mode: AccessMode
    modes: list[str] = Field(default_factory=lambda: list(ACCESS_MODES))


class MemberOut(BaseModel):
    username: str
    display_name: str | None
    role: str
    participant: str | None


class MemberIn(BaseModel):
    role: RoleName
    participant: str | None = Field(
        default=None, max_length=200, description="The participant of the map this account is"
    )


@router.get("/ecosystems", response_model=Page[EcosystemOut])
def list_ecosystems(guard: CurrentGuard, page: PageQuery, request: Request) -> Page[EcosystemOut]:
    """The ecosystems you hold a role in."""
    mine = guard.principal.roles
    items = [
        EcosystemOut(
            name=info.name,
            counts=info.counts,
            source=info.source,
            updated_at=info.updated_at,
            role=mine[info.name].role,
            access=guard.access(info.name),
        )
        for info in guard.store.list()
        if info.name in mine
    ]
    return paginate(items, page, request)


@router.post("/ecosystems", response_model=ImportOut, status_code=201)
def import_ecosystem(
    guard: CurrentGuard,
    file: Annotated[UploadFile, File(description="YAML/JSON, XLSX, or a zip-less CSV")],
    name: Annotated[str | None, Form(max_length=500)] = None,
    replace: Annotated[bool, Form()] = False,
) -> ImportOut:
    """Import a file as an ecosystem; on any problem, change nothing (422 lists them).

    A new ecosystem needs an administrator account, who becomes its orchestrator;
    replacing one needs its orchestrator.
    """
    filename = Path(file.filename or "upload.yaml").name
    if Path(filename).suffix.lower() not in {".yaml", ".yml", ".json", ".xlsx", ".csv"}:
        raise ApiProblem(
            415,
            "Unsupported file",
            f"'{filename}': expected .yaml, .yml, .json, .xlsx or .csv",
            "unsupported-file",
        )
    target = name
    with tempfile.TemporaryDirectory(prefix="glia-upload-") as tmp:
        path = Path(tmp) / filename
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out, 1 << 20)
        if path.stat().st_size > MAX_UPLOAD:
            raise ApiProblem(413, "File too large", f"'{filename}' is over {MAX_UPLOAD} bytes")
        if replace and target and target in guard.principal.roles:
            guard.require("manage", target, "ecosystem", target)
        elif not guard.principal.admin:
            raise ApiProblem(
                403,
                "Forbidden",
                "importing a new ecosystem needs an administrator account",
                "forbidden",
            )
        result = guard.store.import_file(
            path, target, replace=replace and bool(target) and target in guard.principal.roles
        )
    if result.ecosystem not in guard.principal.roles:
        role = guard.principal.role_in(result.ecosystem)
        participant = role.participant if role else None
        guard.store.grant(guard.principal.username, result.ecosystem, "orchestrator", participant)
    return ImportOut(ecosystem=result.ecosystem, replaced=result.replaced, counts=result.counts)


@router.get("/ecosystems/{ecosystem}", response_model=SummaryOut)
def show_ecosystem(ecosystem: str, guard: CurrentGuard) -> SummaryOut:
    """What `glia show` prints: counts, clusters, layers, exchanges, capabilities."""
    guard.require("read", ecosystem, "ecosystem", ecosystem)
    s = guard.store.summary(ecosystem)
    return SummaryOut(
        name=s.info.name,
        description=s.description,
        counts=s.info.counts,
        participants_by_kind=s.participants_by_kind,
        clusters=s.clusters,
        layers=s.layers,
        exchanges=s.exchanges,
        capabilities=s.capabilities,
        access=guard.access(ecosystem),
    )


@router.delete("/ecosystems/{ecosystem}", status_code=204)
def delete_ecosystem(ecosystem: str, guard: CurrentGuard) -> Response:
    """Delete an ecosystem with all its records, its ledger included (orchestrator)."""
    guard.require("manage", ecosystem, "ecosystem", ecosystem)
    guard.store.delete(ecosystem)
    return Response(status_code=204)


@router.get(
    "/ecosystems/{ecosystem}/export",
    response_class=FileResponse,
    responses={200: {"content": {m: {} for m, _ in _MEDIA.values()}}},
)
def export_ecosystem(
    ecosystem: str,
    guard: CurrentGuard,
    format: Literal["yaml", "json", "xlsx", "graphml", "valueflows"] = "yaml",
) -> FileResponse:
    """The ecosystem's map as a file (native YAML/JSON, XLSX, GraphML, ValueFlows)."""
    guard.require("read", ecosystem, "ecosystem", ecosystem)
    eco = guard.store.load(ecosystem)
    media, suffix = _MEDIA[format]
    tmp = Path(tempfile.mkdtemp(prefix="glia-export-"))
    path = tmp / f"{ecosystem}.{suffix}"
    fmt: ExportFormat = format
    export(eco, fmt, path)
    return FileResponse(
        path,
        media_type=media,
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, tmp, True),
    )


@router.get("/ecosystems/{ecosystem}/access", response_model=AccessOut)
def get_access(ecosystem: str, guard: CurrentGuard) -> AccessOut:
    """How much members see: shared-access (everything) or controlled-access."""
    guard.require("read", ecosystem, "ecosystem", ecosystem)
    return AccessOut(ecosystem=ecosystem, mode=guard.access(ecosystem))


@router.put("/ecosystems/{ecosystem}/access", response_model=AccessOut)
def set_access(ecosystem: str, body: AccessIn, guard: CurrentGuard) -> AccessOut:
    """Set the access mode (orchestrator)."""
    guard.require("manage", ecosystem, "access", ecosystem)
    guard.store.set_access(ecosystem, body.mode, guard.principal.username)
    return AccessOut(ecosystem=ecosystem, mode=guard.store.access_mode(ecosystem))


@router.get("/ecosystems/{ecosystem}/members", response_model=Page[MemberOut])
def list_members(
    ecosystem: str, guard: CurrentGuard, page: PageQuery, request: Request
) -> Page[MemberOut]:
    """The accounts with a role in the ecosystem."""
    guard.require("read", ecosystem, "members", ecosystem)
    items = [MemberOut(**vars(m)) for m in guard.store.members(ecosystem)]
    return paginate(items, page, request)


@router.put("/ecosystems/{ecosystem}/members/{username}", response_model=MemberOut)
def set_member(ecosystem: str, username: str, body: MemberIn, guard: CurrentGuard) -> MemberOut:
    """Give an existing account a role in the ecosystem (orchestrator)."""
    guard.require("manage", ecosystem, "members", ecosystem)
    guard.store.grant(username, ecosystem, body.role, body.participant)
    for m in guard.store.members(ecosystem):
        if m.username == username:
            return MemberOut(**vars(m))
    raise ApiProblem(404, "Not Found", f"no account named '{username}'")


@router.delete("/ecosystems/{ecosystem}/members/{username}", status_code=204)
def remove_member(ecosystem: str, username: str, guard: CurrentGuard) -> Response:
    """Take away an account's role in the ecosystem (orchestrator)."""
    guard.require("manage", ecosystem, "members", ecosystem)
    guard.store.revoke(username, ecosystem)
    return Response(status_code=204)
