"""``glia opportunity``, ``glia agreement``, ``glia commitment``, ``glia conversation``:
the engagement, from a lead to a reviewed opportunity.

Each command calls one method of :class:`~glia.store.Store`. A rule that says
no (a guard of the pipeline, an operation by the wrong party, a message out of
protocol order) is printed and the command exits with code 1, having changed
nothing; input the user can fix (an unknown ecosystem, a bad date, a file that
does not read) exits with code 2.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from ..engage import STAGES, TEMPLATES, Agreement, Commitment, Refused
from ..model import Need, Opportunity
from ..store import (
    Conversation,
    EquationError,
    OpportunityState,
    Store,
    StoredAgreement,
    UnknownEcosystem,
)
from ._common import WorkspaceOption, console, fail
from .ledger import ByOption, Format, NameArgument

__all__ = ["EXIT_REFUSED", "commitment_json", "register"]

#: Exit code when a rule of the engagement refuses the command (nothing changed).
EXIT_REFUSED = 1

opportunity_app = typer.Typer(
    name="opportunity",
    help="The pipeline of client opportunities: lead, qualified, swarming, agreed, "
    "delivering, delivered, accepted, paid, reviewed (or lost, cancelled).\n\n"
    "Example: glia opportunity advance Northbridge coop-traceability qualified --by ben",
    no_args_is_help=True,
)
agreement_app = typer.Typer(
    name="agreement",
    help="Agreements for results: roles, promises, value equation, each party's consent; "
    "versioned.\n\n"
    "Example: glia agreement draft Northbridge coop-traceability agreement.yaml --by ben",
    no_args_is_help=True,
)
commitment_app = typer.Typer(
    name="commitment",
    help="Commitments C(debtor, creditor, antecedent, consequent) and their operations.\n\n"
    "Example: glia commitment discharge Northbridge 3 --by eastvale-coop",
    no_args_is_help=True,
)
conversation_app = typer.Typer(
    name="conversation",
    help="Conversations on a protocol template (request, offer): each message in its turn.\n\n"
    "Example: glia conversation send Northbridge 1 offer --by hugo",
    no_args_is_help=True,
)

IdArgument = Annotated[str, typer.Argument(help="The opportunity's id.")]
NumberArgument = Annotated[str, typer.Argument(help="The commitment's number (3 or C3).")]
ConversationArgument = Annotated[int, typer.Argument(help="The conversation's number.")]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table or json.")]
NoteOption = Annotated[str | None, typer.Option("--note", help="Why, in words.")]
TodayOption = Annotated[
    str | None,
    typer.Option("--today", help="The day to judge due dates by, YYYY-MM-DD (default: today)."),
]


# -- parsing and errors ------------------------------------------------------------------
def _fail(message: str, code: int = 2) -> NoReturn:
    fail(escape(message), code)


def _refused(exc: Exception) -> NoReturn:
    """A refusal of the rules exits 1, an unknown ecosystem 2; nothing changed."""
    if isinstance(exc, UnknownEcosystem):
        _fail(str(exc))
    _fail(str(exc), EXIT_REFUSED)


#: What the store raises for a user: the rules' refusals, unknown names, equations.
ERRORS = (Refused, UnknownEcosystem, EquationError)


def _date(option: str, text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        _fail(f"{option} {text!r}: expected a date YYYY-MM-DD")


def _decimal(option: str, text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        _fail(f"{option} {text!r}: expected a decimal number such as 7.5")
    return value


def _number(text: str) -> int:
    digits = text.strip().removeprefix("C").removeprefix("c")
    if not digits.isdigit():
        _fail(f"commitment {text!r}: expected its number, e.g. 3 or C3")
    return int(digits)


def _problems(source: str, what: str, exc: ValidationError) -> NoReturn:
    """Every problem pydantic found, by field path (promises.2.due)."""
    errors = exc.errors()
    lines = [f"{source}: {len(errors)} problem{'s' if len(errors) != 1 else ''} in the {what}"]
    for e in errors:
        where = ".".join(str(x) for x in e["loc"]) or "(top)"
        lines.append(f"  {where}: {e['msg']}")
    _fail("\n".join(lines))


def _say(text: str) -> None:
    console.print(text, highlight=False, markup=False, soft_wrap=True)


def _echo_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _cell(value: object) -> str:
    return "" if value is None else escape(str(value))


# -- opportunities --------------------------------------------------------------------------
def _state_line(state: OpportunityState) -> str:
    nxt = ", ".join(state.next) or "nothing (final)"
    return f"{state.id} is {state.stage}; next: {nxt}"


@opportunity_app.command("create")
def opportunity_create(
    name: NameArgument,
    id: Annotated[str, typer.Argument(help="The new opportunity's id (a slug).")],
    client: Annotated[str, typer.Option("--client", help="The client participant's id.")],
    by: ByOption,
    title: Annotated[str | None, typer.Option("--name", help="A name in words.")] = None,
    need: Annotated[
        list[str] | None,
        typer.Option("--need", help="CAP:LEVEL[:COUNT], e.g. data-engineering:4:2 (repeat)."),
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="The region's id.")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="The budget, e.g. 80000.")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="e.g. EUR.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="YYYY-MM-DD.")] = None,
    why: Annotated[str | None, typer.Option("--why", help="Where it came from.")] = None,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """Add a client opportunity to the map, at lead.

    Example: glia opportunity create Northbridge harbour-cold-chain --client verdant-farms
    --need iot-sensors:3 --need food-safety:3 --budget 40000 --currency EUR --by ben
    """
    from ..swarm import RequestError
    from ..swarm._request import parse_need

    needs: list[Need] = []
    for text in need or []:
        try:
            needs.append(parse_need(text))
        except RequestError as exc:
            _fail(str(exc))
    fields: dict[str, Any] = {
        "id": id,
        "name": title,
        "client": client,
        "needs": tuple(needs),
        "region": region,
        "budget": _decimal("--budget", budget),
        "currency": currency,
        "start": _date("--start", start),
        "end": _date("--end", end),
    }
    try:
        record = Opportunity.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        _problems(f"opportunity {id}", "opportunity", exc)
    with Store.open(workspace=workspace) as store:
        try:
            state = store.create_opportunity(name, record, by, why)
        except ERRORS as exc:
            _refused(exc)
    if format is Format.json:
        _echo_json(state.to_json())
        return
    _say(f"Created {state.id} for {state.client} in {name}. {_state_line(state)}")


@opportunity_app.command("advance")
def opportunity_advance(
    name: NameArgument,
    id: IdArgument,
    stage: Annotated[str, typer.Argument(help=f"The stage to reach: {', '.join(STAGES)}.")],
    by: ByOption,
    why: Annotated[str | None, typer.Option("--why", help="Why, in words.")] = None,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """Move an opportunity to its next stage, if the stage's guard allows it.

    agreed needs every party's consent to the latest agreement; accepted the
    client's satisfaction; paid an income event in the ledger. A refusal says
    why, changes nothing and exits with code 1.

    Example: glia opportunity advance Northbridge coop-traceability agreed --by ben
    """
    with Store.open(workspace=workspace) as store:
        try:
            before = store.opportunity(name, id).stage
            state = store.advance(name, id, stage, by, why)
        except ERRORS as exc:
            _refused(exc)
    if format is Format.json:
        _echo_json(state.to_json())
        return
    _say(f"{state.id}: {before} -> {state.stage} (by {by}). Next: {', '.join(state.next) or '-'}")
    if state.stage == "agreed":
        _say(
            f"The agreement's promises are commitments now: glia commitment list {name} "
            f"--opportunity {id}"
        )
    if state.stage == "reviewed":
        _say(f"The loop is closed: glia opportunity loop {name} {id}")


@opportunity_app.command("show")
def opportunity_show(
    name: NameArgument,
    id: IdArgument,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """Where an opportunity stands: stage, next stages, what its guards see, team, history.

    Example: glia opportunity show Northbridge coop-traceability --format json
    """
    with Store.open(workspace=workspace) as store:
        try:
            state = store.opportunity(name, id)
        except ERRORS as exc:
            _refused(exc)
    if format is Format.json:
        _echo_json(state.to_json())
        return
    facts = state.facts
    title = f" ({state.name})" if state.name else ""
    budget = f", budget {_plain(state.budget)} {state.currency or ''}" if state.budget else ""
    _say(f"{state.id}{title}, client {state.client}{budget.rstrip()}")
    _say(_state_line(state))
    if facts.waiting_for is None:
        agreed = "no agreement yet"
    elif facts.waiting_for:
        agreed = (
            f"agreement version {facts.agreement_version}, waiting for "
            f"{', '.join(facts.waiting_for)}"
        )
    else:
        agreed = f"agreement version {facts.agreement_version}, every party consented"
    cur = f" {state.currency}" if state.currency else ""
    score = "not recorded" if state.satisfaction is None else f"{state.satisfaction}/10"
    _say(f"guards: {agreed}; income received {_plain(facts.income)}{cur}; satisfaction {score}")
    if state.team:
        team = Table("member", "role", title="Team", title_justify="left")
        for who, role in state.team.items():
            team.add_row(_cell(who), _cell(role))
        console.print(team)
    history = Table("at", "from", "to", "by", "why", title="History", title_justify="left")
    for t in state.history:
        history.add_row(
            f"{t.at:%Y-%m-%d %H:%M}", t.source or "-", t.target, _cell(t.actor), _cell(t.why)
        )
    console.print(history)


@opportunity_app.command("list")
def opportunity_list(
    name: NameArgument,
    stage: Annotated[str | None, typer.Option("--stage", help="Only this stage.")] = None,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """Every opportunity, by stage in pipeline order.

    Example: glia opportunity list Northbridge --stage lead
    """
    if stage is not None and stage not in STAGES:
        _fail(f"--stage {stage!r}: the stages are {', '.join(STAGES)}")
    with Store.open(workspace=workspace) as store:
        try:
            rows = store.opportunities(name)
        except ERRORS as exc:
            _refused(exc)
    rows = sorted(
        (r for r in rows if stage is None or r[2] == stage),
        key=lambda r: (STAGES.index(r[2]), r[0]),
    )
    if format is Format.json:
        _echo_json([{"id": i, "name": n, "stage": s} for i, n, s in rows])
        return
    if not rows:
        which = f" at {stage}" if stage else ""
        _say(f"No opportunities in {name}{which}.")
        return
    table = Table("stage", "opportunity", "name", title=f"Opportunities of {name}")
    for i, n, s in rows:
        table.add_row(s, _cell(i), _cell(n))
    console.print(table)


@opportunity_app.command("team")
def opportunity_team(
    name: NameArgument,
    id: IdArgument,
    members: Annotated[
        list[str], typer.Argument(help="MEMBER or MEMBER:ROLE, e.g. hugo:'data lead'.")
    ],
    by: ByOption,
    workspace: WorkspaceOption = None,
) -> None:
    """Set the swarm picked for an opportunity (before its agreement names it).

    Example: glia opportunity team Northbridge coop-traceability hugo:"data lead" grace priya
    --by ben
    """
    picked: dict[str, str | None] = {}
    for text in members:
        who, _, role = text.partition(":")
        if not who.strip():
            _fail(f"member {text!r}: expected MEMBER or MEMBER:ROLE")
        picked[who.strip()] = role.strip() or None
    with Store.open(workspace=workspace) as store:
        try:
            team = store.pick_team(name, id, picked, by)
        except ERRORS as exc:
            _refused(exc)
    listed = ", ".join(f"{w} ({r})" if r else w for w, r in team.items())
    _say(f"Team of {id}: {listed}")


@opportunity_app.command("satisfaction")
def opportunity_satisfaction(
    name: NameArgument,
    id: IdArgument,
    score: Annotated[int, typer.Argument(help="The client's score, 0 to 10.")],
    by: ByOption,
    note: NoteOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Record the client's satisfaction with a delivered opportunity (0 to 10).

    Example: glia opportunity satisfaction Northbridge coop-traceability 9 --by eastvale-coop
    """
    with Store.open(workspace=workspace) as store:
        try:
            store.record_satisfaction(name, id, score, by, note)
        except ERRORS as exc:
            _refused(exc)
    _say(f"Recorded the client's satisfaction with {id}: {score}/10 (by {by})")


@opportunity_app.command("loop")
def opportunity_loop(
    name: NameArgument,
    id: IdArgument,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """What reviewing an opportunity taught the map: ties strengthened by kept
    commitments, and planned against actual flows.

    Example: glia opportunity loop Northbridge coop-traceability
    """
    with Store.open(workspace=workspace) as store:
        try:
            state = store.opportunity(name, id)
            done = store.loop(name, id)
        except ERRORS as exc:
            _refused(exc)
    payload: dict[str, Any] | None = None
    if done is not None:
        payload = {
            "opportunity": id,
            "ties": done.get("ties", []),
            "flows": done.get("flows", []),
            "satisfaction": done.get("satisfaction"),
        }
    if format is Format.json:
        _echo_json(payload)
        return
    if payload is None:
        _say(f"{id} is {state.stage}: the loop closes when it is reviewed.")
        return
    score = payload["satisfaction"]
    _say(f"Closing the loop of {id}: satisfaction {'-' if score is None else f'{score}/10'}")
    ties = Table("between", "kept", "before", "after", title="Ties", title_justify="left")
    for t in payload["ties"]:
        before = "-" if t["before"] is None else f"{t['before']:.4g}"
        ties.add_row(" - ".join(t["between"]), str(t["kept"]), before, f"{t['after']:.4g}")
    console.print(ties)
    flows = Table(
        "from", "to", "deliverable", "type", "planned", "actual", "status", "commitment",
        title="Planned against actual", title_justify="left",
    )  # fmt: skip
    for f in payload["flows"]:
        flows.add_row(
            _cell(f["from"]), _cell(f["to"]), _cell(f["deliverable"]), f["type"],
            _cell(f["planned"]), _cell(f["actual"]), f["status"],
            "" if f["commitment"] is None else f"C{f['commitment']}",
        )  # fmt: skip
    console.print(flows)


# -- agreements ------------------------------------------------------------------------------
def read_agreement(path: Path, equation: Path | None = None) -> Agreement:
    """An agreement from a YAML or JSON file (and an equation file), or every problem
    by field path and exit 2."""
    from .distribution import read_equation

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"{path}: cannot read it ({exc.strerror})")
    except yaml.YAMLError as exc:
        _fail(f"{path}: not valid YAML ({exc})")
    if not isinstance(data, dict):
        _fail(f"{path}: expected a mapping with client, swarm, promises, ...")
    if equation is not None:
        if "equation" in data:
            _fail(f"{path} has an equation already: leave it out, or drop --equation")
        data["equation"] = read_equation(equation)
    try:
        return Agreement.model_validate(data)
    except ValidationError as exc:
        _problems(str(path), "agreement", exc)


@agreement_app.command("draft")
def agreement_draft(
    name: NameArgument,
    id: IdArgument,
    file: Annotated[Path, typer.Argument(help="The agreement, YAML or JSON.")],
    by: ByOption,
    equation: Annotated[
        Path | None,
        typer.Option("--equation", help="Its value equation, YAML (if the file has none)."),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Record the next version of an opportunity's agreement for results.

    Its value equation becomes the opportunity's next equation version, which
    every party consents to by consenting to the agreement.

    Example: glia agreement draft Northbridge coop-traceability
    examples/agreements/coop-traceability.yaml --equation
    examples/equations/coop-traceability.yaml --by ben
    """
    draft = read_agreement(file, equation)
    with Store.open(workspace=workspace) as store:
        try:
            stored = store.draft_agreement(name, id, draft, by)
        except ERRORS as exc:
            _refused(exc)
    eq = f" with value equation v{stored.equation_version}" if stored.equation_version else ""
    _say(
        f"Drafted version {stored.version} of the agreement for {id}{eq}; waiting for the "
        f"consent of {', '.join(stored.waiting_for)}"
    )


@agreement_app.command("consent")
def agreement_consent(
    name: NameArgument,
    id: IdArgument,
    party: Annotated[str, typer.Argument(help="The party who consents.")],
    by: Annotated[
        str | None, typer.Option("--by", help="Who records it (default: the party).")
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", help="The version (default: the latest).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Record a party's consent to the agreement, and so to its value equation.

    Example: glia agreement consent Northbridge coop-traceability hugo
    """
    with Store.open(workspace=workspace) as store:
        try:
            stored = store.consent_agreement(name, id, party, by, version)
        except ERRORS as exc:
            _refused(exc)
    eq = f" and its value equation v{stored.equation_version}" if stored.equation_version else ""
    if stored.waiting_for:
        more = f"; still waiting for {', '.join(stored.waiting_for)}"
    else:
        more = f"; every party has consented (glia opportunity advance {name} {id} agreed)"
    _say(f"{party} consented to version {stored.version} of the agreement for {id}{eq}{more}")


def _agreement_tables(s: StoredAgreement) -> None:
    a = s.agreement
    eq = f", value equation v{s.equation_version}" if s.equation_version else ""
    _say(f"Version {s.version}, drafted by {s.drafted_by} on {s.drafted_at:%Y-%m-%d}{eq}")
    for label, text in (("intent", a.intent), ("vision", a.vision)):
        if text:
            _say(f"  {label}: {text}")
    money = f"{_plain(a.budget)} {a.currency or ''}".rstrip() if a.budget is not None else None
    when = " to ".join(str(d) for d in (a.start, a.end) if d)
    details = [f"budget {money}" if money else "", when]
    if any(details):
        _say("  " + "; ".join(d for d in details if d))
    parties = Table("party", "as", "consented", title="Parties", title_justify="left")
    for party in a.parties:
        if party == a.client:
            role = "client"
        elif party == a.orchestrator and party not in a.swarm:
            role = "orchestrator"
        else:
            role = a.roles.get(party, "member")
        given = s.consents.get(party)
        parties.add_row(
            _cell(party), _cell(role), f"{given:%Y-%m-%d %H:%M}" if given else "waiting"
        )
    console.print(parties)
    if a.promises:
        promises = Table(title="Promises", title_justify="left")
        for column in ("#", "debtor", "creditor", "consequent", "due", "h/week", "value"):
            promises.add_column(column, no_wrap=column in ("#", "due", "value"))
        for i, p in enumerate(a.promises, 1):
            cur = p.currency or a.currency or ""
            value = f"{_plain(p.value)} {cur}".rstrip() if p.value is not None else ""
            promises.add_row(
                str(i), _cell(p.debtor), _cell(p.creditor),
                _cell(_what(p.consequent, p.antecedent)), _cell(p.due),
                f"{p.hours_per_week:g}" if p.hours_per_week else "", value,
            )  # fmt: skip
        console.print(promises)
    for label, items in (
        ("satisfaction", [a.satisfaction] if a.satisfaction else []),
        ("concerns", list(a.concerns)),
        ("renegotiate when", list(a.renegotiate_when)),
        ("consequences", [a.consequences] if a.consequences else []),
        ("at an impasse", [a.impasse] if a.impasse else []),
    ):
        for item in items:
            _say(f"  {label}: {item}")


@agreement_app.command("show")
def agreement_show(
    name: NameArgument,
    id: IdArgument,
    version: Annotated[
        int | None, typer.Option("--version", help="Only this version (default: every one).")
    ] = None,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """Every version of an opportunity's agreement, its consents and who is still waited for.

    Example: glia agreement show Northbridge coop-traceability --format json
    """
    with Store.open(workspace=workspace) as store:
        try:
            versions = store.agreements(name, id)
        except ERRORS as exc:
            _refused(exc)
    if version is not None:
        versions = [v for v in versions if v.version == version]
        if not versions:
            _fail(f"no version {version} of the agreement for {id}")
    if format is Format.json:
        _echo_json([v.to_json() for v in versions])
        return
    if not versions:
        _say(f"{id} has no agreement yet (glia agreement draft).")
        return
    for v in versions:
        _agreement_tables(v)


# -- commitments -----------------------------------------------------------------------------
def commitment_json(c: Commitment, today: dt.date | None = None) -> dict[str, Any]:
    """A commitment as JSON: decimals as text, dates ISO 8601."""
    return {
        "number": c.number,
        "debtor": c.debtor,
        "creditor": c.creditor,
        "antecedent": c.antecedent,
        "consequent": c.consequent,
        "state": c.state,
        "due": None if c.due is None else c.due.isoformat(),
        "overdue": c.overdue(today or dt.date.today()),
        "opportunity": c.opportunity,
        "hours_per_week": c.hours_per_week,
        "value": _plain(c.value),
        "currency": c.currency,
        "agreement_version": c.agreement_version,
    }


@commitment_app.command("create")
def commitment_create(
    name: NameArgument,
    debtor: Annotated[str, typer.Option("--debtor", help="Who promises.")],
    creditor: Annotated[str, typer.Option("--creditor", help="To whom.")],
    consequent: Annotated[str, typer.Option("--consequent", help="What the debtor brings about.")],
    antecedent: Annotated[
        str, typer.Option("--antecedent", help="On what condition (true: none).")
    ] = "true",
    due: Annotated[str | None, typer.Option("--due", help="By when, YYYY-MM-DD.")] = None,
    opportunity: Annotated[
        str | None, typer.Option("--opportunity", help="The opportunity it serves.")
    ] = None,
    hours: Annotated[
        float, typer.Option("--hours", help="Hours per week it takes the debtor.")
    ] = 0.0,
    value: Annotated[str | None, typer.Option("--value", help="What it is worth.")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="e.g. EUR.")] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who records it (the debtor, the default).")
    ] = None,
    note: NoteOption = None,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """Record a commitment: the debtor owes the creditor the consequent (if the antecedent).

    Example: glia commitment create Northbridge --debtor hugo --creditor ben
    --consequent "data model reviewed" --due 2025-05-15 --hours 2
    """
    day = _date("--due", due)
    amount = _decimal("--value", value)
    with Store.open(workspace=workspace) as store:
        try:
            c = store.create_commitment(
                name, debtor, creditor, consequent, by=by, antecedent=antecedent, due=day,
                opportunity=opportunity, hours_per_week=hours, value=amount, currency=currency,
                note=note,
            )  # fmt: skip
        except ERRORS as exc:
            _refused(exc)
    if format is Format.json:
        _echo_json(commitment_json(c))
        return
    _say(f"Created {c.describe()}")


def _operate(
    name: str,
    text: str,
    op: str,
    by: str,
    party: str | None,
    note: str | None,
    today: str | None,
    workspace: Path | None,
) -> None:
    number = _number(text)
    day = _date("--today", today)
    with Store.open(workspace=workspace) as store:
        try:
            c = store.operate(name, number, op, by, party, note, day)
        except ERRORS as exc:
            _refused(exc)
    _say(f"{op} by {by}: {c.describe()}")


_WHO = {
    "detach": "the antecedent holds: the debtor now owes the consequent (debtor or creditor)",
    "discharge": "the consequent was brought about (the creditor)",
    "violate": "detached and past its due date without discharge (anyone)",
    "expire": "the antecedent never held before the due date (anyone)",
    "cancel": "withdrawn by the debtor; once detached, that violates it",
    "release": "the creditor lets the debtor off",
}


def _state_command(op: str) -> Callable[..., None]:
    def command(
        name: NameArgument,
        number: NumberArgument,
        by: ByOption,
        note: NoteOption = None,
        today: TodayOption = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        _operate(name, number, op, by, None, note, today, workspace)

    command.__doc__ = (
        f"{op.capitalize()} a commitment: {_WHO[op]}.\n\n"
        f"Example: glia commitment {op} Northbridge 3 --by ben"
    )
    command.__name__ = f"commitment_{op}"
    return command


for _op in _WHO:
    commitment_app.command(_op)(_state_command(_op))


@commitment_app.command("delegate")
def commitment_delegate(
    name: NameArgument,
    number: NumberArgument,
    new_debtor: Annotated[str, typer.Argument(help="Who owes it from now on.")],
    by: ByOption,
    note: NoteOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Hand a commitment to a new debtor (the debtor does it); its state stays.

    Example: glia commitment delegate Northbridge 3 ana --by hugo
    """
    _operate(name, number, "delegate", by, new_debtor, note, None, workspace)


@commitment_app.command("assign")
def commitment_assign(
    name: NameArgument,
    number: NumberArgument,
    new_creditor: Annotated[str, typer.Argument(help="Who is owed it from now on.")],
    by: ByOption,
    note: NoteOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Give a commitment a new creditor (the creditor does it); its state stays.

    Example: glia commitment assign Northbridge 3 nrda --by ben
    """
    _operate(name, number, "assign", by, new_creditor, note, None, workspace)


def _what(consequent: str, antecedent: str) -> str:
    """The consequent, with its condition when there is one."""
    return consequent if antecedent.lower() in ("true", "") else f"{consequent} (if {antecedent})"


def _commitments_table(title: str, rows: list[Commitment], today: dt.date) -> None:
    hours = any(c.hours_per_week for c in rows)
    values = any(c.value is not None for c in rows)
    several = len({c.opportunity for c in rows}) > 1
    table = Table(title=title, title_justify="left")
    table.add_column("#", no_wrap=True)
    table.add_column("debtor -> creditor")
    table.add_column("consequent")
    table.add_column("state")
    table.add_column("due", no_wrap=True)
    for column, shown in (("h/week", hours), ("value", values), ("opportunity", several)):
        if shown:
            table.add_column(column)
    for c in rows:
        cells = [
            f"C{c.number}",
            _cell(f"{c.debtor} -> {c.creditor}"),
            _cell(_what(c.consequent, c.antecedent)),
            c.state + (" overdue" if c.overdue(today) else ""),
            _cell(c.due),
        ]
        if hours:
            cells.append(f"{c.hours_per_week:g}" if c.hours_per_week else "")
        if values:
            cells.append(f"{_plain(c.value)} {c.currency or ''}".rstrip() if c.value else "")
        if several:
            cells.append(_cell(c.opportunity))
        table.add_row(*cells)
    console.print(table)


@commitment_app.command("list")
def commitment_list(
    name: NameArgument,
    opportunity: Annotated[
        str | None, typer.Option("--opportunity", help="Only this opportunity's.")
    ] = None,
    state: Annotated[str | None, typer.Option("--state", help="Only in this state.")] = None,
    debtor: Annotated[str | None, typer.Option("--debtor", help="Only this debtor's.")] = None,
    creditor: Annotated[str | None, typer.Option("--creditor", help="Only owed to him.")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only active ones past their due date.")
    ] = False,
    today: TodayOption = None,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """Commitments by number, filtered.

    Example: glia commitment list Northbridge --opportunity coop-traceability --overdue
    --today 2025-07-01
    """
    from ..engage import COMMITMENT_STATES

    if state is not None and state not in COMMITMENT_STATES:
        _fail(f"--state {state!r}: the states are {', '.join(COMMITMENT_STATES)}")
    day = _date("--today", today) or dt.date.today()
    with Store.open(workspace=workspace) as store:
        try:
            rows = store.commitments(
                name, opportunity, state, debtor, creditor, day if overdue else None
            )
        except ERRORS as exc:
            _refused(exc)
    if format is Format.json:
        _echo_json([commitment_json(c, day) for c in rows])
        return
    if not rows:
        _say(f"No commitments in {name} match.")
        return
    _commitments_table(f"Commitments of {name}", rows, day)


@commitment_app.command("owes")
def commitment_owes(
    name: NameArgument,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """Who owes whom: active commitments by debtor and creditor.

    Example: glia commitment owes Northbridge
    """
    with Store.open(workspace=workspace) as store:
        try:
            rows = store.owes(name)
        except ERRORS as exc:
            _refused(exc)
    if format is Format.json:
        _echo_json(
            [
                {
                    "debtor": o.debtor,
                    "creditor": o.creditor,
                    "detached": o.detached,
                    "conditional": o.conditional,
                    "value": _plain(o.value),
                    "hours_per_week": o.hours_per_week,
                }
                for o in rows
            ]
        )
        return
    if not rows:
        _say(f"No one in {name} owes anyone an open commitment.")
        return
    table = Table(
        "debtor", "creditor", "detached", "conditional", "value", "h/week",
        title=f"Who owes whom in {name}", title_justify="left",
    )  # fmt: skip
    for o in rows:
        table.add_row(
            _cell(o.debtor), _cell(o.creditor), str(o.detached), str(o.conditional),
            _plain(o.value) if o.value else "", f"{o.hours_per_week:g}",
        )  # fmt: skip
    console.print(table)


@commitment_app.command("sweep")
def commitment_sweep(
    name: NameArgument,
    by: ByOption,
    today: TodayOption = None,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """Violate every detached commitment past its due date, expire every conditional one.

    Example: glia commitment sweep Northbridge --by ben --today 2026-01-15
    """
    day = _date("--today", today)
    with Store.open(workspace=workspace) as store:
        try:
            changed = store.sweep(name, by, day)
        except ERRORS as exc:
            _refused(exc)
    if format is Format.json:
        _echo_json([commitment_json(c, day) for c in changed])
        return
    if not changed:
        _say(f"No active commitment of {name} is past its due date.")
    for c in changed:
        _say(c.describe())


@commitment_app.command("history")
def commitment_history(
    name: NameArgument,
    number: NumberArgument,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """Every operation on a commitment, in order: who, when, from which state to which.

    Example: glia commitment history Northbridge 3
    """
    n = _number(number)
    with Store.open(workspace=workspace) as store:
        try:
            events = store.commitment_history(name, n)
        except ERRORS as exc:
            _refused(exc)
    if format is Format.json:
        _echo_json(events)
        return
    table = Table(
        "at", "operation", "by", "from", "to", "party", "note",
        title=f"C{n} in {name}", title_justify="left",
    )  # fmt: skip
    for e in events:
        at = str(e["at"])[:16].replace("T", " ")
        table.add_row(
            at, *(_cell(e[k]) for k in ("operation", "by", "from", "to", "party", "note"))
        )
    console.print(table)


# -- conversations ---------------------------------------------------------------------------
def _conversation_line(c: Conversation) -> str:
    nxt = " or ".join(c.next) or "nothing: it has ended"
    made = f"; commitment C{c.commitment}" if c.commitment else ""
    return (
        f"Conversation {c.number} ({c.template}): {c.requester} and {c.provider} on "
        f"{c.subject!r}; last {c.last_message or '-'}, next {nxt}{made}"
    )


@conversation_app.command("start")
def conversation_start(
    name: NameArgument,
    template: Annotated[str, typer.Argument(help=f"One of: {', '.join(TEMPLATES)}.")],
    requester: Annotated[str, typer.Option("--requester", help="Who asks (the creditor).")],
    provider: Annotated[str, typer.Option("--provider", help="Who provides (the debtor).")],
    subject: Annotated[str, typer.Option("--subject", help="What is asked or offered.")],
    by: ByOption,
    opportunity: Annotated[
        str | None, typer.Option("--opportunity", help="The opportunity it serves.")
    ] = None,
    due: Annotated[str | None, typer.Option("--due", help="By when, YYYY-MM-DD.")] = None,
    hours: Annotated[
        float, typer.Option("--hours", help="Hours per week the provider would give.")
    ] = 0.0,
    value: Annotated[str | None, typer.Option("--value", help="What it is worth.")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="e.g. EUR.")] = None,
    note: NoteOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Open a conversation with its first message (request: from the requester;
    offer: from the provider).

    Example: glia conversation start Northbridge request --requester ben --provider priya
    --subject "cloud cost review" --by ben
    """
    day = _date("--due", due)
    amount = _decimal("--value", value)
    with Store.open(workspace=workspace) as store:
        try:
            c = store.start_conversation(
                name, template, requester, provider, subject, by=by, opportunity=opportunity,
                due=day, hours_per_week=hours, value=amount, currency=currency, note=note,
            )  # fmt: skip
        except ERRORS as exc:
            _refused(exc)
    _say(_conversation_line(c))


@conversation_app.command("send")
def conversation_send(
    name: NameArgument,
    number: ConversationArgument,
    message: Annotated[str, typer.Argument(help="The message, e.g. offer, accept, deliver.")],
    by: ByOption,
    note: NoteOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Send the next message of a conversation; out of order, it is refused (exit 1).

    Example: glia conversation send Northbridge 1 offer --by priya
    """
    with Store.open(workspace=workspace) as store:
        try:
            c = store.send(name, number, message, by, note)
        except ERRORS as exc:
            _refused(exc)
    _say(_conversation_line(c))


@conversation_app.command("show")
def conversation_show(
    name: NameArgument,
    number: ConversationArgument,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """A conversation: its messages, what may come next, the commitment it made.

    Example: glia conversation show Northbridge 1
    """
    with Store.open(workspace=workspace) as store:
        try:
            c = store.conversation(name, number)
        except ERRORS as exc:
            _refused(exc)
    if format is Format.json:
        _echo_json(c.to_json())
        return
    _say(_conversation_line(c))
    table = Table("#", "message", "from", "note")
    for i, (message, sender, text) in enumerate(c.messages, 1):
        table.add_row(str(i), message, _cell(sender), _cell(text))
    console.print(table)


@conversation_app.command("templates")
def conversation_templates() -> None:
    """The protocol templates: each message, who sends it, what may come before it.

    Example: glia conversation templates
    """
    for t in TEMPLATES.values():
        table = Table(
            "message", "sent by", "after", "on the commitment",
            title=f"{t.name}: {t.description}", title_justify="left",
        )  # fmt: skip
        for s in t.steps:
            after = ", ".join(a or "(start)" for a in s.after)
            table.add_row(s.message, s.sender, after, s.effect or "")
        console.print(table)


def register(parent: typer.Typer) -> None:
    parent.add_typer(opportunity_app, name="opportunity")
    parent.add_typer(agreement_app, name="agreement")
    parent.add_typer(commitment_app, name="commitment")
    parent.add_typer(conversation_app, name="conversation")
