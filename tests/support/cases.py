"""Compiled case and risk tables built by hand (``make_cases``, ``make_risk``) or at
random with a seed (``synthetic``): the inputs of the derive, tables, stats, facts,
trend and Kolada unit tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from kvinnofrid.spec import codebook

D = dt.date
CB = codebook.load()

RISK_SCHEMA = {"unit": pl.String, "case_id": pl.String, **codebook.risk_schema()}


def make_cases(rows: list[dict]) -> pl.DataFrame:
    """A compiled case table: every case_schema column, null unless given."""
    schema = {"unit": pl.String, "round": pl.Date, "case_id": pl.String, **codebook.case_schema()}
    full = []
    for i, row in enumerate(rows):
        base = dict.fromkeys(schema)
        base.update(unit="u1", round=D(2023, 10, 10), case_id=f"c{i + 1}", opened=D(2022, 3, 1))
        base.update(row)
        full.append(base)
    return pl.DataFrame(full, schema=schema)


def make_risk(rows: list[tuple]) -> pl.DataFrame:
    """(case_id, position, date, instrument, rating) → the risk table of unit u1."""
    return pl.DataFrame(
        [
            {"unit": "u1", "case_id": c, "position": p, "date": d, "instrument": i, "rating": r}
            for c, p, d, i, r in rows
        ],
        schema=RISK_SCHEMA,
    )


NO_RISK = make_risk([])


def synthetic(seed: int = 7, n: int = 300) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A random but seeded compiled case table and risk table."""
    rng = np.random.default_rng(seed)
    start = D(2022, 1, 1)
    rows, risk = [], []
    for i in range(n):
        opened = start + dt.timedelta(days=int(rng.integers(0, 640)))
        row = {"unit": f"u{int(rng.integers(0, 6))}", "opened": opened}
        for name in codebook.case_schema():
            v = CB[name]
            if v.kind == "single" and rng.random() > 0.1:
                row[name] = int(rng.choice(v.codes))
            elif v.kind == "multi" and rng.random() > 0.2:
                row[name] = sorted({int(c) for c in rng.choice(v.codes, int(rng.integers(1, 4)))})
            elif v.kind == "integer" and rng.random() > 0.05:
                row[name] = int(rng.integers(18, 95))
        if rng.random() < 0.7:
            row["closed"] = opened + dt.timedelta(days=int(rng.integers(-2, 900)))
        rows.append(row)
        for k in range(int(rng.integers(0, 4))):
            risk.append(
                (
                    f"c{i + 1}",
                    k + 1,
                    opened + dt.timedelta(days=int(rng.integers(0, 99))),
                    int(rng.integers(1, 7)),
                    int(rng.integers(1, 11)),
                )
            )
    cases = make_cases(rows)
    risk_frame = make_risk(risk).with_columns(unit=pl.col("case_id").replace_strict(cases["case_id"], cases["unit"]))
    return cases, risk_frame
