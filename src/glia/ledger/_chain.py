"""The hash chain of ledger events: canonical encoding, hashing, verification.

Each event carries the SHA-256 of the event before it and its own SHA-256
over ``previous hash + canonical encoding of its fields``. Changing a field,
removing an event or swapping two breaks the chain at a place that
:func:`verify` names. The encoding is canonical so that any implementation, in
any language, recomputes the same hashes: UTF-8 JSON of the fields in a fixed
order, no spaces, decimals written in plain notation without trailing zeros,
times in UTC ISO 8601 with microseconds, absent values as ``null``.

Written here because the chain is a few lines over :mod:`hashlib`; what
matters is that the encoding is specified, and it is, above and in
``docs/ledger.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from decimal import Decimal

__all__ = [
    "ACTIONS",
    "GENESIS",
    "Break",
    "Event",
    "canonical",
    "chain",
    "verify",
]

#: Actions, named after ValueFlows where one fits (``transfer`` is capital in,
#: ``income`` a client payment), plus the intangible ones ValueFlows lacks, and
#: Glia's own: ``allocation`` (a share of income, written by a distribution),
#: ``leave`` and ``leaveAtFault`` (someone left the opportunity or the network).
ACTIONS = (
    "work",
    "deliverService",
    "use",
    "cite",
    "transfer",
    "income",
    "payout",
    "referral",
    "introduction",
    "help",
    "allocation",
    "leave",
    "leaveAtFault",
)

#: The "previous hash" of the first event.
GENESIS = "0" * 64


@dataclass(frozen=True)
class Event:
    """One ledger event. ``seq`` numbers an ecosystem's events from 1, without gaps."""

    seq: int
    ecosystem: str
    action: str
    agent: str
    recorded_by: str
    recorded_at: dt.datetime
    opportunity: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    value: Decimal | None = None
    currency: str | None = None
    note: str | None = None
    evidence: str | None = None
    reverses: int | None = None
    prev_hash: str = GENESIS
    hash: str = ""


#: The fields hashed, in order (everything but the hashes themselves).
HASHED = tuple(f.name for f in fields(Event) if f.name not in ("prev_hash", "hash"))


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text if text != "-0" else "0"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("event times must carry a time zone")
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def canonical(event: Event) -> bytes:
    """The canonical encoding of an event's hashed fields.

    >>> e = Event(1, "Northbridge", "work", "ann", "nrda",
    ...           dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC), quantity=Decimal("7.50"))
    >>> canonical(e)[:60]
    b'[1,"Northbridge","work","ann","nrda","2025-01-02T03:04:05.00'
    """
    values = [_plain(getattr(event, name)) for name in HASHED]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _digest(prev_hash: str, event: Event) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(event)).hexdigest()


def chain(events: Iterable[Event], prev_hash: str = GENESIS) -> list[Event]:
    """The events with ``prev_hash`` and ``hash`` filled in, in order."""
    out = []
    for event in events:
        linked = replace(event, prev_hash=prev_hash, hash="")
        linked = replace(linked, hash=_digest(prev_hash, linked))
        out.append(linked)
        prev_hash = linked.hash
    return out


@dataclass(frozen=True)
class Break:
    """Where the chain breaks, and how."""

    seq: int
    kind: str  # altered, removed, reordered, relinked; the store adds "added"
    message: str


def verify(events: Sequence[Event]) -> Break | None:
    """Walk the chain in storage order; the first break, or None when it holds.

    An event whose fields no longer match its hash was *altered*; a gap in the
    sequence numbers means events were *removed*; numbers out of order mean
    events were *reordered*; a hash that matches its fields but not the
    previous event's hash was *relinked* (re-hashed after a change upstream).
    """
    prev_hash, expected = GENESIS, 1
    present = {e.seq for e in events}
    for event in events:
        if event.seq != expected:
            if event.seq > expected and expected in present:
                return Break(
                    expected,
                    "reordered",
                    f"event {expected} reordered: stored after event {event.seq}",
                )
            if event.seq > expected:
                missing = (
                    f"event {expected}"
                    if event.seq == expected + 1
                    else f"events {expected} to {event.seq - 1}"
                )
                return Break(expected, "removed", f"{missing} removed (next is {event.seq})")
            return Break(event.seq, "reordered", f"event {event.seq} stored after {expected - 1}")
        if _digest(event.prev_hash, event) != event.hash:
            return Break(
                event.seq, "altered", f"event {event.seq} altered: its hash does not match"
            )
        if event.prev_hash != prev_hash:
            return Break(
                event.seq,
                "relinked",
                f"event {event.seq} does not follow event {event.seq - 1}: "
                "an earlier event was changed and the chain re-hashed from there",
            )
        prev_hash, expected = event.hash, expected + 1
    return None
