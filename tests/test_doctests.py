"""The examples in the docstrings of the graph, analysis, swarm and ledger modules run as written."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
MODULES = [
    "glia.graph",
    "glia.analysis._analyze",
    "glia.analysis.centrality",
    "glia.analysis.micmac",
    "glia.analysis.communities",
    "glia.analysis.brokerage",
    "glia.analysis.sweetspot",
    "glia.analysis.vna",
    "glia.analysis.flows",
    "glia.analysis.health",
    "glia.analysis.whatif",
    "glia.swarm",
    "glia.swarm._request",
    "glia.swarm._form",
    "glia.swarm._distance",
    "glia.ledger._expr",
    "glia.ledger._distribute",
    "glia.ledger._allocate",
    "glia.ledger._chain",
    "glia.ledger._shapley",
    "glia.ledger._funds",
    "glia.engage._pipeline",
    "glia.engage._commitments",
    "glia.engage._protocol",
    "glia.engage._loop",
    "glia.govern",
    "glia.govern._principles",
    "glia.govern._aspirations",
    "glia.govern._fairness",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # examples read examples/northbridge.yaml
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
