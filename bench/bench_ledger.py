"""Benchmark: verifying the hash chain of a ledger of ten million events, on SQLite.

A generated ledger (``--events``, default 10,000,000, over ``--opportunities``,
default 10,000, and ``--participants``, default 1,000) is built once in a
workspace under ``bench/out/ledger/`` and reused by later runs with the same
parameters (the run says so). The events mix what a cooperative records: work
in hours (with a pull-request link half the time), help, use of a resource in
days, citations, referrals and introductions, services delivered and capital
transferred (values in EUR, written with cents: ``600.00``), three client
payments (``income``) per opportunity, and about one reversal in 200 events
(of an event recorded shortly before, as ``Store.reverse`` writes it). A
quarter of the events carry a note, some with quotes, accents, a backslash, a
tab, a newline or an emoji.

The build bypasses ``Store.record``'s per-event checks for speed but writes
exactly the rows the store writes: same columns, same text for amounts
(``format(Decimal, "f")``) and times (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC), the
hashes of :func:`glia.ledger.chain` (``tests/ledger/test_fast_verify.py``
records the same events through ``Store.record`` and compares the tables row
for row), and the ecosystem's ``counts["ledger"]``. The opportunity index is
dropped during the load and built after it.

Then, each in a fresh child process so that its peak memory is its own:

- ``check``: ``Store.check_ledger`` on the whole ledger (on a SQLite file, the
  fast path of ``glia.store._ledger``);
- ``baseline``: the pure-Python walk of the same run on the first
  ``--baseline`` events (200,000): the rows read through SQLAlchemy into
  :class:`~glia.ledger.Event`, as ``check`` does on PostgreSQL, then
  :func:`glia.ledger.verify`;
- ``distributions``: :func:`time_distributions`, every opportunity planned at once
  (first without the ledger's Arrow cache, which that run writes, then with it)
  against one at a time.

Usage::

    python bench/bench_ledger.py --write docs/benchmarks.md
    python bench/bench_ledger.py --events 1000000   # printed only
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_store import _machine, _probe, replace_section  # noqa: E402  (shared with the store bench)

OUT = ROOT / "bench" / "out" / "ledger"
ECOSYSTEM = "bench-ledger"
CURRENCY = "EUR"
#: Bump when the generated events change, so that a stale ledger is rebuilt.
GENERATOR_VERSION = 1
START = dt.datetime(2024, 1, 1)  # naive UTC: events are spaced from here
RECORDERS = ("hub", "nrda", "coop-office", "treasurer")
TEAM = 8  # people contributing to an opportunity
RECENT = 100_000  # a reversal corrects one of the last RECENT events
CHUNK = 100_000
NOTES = (
    'pair session, "design" review',
    "réunion au café",
    "fixed the C:\\data path",
    "first line\nsecond line",
    "shipped ✓ 🚀",
    "tab\tseparated",
    "weekly sync",
    "onboarding of a new member",
)
#: The regular actions and their shares (income and reversals are placed apart).
ACTIONS = (
    "work",
    "help",
    "use",
    "cite",
    "deliverService",
    "transfer",
    "referral",
    "introduction",
)
SHARES = (0.46, 0.12, 0.10, 0.06, 0.12, 0.06, 0.05, 0.03)
INCOME, REVERSAL = len(ACTIONS), len(ACTIONS) + 1
HOURS = tuple(Decimal(k) / 4 for k in range(1, 33))  # 0.25 to 8

START_MARK = "<!-- ledger benchmark: start -->"
END_MARK = "<!-- ledger benchmark: end -->"


class Spec(NamedTuple):
    """One generated event: the fields of ``NewEvent``, the time as microseconds from START."""

    action: str
    agent: str
    recorded_by: str
    at_us: int
    opportunity: str | None
    quantity: Decimal | None
    unit: str | None
    value: Decimal | None
    currency: str | None
    note: str | None
    evidence: str | None
    reverses: int | None


def participant_id(i: int) -> str:
    return f"p{i:04d}"


def opportunity_id(i: int) -> str:
    return f"opp-{i:05d}"


def client_of(opportunity: int, participants: int) -> int:
    return (opportunity * 13 + 5) % participants


def plan(n: int, opportunities: int, participants: int, seed: int = 1) -> Iterator[Spec]:
    """The ``n`` events of the benchmark's ledger, in order (deterministic for a seed)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    picker = random.Random(seed)
    kind = rng.choice(len(ACTIONS), size=n, p=SHARES).astype(np.int8)
    n_income = min(3 * opportunities, n // 20)
    income_at = rng.choice(n, size=n_income, replace=False)
    kind[income_at] = INCOME
    income_opp = np.empty(n, np.int64)
    income_opp[income_at] = rng.permutation(np.arange(n_income) % opportunities)
    if n >= 2:
        kind[rng.choice(np.arange(1, n), size=n // 200, replace=False)] = REVERSAL
    agents = [participant_id(i) for i in range(participants)]
    opps = [opportunity_id(i) for i in range(opportunities)]
    recent: dict[int, Spec] = {}
    window: deque[int] = deque()
    reversed_: set[int] = set()
    at = 0
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        size = hi - lo
        opp = rng.integers(0, opportunities, size)
        member = rng.integers(0, TEAM, size)
        small = rng.integers(0, 32, size)
        cents = rng.integers(5_000, 500_000, size)
        recorder = rng.integers(0, len(RECORDERS), size)
        step = rng.integers(1, 3_000_000, size)  # microseconds to the next event
        note = rng.integers(0, 4 * len(NOTES), size)  # a note one time in four
        linked = rng.integers(0, 2, size)
        for j in range(size):
            seq = lo + j + 1
            at += int(step[j])
            k = int(kind[lo + j])
            o = int(opp[j])
            by = RECORDERS[recorder[j]]
            text = NOTES[note[j]] if note[j] < len(NOTES) else None
            spec: Spec | None = None
            if k == REVERSAL:
                for _ in range(8):
                    target = seq - picker.randint(1, min(RECENT, seq - 1))
                    original = recent.get(target)
                    if original is None or original.reverses is not None:
                        continue
                    if target in reversed_:
                        continue
                    reversed_.add(target)
                    spec = Spec(
                        original.action,
                        original.agent,
                        by,
                        at,
                        original.opportunity,
                        None if original.quantity is None else original.quantity.copy_negate(),
                        original.unit,
                        None if original.value is None else original.value.copy_negate(),
                        original.currency,
                        f"correction of event {target}",
                        None,
                        target,
                    )
                    break
                if spec is None:
                    k = 1  # nothing to reverse nearby: a help event instead
            if spec is None:
                if k == INCOME:
                    o = int(income_opp[lo + j])
                agent = agents[(o * 37 + int(member[j]) * 101) % participants]
                action = "income" if k == INCOME else ACTIONS[k]
                quantity = unit = value = currency = evidence = None
                if action == "work":
                    quantity, unit = HOURS[small[j]], "hour"
                    if linked[j]:
                        evidence = f"https://git.example.org/{opps[o]}/pull/{seq}"
                elif action == "help":
                    quantity, unit = HOURS[small[j] % 8], "hour"
                elif action == "use":
                    quantity, unit = Decimal(int(small[j]) % 10 + 1), "day"
                elif action == "cite":
                    evidence = f"https://doi.org/10.5555/{seq}"
                elif action == "deliverService":
                    value, currency = Decimal(int(cents[j])).scaleb(-2), CURRENCY
                    evidence = f"https://invoices.example.org/{seq}"
                elif action == "transfer":
                    value, currency = Decimal(int(cents[j]) // 25 * 100).scaleb(-2), CURRENCY
                elif action == "income":
                    agent = agents[client_of(o, participants)]
                    value, currency = Decimal(int(cents[j]) * 20).scaleb(-2), CURRENCY
                spec = Spec(
                    action,
                    agent,
                    by,
                    at,
                    opps[o],
                    quantity,
                    unit,
                    value,
                    currency,
                    text,
                    evidence,
                    None,
                )
            recent[seq] = spec
            window.append(seq)
            if len(window) > RECENT:
                del recent[window.popleft()]
            yield spec


def recorded_at(spec: Spec) -> dt.datetime:
    """The event's time, as given to ``Store.record`` (aware, UTC)."""
    return (START + dt.timedelta(microseconds=spec.at_us)).replace(tzinfo=dt.UTC)


def new_event(spec: Spec) -> Any:
    """The ``NewEvent`` that ``Store.record`` would be given for ``spec``."""
    from glia.store import NewEvent

    fields = spec._asdict()
    del fields["at_us"]
    return NewEvent(**fields, recorded_at=recorded_at(spec))


def _plain(value: Decimal | None) -> str | None:
    """A decimal as the chain's canonical encoding writes it (``glia.ledger.canonical``)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def rows(
    specs: Iterator[Spec], eco_id: int, prev_hash: str = "0" * 64
) -> Iterator[tuple[Any, ...]]:
    """The ``ledger_event`` rows the store writes for ``specs`` (see INSERT), chained."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    sha256 = hashlib.sha256
    for seq, s in enumerate(specs, 1):
        when = START + dt.timedelta(microseconds=s.at_us)
        encoded = dumps(
            [
                seq,
                ECOSYSTEM,
                s.action,
                s.agent,
                s.recorded_by,
                when.isoformat("T", "microseconds") + "Z",
                s.opportunity,
                _plain(s.quantity),
                s.unit,
                _plain(s.value),
                s.currency,
                s.note,
                s.evidence,
                s.reverses,
            ]
        ).encode("utf-8")
        digest = sha256(prev_hash.encode("ascii") + b"\n" + encoded).hexdigest()
        yield (
            eco_id,
            seq,
            s.action,
            s.agent,
            s.opportunity,
            None if s.quantity is None else format(s.quantity, "f"),
            s.unit,
            None if s.value is None else format(s.value, "f"),
            s.currency,
            s.note,
            s.evidence,
            s.recorded_by,
            when.isoformat(" ", "microseconds"),
            s.reverses,
            prev_hash,
            digest,
        )
        prev_hash = digest


INSERT = (
    "INSERT INTO ledger_event (ecosystem_id, seq, action, agent, opportunity, quantity, unit, "
    "value, currency, note, evidence, recorded_by, recorded_at, reverses, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INDEX = "ix_ledger_event_opportunity"
CREATE_INDEX = f"CREATE INDEX {INDEX} ON ledger_event (ecosystem_id, opportunity, seq)"


def ecosystem_map(opportunities: int, participants: int) -> Any:
    """The map the ledger belongs to: the participants, and the opportunities with clients."""
    from glia.model import Ecosystem

    return Ecosystem.model_validate(
        {
            "ecosystem": ECOSYSTEM,
            "currency": CURRENCY,
            "participants": [{"id": participant_id(i)} for i in range(participants)],
            "opportunities": [
                {"id": opportunity_id(i), "client": participant_id(client_of(i, participants))}
                for i in range(opportunities)
            ],
        }
    )


def build(
    path: Path, n: int, opportunities: int, participants: int, seed: int = 1, quiet: bool = False
) -> dict[str, Any]:
    """Write a store at ``path`` holding the benchmark's map and ledger of ``n`` events."""
    from sqlalchemy import select, update

    from glia.store import Store
    from glia.store._tables import ecosystem

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    url = f"sqlite:///{path}"
    with Store.open(url) as store:
        store.import_ecosystem(ecosystem_map(opportunities, participants))
        with store.engine.connect() as conn:
            eco_id = conn.execute(
                select(ecosystem.c.id).where(ecosystem.c.name == ECOSYSTEM)
            ).scalar_one()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")
    con.execute(f"DROP INDEX {INDEX}")
    batch: list[tuple[Any, ...]] = []
    written, last_hash = 0, "0" * 64
    mix: Counter[str] = Counter()
    con.execute("BEGIN")
    for row in rows(plan(n, opportunities, participants, seed), eco_id):
        batch.append(row)
        mix["reversal" if row[13] is not None else row[2]] += 1
        if len(batch) == 50_000:
            con.executemany(INSERT, batch)
            written += len(batch)
            last_hash = batch[-1][-1]
            batch = []
            if written % 1_000_000 == 0:
                con.execute("COMMIT")
                con.execute("BEGIN")
                if not quiet:
                    rate = written / (time.perf_counter() - started)
                    _say(f"   {written:,} events written ({rate:,.0f}/s)")
    if batch:
        con.executemany(INSERT, batch)
        written += len(batch)
        last_hash = batch[-1][-1]
    con.execute("COMMIT")
    load = time.perf_counter() - started
    con.execute(CREATE_INDEX)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    with Store.open(url) as store, store.engine.begin() as conn:
        counts = conn.execute(select(ecosystem.c.counts).where(ecosystem.c.id == eco_id)).scalar()
        counts = {**(counts or {}), "ledger": written}
        conn.execute(update(ecosystem).where(ecosystem.c.id == eco_id).values(counts=counts))
    return {
        "events": written,
        "last_hash": last_hash,
        "seconds": time.perf_counter() - started,
        "load_seconds": load,
        "bytes": path.stat().st_size,
        "mix": dict(mix.most_common()),
    }


#: The bench's equations: a network fund, and one split for every opportunity.
NETWORK_EQUATION = {
    "name": "bench-network",
    "buckets": [
        {"name": "network fund", "percent": 5, "of": "straight", "to": "fund"},
        {"name": "the opportunity", "percent": 100, "to": "opportunity"},
    ],
    "formulas": {},
    "consents": {"fund": "2025-01-01"},
}
OPPORTUNITY_EQUATION = {
    "name": "bench-split",
    "currency": CURRENCY,
    "buckets": [
        {"name": "capital", "percent": 15, "kinds": ["transfer"]},
        {
            "name": "team",
            "percent": 100,
            "kinds": ["work", "deliverService", "use", "cite", "help"],
        },
    ],
    "formulas": {
        "work": "hours * 80",
        "deliverService": "value",
        "use": "quantity * 40",
        "cite": "10",
        "transfer": "value",
        "help": "min(hours, 8) * 20",
    },
    "claims": {"transfer": "debt"},
    "multipliers": {"work": 1.5},
    "cap": 0.6,
}
BASELINE_OPPORTUNITIES = 100


def _bench_equations(store: Any, name: str) -> None:
    """Add the bench's equations (with every participant's consent) when the ledger has none."""
    from glia.ledger import ValueEquation

    if not store.equations(name):
        people = [p.id for p in store.load(name).participants]
        store.add_equation(name, "network", None, ValueEquation(**NETWORK_EQUATION), "bench")
        split = {**OPPORTUNITY_EQUATION, "consents": {p: "2025-01-01" for p in people}}
        store.add_equation(name, "opportunity", "*", ValueEquation(**split), "bench")


def _digest(plans: Any) -> str:
    """A digest of every plan's amounts per recipient and kind, to compare two runs."""
    text = repr(
        sorted(
            (o, sorted((repr(k), str(v)) for k, v in p.allocation.by_kind.items()))
            for o, p in plans.plans.items()
            if p.allocation is not None
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def time_first_plan_all(store: Any, name: str) -> dict[str, Any]:
    """``Store.plan_all`` without the Arrow cache of the ledger kept next to the
    database (removed first): it reads the ledger from SQLite and writes the cache."""
    _bench_equations(store, name)
    database = Path(store.engine.url.database)
    for cached in database.parent.glob(f"{database.name}.ledger-*"):
        cached.unlink()
    started = time.perf_counter()
    plans = store.plan_all(name)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "steps": plans.seconds,
        "source": plans.source,
        "digest": _digest(plans),
    }


def time_distributions(store: Any, name: str) -> dict[str, Any]:
    """Plan the distribution of every opportunity at once (``Store.plan_all``: a coded
    Arrow table of the ledger, from its cache, claims summed by DuckDB, the exact
    split in Python) and, as the baseline in the same run, ``Store.plan_distribution``
    one opportunity at a time on the first opportunities. Nothing is recorded.
    """
    _bench_equations(store, name)
    started = time.perf_counter()
    plans = store.plan_all(name)
    seconds = time.perf_counter() - started
    planned = [o for o, p in plans.plans.items() if p.allocation is not None]
    exact = all(
        sum(p.allocation.amounts.values()) == p.pending.to_distribute
        for p in plans.plans.values()
        if p.allocation is not None
    )
    sample = sorted(planned)[:BASELINE_OPPORTUNITIES]
    started = time.perf_counter()
    same = all(
        store.plan_distribution(name, o).allocation.amounts == plans.plans[o].allocation.amounts
        for o in sample
    )
    one = (time.perf_counter() - started) / max(1, len(sample))
    per = seconds / max(1, len(planned))
    return {
        "seconds": seconds,
        "opportunities": len(planned),
        "refused": len(plans.refused),
        "path": plans.path,
        "source": plans.source,
        "steps": plans.seconds,
        "digest": _digest(plans),
        "baseline_seconds_per_opportunity": one,
        "ratio": one / per if per else None,
        "exact": exact,
        "same_as_baseline": same,
        "sample": len(sample),
    }


def _distributions_label(first: dict[str, Any], runs: list[dict[str, Any]]) -> str:
    """The benchmark's sentence on distributions: the cached runs (median) and the first."""
    dist = _median(runs)
    seconds, one, n = dist["seconds"], dist["baseline_seconds_per_opportunity"], dist["sample"]
    per = seconds / max(1, dist["opportunities"])
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in dist["steps"].items())
    first_steps = ", ".join(f"{k} {v:.1f} s" for k, v in first["steps"].items())
    times = ", ".join(f"{r['seconds']:.1f}" for r in runs)
    same_first = all(r["digest"] == first["digest"] for r in runs)
    cached = all(r["source"] == "cache" for r in runs)
    return (
        f"every opportunity planned at once (`Store.plan_all`, {dist['path']}, the ledger "
        f"{'from its Arrow cache' if cached else 'read: ' + dist['source']}): "
        f"{dist['opportunities']:,} opportunities in **{seconds:.1f} s** (median of "
        f"{len(runs)}: {times} s; {steps}). The first run, which reads the ledger from "
        f"SQLite and writes the cache ({first['source']}): {first['seconds']:.1f} s "
        f"({first_steps}); same plans: {'yes' if same_first else 'NO'}. Shares sum exactly "
        f"to each income: {'yes' if dist['exact'] else 'NO'}; {dist['refused']} refused. "
        f"Baseline in the same run, `plan_distribution` one opportunity at a time on {n}: "
        f"{one * 1000:,.0f} ms each (about {one * dist['opportunities']:,.0f} s for all), "
        f"**{one / per if per else 0:.0f}x** slower per opportunity; same amounts: "
        f"{'yes' if dist['same_as_baseline'] else 'NO'}. Aim, all distributions under 10 s: "
        f"**{'met' if seconds < 10 else 'not met'}** with the cache "
        f"({'met' if first['seconds'] < 10 else 'not met'} on the first run, without it)."
    )


def _say(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ``ru_maxrss``, not inherited
    from the parent's size at fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_peak_mb() -> float:
    """The largest peak of this process's finished children (the verifying processes)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _child(args: argparse.Namespace) -> None:
    """One measured step in this process; prints its result as JSON on the last line."""
    from sqlalchemy import select

    from glia.ledger import verify
    from glia.store import Store
    from glia.store._ledger import _EVENT_COLUMNS, _event
    from glia.store._tables import ecosystem, ledger_event

    out: dict[str, Any] = {}
    with Store.open(f"sqlite:///{args.path}") as store:
        if args.child == "check":
            started = time.perf_counter()
            result = store.check_ledger(ECOSYSTEM)
            out["seconds"] = time.perf_counter() - started
            out["events"] = result.events
            out["last_hash"] = result.last_hash
            out["broken"] = None if result.broken is None else str(result.broken)
            out["path"] = result.path
            out["children_peak_mb"] = _children_peak_mb()
        elif args.child == "baseline":
            started = time.perf_counter()
            with store.engine.connect() as conn:
                eco_id = conn.execute(
                    select(ecosystem.c.id).where(ecosystem.c.name == ECOSYSTEM)
                ).scalar_one()
                query = (
                    select(*_EVENT_COLUMNS)
                    .where(ledger_event.c.ecosystem_id == eco_id)
                    .order_by(ledger_event.c.id)
                    .limit(args.baseline)
                )
                events = [_event(row, ECOSYSTEM) for row in conn.execute(query)]
            read = time.perf_counter() - started
            broken = verify(events)
            out["seconds"] = time.perf_counter() - started
            out["read_seconds"] = read
            out["events"] = len(events)
            out["broken"] = None if broken is None else str(broken)
        elif args.child == "first-distributions":
            out["result"] = time_first_plan_all(store, ECOSYSTEM)
        elif args.child == "distributions":
            out["result"] = time_distributions(store, ECOSYSTEM)
    out["peak_mb"] = _peak_mb()
    print(json.dumps(out))


def _run(step: str, path: Path, baseline: int = 0) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", step, "--path", str(path)]
    cmd += ["--baseline", str(baseline)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{step} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median time."""
    return sorted(runs, key=lambda r: float(r["seconds"]))[len(runs) // 2]


def _workspace(n: int, opportunities: int, participants: int, seed: int) -> Path:
    return OUT / f"n{n}-o{opportunities}-p{participants}-s{seed}"


def _ledger(args: argparse.Namespace) -> tuple[Path, dict[str, Any], bool]:
    """The ledger's database, built unless one with the same parameters is there."""
    params = {
        "events": args.events,
        "opportunities": args.opportunities,
        "participants": args.participants,
        "seed": args.seed,
        "generator": GENERATOR_VERSION,
    }
    folder = _workspace(args.events, args.opportunities, args.participants, args.seed)
    path, marker = folder / "glia.db", folder / "built.json"
    if marker.exists() and path.exists() and not args.rebuild:
        built = json.loads(marker.read_text(encoding="utf-8"))
        if built.get("params") == params:
            if "mix" not in built:  # built before the mix was recorded
                with closing(sqlite3.connect(path)) as con:
                    found = con.execute(
                        "SELECT CASE WHEN reverses IS NULL THEN action ELSE 'reversal' END, "
                        "count(*) FROM ledger_event GROUP BY 1 ORDER BY 2 DESC"
                    ).fetchall()
                built["mix"] = dict(found)
                marker.write_text(json.dumps(built, indent=2), encoding="utf-8")
            return path, built, True
    folder.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    _say(f"== building a ledger of {args.events:,} events in {folder}")
    built = {"params": params, **build(path, args.events, args.opportunities, args.participants)}
    built["built_at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    marker.write_text(json.dumps(built, indent=2), encoding="utf-8")
    return path, built, False


def _section(args: argparse.Namespace, built: dict[str, Any], res: dict[str, Any]) -> str:
    check, base = res["check"], res["baseline"]
    fast_rate = check["events"] / check["seconds"]
    base_rate = base["events"] / base["seconds"]
    size = built["bytes"] / 1024**3
    mix = ", ".join(f"{action} {count:,}" for action, count in built.get("mix", {}).items())
    times = ", ".join(f"{t:.1f}" for t in res["check_times"])
    walk_10m = built["events"] / base_rate
    lines = [
        START_MARK,
        "## Ledger verification (`make bench-ledger`)",
        "",
        f"Machine: {_machine()}. Run of {res['when']}; pace probe (as in the import "
        f"benchmark) {res['probe_before']:,.0f} ns before, {res['probe_after']:,.0f} ns after; "
        f"load average {res['load_before']:.1f} before, {res['load_after']:.1f} after.",
        "",
        f"Command: `{res['command']}`",
        "",
        f"Ledger: {built['events']:,} events over {args.opportunities:,} opportunities and "
        f"{args.participants:,} participants (`bench/bench_ledger.py`: {mix}), one SQLite "
        f"file of {size:.1f} GiB. Built in {built['seconds']:.0f} s on {built['built_at']} "
        f"({built['events'] / built['load_seconds']:,.0f} events/s, chained in Python and "
        "written with `executemany`, the same rows as `Store.record` writes, which a test "
        "checks); later runs reuse it.",
        "",
        f"| step | events | time (median of {args.repeat}) | events/s | peak MB |",
        "|---|---:|---:|---:|---:|",
        f"| `Store.check_ledger` ({check['path']} path) | {check['events']:,} | "
        f"{check['seconds']:.1f} s | {fast_rate:,.0f} | {check['peak_mb']:,.0f}, and "
        f"{check['children_peak_mb']:,.0f} at most in each verifying process |",
        f"| the walk (rows through SQLAlchemy into `Event`, then `glia.ledger.verify`), "
        f"the first events | {base['events']:,} | {base['seconds']:.1f} s | {base_rate:,.0f} | "
        f"{base['peak_mb']:,.0f} |",
        "",
        f"- Aim, the whole ledger verified in under 30 s on this machine: "
        f"**{'met' if check['seconds'] < 30 else 'not met'}**, {check['seconds']:.1f} s "
        f"(runs: {times} s). Result: "
        f"{'intact' if check['broken'] is None else check['broken']}; last hash "
        f"`{check['last_hash'][:16]}…`.",
        f"- Fast path over the walk: **{fast_rate / base_rate:.1f}x** the events per second. "
        f"The walk spends {base['read_seconds']:.1f} s of its {base['seconds']:.1f} s "
        f"reading rows; at its pace the whole ledger would take about {walk_10m:,.0f} s, "
        f"and it holds every event in memory ({base['peak_mb']:,.0f} MB for "
        f"{base['events']:,}).",
    ]
    dist = res.get("distributions")
    if dist:
        lines += [f"- Distributions: {dist.get('label', json.dumps(dist))}"]
    lines += [
        "",
        "How (`glia.store._ledger`, module notes): SQLite builds each event's canonical",
        "encoding itself; processes of their own, one per core (at most four), read chunks",
        "of 250,000 ids in insertion order through the ADBC SQLite driver as Arrow batches,",
        "hash each encoding with `hashlib` and compare whole batches; the caller stitches",
        "the chunks' summaries and names the first break as `glia.ledger.verify` would.",
        "Starting the processes costs about a second of the time above.",
        "",
        "How `Store.plan_all` (`glia.store._columnar`, module notes): the ledger as an Arrow",
        "table with its texts as integer codes and its amounts as `DECIMAL(38, 6)`, cached",
        "next to the database and memory-mapped (keyed by the last event's seq and hash,",
        "checked against the store on every call, extended with new events only; without",
        "it, two processes read it through ADBC); DuckDB sums each formula's claims per",
        "opportunity, participant and kind, a part of the opportunities at a time in a",
        "thread of its own, while Python splits the part before exactly (water-filling and",
        "largest remainder over integers, `glia.ledger`), the garbage collector paused.",
        END_MARK,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--opportunities", type=int, default=10_000)
    parser.add_argument("--participants", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--baseline", type=int, default=200_000, help="Events of the Python walk (200,000)."
    )
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each step (median; 3).")
    parser.add_argument("--rebuild", action="store_true", help="Build the ledger even if present.")
    parser.add_argument("--write", type=Path, help="Update this Markdown file's ledger section.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    started = dt.datetime.now(dt.UTC)
    path, built, reused = _ledger(args)
    if reused:
        print(
            f"reusing the ledger of {built['events']:,} events built on {built['built_at']} "
            f"({path}; --rebuild to build it again)",
            flush=True,
        )
    else:
        print(
            f"built {built['events']:,} events in {built['seconds']:.1f} s "
            f"(rows written in {built['load_seconds']:.1f} s), "
            f"{built['bytes'] / 1024**3:.2f} GiB",
            flush=True,
        )
    res: dict[str, Any] = {"probe_before": _probe(), "load_before": os.getloadavg()[0]}
    checks = [_run("check", path) for _ in range(args.repeat)]
    for check in checks:
        if check["events"] != built["events"] or check["last_hash"] != built["last_hash"]:
            raise SystemExit(f"check_ledger disagrees with the ledger built: {check}")
    res["check"] = check = _median(checks)
    rate = check["events"] / check["seconds"]
    times = ", ".join(f"{c['seconds']:.2f}" for c in checks)
    print(
        f"check_ledger: {check['events']:,} events in {check['seconds']:.2f} s, median of "
        f"{times} s ({rate:,.0f}/s, {check['path']} path), peak {check['peak_mb']:,.0f} MB "
        f"(verifying processes {check['children_peak_mb']:,.0f} MB at most), "
        f"{'intact' if check['broken'] is None else check['broken']}",
        flush=True,
    )
    n_base = min(args.baseline, built["events"])
    res["baseline"] = base = _median([_run("baseline", path, n_base) for _ in range(args.repeat)])
    base_rate = base["events"] / base["seconds"]
    print(
        f"Python walk: {base['events']:,} events in {base['seconds']:.2f} s (median; "
        f"{base_rate:,.0f}/s; rows read in {base['read_seconds']:.2f} s), "
        f"peak {base['peak_mb']:,.0f} MB; fast path {rate / base_rate:.1f}x",
        flush=True,
    )
    res["check_times"] = [c["seconds"] for c in checks]
    res["probe_after"], res["load_after"] = _probe(), os.getloadavg()[0]
    print(
        f"pace probe {res['probe_before']:,.0f} ns before, {res['probe_after']:,.0f} ns after; "
        f"load average {res['load_before']:.1f} before, {res['load_after']:.1f} after",
        flush=True,
    )
    first = _run("first-distributions", path)["result"]
    print(f"distributions, first run: {first}", flush=True)
    runs = [_run("distributions", path)["result"] for _ in range(args.repeat)]
    for run in runs:
        print(f"distributions: {run}", flush=True)
    res["distributions"] = {"label": _distributions_label(first, runs)}
    print(res["distributions"]["label"], flush=True)
    res["when"] = started.strftime("%Y-%m-%d %H:%M UTC")
    res["command"] = " ".join(["python", "bench/bench_ledger.py", *sys.argv[1:]])
    if args.write:
        replace_section(args.write, START_MARK, END_MARK, _section(args, built, res))
        print(f"wrote {args.write}", flush=True)


if __name__ == "__main__":
    main()
