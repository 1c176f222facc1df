"""Benchmark: import and snapshot of generated ecosystems, on SQLite and PostgreSQL.

For each size, a generated ecosystem (ties about 10x participants) is written
once as a folder of CSV files, the format for large ecosystems. Then, each in
a fresh child process so that its peak memory is its own:

- ``import``: ``Store.import_file`` (read, validate every row and reference,
  bulk-write in one transaction);
- ``snapshot``: ``Store.snapshot`` (column arrays for the engines);
- ``floor``: the baseline of the same run: the ties file loaded into a bare
  table by the driver alone (``csv.reader`` then ``executemany``, or COPY on
  PostgreSQL), with no validation. ``import / floor`` is the price of checking.

PostgreSQL runs on a throwaway server started like the test suite's
(``tests/_postgres.py``) when its binaries are present.

Usage::

    python bench/bench_store.py --sizes 10000 100000 1000000 --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the throwaway PostgreSQL server


def _child(args: argparse.Namespace) -> None:
    """Run one measured step and print its result as JSON."""
    from glia.store import Store

    if args.step == "probe":
        print(_probe_here())
        return

    out: dict[str, Any] = {}
    store = Store.open(args.url)  # migrations run here, outside the timing
    started = time.perf_counter()
    if args.step == "import":
        result = store.import_file(args.data, name="bench", replace=True)
        out["rows"] = sum(result.counts.values())
        out["counts"] = result.counts
    elif args.step == "snapshot":
        snap = store.snapshot("bench")
        out["rows"] = snap.n_participants + snap.n_ties
        out["array_bytes"] = snap.nbytes()
    elif args.step == "floor":
        out["rows"] = _floor(args.url, Path(args.data) / "ties.csv")
    out["seconds"] = time.perf_counter() - started
    store.close()
    print(json.dumps(out))


def _floor(url: str, ties: Path) -> int:
    """Load the ties file with the driver alone: the cost of I/O without checks."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    n = 0
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS floor_tie")
        conn.exec_driver_sql(
            "CREATE TABLE floor_tie (src TEXT, dst TEXT, layer TEXT, type TEXT, weight REAL)"
        )
        with ties.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader)
            cols = [header.index(c) for c in ("from", "to", "layer", "type", "weight")]
            if conn.dialect.name == "postgresql":
                driver: Any = conn.connection.driver_connection
                with driver.cursor() as cur, cur.copy("COPY floor_tie FROM STDIN") as copy:
                    for row in reader:
                        copy.write_row([row[i] or None for i in cols])
                        n += 1
            else:
                batch: list[tuple[str, ...]] = []
                for row in reader:
                    batch.append(tuple(row[i] for i in cols))
                    if len(batch) == 50_000:
                        conn.exec_driver_sql("INSERT INTO floor_tie VALUES (?,?,?,?,?)", batch)
                        n += len(batch)
                        batch = []
                if batch:
                    conn.exec_driver_sql("INSERT INTO floor_tie VALUES (?,?,?,?,?)", batch)
                    n += len(batch)
        conn.exec_driver_sql("DROP TABLE floor_tie")
    engine.dispose()
    return n


def _measure(step: str, url: str, data: Path) -> dict[str, Any]:
    """Run a step in a child process; add the child's own peak resident memory."""
    cmd = [sys.executable, __file__, "--child", step, "--url", url, "--data", str(data)]
    with tempfile.TemporaryFile(mode="w+") as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True)
        assert proc.stdout is not None
        stdout = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{step} failed:\n{errors.read()}")
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    return result


def _generate(n: int, target: Path) -> tuple[float, dict[str, int]]:
    from glia.generate import write_generated

    started = time.perf_counter()
    counts = write_generated(target, n, seed=1)
    return time.perf_counter() - started, counts


def _probe() -> float:
    """Nanoseconds per random lookup in a dict of a million ids: this machine's pace.

    Virtual machines here vary in speed from hour to hour; the probe, run at
    the start and the end of a benchmark, says how fast the machine was. It
    runs in a child process, so that its memory does not count in the peaks of
    the steps measured after it.
    """
    cmd = [sys.executable, __file__, "--child", "probe", "--url", "-", "--data", "-"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def _probe_here() -> float:
    import random

    ids = {f"p{i:07d}": i for i in range(1_000_000)}
    rng = random.Random(0)
    keys = [f"p{rng.randrange(1_000_000):07d}" for _ in range(1_000_000)]
    started = time.perf_counter()
    total = 0
    for key in keys:
        total += ids[key]
    return (time.perf_counter() - started) / len(keys) * 1e9


def replace_section(path: Path, start: str, end: str, body: str) -> None:
    """Write ``body`` (which begins with ``start`` and ends with ``end``) into the
    markdown file at ``path``, replacing the section between those markers, or
    appending it when absent."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if start in text:
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1] if end in rest else ""
        text = head + body + tail
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    path.write_text(text, encoding="utf-8")


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM; Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--write", type=Path, help="Markdown file to write the results to.")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.step = args.child
        _child(args)
        return

    from _postgres import find_postgres, fresh_database, postgres_server

    rows: list[dict[str, Any]] = []
    probes = [_probe()]
    print(f"machine probe: {probes[0]:.0f} ns per lookup in a dict of 1M ids", flush=True)
    work = Path(tempfile.mkdtemp(prefix="glia-bench-"))
    lookup = find_postgres()
    backends = [b for b in args.backends if b == "sqlite" or lookup.binaries is not None]
    if "postgresql" in args.backends and lookup.binaries is None:
        print(f"PostgreSQL skipped: {lookup.reason}")
    try:
        with postgres_server(lookup.binaries) if "postgresql" in backends else _null() as pg:
            for n in args.sizes:
                data = work / f"eco-{n}"
                gen_s, counts = _generate(n, data)
                print(f"generated {n:,} participants in {gen_s:.1f}s: {counts}", flush=True)
                for backend in backends:
                    if backend == "sqlite":
                        url = f"sqlite:///{work / f'bench-{n}.db'}"
                    else:
                        assert pg is not None
                        url = fresh_database(pg)
                    result = {"participants": n, "ties": counts["ties"], "backend": backend}
                    for step in ("import", "snapshot", "floor"):
                        measured = _measure(step, url, data)
                        result[step] = measured
                        print(
                            f"  {backend:10} {step:8} {measured['seconds']:8.1f}s "
                            f"{measured['rows'] / measured['seconds']:12,.0f} rows/s "
                            f"peak {measured['peak_mb']:,.0f} MB",
                            flush=True,
                        )
                    rows.append(result)
                    if backend == "sqlite":
                        Path(url.split("///", 1)[1]).unlink(missing_ok=True)
                shutil.rmtree(data, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    probes.append(_probe())
    print(f"machine probe: {probes[1]:.0f} ns per lookup in a dict of 1M ids", flush=True)
    if args.write:
        _write(args.write, rows, probes)
        print(f"wrote {args.write}")


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


START = "<!-- import benchmark: start -->"
END = "<!-- import benchmark: end -->"


def _write(path: Path, rows: list[dict[str, Any]], probes: list[float]) -> None:
    """Replace this benchmark's section of ``path``; every other section stays."""
    lines = [
        START,
        "## Import and snapshot (`make bench`)",
        "",
        f"Machine: {_machine()}. Pace (a random lookup in a dict of a million ids, "
        f"at the start and the end of the run): {probes[0]:.0f} ns and {probes[1]:.0f} ns.",
        "",
        "Command: `python bench/bench_store.py --sizes "
        + " ".join(str(s) for s in sorted({r["participants"] for r in rows}))
        + " --write docs/benchmarks.md`",
        "",
        "| participants | ties | database | import | rows/s | peak MB | snapshot | peak MB "
        "| floor (ties only) | import / floor |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        imp, snap, floor = r["import"], r["snapshot"], r["floor"]
        lines.append(
            f"| {r['participants']:,} | {r['ties']:,} | {r['backend']} "
            f"| {imp['seconds']:.1f} s | {imp['rows'] / imp['seconds']:,.0f} "
            f"| {imp['peak_mb']:,.0f} | {snap['seconds']:.1f} s | {snap['peak_mb']:,.0f} "
            f"| {floor['seconds']:.1f} s | {imp['seconds'] / floor['seconds']:.1f}x |"
        )
    lines += ["", NOTES.rstrip("\n"), END]
    replace_section(path, START, END, "\n".join(lines))


NOTES = """### Reading the import numbers

- *import* is the whole of `glia import` on a generated CSV folder: reading,
  validating every row and every reference, and writing every table in one
  transaction. Its rows/s count the records of the file: a participant with
  three clusters and four capabilities is one record, and eight database rows.
- *floor* loads only `ties.csv`, unchecked, into a table with no index: what
  the driver and the database cost without Glia. SQLite's floor is
  `csv.reader` then one `executemany` from Python; PostgreSQL's is COPY.
- Ties of a plain CSV file (no quotes, UTF-8, one header of tie columns) are
  read by pyarrow and checked a column at a time, the next batch prepared in a
  worker thread while the database stores the current one; every other file,
  and any file with a problem, goes through the row path, which names each
  problem's row (docs/spreadsheets.md). Peak memory is bounded by the id maps
  and two batches of ties, not by the input.
"""


if __name__ == "__main__":
    main()
