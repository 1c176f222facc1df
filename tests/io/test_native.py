"""The native YAML/JSON format: lossless round trips and located problems."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from glia.io import read, read_native, write_native
from glia.model import Ecosystem, InvalidInput

from strategies import ecosystems


def _problems(path: Path) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        read_native(path)
    return [str(p) for p in caught.value.problems]


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(eco=ecosystems())
def test_yaml_and_json_round_trips_are_lossless(eco: Ecosystem, tmp_path: Path) -> None:
    for suffix in (".yaml", ".json"):
        path = tmp_path / f"eco{suffix}"
        write_native(path, eco)
        assert read_native(path) == eco


def test_money_stays_exact(tmp_path: Path) -> None:
    eco = Ecosystem.model_validate(
        {
            "ecosystem": "Exact",
            "participants": [{"id": "a", "rate_per_hour": "0.10"}, {"id": "b"}],
            "exchanges": [
                {
                    "from": "a",
                    "to": "b",
                    "deliverable": "x",
                    "kind": "tangible",
                    "value": "12345678901234.56",
                }
            ],
        }
    )
    for suffix in (".yaml", ".json"):
        path = tmp_path / f"exact{suffix}"
        write_native(path, eco)
        back = read_native(path)
        assert back.participants[0].rate_per_hour == Decimal("0.1")
        assert back.exchanges[0].value == Decimal("12345678901234.56")
        assert isinstance(back.exchanges[0].value, Decimal)


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "glia: 1\n"
        "ecosystem: Bad\n"
        "clusters:\n"
        "  - {id: north, kind: Regional}\n"  # line 4: kind must be a lowercase slug
        "participants:\n"
        "  - id: ana\n"  # line 6
        "    capabilities: {agronomy: 7}\n"
        "    clusters: [north, south]\n"
        "  - id: ana\n"  # line 9: duplicate
        "ties:\n"
        "  - {from: ana, to: zed, layer: social}\n"  # line 11: unknown layer
        "  - {from: ana, to: bob, layer: formal, weight: 2}\n",  # line 12
        encoding="utf-8",
    )
    found = _problems(path)
    assert [f.removeprefix(f"{path}, ") for f in found] == [
        "clusters, row 1, line 4, column kind: got 'Regional', expected text with no leading or trailing blank (lowercase slug for kinds and types)",
        "participants, row 1, line 6, column capabilities.agronomy: got 7, expected a value less than or equal to 5",
        # The record is wrong, and its references are still checked in the same run.
        "participants, row 1, line 6, column clusters.1: got 'south', expected the id of a known cluster",
        "participants, row 2, line 9, column id: got 'ana', expected an id not used before in participants (first used in row 1)",
        "ties, row 1, line 11, column layer: got 'social', expected 'formal' or 'informal'",
        "ties, row 1, line 11, column to: got 'zed', expected the id of a known participant",
        "ties, row 2, line 12, column weight: got 2, expected a value less than or equal to 1",
        "ties, row 2, line 12, column to: got 'bob', expected the id of a known participant",
    ]


def test_references_are_checked_once_the_records_are_valid(tmp_path: Path) -> None:
    path = tmp_path / "refs.yaml"
    path.write_text(
        "glia: 1\necosystem: Refs\n"
        "participants: [{id: ana, clusters: [nowhere]}]\n"
        "roles: [{id: ana, played_by: [ghost]}]\n"
        "ties: [{from: ana, to: zed, layer: informal}]\n"
        "exchanges: [{from: ana, to: nobody, deliverable: x, kind: intangible}]\n"
        "opportunities: [{id: o, client: nobody}]\n",
        encoding="utf-8",
    )
    found = _problems(path)
    assert len(found) == 6
    assert "participants, row 1, line 3, column clusters.0: got 'nowhere'" in found[0]
    assert (
        "roles, row 1, line 4, column id: got 'ana', expected an id that no participant" in found[1]
    )
    assert "column played_by.0: got 'ghost', expected the id of a known participant" in found[2]
    assert "ties, row 1, line 5, column to: got 'zed'" in found[3]
    assert (
        "exchanges, row 1, line 6, column to: got 'nobody', expected the id of a known role or participant"
        in found[4]
    )
    assert "opportunities, row 1, line 7, column client: got 'nobody'" in found[5]


def test_a_record_with_a_bad_field_is_still_known_to_references(tmp_path: Path) -> None:
    path = tmp_path / "cascade.yaml"
    path.write_text(
        "glia: 1\necosystem: C\n"
        "participants: [{id: ana, capacity_hours_per_week: 200}, {id: ben}]\n"
        "ties: [{from: ana, to: ben, layer: informal}]\n",
        encoding="utf-8",
    )
    found = _problems(path)
    assert len(found) == 1 and "capacity_hours_per_week" in found[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "an ecosystem document; the file is empty"),
        (b"   \n\n", "an ecosystem document; the file is empty"),
        (b"glia: 1\necosystem: [unclosed\n", "line 3: expected valid YAML"),
        (
            b"glia: 1\necosystem: X\nparticipants:\n  - {id: a, attributes: {joined: 2025-13-01}}\n",
            "line 4: expected valid YAML (a real calendar date, '2025-13-01' is not one: "
            "month must be in 1..12)",
        ),
        (
            b"glia: 1\necosystem: X\ndescription: caf\xe9\n",
            "line 3: got b'\\xe9\\n', expected text encoded as UTF-8",
        ),
        (b"- just\n- a list\n", "got 'list', expected a mapping with 'glia: 1'"),
        (b"glia: 2\necosystem: X\n", "column glia: got 2, expected format version 1"),
        (b"ecosystem: X\n", "column glia: expected 'glia: 1' at the top (the format version)"),
        (
            b"glia: 1\necosystem: X\nparticipant: []\n",
            "column participant: expected a known top-level key",
        ),
        (
            b"glia: 1\necosystem: X\nparticipants: {a: 1}\n",
            "participants: got 'dict', expected a list of records",
        ),
        (
            b"glia: 1\necosystem: X\nparticipants:\n  - id: a\n    id: b\n",
            "line 5, column id: expected each key once in a mapping",
        ),
        (
            b'{"glia": 1, "ecosystem": "X", "ecosystem": "Y"}',
            "column ecosystem: expected each key once in an object",
        ),
        (b'{"glia": 1, "ecosystem": }', "line 1: expected valid JSON"),
        (b"glia: 1\necosystem: X\nparticipants: [oops]\n", "participants, row 1, line None"),
    ],
)
def test_broken_files_get_a_located_message(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / ("doc.json" if content.startswith(b"{") else "doc.yaml")
    path.write_bytes(content)
    found = _problems(path)
    if expected.endswith("line None"):  # a scalar item has no line of its own
        assert any(
            "participants, row 1: got 'oops', expected a mapping of participant fields" in f
            for f in found
        )
    else:
        assert any(expected in f for f in found), found


def test_a_file_beyond_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:  # sparse: 2 GB on paper, nothing on disk
        f.truncate(2 * 1024**3)
    found = _problems(path)
    assert len(found) == 1
    assert "at most 64.0 MiB (this one is 2.0 GiB)" in found[0]
    assert "CSV files" in found[0]


def test_the_size_limit_can_be_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "small.yaml"
    path.write_text("glia: 1\necosystem: X\n", encoding="utf-8")
    monkeypatch.setenv("GLIA_MAX_DOCUMENT_BYTES", "10")
    assert "at most 10 bytes" in _problems(path)[0]


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        read(tmp_path / "nope.yaml")
    assert (
        str(caught.value.problems[0])
        == f"{tmp_path / 'nope.yaml'}: expected an existing file or folder"
    )


def test_writes_are_atomic(tmp_path: Path) -> None:
    path = tmp_path / "out.yaml"
    path.write_text("old content", encoding="utf-8")

    def broken() -> object:
        yield {"id": "a"}
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_native(path, header={"ecosystem": "X"}, sections={"participants": broken()})
    assert path.read_text(encoding="utf-8") == "old content"
    assert os.listdir(tmp_path) == ["out.yaml"]
