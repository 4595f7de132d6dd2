"""A small valid export and helpers to break it the way municipal staff do.

``BASE_HEADER`` and ``base_rows()`` are one unit's export of three cases (all valid,
opened in the period, one closed). Tests copy it, change one cell or one byte, write
it as xlsx or csv into ``tmp_path/<round>/`` and run ingest + clean on it
(:func:`run`), then assert the exact rule, row, column and accounting.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from kvinnofrid.stages.clean import CleanResult, clean_file
from kvinnofrid.stages.ingest import ingest_file

KEY = b"adversarial-nyckel"
ROUND = dt.date(2023, 10, 10)
ROUND_DIR = ROUND.isoformat()
PERIOD = (dt.date(2022, 1, 1), dt.date(2023, 12, 31))

H_SERVICE = "Verksamhet (1)"
H_MUNICIPALITY = "Kommun/stadsdel (2)"
H_HANDLER = "Handläggare (3)"
H_CLIENT = "Klient (4)"
H_OPENED = "Datum för aktualisering (5)"
H_SEX = "Kön (14)"
H_AGE = "Ålder/uppskattad ålder (15)"
H_INTERVENTIONS = "Stöd och insatser från socialtjänsten (118)"
H_INTERVENTIONS_COMMENT = "Stöd och insatser från socialtjänsten (118) – Kommentar"
H_RISK = ("Skattning risk 1 datum", "Skattning risk 1 instrument", "Skattning risk 1 skattning")
H_CLOSED = "Datum för när ärendet avslutats (256)"
H_SURVEY = "Förändring våldsutsatthet (202)"

BASE_HEADER = [
    H_SERVICE,
    H_MUNICIPALITY,
    H_HANDLER,
    H_CLIENT,
    H_OPENED,
    H_SEX,
    H_AGE,
    H_INTERVENTIONS,
    H_INTERVENTIONS_COMMENT,
    *H_RISK,
    H_CLOSED,
    H_SURVEY,
]

CLIENTS = ("Anna Andersson", "Berit Berg", "Cecilia Ceder")
HANDLER = "Handläggare Hemlig"
COMMENT = "Hemlig kommentar om klienten"


def base_rows() -> list[list[Any]]:
    """Three valid cases as text cells, in BASE_HEADER order."""
    return [
        [
            "1",
            "Sigtuna",
            HANDLER,
            CLIENTS[0],
            "2022-03-05",
            "1",
            "34",
            "1;4",
            COMMENT,
            "2022-03-06",
            "2",
            "7",
            "2022-09-30",
            "1",
        ],
        ["1", "Sigtuna", HANDLER, CLIENTS[1], "2022-04-01", "1", "51", "3", None, None, None, None, None, None],
        ["1", "Sigtuna", None, CLIENTS[2], "2023-01-15", "2", "45", None, None, None, None, None, None, None],
    ]


def col(name: str) -> int:
    return BASE_HEADER.index(name)


def with_cell(row: int, header: str, value: Any, rows: list[list[Any]] | None = None) -> list[list[Any]]:
    """``base_rows()`` (or ``rows``) with one cell replaced (``row`` 0-based data row)."""
    rows = [list(r) for r in (rows if rows is not None else base_rows())]
    rows[row][col(header)] = value
    return rows


def round_path(tmp_path: Path, name: str) -> Path:
    path = tmp_path / ROUND_DIR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def run(path: Path, *, round_date: dt.date = ROUND, period=PERIOD) -> tuple[pl.DataFrame, dict, CleanResult]:
    raw, meta = ingest_file(path, round_date, KEY)
    return raw, meta, clean_file(raw, meta, period, round_date)


def issues(result: CleanResult, *rules: str) -> list[tuple]:
    """(rule, row, column, value) of the result's issues (only ``rules`` when given)."""
    frame = result.issues
    if rules:
        frame = frame.filter(pl.col("rule").is_in(list(rules)))
    return frame.select("rule", "row", "column", "value").rows()


def accounting(result: CleanResult) -> tuple[int, int, int, int]:
    c = result.counts
    return c["rows_read"], c["rows_used"], c["rows_excluded"], c["rows_quarantined"]


def output_text(meta: dict, result: CleanResult) -> str:
    """Everything ingest+clean hand on (the raw frame aside): frames, issues, metadata."""
    parts = [json.dumps(meta, ensure_ascii=False, default=str)]
    for frame in (result.used, result.excluded, result.risk, result.issues):
        parts.append(repr(frame.rows()))
    parts.append(json.dumps(result.counts))
    return "\n".join(parts)


def used_column(result: CleanResult, name: str) -> list[Any]:
    return result.used.sort("row")[name].to_list()


def rows_of(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[list[str], list[list[Any]]]:
    return list(header), [list(r) for r in rows]
