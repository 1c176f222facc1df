"""The engagement's rules without a database: pipeline, commitments, protocols, the loop.

Independent answers: the pipeline's order and exits as the issue lists them,
Singh's lifecycle written out as a plain transition table here, and the
strengthening rule worked by hand.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glia.engage import (
    COMMITMENT_STATES,
    OPERATIONS,
    STAGES,
    TEMPLATES,
    Agreement,
    Commitment,
    Facts,
    Refused,
    advance,
    apply,
    create,
    kept_pairs,
    next_stages,
    perceived_value,
    planned_against_actual,
    refusal,
    stage_of,
    step,
    strengthen,
)

DAY = dt.date(2025, 6, 1)
ALL_CLEAR = Facts(waiting_for=(), income=Decimal(1), satisfaction=True, agreement_version=1)

# -- the pipeline ------------------------------------------------------------------------
ORDER = [
    "lead",
    "qualified",
    "swarming",
    "agreed",
    "delivering",
    "delivered",
    "accepted",
    "paid",
    "reviewed",
]


def test_the_happy_path_is_the_issue_order_and_nothing_else_moves_forward() -> None:
    stage = "lead"
    for target in ORDER[1:]:
        stage = advance("o", stage, target, ALL_CLEAR)
        assert stage == target
    # From each stage, the only forward move is the next one; no skipping, no going back.
    for i, here in enumerate(ORDER[:-1]):
        forward = [s for s in next_stages(here) if s in ORDER]
        assert forward == [ORDER[i + 1]]


def test_lost_only_before_agreement_cancelled_before_payment_finals_are_final() -> None:
    for here in ORDER:
        nxt = next_stages(here)
        assert ("lost" in nxt) == (here in ("lead", "qualified", "swarming"))
        assert ("cancelled" in nxt) == (ORDER.index(here) < ORDER.index("paid"))
    for final in ("reviewed", "lost", "cancelled"):
        assert next_stages(final) == []
        assert "final stage" in (refusal("o", final, "lead", ALL_CLEAR) or "")


@pytest.mark.parametrize(
    ("source", "target", "facts", "says"),
    [
        ("swarming", "agreed", Facts(), "has no agreement yet"),
        (
            "swarming",
            "agreed",
            Facts(waiting_for=("ana", "bo"), agreement_version=2),
            "consent to version 2 of the agreement; still waiting for ana, bo",
        ),
        ("delivered", "accepted", Facts(), "needs the client's satisfaction record"),
        ("accepted", "paid", Facts(income=Decimal(0)), "paid needs an income event"),
        ("lead", "paid", ALL_CLEAR, "from lead it can go to qualified, lost, cancelled, not paid"),
        ("lead", "won", ALL_CLEAR, "'won' is not a stage"),
    ],
)
def test_each_guard_refuses_with_its_reason(
    source: str, target: str, facts: Facts, says: str
) -> None:
    with pytest.raises(Refused, match=says.replace("(", r"\(").replace(")", r"\)")):
        advance("o", source, target, facts)


def test_a_stage_from_a_crm_reads_as_lead() -> None:
    assert stage_of("proposal") == "lead" and stage_of(None) == "lead"
    assert stage_of("delivering") == "delivering"
    assert set(STAGES) >= set(ORDER)


# -- commitments: Singh's lifecycle against a table written out here ---------------------
# (state, operation) -> next state; operations absent from the table are refused.
SINGH = {
    ("conditional", "detach"): "detached",
    ("conditional", "discharge"): "discharged",
    ("detached", "discharge"): "discharged",
    ("detached", "violate"): "violated",
    ("conditional", "expire"): "expired",
    ("conditional", "cancel"): "cancelled",
    ("detached", "cancel"): "violated",
    ("conditional", "release"): "released",
    ("detached", "release"): "released",
    ("conditional", "delegate"): "conditional",
    ("detached", "delegate"): "detached",
    ("conditional", "assign"): "conditional",
    ("detached", "assign"): "detached",
}
ACTOR = {
    "detach": "creditor",
    "discharge": "creditor",
    "violate": "someone",
    "expire": "someone",
    "cancel": "debtor",
    "release": "creditor",
    "delegate": "debtor",
    "assign": "creditor",
}


def _c(state: str = "conditional", due: dt.date | None = dt.date(2025, 5, 1)) -> Commitment:
    return Commitment(1, "debtor", "creditor", "paid", "the report", state=state, due=due)


@pytest.mark.parametrize(("state", "op"), list(itertools.product(COMMITMENT_STATES, OPERATIONS)))
def test_every_state_and_operation_follows_the_table(state: str, op: str) -> None:
    c = _c(state)
    party = {"delegate": "new-debtor", "assign": "new-creditor"}.get(op)
    expected = SINGH.get((state, op))
    if expected is None:
        with pytest.raises(Refused, match=f"C1 is {state}: it cannot {op}"):
            apply(c, op, ACTOR[op], DAY, party)
        return
    after = apply(c, op, ACTOR[op], DAY, party)
    assert after.state == expected
    assert after.debtor == ("new-debtor" if op == "delegate" else "debtor")
    assert after.creditor == ("new-creditor" if op == "assign" else "creditor")


@given(
    ops=st.lists(st.sampled_from(OPERATIONS), max_size=8),
    antecedent=st.sampled_from(["true", "the data arrives"]),
)
def test_any_sequence_of_operations_matches_the_table(ops: list[str], antecedent: str) -> None:
    c = create(1, "debtor", "creditor", antecedent, "x", due=dt.date(2025, 5, 1))
    expected = "detached" if antecedent == "true" else "conditional"
    assert c.state == expected
    for op in ops:
        party = {"delegate": "debtor2", "assign": "creditor2"}.get(op)
        actor = {"debtor": c.debtor, "creditor": c.creditor}.get(ACTOR[op], "someone")
        nxt = SINGH.get((c.state, op))
        if nxt is None:
            with pytest.raises(Refused):
                apply(c, op, actor, DAY, party)
            continue
        c = apply(c, op, actor, DAY, party)
        assert c.state == nxt
        if op == "delegate":
            c = apply(c, "delegate", c.debtor, DAY, "debtor")  # and back
        if op == "assign":
            c = apply(c, "assign", c.creditor, DAY, "creditor")
        assert c.state == nxt


@pytest.mark.parametrize(
    ("op", "actor", "says"),
    [
        ("cancel", "creditor", "cancel of C1 is for debtor (the debtor), not creditor"),
        ("release", "debtor", "release of C1 is for creditor (the creditor), not debtor"),
        ("discharge", "debtor", "discharge of C1 is for creditor (the creditor), not debtor"),
        ("delegate", "creditor", "delegate of C1 is for debtor"),
        ("detach", "outsider", "detach of C1 is for debtor or creditor"),
    ],
)
def test_only_the_right_party_may(op: str, actor: str, says: str) -> None:
    with pytest.raises(Refused, match=says.replace("(", r"\(").replace(")", r"\)")):
        apply(_c(), op, actor, DAY, "someone-else")


def test_violation_and_expiry_wait_for_the_due_date() -> None:
    with pytest.raises(Refused, match="is due 2025-06-01: it can violate only once"):
        apply(_c("detached", DAY), "violate", "x", DAY)
    with pytest.raises(Refused, match="has no due date"):
        apply(_c("conditional", None), "expire", "x", DAY)
    assert apply(_c("detached", DAY), "violate", "x", DAY + dt.timedelta(1)).state == "violated"


def test_delegate_and_assign_refuse_nonsense() -> None:
    with pytest.raises(Refused, match="needs the new debtor"):
        apply(_c(), "delegate", "debtor", DAY, None)
    with pytest.raises(Refused, match="creditor cannot owe a commitment to themself"):
        apply(_c(), "delegate", "debtor", DAY, "creditor")
    with pytest.raises(Refused, match="is already its creditor"):
        apply(_c(), "assign", "creditor", DAY, "creditor")
    with pytest.raises(Refused, match="cannot owe a commitment to themself"):
        create(1, "ana", "ana", "true", "x")
    with pytest.raises(Refused, match="hours per week"):
        create(1, "ana", "bo", "true", "x", hours_per_week=200.0)


def test_overdue_is_active_and_past_due() -> None:
    assert _c("detached").overdue(DAY)
    assert not _c("discharged").overdue(DAY)
    assert not _c("detached", DAY).overdue(DAY)


# -- protocol templates ----------------------------------------------------------------
def test_the_request_protocol_in_order_and_its_effects() -> None:
    t = TEMPLATES["request"]
    talk = [
        ("", "request", "requester", None),
        ("request", "offer", "provider", "create"),
        ("offer", "accept", "requester", "detach"),
        ("accept", "deliver", "provider", None),
        ("deliver", "acknowledge", "requester", "discharge"),
    ]
    for last, message, side, effect in talk:
        assert step(t, last, message, side).effect == effect
    assert step(t, "deliver", "acknowledge", "requester").final


@pytest.mark.parametrize(
    ("template", "last", "message", "side", "says"),
    [
        (
            "request",
            "",
            "offer",
            "provider",
            "offer is out of order in a request conversation: first comes request",
        ),
        ("request", "offer", "deliver", "provider", "after offer comes accept or reject"),
        (
            "request",
            "acknowledge",
            "deliver",
            "provider",
            "the request conversation ended with acknowledge",
        ),
        (
            "request",
            "request",
            "offer",
            "requester",
            "offer is sent by the provider, not the requester",
        ),
        ("offer", "", "request", "requester", "'request' is not a message of the offer template"),
    ],
)
def test_messages_out_of_order_are_refused(
    template: str, last: str, message: str, side: str, says: str
) -> None:
    with pytest.raises(Refused, match=says):
        step(TEMPLATES[template], last, message, side)


# -- agreements ------------------------------------------------------------------------
def test_an_agreement_knows_its_parties_and_refuses_strangers_in_promises() -> None:
    a = Agreement(client="coop", swarm=("ana", "bo"), orchestrator="hub")
    assert a.parties == ("ana", "bo", "coop", "hub")
    with pytest.raises(ValueError) as info:
        Agreement.model_validate(
            {
                "client": "ana",
                "swarm": ["ana", "bo"],
                "roles": {"zed": "lead"},
                "promises": [{"debtor": "zed", "creditor": "bo", "consequent": "x"}],
            }
        )
    text = str(info.value)
    for says in (
        "the client ana is also in the swarm",
        "roles: zed is not in the swarm",
        "promise 1: debtor zed is not a party",
    ):
        assert says in text


# -- the loop ------------------------------------------------------------------------------
def test_strengthening_worked_by_hand() -> None:
    assert strengthen(None, 1) == 0.25  # 1 - 1 * 0.75
    assert strengthen(0.6, 2) == 0.775  # 1 - 0.4 * 0.5625
    assert strengthen(0.3, 0) == 0.3


@given(
    w=st.floats(0, 1),
    k=st.integers(0, 20),
    more=st.integers(0, 5),
)
def test_strengthening_never_weakens_never_exceeds_one_and_grows_with_kept(
    w: float, k: int, more: int
) -> None:
    after = strengthen(w, k)
    assert w - 1e-6 <= after <= 1.0
    assert strengthen(w, k + more) >= after - 1e-12


def test_planned_against_actual_and_satisfaction() -> None:
    kept = Commitment(1, "ana", "coop", "true", "platform", "discharged", value=Decimal(100))
    broke = Commitment(2, "bo", "ana", "true", "feed", "violated")
    flows = planned_against_actual(
        [kept, broke], "coop", Decimal(500), Decimal(300), [("ana", Decimal(200))]
    )
    rows = [(f.source, f.target, f.planned, f.actual, f.status) for f in flows]
    assert rows == [
        ("ana", "coop", Decimal(100), Decimal(100), "kept"),
        ("bo", "ana", None, None, "broken"),
        ("coop", "swarm", Decimal(500), Decimal(300), "open"),
        ("coop", "ana", None, Decimal(200), "unplanned"),
    ]
    assert kept_pairs([kept, broke]) == {("ana", "coop"): 1}
    assert [perceived_value(s) for s in (0, 5, 10)] == [-5, 0, 5]
    with pytest.raises(ValueError, match="expected 0 to 10"):
        perceived_value(11)
