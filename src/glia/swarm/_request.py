"""What a swarm is formed for: the request, the objective's weights, the layer weights.

Parsing of the command line's small languages (``CAP:LEVEL[:COUNT]`` and
``distance=1,cost=0``) lives here too, so that the CLI, the API and a notebook
read them the same way and fail with the same messages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from pydantic import ValidationError

from ..model import Need

__all__ = [
    "DISTRUST",
    "LayerWeights",
    "Request",
    "RequestError",
    "Weights",
    "need_label",
    "parse_need",
    "parse_weights",
]

#: The informal tie type that forbids a pair from working in one team.
DISTRUST = "distrust"


class RequestError(ValueError):
    """A request that cannot be understood: the message says what was expected."""


def need_label(need: Need) -> str:
    """``legal at level 4``, ``data-engineering at level 3 x2``."""
    tail = f" x{need.count}" if need.count > 1 else ""
    return f"{need.capability} at level {need.level}{tail}"


def parse_need(text: str) -> Need:
    """Read ``CAP:LEVEL[:COUNT]`` (``legal:4``, ``data-engineering:3:2``).

    >>> parse_need("data-engineering:3:2")
    Need(capability='data-engineering', level=3, count=2)
    >>> parse_need("legal")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    glia.swarm._request.RequestError: need 'legal': expected CAP:LEVEL[:COUNT], ...
    """
    parts = text.strip().split(":")
    expected = f"need {text!r}: expected CAP:LEVEL[:COUNT], e.g. legal:4 or legal:4:2"
    if len(parts) not in (2, 3) or not parts[0]:
        raise RequestError(expected)
    try:
        numbers = [int(p) for p in parts[1:]]
    except ValueError:
        raise RequestError(expected) from None
    try:
        count = numbers[1] if len(numbers) > 1 else 1
        return Need(capability=parts[0], level=numbers[0], count=count)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field_name = ".".join(map(str, problem["loc"]))
        raise RequestError(f"need {text!r}: {field_name} {problem['msg'].lower()}") from None


@dataclass(frozen=True)
class Weights:
    """The weight of each component of the objective (see :mod:`glia.swarm`).

    ``distance`` multiplies the sum of pairwise working distances, ``cost`` the
    team's cost as a share of the budget, ``load`` the members' load penalty,
    ``bridge`` the bonus of members who bridge clusters (subtracted), ``region``
    the number of members outside a *preferred* region.
    """

    distance: float = 1.0
    cost: float = 0.0
    load: float = 0.0
    bridge: float = 0.0
    region: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise RequestError(
                    f"weight {f.name}={value!r}: expected a finite number, zero or more"
                )


def parse_weights(text: str | Mapping[str, float] | None, base: Weights | None = None) -> Weights:
    """Read ``distance=1,cost=0.5`` (or a mapping) over ``base`` (default weights).

    >>> parse_weights("cost=0.5, load=2")
    Weights(distance=1.0, cost=0.5, load=2.0, bridge=0.0, region=1.0)
    >>> parse_weights("speed=1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    glia.swarm._request.RequestError: weight 'speed': expected one of distance, cost, ...
    """
    base = base or Weights()
    if text is None:
        return base
    names = [f.name for f in fields(Weights)]
    pairs: dict[str, float] = {}
    items: list[tuple[str, object]]
    if isinstance(text, str):
        items = []
        for chunk in filter(None, (c.strip() for c in text.split(","))):
            left, sep, right = chunk.partition("=")
            if not sep:
                raise RequestError(f"weights {chunk!r}: expected NAME=NUMBER, e.g. distance=1")
            items.append((left.strip(), right.strip()))
    else:
        items = list(text.items())
    for name, value in items:
        if name not in names:
            raise RequestError(f"weight {name!r}: expected one of {', '.join(names)}")
        try:
            pairs[name] = float(str(value))
        except ValueError:
            raise RequestError(f"weight {name}={value!r}: expected a number") from None
    return replace(base, **pairs)


@dataclass(frozen=True)
class LayerWeights:
    """How much a tie of each layer counts toward working well together.

    A tie of weight ``w`` on a layer of weight ``lam`` makes collaboration
    effective with probability ``lam * w``; the ties of a pair combine as
    independent chances, ``p = 1 - prod(1 - lam * w)``, and the pair's working
    distance is ``1 / p`` (a perfect tie costs 1, a tie of strength 0.5 costs 2).
    Trust, advice and collaboration live on the informal layer, contracts and
    memberships on the formal one, recorded value exchanges on the exchange layer.
    """

    informal: float = 1.0
    formal: float = 0.5
    exchange: float = 0.25

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (math.isfinite(value) and 0 <= value <= 1):
                raise RequestError(f"layer weight {f.name}={value!r}: expected between 0 and 1")


@dataclass(frozen=True)
class Request:
    """A request for a team. Build one directly or from an opportunity.

    ``region`` with ``region_required`` keeps only people of that region (the
    ``include`` list excepted); otherwise it is a preference, each member
    outside it costing ``weights.region``. ``budget`` caps the team's cost,
    ``rate x hours`` per member. ``capital_needed`` must be covered by the
    available capital of members of capital clusters. ``committed`` gives hours
    per week already promised by participant id; a person is available when
    capacity minus commitments leaves ``weekly_hours``. ``forbidden`` pairs
    never share a team (distrust ties are added to them).
    """

    needs: tuple[Need, ...]
    region: str | None = None
    region_required: bool = False
    budget: float | None = None
    hours: float = 100.0
    capital_needed: float | None = None
    min_size: int = 1
    max_size: int | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    forbidden: tuple[tuple[str, str], ...] = ()
    committed: Mapping[str, float] = field(default_factory=dict)
    weekly_hours: float = 0.0
    opportunity: str | None = None

    def __post_init__(self) -> None:
        if not self.needs and not self.include:
            raise RequestError("a request needs at least one need (CAP:LEVEL[:COUNT])")
        if self.budget is not None and not self.budget > 0:
            raise RequestError(f"budget {self.budget!r}: expected a positive amount")
        if self.capital_needed is not None and self.capital_needed < 0:
            raise RequestError(f"capital {self.capital_needed!r}: expected zero or more")
        if not self.hours >= 0:
            raise RequestError(f"hours {self.hours!r}: expected zero or more")
        if self.region_required and self.region is None:
            raise RequestError("region required, but no region given (--region NAME)")
        if self.min_size < 1:
            raise RequestError(f"minimum team size {self.min_size}: expected at least 1")
        if self.max_size is not None and self.max_size < self.min_size:
            raise RequestError(
                f"maximum team size {self.max_size} is below the minimum {self.min_size}"
            )
        both = set(self.include) & set(self.exclude)
        if both:
            raise RequestError(f"both included and excluded: {', '.join(sorted(both))}")
