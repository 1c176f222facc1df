"""Spreadsheets: CSV folders, XLSX workbooks and the element/connection layout.

Hand-worked inputs with exact expected records and problems (file, row,
column, what was expected), lossless round trips, and the layout of
ecosystem-mapping tools on a small hand-made workbook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from openpyxl import Workbook, load_workbook

from glia.io import (
    CsvFolderSource,
    ElementConnectionSource,
    Source,
    WorkbookSource,
    open_tabular,
    read_tabular,
    write_ecosystem_tables,
    write_tables,
)
from glia.io.tabular import CAPABILITIES_FORM, MAX_FILE_PROBLEMS, NEEDS_FORM
from glia.model import (
    HEADER_FIELDS,
    NO_VALUE,
    SECTIONS,
    Ecosystem,
    InvalidInput,
    Location,
    Problem,
)

from strategies import ecosystems

# -- helpers ---------------------------------------------------------------------------


def _folder(root: Path, files: dict[str, str | bytes], name: str = "northbridge") -> Path:
    folder = root / name
    folder.mkdir()
    for file, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        (folder / file).write_bytes(data)
    return folder


def _workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _drain(source: Source) -> tuple[dict[str, list[tuple[Location, Any]]], list[Problem]]:
    """Every section's rows and every reader problem, in pipeline order."""
    rows: dict[str, list[tuple[Location, Any]]] = {}
    problems: list[Problem] = []
    with source:
        for section in SECTIONS:
            rows[section] = list(source.rows(section))
            problems.extend(source.problems())
    return rows, problems


def _problems(path: Path) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        read_tabular(path)
    return caught.value.problems


# -- a hand-worked CSV folder ------------------------------------------------------------

NORTHBRIDGE = {
    "ecosystem.csv": "key,value\necosystem,Northbridge\ncurrency,EUR\nfounded,2019\n",
    "clusters.csv": "id,kind,name\n"
    "northbridge,regional,Northbridge City-Region\n"
    "data,knowledge,Data and Cloud\n"
    "agritech,business,Agritech Cluster\n",
    "participants.csv": "id,name,kind,region,clusters,capabilities,capacity_hours_per_week,"
    "rate_per_hour,languages\n"
    "ana,Ana Ruiz,person,northbridge,northbridge; data,data-engineering:4; facilitation:3,"
    "10,95,es\n"
    "acme,Acme Farms,organization,,agritech,,,,\n"
    "ben,Ben Okafor,,,,,,,\n",
    "roles.csv": "id,name,played_by\nintegrator,Solution integrator,ana\nclient,Client,acme\n",
    "ties.csv": "from,to,layer,type,weight,directed,since\n"
    "ana,acme,formal,contract,,yes,2024-01-01\n"
    "ana,ben,informal,trust,0.8,,\n",
    "exchanges.csv": "from,to,deliverable,kind,type,value,currency,"
    "impact_financial,impact_human_competence\n"
    "integrator,client,Working data platform,tangible,,120000,EUR,2,\n"
    "client,integrator,Field know-how,intangible,knowledge,,,,1\n",
    "opportunities.csv": "id,client,needs,region,budget\n"
    "farm-data,acme,data-engineering:3x2; agronomy:4,northbridge,80000\n",
}


def test_a_csv_folder_reads_into_exactly_these_records(tmp_path: Path) -> None:
    eco = read_tabular(_folder(tmp_path, NORTHBRIDGE))
    expected = Ecosystem.model_validate(
        {
            "ecosystem": "Northbridge",
            "currency": "EUR",
            "attributes": {"founded": 2019},
            "clusters": [
                {"id": "northbridge", "kind": "regional", "name": "Northbridge City-Region"},
                {"id": "data", "kind": "knowledge", "name": "Data and Cloud"},
                {"id": "agritech", "kind": "business", "name": "Agritech Cluster"},
            ],
            "participants": [
                {
                    "id": "ana",
                    "name": "Ana Ruiz",
                    "kind": "person",
                    "region": "northbridge",
                    "clusters": ["northbridge", "data"],
                    "capabilities": {"data-engineering": 4, "facilitation": 3},
                    "capacity_hours_per_week": 10,
                    "rate_per_hour": "95",
                    "attributes": {"languages": "es"},
                },
                {
                    "id": "acme",
                    "name": "Acme Farms",
                    "kind": "organization",
                    "clusters": ["agritech"],
                },
                {"id": "ben", "name": "Ben Okafor"},
            ],
            "roles": [
                {"id": "integrator", "name": "Solution integrator", "played_by": ["ana"]},
                {"id": "client", "name": "Client", "played_by": ["acme"]},
            ],
            "ties": [
                {
                    "from": "ana",
                    "to": "acme",
                    "layer": "formal",
                    "type": "contract",
                    "directed": True,
                    "since": "2024-01-01",
                },
                {"from": "ana", "to": "ben", "layer": "informal", "type": "trust", "weight": 0.8},
            ],
            "exchanges": [
                {
                    "from": "integrator",
                    "to": "client",
                    "deliverable": "Working data platform",
                    "kind": "tangible",
                    "value": "120000",
                    "currency": "EUR",
                    "impact": {"financial": 2},
                },
                {
                    "from": "client",
                    "to": "integrator",
                    "deliverable": "Field know-how",
                    "kind": "intangible",
                    "type": "knowledge",
                    "impact": {"human_competence": 1},
                },
            ],
            "opportunities": [
                {
                    "id": "farm-data",
                    "client": "acme",
                    "needs": [
                        {"capability": "data-engineering", "level": 3, "count": 2},
                        {"capability": "agronomy", "level": 4},
                    ],
                    "region": "northbridge",
                    "budget": "80000",
                }
            ],
        }
    )
    assert eco == expected
    assert eco.participants[0].rate_per_hour == Decimal("95")
    assert eco.ties[0].weight == 1.0 and eco.ties[1].directed is False


def test_rows_are_native_mappings_at_their_spreadsheet_row(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "participants.csv": "id\nana\nben\ncy\n",
            # Row 3 is blank and row 4 holds only empty cells: both are skipped,
            # and the rows after keep their spreadsheet numbers.
            "ties.csv": "from,to,layer,weight\r\nana,ben,informal,\r\n\r\n,,,\r\nben,cy,formal,0.5\r\n",
        },
    )
    source = CsvFolderSource(folder)
    assert list(source.rows("ties")) == [
        (Location(str(folder), "ties.csv", 2), {"from": "ana", "to": "ben", "layer": "informal"}),
        (
            Location(str(folder), "ties.csv", 5),
            {"from": "ben", "to": "cy", "layer": "formal", "weight": "0.5"},
        ),
    ]
    assert list(source.rows("clusters")) == []
    assert source.problems() == []


def test_the_ecosystem_is_named_after_the_folder_without_ecosystem_csv(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"participants.csv": "id\nana\n"}, name="riverside")
    assert CsvFolderSource(folder).header == {"glia": 1, "ecosystem": "riverside"}
    assert read_tabular(folder).name == "riverside"


def test_ecosystem_csv_without_header_row_and_with_name_key(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "ecosystem.csv": 'name,Riverside\ndescription,"Farms, data, capital"\n'
            "Public,true\nattributes.currency,GBP\n",
            "participants.csv": "id\nana\n",
        },
    )
    assert CsvFolderSource(folder).header == {
        "glia": 1,
        "ecosystem": "Riverside",
        "description": "Farms, data, capital",
        "attributes": {"Public": True, "currency": "GBP"},
    }


def test_file_sheet_and_column_names_ignore_case(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "Participants.CSV": "ID,Name,Capacity Hours Per Week\nana,Ana,12\n",
            "ROLES.csv": "Id,Played-By\nlead,ana\n",
        },
    )
    eco = read_tabular(folder)
    assert eco.participants[0].capacity_hours_per_week == 12.0
    assert eco.participants[0].name == "Ana"
    assert eco.roles[0].played_by == ("ana",)


def test_unknown_columns_become_typed_attributes(tmp_path: Path) -> None:
    header = "id,count,delta,share,big,zip,phone,flag,off,maybe,note,blank,attributes.name\n"
    row = 'ana,42,-3,2.5,1e3,007,+44 20 7946,TRUE,false,yes,"1,5",,shadow\n'
    folder = _folder(tmp_path, {"participants.csv": header + row})
    (participant,) = read_tabular(folder).participants
    assert participant.name is None
    assert participant.attributes == {
        "count": 42,
        "delta": -3,
        "share": 2.5,
        "big": 1000.0,
        "zip": "007",
        "phone": "+44 20 7946",
        "flag": True,
        "off": False,
        "maybe": "yes",
        "note": "1,5",
        "name": "shadow",
    }
    assert [type(v) for v in participant.attributes.values()][:4] == [int, int, float, float]


def test_booleans_accept_true_false_yes_no_one_zero(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "participants.csv": "id\na\nb\n",
            "ties.csv": "from,to,layer,directed\n"
            + "".join(f"a,b,informal,{v}\n" for v in ("yes", "no", "1", "0", "TRUE", "false", "")),
        },
    )
    assert [t.directed for t in read_tabular(folder).ties] == [
        True,
        False,
        True,
        False,
        True,
        False,
        False,
    ]


def test_a_semicolon_separated_file_is_read(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "clusters.csv": "id;kind\nnb;regional\ndata;knowledge\n",
            "participants.csv": 'id;clusters\nana;"nb; data"\n',
        },
    )
    assert read_tabular(folder).participants[0].clusters == ("nb", "data")


def test_an_empty_file_is_an_empty_section(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path, {"participants.csv": "id\nana\n", "ties.csv": "", "roles.csv": "id\n"}
    )
    eco = read_tabular(folder)
    assert eco.counts() == {
        "clusters": 0,
        "participants": 1,
        "roles": 0,
        "ties": 0,
        "exchanges": 0,
        "opportunities": 0,
    }


# -- reader problems -----------------------------------------------------------------------


def test_a_missing_required_column_is_one_problem_and_no_rows(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "participants.csv": "id\nana\nben\n",
            "ties.csv": "from,to,type\nana,ben,trust\nben,ana,x\n",
        },
    )
    source = CsvFolderSource(folder)
    rows, problems = _drain(source)
    assert rows["ties"] == []
    expected = Problem(
        Location(str(folder), "ties.csv", 1),
        "layer",
        NO_VALUE,
        "a column 'layer' in the header row (required for ties)",
    )
    assert problems == [expected]
    assert _problems(folder) == [expected]
    assert str(expected) == (
        f"{folder}, ties.csv, row 1, column layer: "
        "expected a column 'layer' in the header row (required for ties)"
    )


def test_participants_without_an_id_column(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"participants.csv": "name,kind\nAna,person\n"})
    assert _problems(folder) == [
        Problem(
            Location(str(folder), "participants.csv", 1),
            "id",
            NO_VALUE,
            "a column 'id' in the header row (required for participants)",
        )
    ]


def test_bytes_that_are_not_utf8_are_located_by_row_and_line(tmp_path: Path) -> None:
    content = b'id,description\nana,"two\nlines"\nben,caf\xe9 latte\ncy,fine\n'  # Latin-1 in row 3
    folder = _folder(tmp_path, {"participants.csv": content})
    rows, problems = _drain(CsvFolderSource(folder))
    # Row 2 spans lines 2-3, so row 3 is on line 4.
    assert problems == [
        Problem(
            Location(str(folder), "participants.csv", 3, 4),
            None,
            b"\xe9 la",
            "text encoded as UTF-8",
        )
    ]
    assert [raw["id"] for _, raw in rows["participants"]] == ["ana", "ben", "cy"]
    assert _problems(folder) == problems


def test_a_bad_byte_in_the_header_row(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"participants.csv": b"id,r\xf4le\nana,x\n"})
    (problem,) = _problems(folder)
    assert problem.location == Location(str(folder), "participants.csv", 1, 1)
    assert problem.expected == "text encoded as UTF-8"


def test_unparsable_capabilities_and_needs_name_row_and_column(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "participants.csv": "id,capabilities\n"
            "ana,data-engineering=4\n"
            "ben,agronomy:4; agronomy:2\n"
            "cy,facilitation\n"
            "dee,python:4; sql: 3\n",
            "opportunities.csv": "id,client,needs\n"
            "o1,ana,data-engineering:high\n"
            "o2,ben,agronomy:4x\n"
            "o3,cy,python:3X2; ; sql\n",
        },
    )
    source_root = str(folder)
    problems = _problems(folder)
    assert problems == [
        Problem(
            Location(source_root, "participants.csv", 2),
            "capabilities",
            "data-engineering=4",
            CAPABILITIES_FORM,
        ),
        Problem(
            Location(source_root, "participants.csv", 3),
            "capabilities",
            "agronomy:4; agronomy:2",
            CAPABILITIES_FORM,
        ),
        Problem(
            Location(source_root, "participants.csv", 4),
            "capabilities",
            "facilitation",
            CAPABILITIES_FORM,
        ),
        Problem(
            Location(source_root, "opportunities.csv", 2),
            "needs",
            "data-engineering:high",
            NEEDS_FORM,
        ),
        Problem(Location(source_root, "opportunities.csv", 3), "needs", "agronomy:4x", NEEDS_FORM),
    ]
    # The rows themselves are kept (without the bad cell), so nothing else is reported.
    rows, _ = _drain(CsvFolderSource(folder))
    assert rows["participants"][0][1] == {"id": "ana"}
    assert rows["participants"][3][1] == {"id": "dee", "capabilities": {"python": 4, "sql": 3}}
    assert rows["opportunities"][2][1]["needs"] == [
        {"capability": "python", "level": 3, "count": 2},
        {"capability": "sql"},
    ]


def test_more_cells_than_columns_is_a_problem(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"participants.csv": "id,kind\nana,person,oops\nben,person,,\n"})
    assert _problems(folder) == [
        Problem(
            Location(str(folder), "participants.csv", 2),
            None,
            "oops",
            "at most 2 cells in a row, one per column of the header row",
        )
    ]


def test_values_under_a_column_without_a_name(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"participants.csv": "id,,kind\nana,,person\nben,x,person\n"})
    assert _problems(folder) == [
        Problem(
            Location(str(folder), "participants.csv", 3),
            "column 2",
            "x",
            "no value in a column without a name in the header row",
        )
    ]


def test_a_column_twice_in_the_header(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"participants.csv": "id,Name,name\nana,Ana,Anna\n"})
    assert _problems(folder) == [
        Problem(
            Location(str(folder), "participants.csv", 1),
            "name",
            NO_VALUE,
            "each column once in the header row (first in column 2)",
        )
    ]


def test_a_misspelt_file_name_is_reported(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"participant.csv": "id\nana\n", "notes.csv": "x\n1\n"})
    with pytest.raises(InvalidInput):
        read_tabular(folder)  # no section file at all: not a Glia folder
    (folder / "ties.csv").write_text("from,to,layer\n")
    assert _problems(folder) == [
        Problem(
            Location(str(folder), "participant.csv"),
            None,
            NO_VALUE,
            "a file named after a section (participants.csv?); this one is not read",
        )
    ]


def test_validation_problems_name_file_row_and_spreadsheet_column(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "participants.csv": "id,kind\nana,person\nben,robot\n",
            "ties.csv": "from,to,layer,weight\nana,ben,informal,0.5\nana,zed,informal,2\n",
            "exchanges.csv": "from,to,deliverable,kind,impact_financial\nana,ben,Advice,intangible,5\n",
        },
    )
    found = [(p.location.section, p.location.row, p.column, p.value) for p in _problems(folder)]
    assert found == [
        ("participants.csv", 3, "kind", "robot"),
        ("ties.csv", 3, "weight", "2"),
        ("ties.csv", 3, "to", "zed"),
        ("exchanges.csv", 2, "impact_financial", "5"),
    ]


def test_reader_problems_are_capped_per_file(tmp_path: Path) -> None:
    rows = "".join(f"p{i},bad\n" for i in range(MAX_FILE_PROBLEMS + 5))
    folder = _folder(tmp_path, {"participants.csv": "id,capabilities\n" + rows})
    _, problems = _drain(CsvFolderSource(folder))
    assert len(problems) == MAX_FILE_PROBLEMS + 1
    assert problems[-1] == Problem(
        Location(str(folder), "participants.csv"),
        None,
        NO_VALUE,
        "fewer problems: 5 more in this file are not listed",
    )


# -- workbooks -----------------------------------------------------------------------------


def test_a_native_workbook_with_typed_cells(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "riverside.xlsx",
        {
            "Notes": [["anything"]],
            "Participants": [
                ["id", "name", "capacity_hours_per_week", "year", "code", "active"],
                [2024, "Ana", 10.5, 1999, "42", True],
                [None, None, None, None, None, None],
                ["ben", None, 8, None, None, None],
            ],
            "TIES": [
                ["from", "to", "layer", "since", "weight"],
                ["2024", "ben", "informal", dt.datetime(2024, 3, 1), 0.25],
            ],
        },
    )
    source = open_tabular(path)
    assert isinstance(source, WorkbookSource)
    assert source.header == {"glia": 1, "ecosystem": "riverside"}
    rows, problems = _drain(source)
    assert problems == []
    assert rows["participants"] == [
        (
            Location(str(path), "Participants", 2),
            {
                "id": "2024",
                "name": "Ana",
                "capacity_hours_per_week": "10.5",
                "attributes": {"year": 1999, "code": "42", "active": True},
            },
        ),
        (
            Location(str(path), "Participants", 4),
            {"id": "ben", "capacity_hours_per_week": "8"},
        ),
    ]
    eco = read_tabular(path)
    assert eco.ties[0].since == dt.date(2024, 3, 1)
    assert eco.ties[0].source == "2024"


def test_a_workbook_missing_a_required_column(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "w.xlsx", {"clusters": [["id", "name"], ["nb", "North"]]})
    assert _problems(path) == [
        Problem(
            Location(str(path), "clusters", 1),
            "kind",
            NO_VALUE,
            "a column 'kind' in the header row (required for clusters)",
        )
    ]


# -- round trips ---------------------------------------------------------------------------

EVERY_FIELD: dict[str, Any] = {
    "ecosystem": "Northbridge",
    "description": "A city-region, its clusters and its capital",
    "currency": "EUR",
    "attributes": {
        "founded": 2019,
        "motto": "grow together",
        "public": True,
        "score": 0.75,
        "code": "007",
        "zip": "42",
        "unknown": None,
    },
    "clusters": [
        {
            "id": "northbridge",
            "kind": "regional",
            "name": "Northbridge City-Region",
            "description": "The region",
            "attributes": {"population": 250000},
        },
        {"id": "agritech", "kind": "business"},
        {"id": "makers", "kind": "guild", "attributes": {"kind": "custom"}},
    ],
    "participants": [
        {
            "id": "ana",
            "name": "Ana Ruiz",
            "kind": "person",
            "region": "northbridge",
            "clusters": ["northbridge", "agritech"],
            "capabilities": {"data-engineering": 4, "facilitation": 3},
            "capacity_hours_per_week": 10.5,
            "rate_per_hour": "95.50",
            "capital_available": "0",
            "description": 'Line one\nline two, with a comma and "quotes"',
            "attributes": {"languages": "es; en", "senior": True, "Name": "shadow", "age": 41},
        },
        {"id": "acme", "name": "Acme Farms", "kind": "organization", "clusters": ["agritech"]},
        {"id": "ben", "attributes": {"age": "40"}},
    ],
    "roles": [
        {
            "id": "integrator",
            "name": "Solution integrator",
            "played_by": ["ana", "ben"],
            "description": "Puts it together",
            "attributes": {"critical": False},
        },
        {"id": "client", "played_by": ["acme"]},
    ],
    "ties": [
        {
            "from": "ana",
            "to": "acme",
            "layer": "formal",
            "type": "contract",
            "weight": 0.5,
            "directed": True,
            "since": "2024-01-01",
            "until": "2025-06-30",
            "attributes": {"source": "crm", "from": "import"},
        },
        {"from": "ana", "to": "ben", "layer": "informal", "type": "trust", "weight": 0.8},
    ],
    "exchanges": [
        {
            "id": "x1",
            "from": "integrator",
            "to": "client",
            "deliverable": "Working data platform",
            "kind": "tangible",
            "type": "service",
            "value": "120000.50",
            "currency": "EUR",
            "frequency": 2.5,
            "period": "month",
            "perceived_value": -2,
            "cost": "1000",
            "impact": {
                "financial": 2,
                "human_competence": -1,
                "internal_structure": 0,
                "business_relationships": 1,
            },
            "sequence": 1,
            "description": "=SUM(A1:A3)",
            "attributes": {"#N/A": "#N/A", "impact_financial": "shadow"},
        },
        {
            "from": "client",
            "to": "ana",
            "deliverable": "Field know-how",
            "kind": "intangible",
            "type": "knowledge",
            "impact": {"human_competence": 2},
        },
    ],
    "opportunities": [
        {
            "id": "farm-data",
            "name": "Farm data platform",
            "client": "acme",
            "needs": [
                {"capability": "data-engineering", "level": 3, "count": 2},
                {"capability": "agronomy", "level": 4},
            ],
            "region": "northbridge",
            "budget": "80000",
            "capital_needed": "20000.25",
            "currency": "EUR",
            "start": "2025-01-01",
            "end": "2025-12-31",
            "stage": "proposal",
            "description": "Sensors to decisions",
            "attributes": {"priority": 1},
        },
        {"id": "small", "client": "ben"},
    ],
}


@pytest.mark.parametrize("name", ["tables", "tables.xlsx"])
def test_every_field_survives_a_round_trip(tmp_path: Path, name: str) -> None:
    eco = Ecosystem.model_validate(EVERY_FIELD)
    counts = write_ecosystem_tables(eco, tmp_path / name)
    assert counts == eco.counts()
    back = read_tabular(tmp_path / name)
    assert back == eco
    assert back.participants[0].rate_per_hour == Decimal("95.50")
    assert back.attributes["zip"] == "42" and back.attributes["unknown"] is None


def test_the_csv_files_written(tmp_path: Path) -> None:
    eco = Ecosystem.model_validate(EVERY_FIELD)
    write_ecosystem_tables(eco, tmp_path / "out")
    folder = tmp_path / "out"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["ecosystem.csv", *(f"{s}.csv" for s in SECTIONS)]
    )
    assert (folder / "ecosystem.csv").read_text().splitlines() == [
        "key,value",
        "glia,1",
        "ecosystem,Northbridge",
        'description,"A city-region, its clusters and its capital"',
        "currency,EUR",
        "founded,2019",
        "motto,grow together",
        "public,true",
        "score,0.75",
        "code,007",
        'attributes,"{""zip"": ""42"", ""unknown"": null}"',
    ]
    lines = (folder / "participants.csv").read_text().splitlines()
    assert lines[0] == (
        "id,name,kind,region,clusters,capabilities,capacity_hours_per_week,rate_per_hour,"
        "capital_available,description,languages,senior,attributes.Name,age,attributes"
    )
    assert lines[1] == (
        "ana,Ana Ruiz,person,northbridge,northbridge; agritech,"
        'data-engineering:4; facilitation:3,10.5,95.50,0,"Line one'
    )
    assert lines[-1] == 'ben,,person,,,,,,,,,,,,"{""age"": ""40""}"'
    ties = (folder / "ties.csv").read_text().splitlines()
    assert ties[0] == "from,to,layer,type,weight,directed,since,until,source,attributes.from"
    opportunities = (folder / "opportunities.csv").read_text().splitlines()
    assert opportunities[1].split(",")[3] == "data-engineering:3x2; agronomy:4"


def test_streamed_sections_put_attributes_in_one_json_column(tmp_path: Path) -> None:
    eco = Ecosystem.model_validate(EVERY_FIELD)
    header = eco.model_dump(include=set(HEADER_FIELDS))

    def stream(records: tuple[Any, ...]) -> Iterator[Any]:
        yield from records

    sections = {s: stream(r) for s, r in eco.sections()}
    write_tables(tmp_path / "out", header, sections, "csv")
    lines = (tmp_path / "out" / "roles.csv").read_text().splitlines()
    assert lines == [
        "id,name,played_by,description,attributes",
        'integrator,Solution integrator,ana; ben,Puts it together,"{""critical"": false}"',
        "client,,acme,,",
    ]
    assert read_tabular(tmp_path / "out") == eco
    write_tables(tmp_path / "out.xlsx", header, {s: stream(r) for s, r in eco.sections()})
    assert read_tabular(tmp_path / "out.xlsx") == eco


def test_plain_mappings_can_be_written(tmp_path: Path) -> None:
    sections = {
        "participants": [{"id": "ana", "capabilities": {"sql": 2}}, {"id": "ben"}],
        "ties": [{"from": "ana", "to": "ben", "layer": "informal", "attributes": {"n": 3}}],
    }
    counts = write_tables(tmp_path / "t", {"ecosystem": "Plain"}, sections)
    assert counts["participants"] == 2 and counts["ties"] == 1
    eco = read_tabular(tmp_path / "t")
    assert eco.name == "Plain"
    assert eco.participants[0].capabilities == {"sql": 2}
    assert eco.ties[0].attributes == {"n": 3}


def test_a_workbook_keeps_formula_like_text_as_text(tmp_path: Path) -> None:
    eco = Ecosystem.model_validate(EVERY_FIELD)
    write_ecosystem_tables(eco, tmp_path / "eco.xlsx")
    book = load_workbook(tmp_path / "eco.xlsx", read_only=True)
    assert book.sheetnames == ["ecosystem", *SECTIONS]
    exchanges = list(book["exchanges"].iter_rows(values_only=True))
    description = exchanges[0].index("description")
    assert exchanges[1][description] == "=SUM(A1:A3)"
    book.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(eco=ecosystems(max_participants=5))
def test_any_valid_ecosystem_round_trips_through_csv(eco: Ecosystem, tmp_path: Path) -> None:
    target = tmp_path / "eco"
    write_ecosystem_tables(eco, target)
    assert read_tabular(target) == eco


# -- writing safely --------------------------------------------------------------------------


def test_a_failed_write_leaves_the_old_tables_untouched(tmp_path: Path) -> None:
    target = tmp_path / "tables"
    write_tables(target, {"ecosystem": "Old"}, {"participants": [{"id": "ana"}]})
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def failing() -> Iterator[dict[str, Any]]:
        yield {"id": "ben"}
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        write_tables(target, {"ecosystem": "New"}, {"participants": failing()})
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]
    with pytest.raises(RuntimeError):
        write_tables(tmp_path / "new.xlsx", {"ecosystem": "New"}, {"participants": failing()})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]


def test_a_value_the_format_cannot_hold_is_refused_before_writing(tmp_path: Path) -> None:
    eco = Ecosystem.model_validate(
        {
            "ecosystem": "X",
            "clusters": [{"id": "a;b", "kind": "business"}],
            "participants": [{"id": "ana", "clusters": ["a;b"]}],
        }
    )
    with pytest.raises(ValueError, match="';'"):
        write_ecosystem_tables(eco, tmp_path / "t")
    bell = Ecosystem.model_validate(
        {"ecosystem": "X", "participants": [{"id": "ana", "description": "ring\x07"}]}
    )
    with pytest.raises(ValueError, match="control characters"):
        write_ecosystem_tables(bell, tmp_path / "t.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_with_other_files_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("years of work")
    with pytest.raises(FileExistsError, match=r"thesis\.docx"):
        write_tables(tmp_path, {"ecosystem": "X"}, {})
    assert (tmp_path / "thesis.docx").read_text() == "years of work"


# -- the element/connection layout -------------------------------------------------------------

ELEMENTS = [
    ["Label", "Type", "Description", "Tags", "Sector"],
    ["Ana", "Person", "Data engineer", "data|cloud", None],
    ["Acme Farms", "Organisation", None, None, "agri"],
    ["Ben", None, None, None, None],
    ["Agritech", "Business cluster", None, None, None],
    ["Data", "Knowledge", None, None, None],
    ["Makers", "Cluster", None, None, None],
    ["Integrator", "Role", None, None, None],
    ["Client", "role", None, None, None],
]
CONNECTIONS = [
    ["From", "To", "Type", "Direction", "Strength", "Label", "Note"],
    ["Ana", "Acme Farms", "Reports to", "undirected", None, None, "since 2020"],
    ["Ana", "Ben", "Trust", None, 0.8, "old friends", None],
    ["Ana", "Data", "member", None, None, None, None],
    ["Agritech", "Acme Farms", None, None, None, None, None],
    ["Ana", "Agritech", None, None, None, None, None],
    ["Ana", "Integrator", None, None, None, None, None],
    ["Client", "Acme Farms", None, None, None, None, None],
    ["Integrator", "Client", "Tangible", None, None, "Working data platform", None],
    ["Client", "Ana", "intangible", "mutual", None, "Field know-how", "good"],
]


def test_a_mapping_tool_workbook(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "map.xlsx", {"Elements": ELEMENTS, "Connections": CONNECTIONS})
    source = open_tabular(path)
    assert isinstance(source, ElementConnectionSource)
    rows, problems = _drain(source)
    assert problems == []
    at = str(path)
    assert rows["clusters"] == [
        (
            Location(at, "Elements", 5),
            {"id": "Agritech", "kind": "business", "attributes": {"type": "Business cluster"}},
        ),
        (
            Location(at, "Elements", 6),
            {"id": "Data", "kind": "knowledge", "attributes": {"type": "Knowledge"}},
        ),
        (
            Location(at, "Elements", 7),
            {"id": "Makers", "kind": "business", "attributes": {"type": "Cluster"}},
        ),
    ]
    assert rows["participants"] == [
        (
            Location(at, "Elements", 2),
            {
                "id": "Ana",
                "kind": "person",
                "description": "Data engineer",
                "attributes": {"type": "Person", "tags": "data|cloud"},
                "clusters": ["Data", "Agritech"],
            },
        ),
        (
            Location(at, "Elements", 3),
            {
                "id": "Acme Farms",
                "kind": "organization",
                "attributes": {"type": "Organisation", "Sector": "agri"},
                "clusters": ["Agritech"],
            },
        ),
        (Location(at, "Elements", 4), {"id": "Ben", "kind": "person"}),
    ]
    assert rows["roles"] == [
        (
            Location(at, "Elements", 8),
            {"id": "Integrator", "attributes": {"type": "Role"}, "played_by": ["Ana"]},
        ),
        (
            Location(at, "Elements", 9),
            {"id": "Client", "attributes": {"type": "role"}, "played_by": ["Acme Farms"]},
        ),
    ]
    assert rows["ties"] == [
        (
            Location(at, "Connections", 2),
            {
                "from": "Ana",
                "to": "Acme Farms",
                "type": "reports-to",
                "layer": "formal",
                "directed": False,
                "attributes": {"Note": "since 2020"},
            },
        ),
        (
            Location(at, "Connections", 3),
            {
                "from": "Ana",
                "to": "Ben",
                "type": "trust",
                "layer": "informal",
                "directed": True,
                "weight": "0.8",
                "attributes": {"Label": "old friends"},
            },
        ),
    ]
    assert rows["exchanges"] == [
        (
            Location(at, "Connections", 9),
            {
                "from": "Integrator",
                "to": "Client",
                "kind": "tangible",
                "deliverable": "Working data platform",
            },
        ),
        (
            Location(at, "Connections", 10),
            {
                "from": "Client",
                "to": "Ana",
                "kind": "intangible",
                "deliverable": "Field know-how",
                "attributes": {"Direction": "mutual", "Note": "good"},
            },
        ),
    ]
    eco = read_tabular(path)
    assert eco.name == "map"
    assert eco.counts() == {
        "clusters": 3,
        "participants": 3,
        "roles": 2,
        "ties": 2,
        "exchanges": 2,
        "opportunities": 0,
    }
    assert eco.ties[1].weight == 0.8


def test_a_mapping_tool_folder_with_layer_kind_and_deliverable(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "elements.csv": "Label,Type\nAna,person\nBo,company\nSeller,role\nBuyer,role\n",
            "connections.csv": "From,To,Connection Type,Layer,Kind,Deliverable,Description,"
            "Weight,Value,Perceived Value,Impact_Financial\n"
            "Ana,Bo,advice,formal,,,,0.3,,,\n"
            "Seller,Buyer,goods,,tangible,Tractors,Two a year,,50000,4,1\n",
        },
        name="valley",
    )
    eco = read_tabular(folder)
    assert eco.name == "valley"
    (tie,) = eco.ties
    assert (tie.layer, tie.type, tie.weight, tie.directed) == ("formal", "advice", 0.3, True)
    (exchange,) = eco.exchanges
    assert exchange.model_dump(exclude_defaults=True, exclude_none=True, by_alias=True) == {
        "from": "Seller",
        "to": "Buyer",
        "deliverable": "Tractors",
        "kind": "tangible",
        "type": "goods",
        "value": Decimal("50000"),
        "perceived_value": 4,
        "impact": {"financial": 1},
        "description": "Two a year",
    }
    assert eco.participants[1].kind == "organization"


def test_mapping_tool_problems(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "map.xlsx",
        {
            "Elements": [
                ["Label", "Type"],
                ["Ana", None],
                ["Ana", "Organization"],
                [None, "Person"],
                ["North", "Regional"],
                ["South", "Regional"],
                ["Lead", "Role"],
                ["Helper", "Role"],
            ],
            "Connections": [
                ["From", "To", "Direction"],
                ["Ana", "Zed", None],
                ["North", "South", None],
                ["Ana", "Ana", "sideways"],
                ["Lead", "Helper", None],
            ],
        },
    )
    at = str(path)
    connection = (
        "a connection between two participants (a tie), a participant and a cluster "
        "(membership), a participant and a role (who plays it), or a tangible or "
        "intangible exchange between roles and participants"
    )
    problems = _problems(path)
    assert [(p.location, p.column, p.value, p.expected) for p in problems] == [
        (
            Location(at, "Elements", 3),
            "Label",
            "Ana",
            "a Label used by one element only (first at row 2)",
        ),
        (Location(at, "Elements", 4), "Label", NO_VALUE, "a Label: every element has one"),
        (
            Location(at, "Connections", 2),
            "To",
            "Zed",
            "the Label of an element in the elements table",
        ),
        (Location(at, "Connections", 3), None, "cluster North → cluster South", connection),
        (Location(at, "Connections", 4), "Direction", "sideways", "directed, undirected or mutual"),
        (Location(at, "Connections", 4), None, NO_VALUE, "a tie joins two different participants"),
        (Location(at, "Connections", 5), None, "role Lead → role Helper", connection),
    ]


def test_a_mapping_tool_table_without_label_column(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"elements.csv": "Name,Type\nAna,person\n"})
    assert _problems(folder) == [
        Problem(
            Location(str(folder), "elements.csv", 1),
            "Label",
            NO_VALUE,
            "a column 'Label' in the header row",
        )
    ]


# -- choosing a reader -----------------------------------------------------------------------


def test_open_tabular_chooses_the_reader(tmp_path: Path) -> None:
    native = _folder(tmp_path, {"participants.csv": "id\nana\n"}, name="native")
    only_header = _folder(tmp_path, {"ecosystem.csv": "ecosystem,Empty\n"}, name="empty")
    mapping = _folder(tmp_path, {"Elements.csv": "Label\nAna\n"}, name="mapping")
    book = _workbook(tmp_path / "book.xlsx", {"ties": [["from", "to", "layer"]]})
    tool = _workbook(tmp_path / "tool.xlsx", {"elements": [["Label"], ["Ana"]]})
    assert type(open_tabular(native)) is CsvFolderSource
    assert type(open_tabular(only_header)) is CsvFolderSource
    assert read_tabular(only_header).name == "Empty"
    assert type(open_tabular(mapping)) is ElementConnectionSource
    with open_tabular(book) as source:
        assert type(source) is WorkbookSource
    with open_tabular(tool) as source:
        assert type(source) is ElementConnectionSource


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.mkdir(), "a folder with one CSV file per section"),
        (lambda p: p.with_suffix(".txt").write_text("id\n"), "a folder of CSV files"),
        (lambda p: None, "an existing folder of CSV files or .xlsx workbook"),
        (lambda p: p.with_suffix(".xlsx").write_text("not a zip"), "a readable .xlsx workbook"),
        (
            lambda p: _workbook(p.with_suffix(".xlsx"), {"Sheet": [["a"]]}),
            "a workbook with one sheet per section",
        ),
        (
            lambda p: _folder(p.parent, {"ties.csv": "", "elements.csv": ""}, name=p.name),
            "either section files or elements.csv and connections.csv, not both",
        ),
    ],
)
def test_open_tabular_refuses_what_it_cannot_read(tmp_path: Path, make: Any, expected: str) -> None:
    base = tmp_path / "input"
    make(base)
    path = next(tmp_path.iterdir(), base)
    with pytest.raises(InvalidInput) as caught:
        open_tabular(path)
    (problem,) = caught.value.problems
    assert problem.location == Location(str(path))
    assert expected in problem.expected


def test_json_attributes_column_must_hold_an_object(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {"participants.csv": 'id,attributes,extra\nana,"{""a"": 1}",2\nben,[1],\n'},
    )
    problems = _problems(folder)
    assert [(p.location.row, p.column, p.value) for p in problems] == [(3, "attributes", "[1]")]
    source = CsvFolderSource(folder)
    assert next(iter(source.rows("participants")))[1] == {
        "id": "ana",
        "attributes": {"a": 1, "extra": 2},
    }


def test_old_mac_line_endings_are_one_problem(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"participants.csv": b"id,kind\rana,person\r"})
    assert _problems(folder) == [
        Problem(
            Location(str(folder), "participants.csv", 1),
            None,
            NO_VALUE,
            "lines ending with a line feed; save the file again as CSV UTF-8",
        )
    ]


def test_absurdly_long_numbers_are_problems_or_text_not_crashes(tmp_path: Path) -> None:
    digits = "9" * 5000
    folder = _folder(
        tmp_path, {"participants.csv": f"id,capabilities,serial\nana,sql:{digits},{digits}\n"}
    )
    (problem,) = _problems(folder)
    assert (problem.location.row, problem.column) == (2, "capabilities")
    (_, raw), *_ = CsvFolderSource(folder).rows("participants")
    assert raw["attributes"] == {"serial": digits}
