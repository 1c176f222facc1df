"""Benchmark: ``glia.analyze`` on generated ecosystems, against NetworkX in the same run.

For each size a generated ecosystem (seed 1, ties about 10x participants) is
written as CSV and turned into a snapshot once; the snapshot is cached under
``bench/out/analysis/`` so later runs skip the (slow, separately
benchmarked) import. Then, each in a fresh child process so that its peak
memory is its own:

- ``analyze``: the full ``glia.analyze(snapshot)``: every layer's measures,
  MICMAC, communities, brokerage, sweet spot, value network analysis, flows,
  health and single points of failure; wall time per stage and peak RSS;
- ``shared-glia``: the measure set NetworkX also has, on the combined layer
  only: building the graph, degree, harmonic closeness, betweenness,
  eigenvector, PageRank, core number, Burt's constraint and effective size,
  communities;
- ``shared-networkx``: the same set through NetworkX 3 on the same arrays
  (graph built in one ``add_weighted_edges_from`` call; betweenness and
  closeness sampled with the same number of sources when Glia samples;
  Louvain for communities, NetworkX has no Leiden of its own), cut at 10
  minutes. ``networkx / glia`` is the speed-up on the shared set.

Usage::

    python bench/bench_analysis.py --sizes 10000 100000 1000000 --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_store import _machine, replace_section  # noqa: E402  (shared with the store bench)

CACHE = ROOT / "bench" / "out" / "analysis"
NETWORKX_LIMIT = 600
START = "<!-- analysis benchmark: start -->"
END = "<!-- analysis benchmark: end -->"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _snapshot_path(n: int) -> Path:
    return CACHE / f"snapshot-{n}.pickle"


def _prepare(n: int) -> dict[str, Any]:
    path = _snapshot_path(n)
    if path.exists():
        return {"cached": True}
    from glia.generate import write_generated
    from glia.io import open_source
    from glia.store import snapshot_of

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "eco"
        write_generated(folder, n, seed=1)
        source = open_source(folder)
        try:
            snap = snapshot_of(source)
        finally:
            source.close()
    CACHE.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(snap, f, protocol=5)
    return {"cached": False, "seconds": time.perf_counter() - started}


def _load(n: int) -> Any:
    with _snapshot_path(n).open("rb") as f:
        return pickle.load(f)


def _analyze(n: int) -> dict[str, Any]:
    from glia.analysis import analyze

    snap = _load(n)
    before = _peak_mb()
    started = time.perf_counter()
    result = analyze(snap)
    seconds = time.perf_counter() - started
    combined = result.centrality["combined"]
    peak = _peak_mb()
    # the JSON text, as `glia analyze --format json` writes it (to /dev/null: the
    # text, not the disk, is measured), then the standard library's indented dumps
    # of the same document, the way the command wrote it before, up to 100k
    started = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        for piece in result.json_chunks():
            sink.write(piece)
    json_seconds = time.perf_counter() - started
    json_peak = _peak_mb()
    dumps_seconds = None
    if n <= 100_000:
        started = time.perf_counter()
        text = json.dumps(result.to_json(), indent=2, ensure_ascii=False, allow_nan=False)
        dumps_seconds = time.perf_counter() - started
        del text
    return {
        "participants": snap.n_participants,
        "ties": snap.n_ties,
        "exchanges": len(snap.exchange_source),
        "seconds": seconds,
        "stages": result.timings,
        "peak_mb": peak,
        "loaded_mb": before,
        "json_seconds": json_seconds,
        "json_peak_mb": json_peak,
        "dumps_seconds": dumps_seconds,
        "sampled": combined.sampled,
        "sample_size": combined.sample_size,
        "error": combined.error,
    }


def _shared_glia(n: int) -> dict[str, Any]:
    from glia.analysis import centrality, communities
    from glia.graph import build

    snap = _load(n)
    started = time.perf_counter()
    layer = build(snap).combined
    built = time.perf_counter()
    c = centrality(layer, seed=1)
    measured = time.perf_counter()
    communities(layer, seed=1)
    done = time.perf_counter()
    return {
        "seconds": done - started,
        "build": built - started,
        "centrality": measured - built,
        "communities": done - measured,
        "sampled": c.sampled,
        "sample_size": c.sample_size,
        "peak_mb": _peak_mb(),
    }


def _shared_networkx(n: int, sample_size: int) -> dict[str, Any]:
    import networkx as nx
    import numpy as np

    from glia.graph import build

    snap = _load(n)
    layer = build(snap).combined
    times: dict[str, float] = {}
    t = time.perf_counter()
    g = nx.Graph()
    g.add_nodes_from(range(layer.n))
    g.add_weighted_edges_from(
        zip(layer.edge_u.tolist(), layer.edge_v.tolist(), layer.edge_weight.tolist(), strict=True)
    )
    d = nx.DiGraph()
    d.add_nodes_from(range(layer.n))
    d.add_weighted_edges_from(
        zip(layer.source.tolist(), layer.target.tolist(), layer.weight.tolist(), strict=True)
    )
    times["build"] = time.perf_counter() - t

    def step(name: str, fn: Any) -> None:
        started = time.perf_counter()
        try:
            fn()
        except nx.NetworkXException as exc:  # e.g. no convergence: timed, and said
            print(json.dumps({"failed": f"{name}: {exc}"}), file=sys.stderr, flush=True)
        times[name] = time.perf_counter() - started
        print(json.dumps({"partial": times}), flush=True)

    rng = np.random.default_rng(1)
    sources = None
    if sample_size:
        sources = rng.choice(layer.n, size=min(sample_size, layer.n), replace=False).tolist()
    step("degree", lambda: (dict(g.degree()), dict(d.in_degree()), dict(d.out_degree())))
    step("harmonic", lambda: nx.harmonic_centrality(g, sources=sources))
    step(
        "betweenness",
        lambda: nx.betweenness_centrality(g, k=len(sources) if sources else None, seed=1),
    )
    # the generated graphs are disconnected: NetworkX's eigensolver refuses them
    # (AmbiguousSolution); its power iteration is the definition Glia matches there
    step("eigenvector", lambda: nx.eigenvector_centrality(g, weight="weight", max_iter=1000))
    step("pagerank", lambda: nx.pagerank(d, weight="weight"))
    step("core_number", lambda: nx.core_number(g))
    step("constraint", lambda: nx.constraint(g, weight="weight"))
    step("effective_size", lambda: nx.effective_size(g, weight="weight"))
    step("communities", lambda: nx.community.louvain_communities(g, weight="weight", seed=1))
    return {"seconds": sum(times.values()), "steps": times, "peak_mb": _peak_mb()}


def _child(args: argparse.Namespace) -> None:
    import networkit  # noqa: F401  (its import, ~3 s with scikit-learn present, is not timed)

    if args.step == "prepare":
        out = _prepare(args.n)
    elif args.step == "analyze":
        out = _analyze(args.n)
    elif args.step == "shared-glia":
        out = _shared_glia(args.n)
    else:
        out = _shared_networkx(args.n, args.sample_size)
    print(json.dumps(out), flush=True)


def _run(step: str, n: int, *extra: str, timeout: float | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", step, "--n", str(n), *extra]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        stdout = proc.stdout
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
        stdout = out.decode() if isinstance(out, bytes) else out
        partial = [json.loads(x) for x in stdout.splitlines() if x.startswith('{"partial"')]
        return {"timeout": True, "partial": partial[-1]["partial"] if partial else {}}
    if proc.returncode != 0:
        raise SystemExit(f"{step} {n} failed:\n{proc.stderr[-4000:]}")
    return dict(json.loads(stdout.strip().splitlines()[-1]))


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| participants | ties | analyze | peak MB | slowest stages | shared set: Glia | "
        "NetworkX | NetworkX / Glia |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        a, g, x = r["analyze"], r["glia"], r["networkx"]
        stages = sorted(a["stages"].items(), key=lambda kv: -kv[1])[:3]
        slow = ", ".join(f"{k} {v:.1f} s" for k, v in stages)
        if x is None:
            nx_cell, ratio = "not run", "-"
        elif x.get("timeout"):
            done = x.get("partial", {})
            part = sum(done.values())
            nx_cell = f"> {NETWORKX_LIMIT} s (done: {', '.join(done) or 'nothing'})" + (
                " (saved run)" if x.get("reused") else ""
            )
            ratio = f"> {max(NETWORKX_LIMIT, part) / g['seconds']:.0f}x"
        else:
            nx_cell = f"{x['seconds']:.1f} s" + (" (saved run)" if x.get("reused") else "")
            ratio = f"{x['seconds'] / g['seconds']:.0f}x"
        lines.append(
            f"| {a['participants']:,} | {a['ties']:,} | {a['seconds']:.1f} s | "
            f"{a['peak_mb']:,.0f} | {slow} | {g['seconds']:.1f} s | {nx_cell} | {ratio} |"
        )
    return "\n".join(lines)


def _json_cell(a: dict[str, Any]) -> str:
    if "json_seconds" not in a:
        return f"{a['participants']:,}: not measured"
    cell = f"{a['participants']:,}: {a['json_seconds']:.1f} s"
    if a.get("dumps_seconds"):
        cell += (
            f" against {a['dumps_seconds']:.1f} s ({a['dumps_seconds'] / a['json_seconds']:.1f}x)"
        )
    grew = a["json_peak_mb"] - a["peak_mb"]
    return cell + f", peak {a['json_peak_mb']:,.0f} MB ({grew:+,.0f} MB over the analysis)"


def _write(path: Path, rows: list[dict[str, Any]], command: str) -> None:
    sampled = [
        f"{r['analyze']['participants']:,}: {r['analyze']['sample_size']} sources, error "
        + ", ".join(f"{k} {v:.4f}" for k, v in r["analyze"]["error"].items())
        for r in rows
        if r["analyze"]["sampled"]
    ]
    body = "\n".join(
        [
            START,
            "## Analysis (`make bench-analysis`)",
            "",
            f"Machine: {_machine()}. Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
            "",
            f"Command: `{command}`",
            "",
            _table(rows),
            "",
            "*analyze* is the whole `glia.analyze(snapshot)` (all four layers and every "
            "engine), timed after the snapshot is loaded; *peak MB* is the child process's "
            "maximum resident set, snapshot included (the analysis runs in that one process, "
            "on threads). The *shared set* is what NetworkX also "
            "computes, on the combined layer (see the script's docstring); NetworkX runs in "
            f"its own process, cut at {NETWORKX_LIMIT} s.",
            "",
            "JSON text (`glia analyze --format json`, written in pieces as it is made), "
            "after the analysis in the same process, against `json.dumps(to_json(), indent=2)` "
            "(how the command wrote it before; not tried above 100k): "
            + "; ".join(_json_cell(r["analyze"]) for r in rows)
            + ".",
            "",
            "Sampled betweenness and closeness (combined layer): "
            + ("; ".join(sampled) if sampled else "none (exact at every size)")
            + ".",
            "",
            "Per-stage seconds of each run (while the layers are measured, communities, "
            "brokerage's counts, the sweet spot, value network, loops, flows, health and "
            "failures run one after the other on a second thread, so the stages add up to "
            "more than the whole):",
            "",
            *[
                f"- {r['analyze']['participants']:,}: "
                + ", ".join(f"{k} {v:.2f}" for k, v in r["analyze"]["stages"].items())
                for r in rows
            ],
            *[
                f"- NetworkX at {r['analyze']['participants']:,}: "
                + ", ".join(
                    f"{k} {v:.1f}"
                    for k, v in (
                        r["networkx"].get("steps") or r["networkx"].get("partial") or {}
                    ).items()
                )
                for r in rows
                if r["networkx"]
            ],
            END,
        ]
    )
    replace_section(path, START, END, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--write", type=Path, help="Update this Markdown file's analysis section.")
    parser.add_argument(
        "--networkx-max", type=int, default=100_000, help="Largest size NetworkX is tried on."
    )
    parser.add_argument(
        "--reuse-networkx",
        action="store_true",
        help="Take NetworkX's numbers from the last saved run of a size instead of re-running "
        "it (NetworkX does not change when Glia does; its 10 minutes are spared).",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sample-size", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.step = args.child
        _child(args)
        return
    rows = []
    for n in args.sizes:
        print(f"== {n:,} participants", flush=True)
        print("   prepare:", _run("prepare", n), flush=True)
        analysis = _run("analyze", n)
        print(
            f"   analyze: {analysis['seconds']:.1f} s, peak {analysis['peak_mb']:.0f} MB",
            flush=True,
        )
        print(f"   JSON text: {_json_cell(analysis)}", flush=True)
        glia = _run("shared-glia", n)
        print(f"   shared set, Glia: {glia['seconds']:.1f} s", flush=True)
        networkx = None
        saved = CACHE / f"result-{n}.json"
        if args.reuse_networkx and saved.exists():
            networkx = json.loads(saved.read_text())["networkx"]
            if networkx is not None:
                networkx["reused"] = True
            print(f"   shared set, NetworkX (saved run): {networkx}", flush=True)
        elif n <= args.networkx_max:
            size = str(glia["sample_size"] if glia["sampled"] else 0)
            networkx = _run("shared-networkx", n, "--sample-size", size, timeout=NETWORKX_LIMIT)
            print(f"   shared set, NetworkX: {networkx}", flush=True)
        row = {"analyze": analysis, "glia": glia, "networkx": networkx}
        saved.write_text(json.dumps(row), encoding="utf-8")
        rows.append(row)
    if args.write:
        command = "python bench/bench_analysis.py --sizes " + " ".join(map(str, args.sizes))
        if args.reuse_networkx:
            command += " --reuse-networkx"
        _write(args.write, rows, command + f" --write {args.write}")
    print(_table(rows))


if __name__ == "__main__":
    main()
