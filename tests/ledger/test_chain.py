"""The hash chain: any altered, removed, reordered or re-hashed event is found and named."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glia.ledger._chain import GENESIS, Event, canonical, chain, verify

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def ledger(n: int = 6) -> list[Event]:
    raw = [
        Event(
            seq=i + 1,
            ecosystem="Northbridge",
            action=("work", "use", "transfer", "income")[i % 4],
            agent=("ann", "bob", "cat")[i % 3],
            recorded_by="nrda",
            recorded_at=T0 + dt.timedelta(hours=i),
            opportunity="coop-traceability",
            quantity=Decimal(i + 1) / 2,
            unit="hour",
            value=Decimal("100.10") * (i + 1),
            currency="EUR",
        )
        for i in range(n)
    ]
    return chain(raw)


def test_an_intact_chain_verifies_and_hashes_are_sha256_of_the_documented_encoding() -> None:
    events = ledger()
    assert verify(events) is None
    first = events[0]
    assert first.prev_hash == GENESIS
    assert first.hash == hashlib.sha256(GENESIS.encode() + b"\n" + canonical(first)).hexdigest()
    assert events[1].prev_hash == first.hash
    # decimals are canonical: 0.50 and 0.5 hash alike, times are UTC
    same = replace(
        first,
        quantity=Decimal("0.500"),
        recorded_at=T0.astimezone(dt.timezone(dt.timedelta(hours=2))),
    )
    assert canonical(same) == canonical(first)


@given(st.integers(0, 5), st.sampled_from(["value", "agent", "action", "note", "recorded_at"]))
def test_altering_any_field_of_any_event_is_named(which: int, field: str) -> None:
    events = ledger()
    changes = {
        "value": Decimal("999"),
        "agent": "mallory",
        "action": "payout",
        "note": "edited",
        "recorded_at": T0 - dt.timedelta(days=1),
    }
    events[which] = replace(events[which], **{field: changes[field]})
    found = verify(events)
    assert found is not None and found.seq == which + 1 and found.kind == "altered"
    assert f"event {which + 1} altered" in found.message


def test_removed_reordered_and_rehashed_events_are_named() -> None:
    events = ledger()
    gone = verify(events[:2] + events[3:])
    assert gone is not None and gone.kind == "removed" and gone.seq == 3
    assert "event 3 removed" in gone.message
    swapped = verify([events[0], events[2], events[1], *events[3:]])
    assert swapped is not None and swapped.kind == "reordered" and swapped.seq == 2
    assert swapped.message == "event 2 reordered: stored after event 3"
    back = verify([*events[:3], events[4], events[3], events[5]])
    assert back is not None and back.kind == "reordered" and back.seq == 4
    # change event 2 and re-hash it alone: event 3 no longer follows
    forged = list(events)
    forged[1] = chain([replace(events[1], value=Decimal(1))], events[0].hash)[0]
    relinked = verify(forged)
    assert relinked is not None and relinked.kind == "relinked" and relinked.seq == 3
    last = verify(events[:-1])
    assert last is None  # a truncated tail is a shorter ledger: the store checks the count


def test_times_need_a_zone() -> None:
    naive = Event(1, "e", "work", "a", "r", dt.datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="time zone"):
        canonical(naive)
