"""MICMAC against dense matrix powers computed independently with NumPy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import rankdata

import glia
from glia.analysis._common import AnalysisError
from glia.analysis.micmac import QUADRANTS, Micmac, micmac
from glia.generate import write_generated
from glia.graph import Layer, build
from glia.store import snapshot_of


def dense(layer: Layer) -> np.ndarray:
    m = np.zeros((layer.n, layer.n))
    np.add.at(m, (layer.source, layer.target), layer.weight)
    return m


def ranks(x: np.ndarray) -> np.ndarray:
    return rankdata(-np.round(x / x.max(), 12), method="min")


def quadrant_of(influence: np.ndarray, exposure: np.ndarray) -> list[str]:
    hi, he = influence > np.median(influence), exposure > np.median(exposure)
    return [QUADRANTS[(bool(a), bool(b))] for a, b in zip(hi, he, strict=True)]


def random_layer(n: int, p: float, seed: int) -> Layer:
    rng = np.random.default_rng(seed)
    mask = rng.random((n, n)) < p
    np.fill_diagonal(mask, False)
    src, dst = np.nonzero(mask)
    return Layer.from_ties("r", n, src, dst, rng.integers(0, 4, len(src)).astype(float), True)


def check_against_powers(layer: Layer, result: Micmac) -> None:
    m = dense(layer)
    total = m.sum()
    np.testing.assert_allclose(result.influence, m.sum(axis=1))
    np.testing.assert_allclose(result.exposure, m.sum(axis=0))
    mk = np.linalg.matrix_power(m, result.power)
    row, col = mk.sum(axis=1), mk.sum(axis=0)
    np.testing.assert_allclose(result.indirect_influence, row / row.sum() * total, rtol=1e-9)
    np.testing.assert_allclose(result.indirect_exposure, col / col.sum() * total, rtol=1e-9)
    assert result.quadrant.tolist() == quadrant_of(
        result.indirect_influence, result.indirect_exposure
    )
    assert result.direct_quadrant.tolist() == quadrant_of(result.influence, result.exposure)
    before = np.linalg.matrix_power(m, result.power - 1)
    same = np.array_equal(ranks(row), ranks(before.sum(axis=1))) and np.array_equal(
        ranks(col), ranks(before.sum(axis=0))
    )
    if result.stable:
        assert same
    elif not result.acyclic:
        assert result.power == result.steps


@pytest.mark.parametrize("seed", range(4))
def test_indirect_classification_is_the_row_and_column_sums_of_a_power(seed: int) -> None:
    layer = random_layer(25, 0.12, seed)
    result = micmac(layer)
    assert 1 <= result.power <= result.steps == 8
    check_against_powers(layer, result)


def test_ranks_settle_on_a_strongly_connected_layer() -> None:
    layer = random_layer(30, 0.3, 9)
    result = micmac(layer, steps=40)
    assert result.stable and result.power < 40
    check_against_powers(layer, result)


def test_an_acyclic_chain_keeps_its_longest_walks() -> None:
    layer = Layer.from_ties("chain", 4, [0, 1, 2], [1, 2, 3], None, True)
    result = micmac(layer)
    assert result.acyclic and result.power == 3
    assert result.indirect_influence.tolist() == [3.0, 0.0, 0.0, 0.0]
    assert result.indirect_exposure.tolist() == [0.0, 0.0, 0.0, 3.0]
    assert result.quadrant.tolist() == ["driver", "autonomous", "autonomous", "dependent"]
    # directly, every node acts once and is acted on once (except the ends)
    assert result.direct_quadrant.tolist() == ["autonomous"] * 4
    check_against_powers(layer, result)


def test_a_periodic_layer_runs_to_the_step_limit() -> None:
    # a star whose hub sends to and hears from every leaf: walks alternate sides
    leaves = [1, 2, 3, 4, 5]
    layer = Layer.from_ties(
        "star", 6, [0] * 5 + leaves, leaves + [0] * 5, [1.0] * 5 + [1, 2, 3, 4, 5], True
    )
    result = micmac(layer, steps=6)
    assert not result.stable and result.power == 6
    check_against_powers(layer, result)


def test_large_weights_do_not_overflow() -> None:
    n = 3000
    rng = np.random.default_rng(1)
    src = rng.integers(0, n, 60_000)
    dst = (src + rng.integers(1, n, 60_000)) % n
    layer = Layer.from_ties("big", n, src, dst, rng.uniform(1e100, 1e120, 60_000), True)
    result = micmac(layer, steps=30)
    assert np.all(np.isfinite(result.indirect_influence))
    assert result.indirect_influence.sum() == pytest.approx(result.influence.sum(), rel=1e-9)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_layers_without_arcs(n: int) -> None:
    result = micmac(Layer.from_ties("none", n, [], []))
    assert result.quadrant.tolist() == ["autonomous"] * n
    assert result.power == 1 and result.acyclic
    json.dumps(result.to_json(), allow_nan=False)


def test_bad_input_is_refused() -> None:
    with pytest.raises(AnalysisError, match="steps must be 1 or more"):
        micmac(Layer.from_ties("x", 2, [0], [1]), steps=0)
    with pytest.raises(AnalysisError, match="negative or non-finite arc weight"):
        micmac(Layer.from_ties("x", 2, [0], [1], [-2.0], True))


def test_generated_exchange_layer(tmp_path: Path) -> None:
    path = tmp_path / "eco.yaml"
    write_generated(path, 150, seed=3)
    mx = build(snapshot_of(glia.read(path)))
    layer = mx.exchange
    result = micmac(layer)
    check_against_powers(layer, result)
    summary = result.summary()
    assert sum(summary["quadrants"].values()) == layer.n
    assert summary["layer"] == "exchange"
    df = result.to_pandas(ids=mx.ids)
    assert list(df.columns) == [
        "influence",
        "exposure",
        "indirect_influence",
        "indirect_exposure",
        "quadrant",
        "direct_quadrant",
    ]
    assert df.index.tolist() == mx.ids
    data = result.to_json()
    json.dumps(data, allow_nan=False)
    assert len(data["measures"]["quadrant"]) == layer.n
