"""The columnar import of ties against the row path, which is the reference.

The columnar path (``glia.model._columnar``, ``glia.io._arrow``) must accept
only files the row path accepts, and store exactly the same rows; for any
other file it must step aside, leaving nothing behind, so that the row path
reports every problem with its row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select

import glia.model._stream as stream
from glia.io.tabular import CsvFolderSource
from glia.model import InvalidInput
from glia.model._columnar import FALSE_WORDS, TRUE_WORDS, TieChecker
from glia.store import Store
from glia.store._tables import ecosystem, tie, tie_type

PEOPLE = ["ana", "ben", "cy", "dee", "eli", "fay"]
HEADER = ["from", "to", "layer", "type", "weight", "directed", "since", "until"]


def _write(
    folder: Path,
    rows: list[list[str]],
    header: list[str] = HEADER,
    newline: str = "\n",
    prefix: bytes = b"",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    people = "id,name\n" + "".join(f"{p},{p.title()}\n" for p in PEOPLE)
    (folder / "participants.csv").write_text(people, encoding="utf-8")
    lines = [",".join(header)] + [",".join(r) for r in rows]
    text = newline.join(lines) + newline
    (folder / "ties.csv").write_bytes(prefix + text.encode("utf-8"))
    return folder


@contextmanager
def _spy() -> Iterator[list[bool]]:
    """Record whether each import's ties went the columnar way."""
    taken: list[bool] = []
    real = stream._columnar_ties

    def spy(*args: Any, **kwargs: Any) -> bool:
        done = real(*args, **kwargs)
        taken.append(done)
        return done

    with mock.patch.object(stream, "_columnar_ties", spy):
        yield taken


@contextmanager
def _rows_only() -> Iterator[None]:
    with mock.patch.object(CsvFolderSource, "columns", lambda self, section: None):
        yield


def _ties(store: Store, name: str) -> list[tuple[Any, ...]]:
    """The stored ties with their type names, in file order."""
    with store.engine.connect() as conn:
        eco_id = conn.execute(select(ecosystem.c.id).where(ecosystem.c.name == name)).scalar_one()
        types = dict(
            conn.execute(
                select(tie_type.c.idx, tie_type.c.name).where(tie_type.c.ecosystem_id == eco_id)
            ).all()
        )
        rows = conn.execute(
            select(
                tie.c.idx,
                tie.c.source_idx,
                tie.c.target_idx,
                tie.c.layer,
                tie.c.type_idx,
                tie.c.weight,
                tie.c.directed,
                tie.c.since,
                tie.c.until,
                tie.c.attributes,
            )
            .where(tie.c.ecosystem_id == eco_id)
            .order_by(tie.c.idx)
        ).all()
    return [(*r[:4], types.get(r[4]), *r[5:]) for r in rows]


def _outcome(store: Store, folder: Path, name: str) -> tuple[str, Any]:
    try:
        store.import_file(folder, name=name, replace=True)
    except InvalidInput as exc:
        return "invalid", [str(p) for p in exc.problems]
    return "ok", _ties(store, name)


# -- the columnar path is taken, and stores what the row path stores ---------------------
def test_a_plain_file_goes_the_columnar_way_and_stores_the_same_rows(
    store: Store, tmp_path: Path
) -> None:
    rows = [
        ["ana", "ben", "formal", "reports-to", "0.5", "true", "2024-01-31", "2025-02-28"],
        ["ben", "cy", "informal", "", "", "", "", ""],
        ["cy", "dee", "informal", "advice", "1e-1", "NO", "", "2024-02-29"],
        ["dee", "ana", "formal", "contract", ".25", "Y", "0999-12-31", ""],
        ["eli", "fay", "informal", "advice", "1", "off", "", ""],
    ]
    folder = _write(tmp_path / "plain", rows, newline="\r\n")
    with _spy() as taken:
        fast = _outcome(store, folder, "fast")
    with _rows_only():
        slow = _outcome(store, folder, "slow")
    assert taken == [True]
    assert fast == slow
    assert fast[0] == "ok"
    # and against a hand-read first row: ana -> ben, formal, reports-to, 0.5, directed
    assert fast[1][0] == (
        0,
        0,
        1,
        0,
        "reports-to",
        0.5,
        True,
        dt.date(2024, 1, 31),
        dt.date(2025, 2, 28),
        None,
    )
    assert fast[1][1][4:] == (None, 1.0, False, None, None, None)


def test_the_same_rows_on_postgresql_too(db_url: str, tmp_path: Path) -> None:
    rows = [
        ["ana", "ben", "formal", "reports-to", "0.5", "true", "2024-01-31", ""],
        ["ben", "cy", "informal", "trust", "", "", "", "2026-03-01"],
    ]
    folder = _write(tmp_path / "plain", rows)
    with Store.open(db_url) as store:
        with _spy() as taken:
            fast = _outcome(store, folder, "fast")
        with _rows_only():
            slow = _outcome(store, folder, "slow")
    assert taken == [True]
    assert fast == slow and fast[0] == "ok"


def test_a_file_that_is_not_plain_later_on_leaves_nothing_behind(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import glia.io._arrow as arrow

    monkeypatch.setattr(arrow, "BLOCK", 1024)  # many small batches
    good = [["ana", "ben", "informal", "advice", "0.5", "", "", ""]] * 200
    bad = [["ana", "zed", "informal", "advice", "0.5", "", "", ""]]
    folder = _write(tmp_path / "late", good + bad)
    with _spy() as taken, pytest.raises(InvalidInput) as caught:
        store.import_file(folder, name="late")
    assert taken == [False]
    assert [(p.location.row, p.column, p.value) for p in caught.value.problems] == [
        (202, "to", "zed")
    ]
    assert store.list() == []
    # the same file with the bad row fixed is written whole, once
    folder = _write(tmp_path / "fixed", [*good, ["ana", "cy", "informal", "", "", "", "", ""]])
    with _spy() as taken:
        store.import_file(folder, name="late")
    assert taken == [True]
    assert len(_ties(store, "late")) == 201


# -- the row path decides everything else ---------------------------------------------------
CELLS = {
    "from": ["ana", "ben", "cy", "zed", "", "ana "],
    "to": ["ben", "cy", "dee", "ana", "zed", ""],
    "layer": ["formal", "informal", "Formal", " informal", "", "other"],
    "type": ["", "advice", "reports-to", "x_1", "Advice", "a" * 61, "a" * 60, "é"],
    "weight": [
        "",
        "0.5",
        "1",
        "0",
        ".25",
        "1.",
        "1e-1",
        "2",
        "-0.1",
        "nan",
        "0.5 ",
        "1_0",
        "+0.5",
        "1e-400",
    ],
    "directed": ["", "true", "TRUE", "False", "yes", "0", "maybe", " true", "On"],
    "since": [
        "",
        "2024-01-31",
        "2024-02-30",
        "0000-01-01",
        "0999-12-31",
        "2024-1-01",
        "2025-12-31",
    ],
    "until": ["", "2024-01-31", "2023-12-31", "2024-02-29", "20240101", "9999-12-31"],
}

rows_strategy = st.lists(
    st.tuples(*(st.sampled_from(CELLS[c]) for c in HEADER)).map(list), min_size=0, max_size=8
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=rows_strategy,
    newline=st.sampled_from(["\n", "\r\n"]),
    prefix=st.sampled_from([b"", b"", b"\xef\xbb\xbf"]),
    header=st.sampled_from([HEADER, [h.upper() for h in HEADER], HEADER[:3] + HEADER[4:]]),
)
@example(
    rows=[["ana", "ben", "formal", "advice", "0.5", "yes", "2024-01-31", "2024-01-31"]],
    newline="\n",
    prefix=b"",
    header=HEADER,
)
def test_any_file_gives_what_the_row_path_gives(
    store: Store,
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[list[str]],
    newline: str,
    prefix: bytes,
    header: list[str],
) -> None:
    if len(header) < len(HEADER):  # without a type column
        rows = [r[:3] + r[4:] for r in rows]
    folder = _write(tmp_path_factory.mktemp("eco"), rows, header, newline, prefix)
    with _spy() as taken:
        fast = _outcome(store, folder, "fast")
    with _rows_only():
        slow = _outcome(store, folder, "slow")
    assert fast == slow
    if taken and taken[0]:
        assert fast[0] == "ok"


PLAIN = {
    "layer": ["formal", "informal"],
    "type": ["", "advice", "reports-to", "x_1", "a" * 60],
    "weight": ["", "0.5", "1", "0", ".25", "1.", "1e-1", "0.1000000000000000055511151231257827"],
    "directed": ["", "true", "TRUE", "False", "yes", "0", "On", "n"],
    "since": ["", "2024-01-31", "0999-12-31", "2024-02-29"],
    "until": ["", "2024-01-31", "2025-12-31", "9999-12-31"],
}

plain_rows = st.lists(
    st.tuples(
        st.permutations(PEOPLE).map(lambda p: p[:2]),
        *(st.sampled_from(PLAIN[c]) for c in HEADER[2:]),
    ).map(lambda r: [*r[0], *r[1:]]),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=plain_rows, newline=st.sampled_from(["\n", "\r\n"]))
def test_plain_files_store_what_the_row_path_stores(
    store: Store, tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], newline: str
) -> None:
    folder = _write(tmp_path_factory.mktemp("eco"), rows, newline=newline)
    with _spy() as taken:
        fast = _outcome(store, folder, "fast")
    with _rows_only():
        slow = _outcome(store, folder, "slow")
    assert fast == slow
    # every plain file is taken by the columnar path, unless the row path refuses it
    # (a tie ending before it starts)
    assert taken == [fast[0] == "ok"]


# -- each plain form means what pydantic makes of it ---------------------------------------
def test_the_boolean_words_are_pydantics() -> None:
    reader = TypeAdapter(bool)
    for words, meaning in ((TRUE_WORDS, True), (FALSE_WORDS, False)):
        for word in words:
            for form in (word, word.upper(), word.title()):
                assert reader.validate_python(form) is meaning


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\A(?:[0-9]{1,3}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})(?:[eE][+-]?[0-9]{1,3})?\Z"))
def test_a_plain_weight_reads_as_pydantic_reads_it(text: str) -> None:
    checker = TieChecker({"a": 0, "b": 1})
    batch = pa.record_batch({"from": ["a"], "to": ["b"], "layer": ["formal"], "weight": [text]})
    checked = checker.check(batch)
    try:
        expected = TypeAdapter(float).validate_python(text)
    except ValidationError:
        assert checked is None
        return
    if 0 <= expected <= 1:
        assert checked is not None and checked.weight[0] == expected
    else:
        assert checked is None


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"))
def test_a_plain_date_reads_as_pydantic_reads_it(text: str) -> None:
    checker = TieChecker({"a": 0, "b": 1})
    batch = pa.record_batch({"from": ["a"], "to": ["b"], "layer": ["formal"], "since": [text]})
    checked = checker.check(batch)
    try:
        expected = TypeAdapter(dt.date).validate_python(text)
    except ValidationError:
        assert checked is None
        return
    assert checked is not None and checked.since[0].as_py() == expected.isoformat() == text
