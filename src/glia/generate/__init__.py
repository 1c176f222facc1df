"""Generate realistic synthetic ecosystems of any size, deterministically.

:func:`generate` plans an ecosystem of ``participants`` people and
organizations from a seed and returns a :class:`GeneratedEcosystem`, whose
:meth:`~GeneratedEcosystem.sections` stream plain mappings in the native
file's field names (``from``/``to`` for ties), ready for
:func:`glia.io.write_native`, the CSV/XLSX writers or
:func:`glia.model.check_stream`. :func:`write_generated` writes one to a file
or folder chosen by its suffix.

What makes it realistic, and how (details in ``docs/generate.md``):

- regions, business clusters, knowledge clusters and capital clusters with
  heavy-tailed sizes; each participant in one region and one to three other
  clusters, about a quarter of them organizations;
- capabilities that follow membership: each business or knowledge cluster
  has a profile of 3-6 capabilities and its members mostly draw from it;
- ties with heavy-tailed degrees (a Chung-Lu style model over Pareto
  activity weights) and community structure (most ties inside a shared
  cluster, most of the rest inside the region), on two layers, formal and
  informal, that overlap only in part;
- roles, value exchanges (tangible and intangible) and client opportunities
  whose needs are capabilities the ecosystem holds.

The ecosystem is never held in memory: the plan costs about 41 bytes per
participant, and every section is drawn in chunks of 32,768 rows, each from
its own random stream, so the output depends only on the seed and the knobs.
Written by hand because no library generates business ecosystems; the
graph model is the textbook Chung-Lu / degree-corrected block model, sampled
with NumPy.

Examples
--------
>>> from glia.generate import generate
>>> eco = generate(200, seed=1)
>>> eco.header["ecosystem"]
'Generated 200 (seed 1)'
>>> sections = eco.sections()
>>> next(iter(sections["participants"]))["id"]
'p000'
>>> eco.counts["ties"]
2000
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from ._plan import Params, Plan
from ._sections import (
    clusters,
    exchange_count,
    exchanges,
    opportunities,
    opportunity_count,
    participants,
    role_count,
    roles,
    tie_count,
    ties,
)

__all__ = [
    "GENERATOR_VERSION",
    "GeneratedEcosystem",
    "generate",
    "output_format",
    "write_generated",
]

#: Version of the generator's model; a new version may change the output of a seed.
GENERATOR_VERSION = 1

#: The day generated dates are relative to (fixed, so that output is reproducible).
AS_OF = dt.date(2026, 1, 1)

OutputFormat = Literal["yaml", "json", "csv", "xlsx"]


class GeneratedEcosystem:
    """A planned synthetic ecosystem: its header and its sections on demand.

    Build one with :func:`generate`. Only the plan (a few arrays per
    participant) is held; each call of :meth:`sections` starts fresh
    generators that produce the same records every time.

    Attributes
    ----------
    header : dict
        ``glia``, ``ecosystem``, ``currency``, ``description`` and
        ``attributes`` (the generator's seed and knobs).
    params : Params
        The knobs the ecosystem was generated with.
    counts : dict of str to int
        The exact number of records each section will yield.
    """

    def __init__(self, params: Params) -> None:
        self.params = params
        self._plan = Plan(params)
        n = params.participants
        self.header: dict[str, Any] = {
            "glia": 1,
            "ecosystem": f"Generated {n} (seed {params.seed})",
            "currency": "EUR",
            "description": (
                f"A synthetic ecosystem of {n} participants made by glia.generate "
                f"(version {GENERATOR_VERSION}) with seed {params.seed}: regional, business, "
                "knowledge and capital clusters, formal and informal ties, roles, "
                "value exchanges and client opportunities."
            ),
            "attributes": {
                "generator": "glia.generate",
                "generator_version": GENERATOR_VERSION,
                "seed": params.seed,
                "participants": n,
                "ties_per_participant": params.ties_per_participant,
                "organization_share": params.organization_share,
                "within_community": params.within_community,
                "within_region": params.within_region,
                "formal_share": params.formal_share,
                "overlap": params.overlap,
                "tail": params.tail,
                "as_of": params.as_of.isoformat(),
            },
        }
        plan = self._plan
        self.counts: dict[str, int] = {
            "clusters": sum(plan.cluster_counts.values()),
            "participants": n,
            "roles": role_count(plan),
            "ties": tie_count(plan),
            "exchanges": exchange_count(plan),
            "opportunities": opportunity_count(plan),
        }

    @property
    def plan(self) -> Plan:
        """The arrays the sections are drawn from (for analysis and tests)."""
        return self._plan

    def sections(self) -> dict[str, Iterator[dict[str, Any]]]:
        """Fresh iterators over each section's records, in section order.

        Returns
        -------
        dict of str to iterator of dict
            ``clusters``, ``participants``, ``roles``, ``ties``,
            ``exchanges``, ``opportunities``: plain mappings in the native
            file's field names. Each iterator generates lazily; consume them
            in this order or any other, once each.
        """
        plan = self._plan
        return {
            "clusters": clusters(plan),
            "participants": participants(plan),
            "roles": roles(plan),
            "ties": ties(plan),
            "exchanges": exchanges(plan),
            "opportunities": opportunities(plan),
        }

    def __repr__(self) -> str:
        return f"GeneratedEcosystem({self.header['ecosystem']!r}, counts={self.counts})"


def generate(
    participants: int,
    seed: int = 0,
    *,
    ties_per_participant: float = 10.0,
    organization_share: float = 0.25,
    within_community: float = 0.75,
    within_region: float = 0.7,
    formal_share: float = 0.4,
    overlap: float = 0.35,
    tail: float = 1.6,
    as_of: dt.date = AS_OF,
) -> GeneratedEcosystem:
    """Plan a synthetic ecosystem of ``participants`` people and organizations.

    Parameters
    ----------
    participants : int
        Number of participants, 1 to 100,000,000.
    seed : int, optional
        Seed of every random draw; the same seed and knobs give the same
        records (and the same file bytes), another seed other ones.
    ties_per_participant : float, optional
        Ties per participant (formal and informal together); the ecosystem
        has ``round(ties_per_participant * participants)`` ties, so the mean
        degree is twice this.
    organization_share : float, optional
        Share of organizations among participants (the rest are persons).
    within_community : float, optional
        Share of tie draws whose partner comes from a business or knowledge
        cluster of the first participant.
    within_region : float, optional
        Share of the remaining draws whose partner comes from the same
        region; the rest come from anywhere.
    formal_share : float, optional
        Share of related pairs with a formal tie; the other pairs are
        informal only.
    overlap : float, optional
        Share of formal pairs that are also informal (the "sweet spot").
    tail : float, optional
        Pareto shape of the activity weights; lower gives heavier-tailed
        degrees (the degree distribution's exponent is about ``tail + 1``).
    as_of : datetime.date, optional
        The "today" of the generated dates (tie start dates before it,
        opportunities after it).

    Returns
    -------
    GeneratedEcosystem
        The header, exact counts and fresh section iterators on demand.

    Raises
    ------
    ValueError
        When a knob is out of range; the message names it.
    """
    params = Params(
        participants=int(participants),
        seed=int(seed),
        ties_per_participant=float(ties_per_participant),
        organization_share=float(organization_share),
        within_community=float(within_community),
        within_region=float(within_region),
        formal_share=float(formal_share),
        overlap=float(overlap),
        tail=float(tail),
        as_of=as_of,
    )
    return GeneratedEcosystem(params)


def output_format(path: str | os.PathLike[str]) -> OutputFormat:
    """The format :func:`write_generated` chooses for ``path``.

    ``.yaml``/``.yml`` → YAML, ``.json`` → JSON, ``.xlsx`` → a workbook,
    ``.csv``, a trailing ``/`` or no suffix at all → a folder of CSV files.

    Raises
    ------
    ValueError
        For any other suffix.
    """
    text = os.fspath(path)
    if text.endswith(("/", os.sep)):
        return "csv"
    suffix = Path(text).suffix.lower()
    formats: dict[str, OutputFormat] = {
        ".yaml": "yaml",
        ".yml": "yaml",
        ".json": "json",
        ".csv": "csv",
        ".xlsx": "xlsx",
        "": "csv",
    }
    if suffix not in formats:
        raise ValueError(
            f"cannot tell the format of {text!r}: use .yaml, .yml, .json, .xlsx, "
            "or a folder (no suffix, a trailing '/' or .csv) for CSV files"
        )
    return formats[suffix]


def _reporting(
    section: str, rows: Iterator[dict[str, Any]], progress: Callable[[str, int], None]
) -> Iterator[dict[str, Any]]:
    """Pass ``rows`` through, telling ``progress`` every 16,384 rows and at the end."""
    done = 0
    progress(section, 0)
    for done, row in enumerate(rows, 1):
        yield row
        if not done & 0x3FFF:
            progress(section, done)
    progress(section, done)


def write_generated(
    path: str | os.PathLike[str],
    participants: int,
    seed: int = 0,
    *,
    progress: Callable[[str, int], None] | None = None,
    **knobs: Any,
) -> dict[str, int]:
    """Generate an ecosystem and write it, in a format chosen by ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        Output file or folder; see :func:`output_format`.
    participants : int
        Number of participants.
    seed : int, optional
        The random seed.
    progress : callable, optional
        Called as ``progress(section, rows_done)`` when a section starts,
        every 16,384 rows, and when it ends.
    **knobs
        Any other keyword argument of :func:`generate`.

    Returns
    -------
    dict of str to int
        Records written per section.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "small.yaml"
    >>> write_generated(out, 50, seed=3)["ties"]
    500
    """
    fmt = output_format(path)
    eco = generate(participants, seed, **knobs)
    sections = eco.sections()
    if progress is not None:
        sections = {name: _reporting(name, rows, progress) for name, rows in sections.items()}
    if fmt in ("yaml", "json"):
        from ..io.native import write_native

        return write_native(path, header=eco.header, sections=sections, fmt=fmt)
    from ..io.tabular import write_tables

    return write_tables(path, eco.header, sections, fmt="xlsx" if fmt == "xlsx" else "csv")
