"""The domain records of an ecosystem.

Every record is an immutable pydantic model. One definition serves the native
file format, its JSON Schema (``glia schema``), the API and the store. The
records check what can be checked on one record alone (types, ranges, a date
range in order); references between records are checked by
:mod:`glia.model._check` over the whole ecosystem, so that every unknown id is
reported at once.

Scales that no source prescribes are Glia's own and stated here: perceived
value of a deliverable from -5 (destroys value) to +5 (essential), asset
impact from -2 (strongly negative) to +2 (strongly positive), capability
levels from 1 (aware) to 5 (expert), tie weight from 0 to 1.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

__all__ = [
    "ASSET_KINDS",
    "CLUSTER_KINDS",
    "EXCHANGE_TYPES",
    "FORMAT_VERSION",
    "AssetImpact",
    "Attributes",
    "Cluster",
    "Exchange",
    "Need",
    "Opportunity",
    "Participant",
    "Role",
    "Tie",
]

#: The version of the native file format this release reads and writes.
FORMAT_VERSION = 1

#: The cluster kinds Glia knows; any other slug is accepted as a custom kind.
CLUSTER_KINDS = ("regional", "business", "knowledge", "capital")

#: Exchange types allowed for each exchange kind (Allee's tangible/intangible).
EXCHANGE_TYPES: dict[str, tuple[str, ...]] = {
    "tangible": ("goods", "service", "money", "contract"),
    "intangible": ("knowledge", "benefit"),
}

#: The four asset kinds of impact analysis (Allee), in file order.
ASSET_KINDS = ("financial", "human_competence", "internal_structure", "business_relationships")

Id = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=200,
        pattern=r"^[^\s\x00-\x1f\x7f]([^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$",
    ),
]
"""An identifier as a person writes it: a slug such as ``ana`` or ``agri-tech``.
Any text of 1-200 characters with no leading or trailing blank and no control
character is accepted, so that labels from mapping tools can serve as ids."""

Name = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Text = Annotated[str, StringConstraints(max_length=20_000)]
Kind = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_-]*$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Level = Annotated[int, Field(ge=1, le=5)]
Money = Annotated[Decimal, Field(ge=0, allow_inf_nan=False, max_digits=24, decimal_places=6)]
Scalar = bool | int | float | str | None


def _plain_scalars(value: Any) -> Any:
    # Readers parse numbers with a fraction as Decimal (exact money); a free
    # attribute keeps them as the float a person wrote, and a date as its ISO
    # text (JSON has no dates). Anything else that is not a single value gets
    # one clear message rather than one per member of the Scalar union.
    if not isinstance(value, dict):
        return value
    plain: dict[Any, Any] = {}
    for key, item in value.items():
        if isinstance(item, Decimal):
            item = float(item)
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"attribute {key!r} to be a finite number, not {item}")
        elif isinstance(item, dt.date):
            item = item.isoformat()
        elif not isinstance(item, bool | int | float | str | None):
            kind = type(item).__name__
            raise ValueError(
                f"attribute {key!r} to hold one value (text, number, true/false), not a {kind}"
            )
        plain[key] = item
    return plain


Attributes = Annotated[dict[str, Scalar], BeforeValidator(_plain_scalars)]
"""Free attributes: any other column a source carries, kept by name."""


class Record(BaseModel):
    """Base of every record: immutable, unknown fields refused."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        str_strip_whitespace=False,
        revalidate_instances="never",
    )


class Cluster(Record):
    """A group of participants: a regional galaxy, a business cluster, a
    knowledge community, a pool of capital, or a custom kind."""

    id: Id
    name: Name | None = None
    kind: Kind = Field(
        description="regional, business, knowledge, capital, or a custom kind (a lowercase slug)"
    )
    description: Text | None = None
    attributes: Attributes = Field(default_factory=dict)


class Participant(Record):
    """A person or an organization of the ecosystem."""

    id: Id
    name: Name | None = None
    kind: Literal["person", "organization"] = "person"
    region: Id | None = Field(
        default=None,
        description="where the participant is; often the id of a regional cluster",
    )
    clusters: tuple[Id, ...] = Field(default=(), description="ids of the clusters it belongs to")
    capabilities: dict[Id, Level] = Field(
        default_factory=dict, description="capability name to level, 1 (aware) to 5 (expert)"
    )
    capacity_hours_per_week: float | None = Field(default=None, ge=0, le=168)
    rate_per_hour: Money | None = None
    capital_available: Money | None = None
    description: Text | None = None
    attributes: Attributes = Field(default_factory=dict)


class Role(Record):
    """A role in the value network (Allee: roles, not people, exchange value)."""

    id: Id
    name: Name | None = None
    played_by: tuple[Id, ...] = Field(default=(), description="ids of participants")
    description: Text | None = None
    attributes: Attributes = Field(default_factory=dict)


#: The rules of a tie beyond its fields, shared with the bulk path of :mod:`._check`.
TIE_DATES = "until must not be before since"
TIE_SELF_LOOP = "a tie joins two different participants"


class Tie(Record):
    """A relationship between two participants on the formal or informal layer."""

    source: Id = Field(alias="from")
    target: Id = Field(alias="to")
    layer: Literal["formal", "informal"]
    type: Kind | None = Field(
        default=None,
        description="e.g. contract, membership, reports-to, partnership (formal); "
        "advice, trust, friendship, collaboration (informal)",
    )
    weight: float = Field(default=1.0, ge=0, le=1, allow_inf_nan=False)
    directed: bool = False
    since: dt.date | None = None
    until: dt.date | None = None
    attributes: Attributes = Field(default_factory=dict)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Tie:
        if self.since and self.until and self.until < self.since:
            raise ValueError(TIE_DATES)
        if self.source == self.target:
            raise ValueError(TIE_SELF_LOOP)
        return self


class AssetImpact(Record):
    """Impact of a deliverable on the receiver's four asset kinds, -2..+2."""

    financial: int | None = Field(default=None, ge=-2, le=2)
    human_competence: int | None = Field(default=None, ge=-2, le=2)
    internal_structure: int | None = Field(default=None, ge=-2, le=2)
    business_relationships: int | None = Field(default=None, ge=-2, le=2)


class Exchange(Record):
    """A value transaction: a named deliverable from a role or participant to another."""

    id: Id | None = None
    source: Id = Field(alias="from", description="id of a role or a participant")
    target: Id = Field(alias="to", description="id of a role or a participant")
    deliverable: Name
    kind: Literal["tangible", "intangible"]
    type: Literal["goods", "service", "money", "contract", "knowledge", "benefit"] | None = None
    value: Money | None = Field(default=None, description="money value of one occurrence")
    currency: Currency | None = None
    frequency: float = Field(default=1.0, gt=0, allow_inf_nan=False, description="per period")
    period: Literal["once", "week", "month", "quarter", "year"] | None = None
    perceived_value: int | None = Field(default=None, ge=-5, le=5)
    cost: Money | None = Field(default=None, description="cost to the sender of one occurrence")
    impact: AssetImpact | None = None
    sequence: int | None = Field(default=None, ge=1, description="step in the story")
    description: Text | None = None
    attributes: Attributes = Field(default_factory=dict)

    @field_validator("impact")
    @classmethod
    def _empty_impact_is_none(cls, value: AssetImpact | None) -> AssetImpact | None:
        if value is not None and all(getattr(value, k) is None for k in ASSET_KINDS):
            return None
        return value

    @model_validator(mode="after")
    def _type_fits_kind(self) -> Exchange:
        if self.type is not None and self.type not in EXCHANGE_TYPES[self.kind]:
            allowed = ", ".join(EXCHANGE_TYPES[self.kind])
            article = "an" if self.kind == "intangible" else "a"
            raise ValueError(f"{article} {self.kind} exchange has type {allowed}, not {self.type}")
        if self.source == self.target:
            raise ValueError("an exchange goes from one role or participant to another")
        return self


class Need(Record):
    """A capability an opportunity needs, at a minimum level, so many times."""

    capability: Id
    level: Level = 1
    count: int = Field(default=1, ge=1, le=10_000)


class Opportunity(Record):
    """A client need that a swarm may answer."""

    id: Id
    name: Name | None = None
    client: Id = Field(description="id of the client participant")
    needs: tuple[Need, ...] = ()
    region: Id | None = None
    budget: Money | None = None
    capital_needed: Money | None = None
    currency: Currency | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    stage: Kind | None = None
    description: Text | None = None
    attributes: Attributes = Field(default_factory=dict)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Opportunity:
        if self.start and self.end and self.end < self.start:
            raise ValueError("end must not be before start")
        return self
