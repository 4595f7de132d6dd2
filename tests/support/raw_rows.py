"""Raw rows as ingest hands them to clean (text values), and their metadata: the
inputs of the clean, compile, quality and trend unit tests."""

from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl

from kvinnofrid.spec import codebook
from kvinnofrid.stages.clean import clean_file

PERIOD = (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
ROUND = dt.date(2022, 10, 1)


def key(name: str) -> str:
    """A realistic pseudonymous key (64 hex digits) for a test identifier."""
    return hashlib.sha256(f"test-key:{name}".encode()).hexdigest()


def raw_schema(risk_positions: int = 2) -> pl.Schema:
    cb = codebook.load()
    cols: dict[str, pl.DataType] = {"row": pl.Int32(), "client_key": pl.String(), "handler_key": pl.String()}
    for v in cb.national:
        cols[v.name] = pl.List(pl.String()) if v.kind == "multi" else pl.String()
    for k in range(1, risk_positions + 1):
        for f in ("date", "instrument", "rating"):
            cols[f"risk_{k}_{f}"] = pl.String()
    cols["comments"] = pl.Int16()
    cols["has_suggestion"] = pl.Boolean()
    cols["extra_fields"] = pl.Boolean()
    cols["unit_text"] = pl.String()
    return pl.Schema(cols)


DEFAULT_ROW = {
    "client_key": "klient-1",  # replaced by key(...)
    "handler_key": "handl-1",
    "service_type": "Myndighet",
    "municipality": "Sigtuna",
    "opened": "2022-03-05",
    "sex": "Kvinna",
    "age": "34",
    "comments": 0,
    "has_suggestion": False,
}


def raw_frame(*rows: dict, first_row: int = 2, defaults: bool = True) -> pl.DataFrame:
    """Rows as dicts (missing columns null; `client_key`/`handler_key` given as clear
    names are turned into 64-hex keys). `row` numbers from `first_row` unless given."""
    schema = raw_schema()
    records = []
    for i, r in enumerate(rows):
        rec = dict.fromkeys(schema.names())
        if defaults:
            rec.update(DEFAULT_ROW)
        rec.update(r)
        rec.setdefault("row", None)
        if rec["row"] is None:
            rec["row"] = first_row + i
        for k in ("client_key", "handler_key"):
            if rec[k] is not None:
                rec[k] = key(rec[k])
        if rec["comments"] is None:
            rec["comments"] = 0
        if rec["has_suggestion"] is None:
            rec["has_suggestion"] = False
        if rec["extra_fields"] is None:
            rec["extra_fields"] = False
        records.append(rec)
    return pl.DataFrame(records, schema=schema)


def meta_for(raw: pl.DataFrame, *, file: str = "2022-10-01/sigtuna.csv", round: dt.date = ROUND, **extra) -> dict:
    meta = {
        "file": file,
        "round": round.isoformat(),
        "format": "csv",
        "sheet": None,
        "header_row": 1,
        "encoding": "utf-8",
        "delimiter": ";",
        "rows_read": raw.height,
        "municipality": "Sigtuna",
        "service_type": 1,
        "columns": {
            "Klient (4)": "client",
            "Handläggare (3)": "handler",
            "Datum för aktualisering (5)": "opened",
            "Kön (14)": "sex",
            "Ålder/uppskattad ålder (15)": "age",
            "Datum för när ärendet avslutats (256)": "closed",
        },
        "local_variables": [],
        "issues": [],
    }
    meta.update(extra)
    return meta


def cleaned_file(file: str, rnd: dt.date, *rows: dict, municipality: str = "Sigtuna", service_type=1):
    rows = rows or ({},)
    raw = raw_frame(*({"municipality": municipality, **r} for r in rows))
    meta = meta_for(raw, file=file, round=rnd, municipality=municipality, service_type=service_type)
    return meta, clean_file(raw, meta, PERIOD, rnd)
