"""The report: what an analysis found, in the order an orchestrator reads it.

:func:`findings` turns an :class:`~glia.analysis.Analysis` into sections
(a table, a figure, and two lines: what it means, what to do);
``glia analyze --format table`` prints them, and :func:`html_report`
lays them out as one self-contained HTML file (inline SVG and CSS, no script,
nothing fetched), readable top to bottom and printable.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np

from .. import __version__
from ..analysis import Analysis
from . import _svg

__all__ = ["Section", "findings", "html_report"]


@dataclass
class Section:
    """One finding: a title, a table, lines of meaning and advice, and a figure."""

    key: str
    title: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    figure: str | None = None


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return "-"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.{digits}g}"
    return str(value)


def _top(values: Any, k: int) -> list[int]:
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=-np.inf)
    k = min(k, len(v))
    if k == 0:
        return []
    part = np.argpartition(-v, k - 1)[:k]
    return [int(i) for i in part[np.argsort(-v[part], kind="stable")] if np.isfinite(v[i])]


def _money(value: float, currency: str | None) -> str:
    return f"{_fmt(value)} {currency or ''}".strip()


def findings(result: Analysis, *, top: int = 10) -> list[Section]:
    """The report's sections, in reading order."""
    sections = [_overview(result)]
    if result.value_network is not None:
        sections.append(_value_network(result))
    sections.append(_connectors(result, top))
    sections.append(_brokers(result, top))
    sections.append(_communities(result))
    sections.append(_sweet_spot(result, top))
    sections.append(_micmac(result, top))
    if result.flows is not None:
        sections.append(_flows(result, top))
    if result.health is not None:
        sections.append(_health(result))
    sections.append(_failures(result, top))
    return sections


def _overview(r: Analysis) -> Section:
    mx = r.multiplex
    rows = [
        [name, _fmt(mx.layer(name).n_edges), _fmt(mx.layer(name).n_arcs)]
        for name in ("formal", "informal", "combined", "exchange")
    ]
    s = mx.snapshot
    lines = [
        f"{mx.n:,} participants in {len(mx.clusters.ids):,} clusters; "
        f"{len(s.role_ids):,} roles exchange {len(s.exchange_source):,} deliverables.",
        "Each section below: a picture, what it means, and what to do about it.",
    ]
    for layer, c in r.centrality.items():
        if c.sampled:
            lines.append(
                f"On the {layer} layer, betweenness and closeness are estimated from "
                f"{c.sample_size:,} sampled sources (error: "
                + ", ".join(f"{k} {_fmt(v)}" for k, v in c.error.items())
                + ")."
            )
    lines += r.notes
    return Section("overview", "The ecosystem at a glance", ["layer", "ties", "arcs"], rows, lines)


def _value_network(r: Analysis) -> Section:
    v = r.value_network
    assert v is not None
    names = [n or i for n, i in zip(v.node_names, v.node_ids, strict=True)]
    ratio = v.tangible_ratio
    order = _top(np.asarray(v.transactions, dtype=float), 25)
    rows = [
        [
            names[i],
            _fmt(v.deliverables_in[i]),
            _fmt(v.deliverables_out[i]),
            f"{_fmt(v.tangible_in[i] + v.tangible_out[i])} / "
            f"{_fmt(v.intangible_in[i] + v.intangible_out[i])}",
            _fmt(ratio[i]),
            _fmt(v.reciprocity[i]),
            "overburdened" if v.overburdened[i] else "",
        ]
        for i in order
    ]
    figure = None
    if len(v.exchange_source) <= 150 and len(v.node_ids) <= 80:
        figure = _svg.network(
            names,
            v.exchange_source,
            v.exchange_target,
            title="The value network: roles and their deliverables "
            "(solid: tangible, dashed: intangible)",
            dashed=[not t for t in v.tangible],
            edge_labels=v.deliverables,
            sizes=v.transactions,
        )
    over = [names[i] for i in np.flatnonzero(v.overburdened)]
    one_way = v.one_way()
    missing = v.missing_links()
    lines = [
        "What it means: roles, not people, exchange value; a healthy network has value "
        "flowing both ways, tangible and intangible, with no role carrying far more than the rest.",
        "What to do: "
        + (f"relieve or back up {', '.join(over[:5])} (overburdened); " if over else "")
        + (f"look at {len(one_way)} one-way flows; " if one_way else "")
        + (
            f"consider the missing link {missing[0][0]} - {missing[0][1]} "
            f"({missing[0][2]} shared partners)."
            if missing
            else "no missing links stand out."
        ),
    ]
    if math.isfinite(v.agility):
        lines.append(f"Agility: roles are {v.agility:.2f} steps apart on average.")
    return Section(
        "value_network",
        "Value network analysis (Allee): who exchanges what",
        ["role", "in", "out", "tangible / intangible", "ratio", "reciprocity", ""],
        rows,
        lines,
        figure,
    )


def _connectors(r: Analysis, top: int) -> Section:
    layer = "combined" if "combined" in r.centrality else next(iter(r.centrality))
    c = r.centrality[layer]
    order = _top(c.betweenness, top)
    rows = [
        [
            r.label(i),
            _fmt(c.degree[i]),
            _fmt(c.betweenness[i]),
            _fmt(c.harmonic_norm[i]),
            _fmt(c.eigenvector[i]),
            _fmt(c.pagerank[i]),
            _fmt(c.core_number[i]),
        ]
        for i in order
    ]
    figure = _svg.bars(
        [r.label(i) for i in order],
        [float(c.betweenness[i]) for i in order],
        title=f"Top connectors by betweenness ({layer} layer)",
    )
    names = ", ".join(r.label(i) for i in order[:3])
    lines = [
        "What it means: these participants sit on the most shortest paths between others; "
        "information and introductions run through them.",
        f"What to do: keep {names} engaged and share their load; "
        "pair each with a deputy so the network does not depend on one person.",
    ]
    return Section(
        "connectors",
        f"Connectors ({layer} layer)",
        ["participant", "degree", "betweenness", "closeness", "eigenvector", "pagerank", "core"],
        rows,
        lines,
        figure,
    )


def _brokers(r: Analysis, top: int) -> Section:
    b = r.brokerage
    total = np.asarray(b.counts)[:, -1]
    order = _top(total.astype(float), top)
    roles = ("coordinator", "itinerant", "representative", "gatekeeper", "liaison")
    rows = []
    for i in order:
        kinds = [
            name
            for name, flag in (
                ("connector", b.central_connector[i]),
                ("spanner", b.boundary_spanner[i]),
                ("broker", b.information_broker[i]),
                ("specialist", b.peripheral_specialist[i]),
            )
            if flag
        ]
        rows.append(
            [
                r.label(i),
                *[_fmt(b.counts[i, k]) for k in range(5)],
                _fmt(b.z[i, -1]),
                _fmt(b.ei[i]),
                ", ".join(kinds),
            ]
        )
    spanners = [r.label(i) for i in np.flatnonzero(b.boundary_spanner)[:5]]
    lines = [
        f"What it means: brokerage by {b.grouping} (Gould-Fernandez): who links others "
        "that are not linked directly, inside their group or across groups; z compares "
        "with a random assignment of groups. E-I above 0: more ties outside the group than in. "
        "Cross-Parker roles: central connector, boundary spanner, information broker, "
        "peripheral specialist (rules in docs/analysis.md).",
        "What to do: "
        + (
            f"boundary spanners ({', '.join(spanners)}) carry the ecosystem across its "
            "groups; involve them when a swarm needs people from several clusters."
            if spanners
            else "no boundary spanners stand out: create occasions where groups meet."
        ),
    ]
    return Section(
        "brokers",
        f"Brokers and boundary roles (grouping: {b.grouping})",
        ["participant", *[r[:5] + "." for r in roles], "z", "E-I", "Cross-Parker"],
        rows,
        lines,
        None,
    )


def _communities(r: Analysis) -> Section:
    c = r.communities
    rows = []
    if c.cluster_ids is not None and c.cluster_community is not None:
        assert c.cluster_share is not None and c.cluster_size is not None
        for j, cid in enumerate(c.cluster_ids):
            rows.append(
                [
                    cid,
                    _fmt(c.cluster_size[j]),
                    _fmt(c.cluster_community[j]),
                    _fmt(c.cluster_share[j]),
                ]
            )
    figure = _svg.bars(
        [f"community {k}" for k in range(min(12, c.n_communities))],
        [float(x) for x in c.sizes[:12]],
        title=f"Communities found by Leiden ({c.method}, resolution {c.resolution:g})",
    )
    lines = [
        f"What it means: {c.n_communities} communities emerge from the ties "
        f"(modularity {_fmt(c.modularity)}); against the declared clusters NMI is "
        f"{_fmt(c.nmi)} and ARI {_fmt(c.ari)} (1: the same partition, 0: unrelated).",
        "What to do: a declared cluster split across communities is a cluster on paper; "
        "a community spanning clusters is a collaboration nobody declared: name it.",
    ]
    return Section(
        "communities",
        "Communities against declared clusters",
        ["cluster", "members", "main community", "share in it"],
        rows,
        lines,
        figure,
    )


def _sweet_spot(r: Analysis, top: int) -> Section:
    s = r.sweet_spot
    rows = [
        [cid, _fmt(s.cluster_formal[j]), _fmt(s.cluster_informal[j]), _fmt(s.cluster_overlap[j])]
        for j, cid in enumerate(s.cluster_ids)
    ]
    index = {pid: i for i, pid in enumerate(r.ids)}
    bridges = [f"{r.label(index[a])} - {r.label(index[b])}" for a, b in s.unsupported_pairs]
    idle = [f"{r.label(index[a])} - {r.label(index[b])}" for a, b in s.formal_only_pairs]
    labels = ["overall", *s.cluster_ids]
    values = [s.overlap, *[float(x) for x in s.cluster_overlap]]
    figure = _svg.bars(
        labels[:20],
        [0.0 if not math.isfinite(v) else v for v in values[:20]],
        title="Sweet spot: overlap of formal and informal ties (Jaccard)",
    )
    lines = [
        f"What it means: {s.n_both:,} of {s.n_union:,} tied pairs are tied both formally and "
        f"informally (overlap {_fmt(s.overlap)}); the sweet spot (Ehin) is where the two "
        "meet and most work gets done.",
        f"What to do: give formal support to the {s.n_unsupported:,} informal ties that have "
        "none"
        + (f" (first: {'; '.join(bridges[:3])})" if bridges else "")
        + f"; revisit the {s.n_formal_only:,} formal ties with no informal life"
        + (f" (first: {'; '.join(idle[:3])})" if idle else "")
        + ".",
    ]
    if len(s.years):
        trend = ", ".join(
            f"{int(y)}: {_fmt(o)}" for y, o in zip(s.years[-6:], s.year_overlap[-6:], strict=True)
        )
        lines.append(f"Over time: {trend}.")
    return Section(
        "sweet_spot",
        "The sweet spot: formal meets informal",
        ["cluster", "formal ties", "informal ties", "overlap"],
        rows,
        lines,
        figure,
    )


def _micmac(r: Analysis, top: int) -> Section:
    m = r.micmac
    labels = [r.label(i) for i in range(len(r.ids))]
    show = np.arange(len(labels))
    if len(show) > 2000:  # a picture of a few thousand points at most
        show = np.unique(
            np.concatenate([_top(m.indirect_influence, 1000), _top(m.indirect_exposure, 1000)])
        )
    figure = _svg.scatter(
        np.asarray(m.indirect_exposure)[show],
        np.asarray(m.indirect_influence)[show],
        [labels[i] for i in show],
        title=f"MICMAC: influence against exposure ({r.micmac_layer} layer)",
        xlabel="exposure (dependence)",
        ylabel="influence (driving power)",
        split=(m.medians.get("exposure", 0.0), m.medians.get("influence", 0.0)),
        quadrants=("autonomous", "dependent", "driver", "linkage"),
    )
    counts: dict[str, int] = {}
    for q in m.quadrant:
        counts[str(q)] = counts.get(str(q), 0) + 1
    drivers = [labels[i] for i in _top(m.indirect_influence, 5)]
    lines = [
        "What it means: drivers influence much and depend little; dependent participants "
        "are exposed to what others do; linkage participants are both, and unstable.",
        f"What to do: involve the drivers ({', '.join(drivers)}) early in any change; "
        "protect the dependent ones. Quadrants: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        + ".",
    ]
    return Section("micmac", "Influence and exposure (MICMAC)", [], [], lines, figure)


def _flows(r: Analysis, top: int) -> Section:
    f = r.flows
    assert f is not None
    net = np.asarray(f.net, dtype=float)
    order = _top(np.abs(net), top)
    rows = [
        [
            r.label(i),
            _money(f.money_in[i], f.currency),
            _money(f.money_out[i], f.currency),
            _money(net[i], f.currency),
            _money(f.npv[i], f.currency),
        ]
        for i in order
    ]
    figure = _svg.bars(
        [r.label(i) for i in order],
        [float(net[i]) for i in order],
        title=f"Net money flow per year ({f.currency or 'no currency'})",
        colors=[_svg.PALETTE[2] if net[i] >= 0 else _svg.PALETTE[5] for i in order],
    )
    lines = [
        f"What it means: money in minus money out per participant, annualised; "
        f"{_money(f.tst, f.currency)} flows in all. Net present value at rate {f.rate:g} "
        f"over {f.periods} period(s).",
        "What to do: participants who only pay in are sponsors to thank and keep informed; "
        "those who only receive should be shown to deliver value back.",
    ]
    if f.excluded_currency:
        lines.append(f"{f.excluded_currency} exchanges in another currency are left out.")
    loops = r.loops
    if loops is not None and len(loops.loops):
        focal = loops.node_ids[loops.focal]
        others = [
            (loops.node_ids[i], float(loops.importance[i]))
            for i in np.argsort(-loops.importance)[:4]
            if i != loops.focal and loops.importance[i] > 0
        ]
        lines.append(
            f"Value loops around {focal} (Cameron, Feng and Crawley): {len(loops.loops)} loops "
            f"of up to {loops.max_length} flows; the stakeholders that matter most to it, "
            "directly and indirectly: "
            + ", ".join(f"{name} ({share:.0%})" for name, share in others)
            + "."
        )
    return Section(
        "flows",
        "Value flows in money (e3value)",
        ["participant", "in", "out", "net", "NPV"],
        rows,
        lines,
        figure,
    )


def _health(r: Analysis) -> Section:
    h = r.health
    assert h is not None
    u = h.sustainability
    rows = [
        ["total system throughput", _fmt(u.tst)],
        ["development capacity", _fmt(u.capacity)],
        ["ascendency", _fmt(u.ascendency)],
        ["overhead", _fmt(u.overhead)],
        ["alpha (ascendency / capacity)", _fmt(u.alpha)],
        ["robustness", _fmt(u.robustness)],
        ["keystones", ", ".join(r.label(i) for i in h.keystones) or "-"],
        ["dominators", ", ".join(r.label(i) for i in h.dominators) or "-"],
        [f"niches (capabilities at level {h.niche_level}+ outside the hubs)", _fmt(h.niche_count)],
    ]
    alpha = float(u.alpha)
    if not math.isfinite(alpha):
        verdict = "too few flows to judge"
    elif alpha < 1 / math.e:
        verdict = "redundant: many parallel paths, little organisation (room to streamline)"
    else:
        verdict = "efficient but brittle: few paths carry the value (build alternatives)"
    lines = [
        f"What it means: alpha {_fmt(alpha)} against the optimum 1/e = 0.368 "
        f"(Ulanowicz et al. 2009): {verdict}.",
        "What to do: "
        + (
            f"dominators ({', '.join(r.label(i) for i in h.dominators[:3])}) capture more "
            "value than they create: renegotiate their share or grow alternatives; "
            if len(h.dominators)
            else "no hub captures more value than it creates; "
        )
        + (
            f"keystones ({', '.join(r.label(i) for i in h.keystones[:3])}) create more "
            "than they take: protect them."
            if len(h.keystones)
            else "no hub creates more than it takes: grow keystones."
        ),
    ]
    return Section(
        "health",
        "Health (Ulanowicz; keystones and dominators)",
        ["measure", "value"],
        rows,
        lines,
        _svg.vitality(alpha, title="Window of vitality: robustness against alpha"),
    )


def _failures(r: Analysis, top: int) -> Section:
    f = r.failures
    ranked = [int(i) for i in f.ranked[:top]]
    rows = [
        [r.label(i), _fmt(f.lost_pairs[i]), _fmt(bool(f.articulation[i])), ", ".join(f.sole[i])]
        for i in ranked
    ]
    names = ", ".join(r.label(i) for i in ranked[:3])
    if not ranked:
        return Section(
            "failures",
            "Single points of failure",
            lines=[
                "What it means: no single participant's departure cuts the network apart, "
                "and every capability has at least two holders.",
                "What to do: nothing urgent; check again after the map changes.",
            ],
        )
    lines = [
        "What it means: removing one of these participants cuts others off from each other "
        f"(pairs lost, out of {f.connected_pairs:,} connected) or loses a capability no one "
        "else holds.",
        f"What to do: build second links around {names or 'them'} and train a second "
        "holder for each capability held alone.",
    ]
    return Section(
        "failures",
        "Single points of failure",
        ["participant", "pairs lost", "cut point", "capabilities held alone"],
        rows,
        lines,
        None,
    )


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:980px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{margin-bottom:.2em} .sub{color:#666;margin-top:0}
section{border-top:1px solid #ddd;padding-top:.6em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.88em;margin:.6em 0}
th,td{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left}
th{background:#f6f6f6} td:not(:first-child){font-variant-numeric:tabular-nums}
.lines p{margin:.3em 0} figure{margin:.8em 0}
nav a{margin-right:.8em} @media print{nav{display:none}}
"""


def html_report(result: Analysis, *, top: int = 10) -> str:
    """One self-contained HTML page: every section with its figure, table and advice."""
    sections = findings(result, top=top)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(result.ecosystem)}: ecosystem report</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{escape(result.ecosystem)}</h1>",
        f'<p class="sub">Ecosystem report by Glia {escape(__version__)}, '
        f"{dt.date.today().isoformat()}; settings: "
        + escape(", ".join(f"{k} {v}" for k, v in result.settings.items() if v is not None))
        + "</p>",
        "<nav>" + "".join(f'<a href="#{s.key}">{escape(s.title)}</a>' for s in sections) + "</nav>",
    ]
    for s in sections:
        parts.append(f'<section id="{s.key}"><h2>{escape(s.title)}</h2>')
        if s.figure:
            parts.append(f"<figure>{s.figure}</figure>")
        parts.append(
            '<div class="lines">' + "".join(f"<p>{escape(x)}</p>" for x in s.lines) + "</div>"
        )
        if s.rows:
            parts.append(_table(s.columns, s.rows))
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(x))}</td>" for x in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
