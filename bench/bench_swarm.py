"""Benchmark: forming swarms, heuristic against the proven optimum, on DBLP and generated data.

Two parts, each in a fresh child process so that its peak memory is its own:

- ``dblp``: the co-authorship subsets of team-formation research
  (``../shared/data/dblp``: ``icdt.gml``, ``vldb.gml``; skipped with a note
  when absent). The largest connected component (as in Lappas, Liu and Terzi,
  KDD 2009), edge cost ``cc`` as the distance. For 4, 6 and 8 skills,
  ``--tasks`` tasks, each a set of distinct skills drawn uniformly, without
  replacement, from the skills held by at least one author of the component
  (``numpy.random.default_rng([seed, size])``). The pool of a task is every
  holder of one of its skills, each skill needed once; distances are exact
  shortest paths between the holders (:func:`glia.swarm._distance.pairwise`,
  no horizon); the objective is the sum of pairwise distances alone. Timed:
  the heuristic (:func:`glia.swarm._search.search`), and the whole task
  (distances, pool and heuristic); then the exact model
  (:func:`glia.swarm._exact.solve`, HiGHS) under ``--time-limit``. The ratio is
  the heuristic's total over the proven optimum. Uniform draws rarely give
  pools above 100 candidates, so ``--large`` more tasks per size draw skills in
  proportion to their holders, redrawn until the pool has at most 300
  candidates: the pools the exact model's aim is about.
- ``generated``: an ecosystem of ``--sizes`` participants (``glia.generate``,
  seed 1, ties about 10x participants), turned into a snapshot once
  (``glia.store.snapshot_of`` on the generator's records, no file written:
  about 15 s at 100k) and cached under ``bench/out/swarm/``, keyed by the
  Snapshot's fields so that a stale pickle is never loaded. The
  :class:`~glia.swarm.Network` is built once (time and peak memory), then
  ``--tasks`` requests per need count (4, 6, 8): capabilities the ecosystem
  holds at level 3 or more, each needed at level 3, a quarter of them by two
  people, the region of a random participant as the preferred region, default
  weights. Timed: ``solve_request(..., top=3,
  exact=False)`` end to end; then the exact model on the same pool
  (``Network.prepare``) for the ratio (``--generated-exact N``: on the first N
  requests per need count only, to shorten a run).

The children cap their address space at 60% of the machine's memory: an
earlier exact model had HiGHS ask for more than 10 GB on a pool of 429
candidates; such a solve is counted as not proven instead of taking the
machine down.

Raw per-task results go to ``bench/out/swarm/results.json``.

Usage::

    python bench/bench_swarm.py --tasks 30 --sizes 10000 100000 --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import pickle
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_store import _machine, replace_section  # noqa: E402  (shared with the store bench)

OUT = ROOT / "bench" / "out" / "swarm"
DBLP = ROOT.parent / "shared" / "data" / "dblp"
DATASETS = ("icdt", "vldb")
TASK_SIZES = (4, 6, 8)
#: The aims of the issue.
P95_AIM_MS = 200.0
P95_AIM_SIZE = 100_000
MEAN_RATIO_AIM = 1.05
MAX_RATIO_AIM = 1.3
EXACT_AIM_CANDIDATES = 300
#: Share of the machine's memory a child may take (the single-program exact model
#: of 3fc0116 had HiGHS ask for more than 10 GB on a DBLP pool of 429 candidates).
MEMORY_SHARE = 0.6
#: Edge costs are floored here (a zero cost would read as no edge).
COST_FLOOR = 1e-9
START = "<!-- swarm benchmark: start -->"
END = "<!-- swarm benchmark: end -->"


def _code() -> dict[str, str]:
    """The commit, whether src/ differs from it, and a digest of src/ (to catch edits mid-run)."""
    digest = hashlib.sha1()
    for f in sorted((ROOT / "src").rglob("*.py")):
        digest.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes())

    def git(*cmd: str) -> str:
        try:
            done = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True)
            return done.stdout.strip()
        except OSError:
            return ""

    return {
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "dirty": "yes" if git("status", "--porcelain", "--", "src") else "no",
        "digest": digest.hexdigest()[:12],
    }


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _say(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def _limit_memory() -> None:
    """Cap the child's address space so that a runaway solve fails alone, not the machine."""
    import os

    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cap = int(total * MEMORY_SHARE)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _exact(pool: Any, time_limit: float) -> dict[str, Any]:
    """The exact model on ``pool``; running out of memory is a result, not a crash."""
    from glia.swarm._exact import solve

    started = time.perf_counter()
    try:
        e = solve(pool, time_limit=time_limit)
    except MemoryError:
        k = pool.k
        return {
            "status": "out of memory",
            "seconds": time.perf_counter() - started,
            "value": math.inf,
            "bound": -math.inf,
            "members": None,
            "variables": k + k * (k - 1) // 2,
        }
    return {
        "status": e.status,
        "seconds": e.seconds,
        "value": e.value,
        "bound": e.bound,
        "members": list(e.members) if e.members is not None else None,
        "variables": e.variables,
    }


def _exact_row(exact: dict[str, Any]) -> dict[str, Any]:
    """The exact model's result as the columns of a task's row (JSON has no infinity)."""
    return {
        "exact_status": exact["status"],
        "exact_seconds": exact["seconds"],
        "exact_value": exact["value"] if math.isfinite(exact["value"]) else None,
        "exact_bound": exact["bound"] if math.isfinite(exact["bound"]) else None,
        "exact_members": exact["members"],
        "variables": exact["variables"],
    }


def _ratio(heuristic: float | None, optimum: float) -> float | None:
    """Heuristic over optimum; 1 when both are zero, None without a heuristic team."""
    if heuristic is None:
        return None
    if optimum <= 1e-12:
        return 1.0 if heuristic <= 1e-12 else math.inf
    return heuristic / optimum


# ---------------------------------------------------------------------- DBLP
def _read_dblp(path: Path) -> dict[str, Any]:
    """The largest component of a DBLP GML: csr of ``cc`` costs, skills per author."""
    import networkx as nx
    import numpy as np
    import scipy.sparse as sp

    g = nx.read_gml(path, label="id")
    nodes = max(nx.connected_components(g), key=len)
    comp = g.subgraph(nodes)
    order = sorted(comp.nodes)
    index = {v: i for i, v in enumerate(order)}
    u, v, cost = [], [], []
    for a, b, data in comp.edges(data=True):
        if a == b:
            continue
        u.append(index[a])
        v.append(index[b])
        cost.append(float(data.get("cc", 1.0)))
    c = np.asarray(cost, np.float64)
    n = len(order)
    floored = int((c < COST_FLOOR).sum())
    c = np.maximum(c, COST_FLOOR)
    graph = sp.csr_array(
        (np.concatenate([c, c]), (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(n, n)
    )
    skills: list[set[str]] = []
    for node in order:
        text = str(comp.nodes[node].get("skills", "") or "")
        skills.append({s.strip() for s in text.split(",") if s.strip()})
    return {
        "graph": graph,
        "skills": skills,
        "authors": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "component": n,
        "component_edges": len(c),
        "cc_min": float(c.min()) if len(c) else math.nan,
        "cc_max": float(c.max()) if len(c) else math.nan,
        "cc_floored": floored,
    }


def _dblp(path: Path, tasks: int, large: int, seed: int, time_limit: float) -> dict[str, Any]:
    import numpy as np

    from glia.swarm import Pool, Weights
    from glia.swarm._distance import pairwise
    from glia.swarm._search import search

    data = _read_dblp(path)
    graph, skills = data["graph"], data["skills"]
    holders: dict[str, list[int]] = {}
    for i, held in enumerate(skills):
        for s in held:
            holders.setdefault(s, []).append(i)
    universe = sorted(holders, key=lambda s: (len(s), s))
    share = np.array([len(holders[s]) for s in universe], np.float64)
    share /= share.sum()
    weights = Weights(distance=1.0, region=0.0)

    def people_of(task: list[str]) -> list[int]:
        return sorted({i for s in task for i in holders[s]})

    def pool_of(task: list[str]) -> tuple[Any, float]:
        """The task's pool, and the seconds its distances took."""
        people = people_of(task)
        local = {p: j for j, p in enumerate(people)}
        cover = np.zeros((len(people), len(task)), bool)
        for r, s in enumerate(task):
            cover[[local[p] for p in holders[s]], r] = True
        t = time.perf_counter()
        dist = pairwise(graph, np.asarray(people, np.int64), None)
        seconds = time.perf_counter() - t
        pool = Pool.of(
            [str(p) for p in people], list(task), cover, np.ones(len(task)), dist, weights
        )
        return pool, seconds

    def draws(family: str, size: int) -> list[list[str]]:
        if family == "uniform":
            rng = np.random.default_rng([seed, size])
            return [
                sorted(str(s) for s in rng.choice(universe, size=size, replace=False))
                for _ in range(tasks)
            ]
        # skills drawn in proportion to their holders, redrawn until the pool is
        # at most EXACT_AIM_CANDIDATES: the pools the exact-model aim is about
        rng = np.random.default_rng([seed, size, 1])
        out: list[list[str]] = []
        for _ in range(1000 * max(large, 1)):
            if len(out) == large:
                break
            task = sorted(str(s) for s in rng.choice(universe, size=size, replace=False, p=share))
            if len(people_of(task)) <= EXACT_AIM_CANDIDATES:
                out.append(task)
        return out

    # warm-up (imports, first calls), not timed
    warm, _ = pool_of(universe[:2])
    search(warm, top=1)
    rows = []
    for family in ("uniform", "large"):
        for size in TASK_SIZES:
            for t_i, task in enumerate(draws(family, size)):
                started = time.perf_counter()
                pool, dist_s = pool_of(task)
                t = time.perf_counter()
                found = search(pool, top=1)
                done = time.perf_counter()
                heuristic = found[0].total if found else None
                exact = _exact(pool, time_limit)
                optimal = exact["status"] == "optimal"
                ratio = _ratio(heuristic, exact["value"]) if optimal else None
                row = {
                    "dataset": path.stem,
                    "family": family,
                    "skills": size,
                    "task": t_i,
                    "task_skills": task,
                    "candidates": pool.k,
                    "heuristic_ms": (done - t) * 1000,
                    "latency_ms": (done - started) * 1000,
                    "distances_ms": dist_s * 1000,
                    "heuristic": heuristic,
                    "heuristic_members": list(found[0].members) if found else None,
                    "origin": found[0].origin if found else None,
                    **_exact_row(exact),
                    "ratio": ratio,
                }
                rows.append(row)
                _say(
                    f"   {path.stem} {family} {size} skills #{t_i}: {pool.k} candidates, "
                    f"heuristic {row['heuristic_ms']:.1f} ms (with distances "
                    f"{row['latency_ms']:.1f} ms), exact {exact['status']} "
                    f"{exact['seconds']:.2f} s, ratio "
                    + (f"{ratio:.4f}" if ratio is not None else "-")
                )
    info = {k: v for k, v in data.items() if k not in ("graph", "skills")}
    info["skills_held"] = len(universe)
    info["no_skills"] = sum(1 for s in skills if not s)
    return {"dataset": path.stem, "info": info, "tasks": rows, "peak_mb": _peak_mb()}


# ---------------------------------------------------------------------- generated
def _snapshot_key() -> str:
    """Changes whenever the Snapshot's fields do, so a stale pickle is never loaded."""
    from dataclasses import fields

    from glia.store import Snapshot

    names = ",".join(f.name for f in fields(Snapshot))
    return hashlib.sha1(names.encode()).hexdigest()[:8]


def _snapshot_path(n: int) -> Path:
    return OUT / f"snapshot-{n}-{_snapshot_key()}.pickle"


def _generated_source(n: int, seed: int) -> Any:
    """A glia Source over the generator's records: no file written, same checks on import."""
    from glia.generate import generate
    from glia.io._source import Source
    from glia.model import Location

    eco = generate(n, seed=seed)

    class Generated(Source):
        def __init__(self) -> None:
            super().__init__(f"<generated {n}>")
            self.header = dict(eco.header)
            self._sections = eco.sections()

        def rows(self, section: str) -> Iterator[tuple[Location, Any]]:
            records = self._sections.get(section)
            if records is None:
                return
            for i, record in enumerate(records):
                yield Location(self.name, section, i + 1), record

    return Generated()


def _prepare(n: int) -> dict[str, Any]:
    path = _snapshot_path(n)
    if path.exists():
        return {"cached": True}
    from glia.store import snapshot_of

    started = time.perf_counter()
    snap = snapshot_of(_generated_source(n, seed=1))
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        pickle.dump(snap, f, protocol=5)
    tmp.replace(path)
    return {"cached": False, "seconds": time.perf_counter() - started}


def _requests(network: Any, count: int, tasks: int, seed: int) -> list[Any]:
    """``tasks`` requests of ``count`` needs at level 3, a preferred region each."""
    import numpy as np

    from glia import Need
    from glia.swarm import Request

    rng = np.random.default_rng([seed, count])
    snap = network.snapshot
    usable = []
    for cap in snap.capabilities:
        _, levels = network.holders(cap)
        if (levels >= 3).sum() >= 2:
            usable.append(cap)
    with_region = np.flatnonzero(snap.participant_region >= 0)
    out = []
    for _ in range(tasks):
        caps = rng.choice(usable, size=min(count, len(usable)), replace=False)
        needs = tuple(
            Need(capability=str(c), level=3, count=2 if rng.random() < 0.25 else 1) for c in caps
        )
        region = None
        if len(with_region):
            region = network.region_of(int(rng.choice(with_region)))
        out.append(Request(needs=needs, region=region))
    return out


def _generated(
    n: int, tasks: int, exact_tasks: int | None, seed: int, time_limit: float
) -> dict[str, Any]:
    from glia.swarm import Network, Weights, solve_request
    from glia.swarm._search import search

    with _snapshot_path(n).open("rb") as f:
        snap = pickle.load(f)
    loaded_mb = _peak_mb()
    started = time.perf_counter()
    network = Network(snap)
    build_s = time.perf_counter() - started
    network_mb = _peak_mb()
    weights = Weights()
    batches = {count: _requests(network, count, tasks, seed) for count in TASK_SIZES}
    # warm-up (imports, first calls), not timed
    solve_request(network, batches[TASK_SIZES[0]][0], weights, top=3, exact=False)
    rows = []
    for count, requests in batches.items():
        for t_i, request in enumerate(requests):
            t = time.perf_counter()
            swarm = solve_request(network, request, weights, top=3, exact=False)
            latency = time.perf_counter() - t
            heuristic = swarm.teams[0].total if swarm.teams else None
            prepared = network.prepare(request, weights)
            pool = prepared.pool
            again = search(pool, top=3)
            if exact_tasks is None or t_i < exact_tasks:
                exact = _exact(pool, time_limit)
            else:
                exact = {"status": "not run", "seconds": math.nan, "value": math.inf}
                exact |= {"bound": -math.inf, "members": None, "variables": None}
            optimal = exact["status"] == "optimal"
            ratio = _ratio(heuristic, exact["value"]) if optimal else None
            row = {
                "participants": n,
                "needs": count,
                "task": t_i,
                "request": [[nd.capability, nd.level, nd.count] for nd in request.needs],
                "region": request.region,
                "candidates": swarm.candidates,
                "pool_k": pool.k,
                "latency_ms": latency * 1000,
                "timings_ms": {k: v * 1000 for k, v in swarm.timings.items()},
                "shortfalls": [str(s) for s in swarm.shortfalls],
                "heuristic": heuristic,
                "heuristic_again": again[0].total if again else None,
                **_exact_row(exact),
                "ratio": ratio,
            }
            rows.append(row)
            _say(
                f"   {n:,} {count} needs #{t_i}: {pool.k} candidates, "
                f"{row['latency_ms']:.1f} ms, exact {exact['status']} {exact['seconds']:.2f} s, "
                "ratio " + (f"{ratio:.4f}" if ratio is not None else "-")
            )
    return {
        "participants": snap.n_participants,
        "ties": snap.n_ties,
        "capabilities": len(snap.capabilities),
        "regions": len(snap.regions),
        "network_seconds": build_s,
        "loaded_mb": loaded_mb,
        "network_mb": network_mb,
        "peak_mb": _peak_mb(),
        "tasks": rows,
    }


# ---------------------------------------------------------------------- processes
def _child(args: argparse.Namespace) -> None:
    if args.child == "prepare":
        out = _prepare(args.n)
    elif args.child == "generated":
        _limit_memory()
        out = _generated(args.n, args.tasks, args.generated_exact, args.seed, args.time_limit)
    else:
        _limit_memory()
        out = _dblp(Path(args.path), args.tasks, args.large, args.seed, args.time_limit)
    print(json.dumps(out), flush=True)


def _run(step: str, args: argparse.Namespace, *extra: str) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        step,
        "--tasks",
        str(args.tasks),
        "--seed",
        str(args.seed),
        "--time-limit",
        str(args.time_limit),
        "--large",
        str(args.large),
        *(
            ["--generated-exact", str(args.generated_exact)]
            if args.generated_exact is not None
            else []
        ),
        *extra,
    ]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{step} {' '.join(extra)} failed (exit {proc.returncode})")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


# ---------------------------------------------------------------------- tables
def _pct(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else math.nan


def _summary(rows: list[dict[str, Any]], time_limit: float) -> dict[str, Any]:
    import numpy as np

    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    k = [r["candidates"] for r in rows]
    ran = [r for r in rows if r["exact_status"] != "not run"]
    exact_s = [r["exact_seconds"] for r in ran]
    proven = [r for r in ran if r["exact_status"] == "optimal" and r["exact_seconds"] <= time_limit]
    return {
        "tasks": len(rows),
        "exact_run": len(ran),
        "k_median": float(np.median(k)) if k else math.nan,
        "k_max": max(k, default=0),
        "lat_p50": _pct([r["latency_ms"] for r in rows], 50),
        "lat_p95": _pct([r["latency_ms"] for r in rows], 95),
        "heur_p50": _pct([r.get("heuristic_ms", math.nan) for r in rows], 50),
        "heur_p95": _pct([r.get("heuristic_ms", math.nan) for r in rows], 95),
        "ratios": len(ratios),
        "ratio_mean": float(np.mean(ratios)) if ratios else math.nan,
        "ratio_max": max(ratios, default=math.nan),
        "exact_median": float(np.median(exact_s)) if exact_s else math.nan,
        "exact_max": max(exact_s, default=math.nan),
        "proven": len(proven),
        "largest_proven": max((r["candidates"] for r in proven), default=0),
        "no_team": sum(1 for r in rows if r["heuristic"] is None),
        "not_proven": sorted((r["candidates"], r["exact_status"]) for r in ran if r not in proven),
    }


def _f(x: float, fmt: str = ".1f") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def _dblp_table(parts: list[dict[str, Any]], time_limit: float) -> str:
    lines = [
        "| dataset | tasks drawn | skills | tasks | candidates median / max | "
        "heuristic p50 / p95 | with distances p50 / p95 | mean ratio | max ratio | "
        f"exact median / max | proven in {time_limit:g} s | largest proven |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for family in ("uniform", "large"):
        for part in parts:
            for size in TASK_SIZES:
                rows = [r for r in part["tasks"] if r["skills"] == size and r["family"] == family]
                if rows:
                    lines.append(_dblp_row(part["dataset"], family, size, rows, time_limit))
    return "\n".join(lines)


def _dblp_row(
    dataset: str, family: str, size: int, rows: list[dict[str, Any]], time_limit: float
) -> str:
    s = _summary(rows, time_limit)
    drawn = "uniformly" if family == "uniform" else f"by holders, pool <= {EXACT_AIM_CANDIDATES}"
    return (
        f"| {dataset} | {drawn} | {size} | {s['tasks']} | {s['k_median']:.0f} / "
        f"{s['k_max']} | {_f(s['heur_p50'])} / {_f(s['heur_p95'])} ms | "
        f"{_f(s['lat_p50'])} / {_f(s['lat_p95'])} ms | {_f(s['ratio_mean'], '.4f')} | "
        f"{_f(s['ratio_max'], '.4f')} | {_f(s['exact_median'], '.2f')} / "
        f"{_f(s['exact_max'], '.2f')} s | {s['proven']} of {s['exact_run']} | "
        f"{s['largest_proven']} |"
    )


def _generated_tables(parts: list[dict[str, Any]], time_limit: float) -> str:
    head = [
        "| participants | ties | capabilities | regions | Network build | peak MB "
        "(snapshot loaded / Network built / end) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for p in parts:
        head.append(
            f"| {p['participants']:,} | {p['ties']:,} | {p['capabilities']} | {p['regions']} | "
            f"{p['network_seconds']:.2f} s | {p['loaded_mb']:,.0f} / {p['network_mb']:,.0f} / "
            f"{p['peak_mb']:,.0f} |"
        )
    lines = [
        "| participants | needs | requests | candidates median / max | latency p50 / p95 | "
        "of which candidates + distances p50 | heuristic p50 | mean ratio | max ratio | "
        f"exact median / max | proven in {time_limit:g} s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in parts:
        for count in (*TASK_SIZES, None):
            rows = [r for r in p["tasks"] if count is None or r["needs"] == count]
            s = _summary(rows, time_limit)
            cand = _pct([r["timings_ms"].get("candidates", math.nan) for r in rows], 50)
            heur = _pct([r["timings_ms"].get("heuristic", math.nan) for r in rows], 50)
            lines.append(
                f"| {p['participants']:,} | {count if count else 'all'} | {s['tasks']} | "
                f"{s['k_median']:.0f} / {s['k_max']} | {_f(s['lat_p50'])} / "
                f"{_f(s['lat_p95'])} ms | {_f(cand)} ms | {_f(heur)} ms | "
                f"{_f(s['ratio_mean'], '.4f')} | {_f(s['ratio_max'], '.4f')} | "
                f"{_f(s['exact_median'], '.2f')} / {_f(s['exact_max'], '.2f')} s | "
                f"{s['proven']} of {s['exact_run']} |"
            )
    return "\n".join(head) + "\n\n" + "\n".join(lines)


def _aims(dblp: list[dict[str, Any]], generated: list[dict[str, Any]], limit: float) -> list[str]:
    out = []
    big = [p for p in generated if p["participants"] == P95_AIM_SIZE]
    if big:
        rows = big[0]["tasks"]
        p95 = _pct([r["latency_ms"] for r in rows], 95)
        worst = max(
            _pct([r["latency_ms"] for r in rows if r["needs"] == c], 95) for c in TASK_SIZES
        )
        verdict = "met" if p95 < P95_AIM_MS else "not met"
        out.append(
            f"- p95 latency under {P95_AIM_MS:.0f} ms at {P95_AIM_SIZE:,} participants: "
            f"**{verdict}**, {p95:.1f} ms over all {len(rows)} requests "
            f"(worst need count: {worst:.1f} ms)."
        )
    else:
        out.append(f"- p95 latency at {P95_AIM_SIZE:,} participants: not measured in this run.")
    rows = [r for p in dblp for r in p["tasks"] if r["family"] == "uniform"]
    if rows:
        s = _summary(rows, limit)
        mean_ok = s["ratio_mean"] <= MEAN_RATIO_AIM
        max_ok = s["ratio_max"] <= MAX_RATIO_AIM
        out.append(
            f"- Mean ratio at most {MEAN_RATIO_AIM} on the DBLP tasks (drawn uniformly): "
            f"**{'met' if mean_ok else 'not met'}**, {s['ratio_mean']:.4f} "
            f"over the {s['ratios']} of {s['tasks']} tasks with a proven optimum."
        )
        out.append(
            f"- Maximum ratio at most {MAX_RATIO_AIM} on the DBLP tasks: "
            f"**{'met' if max_ok else 'not met'}**, {s['ratio_max']:.4f}."
        )
    else:
        out.append("- Ratios on the DBLP tasks: not measured in this run.")
    ran = {
        "DBLP": [r for p in dblp for r in p["tasks"]],
        "generated": [r for p in generated for r in p["tasks"] if r["exact_status"] != "not run"],
    }
    if ran["DBLP"] or ran["generated"]:

        def proven(r: dict[str, Any]) -> bool:
            return bool(r["exact_status"] == "optimal" and r["exact_seconds"] <= limit)

        small = {
            k: [r for r in v if r["candidates"] <= EXACT_AIM_CANDIDATES] for k, v in ran.items()
        }
        missed = {k: [r for r in v if not proven(r)] for k, v in small.items()}
        n_small = sum(len(v) for v in small.values())
        n_missed = sum(len(v) for v in missed.values())
        everyone = [r for v in ran.values() for r in v]
        largest = max((r["candidates"] for r in everyone if proven(r)), default=0)
        slowest = max((r["exact_seconds"] for v in small.values() for r in v), default=math.nan)
        parts = []
        for k, v in missed.items():
            if v:
                sizes = sorted(r["candidates"] for r in v)
                why = sorted({r["exact_status"] for r in v})
                parts.append(
                    f"{len(v)} {k} pool{'s' if len(v) > 1 else ''} of {sizes[0]}"
                    + (f"-{sizes[-1]}" if sizes[-1] != sizes[0] else "")
                    + f" candidates ({', '.join(why)})"
                )
        out.append(
            f"- Exact optimum proven within {limit:g} s up to {EXACT_AIM_CANDIDATES} "
            f"candidates: **{'met' if not n_missed else 'not met'}**, {n_small - n_missed} of "
            f"{n_small} pools of at most {EXACT_AIM_CANDIDATES} "
            f"({len(small['DBLP'])} DBLP, {len(small['generated'])} generated; slowest "
            f"{slowest:.1f} s); the largest pool proven in time had {largest} candidates"
            + (f"; not proven in time: {'; '.join(parts)}" if parts else "")
            + "."
        )
    gen = [r for r in ran["generated"] if r["ratio"] is not None]
    if gen:
        ratios = [r["ratio"] for r in gen]
        out.append(
            f"- Not an aim: on the generated ecosystems the heuristic's team was "
            f"{sum(ratios) / len(ratios):.4f} times the optimum on average, "
            f"{max(ratios):.4f} at most ({sum(1 for x in ratios if x > 1 + 1e-9)} of "
            f"{len(ratios)} requests above it)."
        )
    return out


def _write(
    path: Path,
    command: str,
    dblp: list[dict[str, Any]],
    generated: list[dict[str, Any]],
    notes: list[str],
    args: argparse.Namespace,
    minutes: float,
) -> None:
    limit = args.time_limit
    parts = [
        START,
        "## Swarm (`make bench-swarm`)",
        "",
        f"Machine: {_machine()}. Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{minutes:.0f} minutes in all.",
        "",
        f"Command: `{command}`",
        "",
        *notes,
        "### DBLP co-authorship tasks",
        "",
    ]
    if dblp:
        info = "; ".join(
            f"{p['dataset']}: {p['info']['component']:,} authors of {p['info']['authors']:,} "
            f"in the largest component, {p['info']['component_edges']:,} edges, cc "
            f"{p['info']['cc_min']:g} to {p['info']['cc_max']:g}"
            + (
                f" ({p['info']['cc_floored']} floored at {COST_FLOOR:g})"
                if p["info"]["cc_floored"]
                else ""
            )
            + f", {p['info']['skills_held']} skills held, {p['info']['no_skills']:,} authors "
            "without skills"
            for p in dblp
        )
        parts += [
            f"{info}.",
            "",
            f"Tasks: for 4, 6 and 8 skills, {args.tasks} tasks each, distinct skills drawn "
            "uniformly without replacement from the skills held by at least one author of "
            f"the component (`numpy.random.default_rng([{args.seed}, skills])`). Pool: every "
            "holder of a task skill, each skill needed once; distances are exact shortest "
            "paths over `cc` (`glia.swarm._distance.pairwise`, no horizon); objective: the sum "
            "of pairwise distances (`Weights(distance=1, region=0)`). *heuristic* is "
            "`search(pool, top=1)` alone, *with distances* the whole task (shortest paths, pool "
            f"and heuristic); the exact model (HiGHS, `solve(pool, time_limit={limit:g})`) runs "
            "after, without the heuristic's value as incumbent, so that it finds the optimum "
            "on its own. *ratio* is the heuristic's total over the proven optimum. Uniform draws "
            "rarely give pools of more than 100 candidates, so for the exact-model aim "
            f"{args.large} more tasks per size draw skills in proportion to their holders "
            f"(`default_rng([{args.seed}, skills, 1])`), redrawn until the pool has at most "
            f"{EXACT_AIM_CANDIDATES} candidates (*by holders*). Each child process may take "
            f"{MEMORY_SHARE:.0%} of the machine's memory; a solve that runs out is counted as "
            "not proven.",
            "",
            _dblp_table(dblp, limit),
            "",
        ]
    else:
        parts += ["Not run (see the note above).", ""]
    parts += ["### Generated ecosystems", ""]
    if generated:
        parts += [
            f"`glia.generate` (seed 1), {args.tasks} requests per need count: capabilities held "
            "at level 3 or more by at least two people, each needed at level 3 and by two "
            "people with probability 1/4, the region of a random participant as the preferred "
            "region, default weights (distance 1, region 1). *latency* is "
            "`solve_request(network, request, Weights(), top=3, exact=False)` end to end on a "
            "`Network` built once; distances are capped at the horizon (`HORIZON`, 4; "
            "`horizon='auto'` caps above 5,000 participants). The exact model then runs on the "
            f"same pool (`network.prepare`), `time_limit={limit:g}`, without an incumbent"
            + (
                f", on the first {args.generated_exact} requests of each need count only "
                "(it takes tens of seconds on these pools; see *proven*)"
                if args.generated_exact is not None
                else ""
            )
            + ". *of which candidates + distances* and *heuristic* are medians of the "
            "`Swarm.timings` stages.",
            "",
            _generated_tables(generated, limit),
            "",
        ]
    else:
        parts += ["Not run in this run.", ""]
    parts += ["### Aims", "", *_aims(dblp, generated, limit), "", END]
    body = "\n".join(parts)
    replace_section(path, START, END, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=30, help="Tasks per size (default 30).")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dblp", type=Path, default=DBLP, help="Folder of the DBLP GML files.")
    parser.add_argument("--time-limit", type=float, default=60.0, help="Exact model, seconds.")
    parser.add_argument("--seed", type=int, default=1, help="Seed of the tasks.")
    parser.add_argument(
        "--large",
        type=int,
        default=5,
        help="DBLP tasks per size with skills drawn by holders, pools of at most "
        f"{EXACT_AIM_CANDIDATES} candidates (for the exact-model aim; default 5).",
    )
    parser.add_argument(
        "--generated-exact",
        type=int,
        help="Run the exact model on the first N requests per need count of the generated "
        "ecosystems only, to shorten a run (default: all).",
    )
    parser.add_argument("--write", type=Path, help="Update this Markdown file's swarm section.")
    parser.add_argument("--skip-dblp", action="store_true")
    parser.add_argument("--skip-generated", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    code = _code()
    notes: list[str] = []
    dblp: list[dict[str, Any]] = []
    generated: list[dict[str, Any]] = []
    if not args.skip_dblp:
        files = [args.dblp / f"{name}.gml" for name in DATASETS]
        absent = [f.name for f in files if not f.exists()]
        if absent:
            note = f"DBLP part skipped: {', '.join(absent)} not found under {args.dblp}."
            print(note, flush=True)
            notes += [note, ""]
        for f in files:
            if f.exists():
                print(f"== DBLP {f.stem}", flush=True)
                part = _run("dblp", args, "--path", str(f))
                (OUT / f"dblp-{f.stem}.json").write_text(json.dumps(part), encoding="utf-8")
                dblp.append(part)
    if not args.skip_generated:
        for n in args.sizes:
            print(f"== generated, {n:,} participants", flush=True)
            print("   prepare:", _run("prepare", args, "--n", str(n)), flush=True)
            part = _run("generated", args, "--n", str(n))
            (OUT / f"generated-{n}.json").write_text(json.dumps(part), encoding="utf-8")
            print(
                f"   Network {part['network_seconds']:.2f} s, peak {part['peak_mb']:.0f} MB",
                flush=True,
            )
            generated.append(part)
    minutes = (time.perf_counter() - started) / 60
    if _code()["digest"] != code["digest"]:
        note = "Warning: src/ changed during this run; parts ran on different code."
        print(note, flush=True)
        notes += [note, ""]
    version = f"Code: commit {code['commit']}" + (
        " with uncommitted changes in src/" if code["dirty"] == "yes" else ""
    )
    notes = [version + f" (src digest {code['digest']}).", "", *notes]
    results = {"args": {k: str(v) for k, v in vars(args).items()}, "minutes": minutes}
    results["code"] = code
    results |= {"dblp": dblp, "generated": generated}
    (OUT / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    if dblp:
        print(_dblp_table(dblp, args.time_limit))
    if generated:
        print(_generated_tables(generated, args.time_limit))
    print("\n".join(_aims(dblp, generated, args.time_limit)))
    print(f"{minutes:.1f} minutes")
    if args.write:
        command = f"python bench/bench_swarm.py --tasks {args.tasks}"
        if not args.skip_generated:
            command += " --sizes " + " ".join(map(str, args.sizes))
        if args.time_limit != 60:
            command += f" --time-limit {args.time_limit:g}"
        if args.dblp != DBLP and not args.skip_dblp:
            command += f" --dblp {args.dblp}"
        if args.large != 5:
            command += f" --large {args.large}"
        if args.generated_exact is not None:
            command += f" --generated-exact {args.generated_exact}"
        if args.skip_dblp:
            command += " --skip-dblp"
        if args.skip_generated:
            command += " --skip-generated"
        _write(
            args.write, command + f" --write {args.write}", dblp, generated, notes, args, minutes
        )


if __name__ == "__main__":
    main()
