"""``glia user``, ``glia access`` and ``glia serve``: accounts made on the command line
sign in to the server that ``glia serve`` starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from glia.cli import app
from glia.store import Store

from conftest import EXAMPLE

runner = CliRunner()


def glia(*args: str | Path, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    assert glia("import", EXAMPLE, "-w", path)[0] == 0
    return path


def test_user_add_grant_token_and_access(workspace: Path) -> None:
    code, out, _ = glia("user", "add", "grace", "--password-stdin", "-w", workspace,
                        stdin="a-long-password\n")  # fmt: skip
    assert code == 0 and "created" in out
    code, _, err = glia("user", "add", "grace", "--password", "another-password", "-w", workspace)
    assert code == 2 and "taken" in err
    code, _, err = glia("user", "add", "hugo", "--password", "short", "-w", workspace)
    assert code == 2 and "at least 8" in err
    code, _, err = glia("user", "grant", "grace", "Northbridge", "member", "-p", "nobody",
                        "-w", workspace)  # fmt: skip
    assert code == 2 and "participant 'nobody'" in err
    assert glia("user", "grant", "grace", "Northbridge", "member", "-p", "grace",
                "-w", workspace)[0] == 0  # fmt: skip
    code, token, _ = glia("user", "token", "grace", "-w", workspace)
    assert code == 0 and token.startswith("glia_")
    code, out, _ = glia("access", "Northbridge", "controlled-access", "--by", "ben",
                        "-w", workspace)  # fmt: skip
    assert code == 0 and "controlled-access" in out
    code, _, err = glia("access", "Northbridge", "secret", "-w", workspace)
    assert code == 2 and "expected one of shared-access, controlled-access" in err
    with Store.open(workspace=workspace) as store:
        found = store.principal_for(token.strip(), "api")
        assert found is not None
        assert found[0].roles["Northbridge"].participant == "grace"
        assert store.access_mode("Northbridge") == "controlled-access"
        assert store.authenticate("grace", "a-long-password") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_the_api_and_the_workspace(workspace: Path) -> None:
    glia("user", "add", "ben", "--password", "a-long-password", "-w", workspace)
    glia("user", "grant", "ben", "Northbridge", "orchestrator", "-p", "ben", "-w", workspace)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "GLIA_DATABASE_URL"}
    server = subprocess.Popen(
        [sys.executable, "-m", "glia", "serve", "--port", str(port), "-w", str(workspace)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/api/v1/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "glia serve did not start"
                time.sleep(0.2)
        with httpx.Client(base_url=base) as client:
            assert client.get("/api/v1/me").status_code == 401
            signed = client.post("/api/v1/auth/session",
                                 json={"username": "ben", "password": "a-long-password"})  # fmt: skip
            assert signed.status_code == 200
            names = [e["name"] for e in client.get("/api/v1/ecosystems").json()["items"]]
            assert names == ["Northbridge"]
            assert client.get("/login").status_code == 200
    finally:
        server.terminate()
        server.wait(10)
