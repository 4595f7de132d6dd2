"""The national workbook written from the frozen back-test tables, and reading the one
Excel table of a sheet back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from kvinnofrid.reporting import workbook as wbm
from kvinnofrid.spec.diagrams import load_registry
from kvinnofrid.statistics.tables import TABLE_SCHEMA
from support.paths import EXPECTED

FROZEN_TABLES = EXPECTED / "tables"
PERIOD = ("2022-01-01", "2023-10-10")
CUTOFF = dt.date(2023, 10, 10)


def expected_tables() -> dict[int, pl.DataFrame]:
    return {
        n: pl.read_csv(FROZEN_TABLES / f"diagram_{n:02d}.csv", schema=TABLE_SCHEMA) for n in load_registry().numbers
    }


def frozen_national_workbook(path: Path) -> Path:
    wbm.national_workbook(expected_tables(), path, period=PERIOD, cutoff=CUTOFF, demo=True)
    return path


def sheet_table(ws) -> tuple[list[str], list[list]]:
    """The header and the rows of the one Excel table on a sheet, as cells."""
    (table,) = ws.tables.values()
    rows = list(ws[table.ref])
    return [c.value for c in rows[0]], [list(r) for r in rows[1:]]
