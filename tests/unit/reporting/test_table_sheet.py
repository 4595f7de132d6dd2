"""The table sheets are written without gptables' per-cell pandas work, but must be
the sheets gptables writes: each case here is written both ways and the workbooks'
bytes compared. gptables is the oracle, so a difference in a cell, a format, a
width, the order of the formats or the Excel table fails the test."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import pytest

from kvinnofrid.reporting.table_sheet import TableSheet, write_table_sheet

PERCENT = "[$-41D]0.0\\ %"
COUNT = "[$-41D]#,##0"

CASES: dict[str, TableSheet] = {
    "two label columns, codes among the numbers": TableSheet(
        name="tabell_D01",
        title="Hur ser könsfördelningen ut? [not 1]",
        lines=("Ärenden aktualiserade 2022-01-01–2023-10-10", "Endast avslutade ärenden."),
        instructions="Bladet innehåller en tabell.",
        source="Källa: SU-Kvinnofrid, SKR.",
        columns={
            "Område": ["Ale", "Ale", "Riket", "Riket"],
            "Kategori": ["Kvinna", "Man", "Kvinna", "Man"],
            "Antal": [120, "[f]", 139527, 9699],
            "Bas (N)": [124, 124, 149226, 149226],
            "Andel": [0.9677, "[d]", 0.935, 0.065],
        },
        formats={"Antal": COUNT, "Bas (N)": COUNT, "Andel": PERCENT},
        labels=2,
    ),
    "links in the label column, no source": TableSheet(
        name="tabell_innehall",
        title="Innehåll",
        lines=(),
        instructions="Bladet innehåller en tabell: varje blad i arbetsboken med en länk.",
        source=None,
        columns={
            "Blad": [{"Noter": "internal:'Noter'!A1"}, {"D01": "internal:'D01'!A1"}],
            "Innehåll": ["Noter och tecken", "HUR SER KÖNSFÖRDELNINGEN UT?\nandra raden"],
        },
        formats={},
        labels=1,
    ),
    "three label columns, a column of codes only, an empty line": TableSheet(
        name="tabell_D10",
        title="Medelvärde",
        lines=("", "rad två"),
        instructions="Bladet innehåller en tabell.",
        source="Källa",
        columns={
            "Område": ["A", "A"],
            "Grupp": ["18–24", "25–34"],
            "Kategori": ["Skydd", "Stöd"],
            "Antal": ["[x]", "[d]"],
            "Medelvärde": [1.25, 3.5],
        },
        formats={"Medelvärde": "[$-41D]0.00"},
        labels=3,
    ),
    "no label column, a number first": TableSheet(
        name="tabell_x",
        title="Utan radrubriker",
        lines=("rad",),
        instructions="Bladet innehåller en tabell.",
        source="Källa",
        columns={"År": [2021, 2022], "Antal": [5, 7], "Text": ["a", "b"], "M": [1234567, 2.5], "N": [0, 1]},
        formats={"Antal": COUNT},
        labels=0,
    ),
}


def _with_gptables(path: Path, table: TableSheet) -> None:
    import pandas as pd
    from gptables import GPTable
    from gptables.core.wrappers import GPWorkbook

    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in table.columns.items()})
    extra = [
        {"column": {"columns": [h], "format": {"num_format": f}, "include_names": False}}
        for h, f in table.formats.items()
    ]
    gptable = GPTable(
        table=frame,
        table_name=table.name,
        title=table.title,
        subtitles=list(table.lines),
        instructions=table.instructions,
        source=table.source,
        index_columns={level + 1: level for level in range(table.labels)},
        additional_formatting=extra,
    )
    wb = _workbook(GPWorkbook, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb.add_worksheet("Blad").write_gptable(gptable, True, [])
    wb.close()


def _ours(path: Path, table: TableSheet) -> None:
    from gptables.core.wrappers import GPWorkbook

    wb = _workbook(GPWorkbook, path)
    write_table_sheet(wb, wb.add_worksheet("Blad"), table)
    wb.close()


def _workbook(cls: Any, path: Path) -> Any:
    wb = cls(str(path))
    wb.set_properties({"created": dt.datetime(2023, 10, 10)})
    return wb


@pytest.mark.parametrize("case", list(CASES))
def test_a_table_sheet_is_the_sheet_gptables_writes(case, tmp_path):
    table = CASES[case]
    _with_gptables(tmp_path / "gptables.xlsx", table)
    _ours(tmp_path / "ours.xlsx", table)
    assert (tmp_path / "ours.xlsx").read_bytes() == (tmp_path / "gptables.xlsx").read_bytes()


@pytest.mark.parametrize(
    ("cell", "problem"),
    [(None, "blank cell"), ("  ", "blank cell"), (float("nan"), "blank cell"), ("–", "no letter or digit")],
)
def test_a_blank_cell_or_one_without_a_letter_or_digit_is_refused_by_table_and_column(cell, problem, tmp_path):
    from gptables.core.wrappers import GPWorkbook

    table = CASES["two label columns, codes among the numbers"]
    columns = {**table.columns, "Andel": [0.5, 0.5, cell, 0.5]}
    wb = _workbook(GPWorkbook, tmp_path / "x.xlsx")
    with pytest.raises(ValueError, match=rf"^table tabell_D01, row 3, column 'Andel': {problem}; give a code$"):
        write_table_sheet(wb, wb.add_worksheet("Blad"), TableSheet(**{**table.__dict__, "columns": columns}))
