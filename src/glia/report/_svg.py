"""Inline SVG figures for the report: no script, no font or file fetched, prints as is.

Written by hand because the report must be one self-contained file that opens
offline: a plotting library would add a heavy dependency and either a script
or a base64 raster. These few figure types (a directed network, bars, a
scatter with quadrants, a curve with a marked point) are a few lines each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np
import numpy.typing as npt

__all__ = ["PALETTE", "bars", "network", "scatter", "vitality"]

#: Colour-blind-safe palette (Okabe and Ito 2008), then greys.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#999999",
)
INK = "#222"
MUTED = "#888"


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="100%" role="img" aria-label="{escape(title)}" '
        f'font-family="system-ui, sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, s: str, **attrs: str | float) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(s)}</text>'


def bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    unit: str = "",
    colors: Sequence[str] | None = None,
    width: int = 640,
) -> str:
    """Horizontal bars, one per label, longest first as given; negative values go left."""
    row = 20
    left = 230
    height = row * len(labels) + 30
    vals = [0.0 if not math.isfinite(v) else float(v) for v in values]
    lo = min([0.0, *vals])
    hi = max([0.0, *vals])
    span = (hi - lo) or 1.0
    plot = width - left - 70

    def x(v: float) -> float:
        return left + (v - lo) / span * plot

    body = [_text(0, 14, title, font_weight="bold", font_size=12)]
    zero = x(0.0)
    for i, (label, v) in enumerate(zip(labels, vals, strict=True)):
        y = 24 + i * row
        color = colors[i] if colors else PALETTE[0]
        a, b = sorted((zero, x(v)))
        short = label if len(label) <= 34 else label[:33] + "…"
        body.append(_text(left - 6, y + 12, short, text_anchor="end", fill=INK))
        body.append(
            f'<rect x="{a:.1f}" y="{y + 3}" width="{max(b - a, 0.5):.1f}" height="{row - 6}" '
            f'fill="{color}"><title>{escape(label)}: {v:g}{unit}</title></rect>'
        )
        shown = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
        body.append(_text(b + 4, y + 12, f"{shown}{unit}", fill=MUTED))
    body.append(
        f'<line x1="{zero:.1f}" y1="22" x2="{zero:.1f}" y2="{height - 4}" stroke="{MUTED}"/>'
    )
    return _svg(width, height, body, title)


def scatter(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    labels: Sequence[str],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    split: tuple[float, float] | None = None,
    quadrants: tuple[str, str, str, str] | None = None,
    label_top: int = 12,
    width: int = 520,
    height: int = 420,
) -> str:
    """Points with optional split lines; ``quadrants`` names (lower-left, lower-right,
    upper-left, upper-right). The ``label_top`` points farthest out are named."""
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    m = 48
    body = [_text(0, 14, title, font_weight="bold", font_size=12)]
    if len(xs) == 0:
        return _svg(width, height, [*body, _text(m, height / 2, "no data")], title)
    x0, x1 = float(np.nanmin(xs)), float(np.nanmax(xs))
    y0, y1 = float(np.nanmin(ys)), float(np.nanmax(ys))
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1

    def px(v: float) -> float:
        return m + (v - x0) / (x1 - x0) * (width - 2 * m)

    def py(v: float) -> float:
        return height - m - (v - y0) / (y1 - y0) * (height - 2 * m)

    body.append(
        f'<rect x="{m}" y="{m}" width="{width - 2 * m}" height="{height - 2 * m}" '
        f'fill="none" stroke="{MUTED}"/>'
    )
    if split is not None:
        sx, sy = px(split[0]), py(split[1])
        body.append(
            f'<line x1="{sx:.1f}" y1="{m}" x2="{sx:.1f}" y2="{height - m}" '
            f'stroke="{MUTED}" stroke-dasharray="4 3"/>'
        )
        body.append(
            f'<line x1="{m}" y1="{sy:.1f}" x2="{width - m}" y2="{sy:.1f}" '
            f'stroke="{MUTED}" stroke-dasharray="4 3"/>'
        )
    if quadrants is not None:
        ll, lr, ul, ur = quadrants
        body += [
            _text(m + 4, height - m - 6, ll, fill=MUTED),
            _text(width - m - 4, height - m - 6, lr, fill=MUTED, text_anchor="end"),
            _text(m + 4, m + 14, ul, fill=MUTED),
            _text(width - m - 4, m + 14, ur, fill=MUTED, text_anchor="end"),
        ]
    body.append(_text(width / 2, height - 12, xlabel, text_anchor="middle", fill=INK))
    body.append(
        f'<text x="14" y="{height / 2:.1f}" transform="rotate(-90 14 {height / 2:.1f})" '
        f'text-anchor="middle" fill="{INK}">{escape(ylabel)}</text>'
    )
    cx, cy = np.nanmedian(xs), np.nanmedian(ys)
    far = np.argsort(-np.nan_to_num(np.hypot(xs - cx, ys - cy)))[:label_top]
    for i in range(len(xs)):
        if not (math.isfinite(xs[i]) and math.isfinite(ys[i])):
            continue
        body.append(
            f'<circle cx="{px(xs[i]):.1f}" cy="{py(ys[i]):.1f}" r="3.5" fill="{PALETTE[0]}" '
            f'fill-opacity="0.7"><title>{escape(labels[i])}</title></circle>'
        )
    placed: list[tuple[float, float]] = []
    for i in far:
        if not (math.isfinite(xs[i]) and math.isfinite(ys[i])):
            continue
        x, y = px(xs[i]) + 5, py(ys[i]) - 4
        if any(abs(x - a) < 90 and abs(y - b) < 12 for a, b in placed):
            continue  # a label already sits there: the point keeps its tooltip
        placed.append((x, y))
        body.append(_text(x, y, labels[i][:24], fill=INK))
    return _svg(width, height, body, title)


def vitality(alpha: float, *, title: str, width: int = 520, height: int = 260) -> str:
    """Ulanowicz's robustness curve ``R = -a ln a`` with the ecosystem's ``alpha`` marked."""
    m = 40
    a = np.linspace(0.001, 1.0, 200)
    r = -a * np.log(a)
    top = float(r.max())

    def px(v: float) -> float:
        return m + v * (width - 2 * m)

    def py(v: float) -> float:
        return height - m - v / top * (height - 2 * m)

    path = " ".join(
        f"{'M' if i == 0 else 'L'}{px(u):.1f},{py(v):.1f}"
        for i, (u, v) in enumerate(zip(a, r, strict=True))
    )
    body = [
        _text(0, 14, title, font_weight="bold", font_size=12),
        f'<path d="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>',
        f'<line x1="{m}" y1="{height - m}" x2="{width - m}" y2="{height - m}" stroke="{MUTED}"/>',
        _text(m, height - m + 16, "0 redundant", fill=MUTED),
        _text(width - m, height - m + 16, "efficient 1", fill=MUTED, text_anchor="end"),
        _text(width / 2, height - 8, "alpha = ascendency / capacity", text_anchor="middle"),
        f'<line x1="{px(1 / math.e):.1f}" y1="{m}" x2="{px(1 / math.e):.1f}" y2="{height - m}" '
        f'stroke="{MUTED}" stroke-dasharray="4 3"/>',
        _text(px(1 / math.e) + 4, height - m - 8, "peak at 1/e", fill=MUTED),
    ]
    if math.isfinite(alpha):
        ra = -alpha * math.log(alpha) if alpha > 0 else 0.0
        body.append(f'<circle cx="{px(alpha):.1f}" cy="{py(ra):.1f}" r="6" fill="{PALETTE[5]}"/>')
        body.append(_text(px(alpha) + 9, py(ra) + 4, f"here: alpha {alpha:.2f}", fill=INK))
    return _svg(width, height, body, title)


def _layout(
    n: int, src: npt.NDArray[np.int32], dst: npt.NDArray[np.int32], seed: int
) -> npt.NDArray[np.float64]:
    """Fruchterman-Reingold positions in the unit square, deterministic for a seed.

    Dense O(n^2) per step: meant for the few hundred nodes a picture can show.
    """
    rng = np.random.default_rng(seed)
    angle = 2 * np.pi * np.arange(n) / max(n, 1)
    pos = 0.5 + 0.4 * np.column_stack([np.cos(angle), np.sin(angle)])
    pos += rng.normal(0, 0.01, (n, 2))
    if n <= 1:
        return np.full((n, 2), 0.5)
    k = 1.2 / math.sqrt(n)
    t = 0.1
    for _ in range(200):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.maximum(np.hypot(delta[..., 0], delta[..., 1]), 0.01)
        force = (k * k / dist**2)[..., None] * delta
        idx = np.arange(n)
        force[idx, idx] = 0.0
        disp = force.sum(axis=1)
        d = pos[src] - pos[dst]
        dl = np.maximum(np.hypot(d[:, 0], d[:, 1]), 0.01)[:, None]
        pull = d * dl / k
        np.add.at(disp, src, -pull)
        np.add.at(disp, dst, pull)
        # gravity keeps separate components on the page, near the rest
        disp -= (pos - 0.5) * 3.0 * k * math.sqrt(n)
        length = np.maximum(np.hypot(disp[:, 0], disp[:, 1]), 1e-9)[:, None]
        pos += disp / length * np.minimum(length, t)
        t = max(t * 0.97, 0.002)
    lo, hi = pos.min(axis=0), pos.max(axis=0)
    scaled: npt.NDArray[np.float64] = (pos - lo) / np.where(hi > lo, hi - lo, 1.0)
    return scaled


def network(
    labels: Sequence[str],
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    *,
    title: str,
    dashed: Sequence[bool] | None = None,
    edge_labels: Sequence[str] | None = None,
    sizes: npt.ArrayLike | None = None,
    groups: Sequence[int] | None = None,
    directed: bool = True,
    seed: int = 1,
    width: int = 760,
    height: int = 560,
) -> str:
    """Nodes placed by a force layout; arcs as curves (dashed where asked), with arrowheads."""
    n = len(labels)
    s = np.asarray(src, dtype=np.int32)
    d = np.asarray(dst, dtype=np.int32)
    pos = _layout(n, s, d, seed)
    m = 60
    xy = np.column_stack(
        [m + pos[:, 0] * (width - 2 * m), 30 + m / 2 + pos[:, 1] * (height - 2 * m)]
    )
    size = np.ones(n) if sizes is None else np.asarray(sizes, dtype=float)
    top = float(np.nanmax(size)) if n and np.nanmax(size) > 0 else 1.0
    radius = 4 + 10 * np.sqrt(np.nan_to_num(size) / top)
    body = [
        _text(0, 14, title, font_weight="bold", font_size=12),
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{MUTED}"/></marker></defs>',
    ]
    for i in range(len(s)):
        a, b = xy[s[i]], xy[d[i]]
        v = b - a
        length = float(np.hypot(*v)) or 1.0
        u = v / length
        start = a + u * radius[s[i]]
        end = b - u * (radius[d[i]] + 2)
        normal = np.array([-u[1], u[0]]) * min(40.0, 0.15 * length)
        ctrl = (start + end) / 2 + normal
        dash = ' stroke-dasharray="5 4"' if dashed is not None and dashed[i] else ""
        marker = ' marker-end="url(#arrow)"' if directed else ""
        tip = escape(edge_labels[i]) if edge_labels else ""
        body.append(
            f'<path d="M{start[0]:.1f},{start[1]:.1f} Q{ctrl[0]:.1f},{ctrl[1]:.1f} '
            f'{end[0]:.1f},{end[1]:.1f}" fill="none" stroke="{MUTED}" stroke-width="1.2"'
            f"{dash}{marker}><title>{tip}</title></path>"
        )
        if edge_labels and len(s) <= 60:
            mid = (start + end) / 4 + ctrl / 2
            body.append(
                _text(
                    mid[0],
                    mid[1],
                    edge_labels[i][:28],
                    fill=MUTED,
                    font_size=9,
                    text_anchor="middle",
                )
            )
    for i in range(n):
        color = (
            PALETTE[groups[i] % len(PALETTE)]
            if groups is not None and groups[i] >= 0
            else PALETTE[0]
        )
        body.append(
            f'<circle cx="{xy[i, 0]:.1f}" cy="{xy[i, 1]:.1f}" r="{radius[i]:.1f}" fill="{color}" '
            f'stroke="white"><title>{escape(labels[i])}</title></circle>'
        )
        if n <= 80:
            body.append(
                _text(
                    xy[i, 0],
                    xy[i, 1] - radius[i] - 3,
                    labels[i][:26],
                    text_anchor="middle",
                    fill=INK,
                )
            )
    return _svg(width, height, body, title)
