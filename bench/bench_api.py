"""Benchmark: the API's latency and throughput on loopback, reads and contribution writes.

``glia serve`` runs in a child process (one uvicorn worker, the default
embedded SQLite database) on the Northbridge example, with an orchestrator
account and its API token. Concurrent clients (threads in this process, each
with its own keep-alive connection) then send, one kind at a time:

- ``health``: ``GET /api/v1/health``, no sign-in and no database: the baseline
  that the other rows are compared with (ratio of p50 latencies);
- ``summary``: ``GET /api/v1/ecosystems/Northbridge`` (token lookup, Cedar
  decision, the summary read);
- ``events``: ``GET .../ledger/events?limit=50`` (the ledger page, filtered by
  what the caller may read);
- ``record``: ``POST .../ledger/contributions``, each with a unique note.

After the writes the events are counted in the database: every accepted
write must be there exactly once (none lost, none duplicated) and the hash
chain must verify. The writes' throughput is also compared with
``Store.record`` called directly in this process, one event per call, on a
copy of the same database (the cost of HTTP, JSON, sign-in and authorization
over the store's own transaction).

Usage::

    python bench/bench_api.py --clients 8 --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from bench_store import _machine, replace_section
from glia.examples import example_path
from glia.store import NewEvent, Store

START = "<!-- api benchmark: start -->"
END = "<!-- api benchmark: end -->"
ECO = "Northbridge"
OPP = "coop-traceability"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(workspace: Path) -> str:
    with Store.open(workspace=workspace) as store:
        store.import_file(example_path("northbridge"), ECO)
        store.create_account("ben", "bench-password", "Ben", admin=True)
        store.grant("ben", ECO, "orchestrator", "ben")
        return store.issue_token("ben", "bench")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def _load(
    base: str, token: str, clients: int, total: int, request: Any
) -> tuple[list[float], float, int, list[str]]:
    """``total`` requests over ``clients`` threads; latencies (ms), wall time, errors."""
    latencies: list[float] = []
    accepted: list[str] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                          timeout=60) as client:  # fmt: skip
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                started = time.perf_counter()
                response, key = request(client, i)
                took = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(took)
                    if response.status_code < 300:
                        if key:
                            accepted.append(key)
                    else:
                        errors[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - started, errors[0], accepted


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run(clients: int, reads: int, writes: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="glia-bench-api-"))
    workspace = tmp / "ws"
    token = _prepare(workspace)
    direct = tmp / "direct"
    shutil.copytree(workspace, direct)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "GLIA_DATABASE_URL"}
    server = subprocess.Popen(
        [sys.executable, "-m", "glia", "serve", "--port", str(port), "-w", str(workspace)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    rows: list[dict[str, Any]] = []
    try:
        for _ in range(600):
            try:
                httpx.get(base + "/api/v1/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        eco_path = f"/api/v1/ecosystems/{ECO}"
        kinds = [
            ("health", reads, lambda c, i: (c.get("/api/v1/health"), None)),
            ("summary", reads, lambda c, i: (c.get(eco_path), None)),
            ("events", reads, lambda c, i: (c.get(eco_path + "/ledger/events?limit=50"), None)),
            (
                "record",
                writes,
                lambda c, i: (
                    c.post(eco_path + "/ledger/contributions", json={
                        "action": "work", "opportunity": OPP, "quantity": "1.5",
                        "unit": "hour", "note": f"bench-{i}"}),
                    f"bench-{i}",
                ),
            ),
        ]  # fmt: skip
        accepted: list[str] = []
        for name, n, request in kinds:
            request(httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}), -1)
            lat, wall, errors, keys = _load(base, token, clients, n, request)
            accepted += keys
            rows.append({
                "kind": name, "requests": n, "errors": errors,
                "p50": statistics.median(lat), "p95": _percentile(lat, 0.95),
                "rate": n / wall,
            })  # fmt: skip
        peak = _peak_kib(server.pid)
    finally:
        server.terminate()
        server.wait(30)
    with Store.open(workspace=workspace) as store:
        notes = [e.note for e in store.events(ECO) if e.note and e.note.startswith("bench-")]
        intact = store.verify_ledger(ECO) is None
    stored = [n for n in notes if n != "bench--1"]
    lost = len(set(accepted) - set(stored))
    duplicated = len(stored) - len(set(stored))
    unexpected = len(set(stored) - set(accepted))
    # The store alone, one event per transaction, on a copy of the same database.
    with Store.open(workspace=direct) as store:
        n_direct = min(writes, 300)
        started = time.perf_counter()
        for i in range(n_direct):
            store.record(ECO, [NewEvent(action="work", agent="ben", opportunity=OPP,
                                        quantity=Decimal("1.5"), unit="hour",
                                        note=f"direct-{i}", recorded_by="ben")])  # fmt: skip
        direct_rate = n_direct / (time.perf_counter() - started)
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "clients": clients, "rows": rows, "peak_mib": peak / 1024, "accepted": len(accepted),
        "stored": len(stored), "lost": lost, "duplicated": duplicated,
        "unexpected": unexpected, "intact": intact, "direct_rate": direct_rate,
    }  # fmt: skip


def render(result: dict[str, Any]) -> str:
    base = next(r for r in result["rows"] if r["kind"] == "health")
    record = next(r for r in result["rows"] if r["kind"] == "record")
    lines = [
        START,
        "## API (loopback, one uvicorn worker, SQLite)",
        "",
        f"Machine: {_machine()}. `python bench/bench_api.py --clients {result['clients']}"
        " --write docs/benchmarks.md`",
        "",
        f"{result['clients']} concurrent clients (threads, keep-alive) against `glia serve` "
        "on the Northbridge example, signed in with an API token. The ratio compares each "
        "p50 latency with `GET /health` (no sign-in, no database), measured in the same run.",
        "",
        "| request | requests | errors | p50 ms | p95 ms | per second | p50 / health |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    names = {
        "health": "`GET /api/v1/health` (baseline)",
        "summary": "`GET /ecosystems/{eco}` (read)",
        "events": "`GET /ecosystems/{eco}/ledger/events?limit=50` (read)",
        "record": "`POST /ecosystems/{eco}/ledger/contributions` (write)",
    }
    for r in result["rows"]:
        lines.append(
            f"| {names[r['kind']]} | {r['requests']:,} | {r['errors']} | {r['p50']:.1f} | "
            f"{r['p95']:.1f} | {r['rate']:,.0f} | {r['p50'] / base['p50']:.1f} |"
        )
    lines += [
        "",
        f"Writes: {result['accepted']:,} accepted, {result['stored']:,} found in the ledger "
        f"afterwards; lost {result['lost']}, duplicated {result['duplicated']}, unexpected "
        f"{result['unexpected']}; hash chain {'intact' if result['intact'] else 'BROKEN'}. "
        f"`Store.record` called directly (one event per transaction, same database): "
        f"{result['direct_rate']:,.0f} events/s, so the API writes at "
        f"{record['rate'] / result['direct_rate']:.2f}x the store's own rate. "
        f"Server peak memory (VmHWM): {result['peak_mib']:,.0f} MiB.",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--write", type=Path, help="Markdown file to write the section into")
    args = parser.parse_args()
    result = run(args.clients, args.reads, args.writes)
    body = render(result)
    print(body)
    if args.write:
        replace_section(args.write, START, END, body)
    if result["lost"] or result["duplicated"] or result["unexpected"] or not result["intact"]:
        sys.exit("events were lost or duplicated, or the chain broke")


if __name__ == "__main__":
    main()
