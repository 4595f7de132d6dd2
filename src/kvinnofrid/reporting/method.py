"""Bilaga 3's numbers: the row accounting a reader can reconcile with the number of
cases, the quality rules under their Swedish names, and the families of comparisons.

Rows are counted per export. Every unit's **latest** export is what the compilation
uses (kvinnofrid.stages.compile), so the accounting leads with those exports: rows read
= rows used + excluded + quarantined, and the rows used are the cases of the report.
Exports that a later one replaced were read and checked too; they are counted apart
(they feed only the comparison between rounds), never added to the latest ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from kvinnofrid.spec.rules import RULES

__all__ = ["COUNT_COLUMNS", "OUTCOME_NAMES", "method_context", "row_accounting"]

COUNT_COLUMNS = ("rows_read", "rows_used", "rows_excluded", "rows_quarantined")
OUTCOME_NAMES = {
    "quarantine": "Sätts i karantän",
    "exclude": "Räknas bort",
    "field": "Fältet saknas",
    "warning": "Anmärkning",
    "info": "Upplysning",
}


def _latest(summary: pl.DataFrame) -> pl.DataFrame:
    """Each unit's rows of its latest round (the export the compilation uses)."""
    rounds = summary.with_columns(pl.col("round").cast(pl.String))
    last = rounds.group_by("unit").agg(pl.col("round").max().alias("_last"))
    return rounds.join(last, on="unit").filter(pl.col("round") == pl.col("_last")).drop("_last").sort("unit")


def row_accounting(summary: pl.DataFrame | None) -> dict[str, Any]:
    """Totals of the latest exports (``latest``) and of the replaced ones (``replaced``),
    the latest exports per unit (``units``) and the number of each."""
    empty = dict.fromkeys(COUNT_COLUMNS, 0)
    if summary is None or summary.height == 0:
        return {"latest": empty, "replaced": empty, "units": [], "n_latest": 0, "n_replaced": 0}
    rounds = summary.with_columns(pl.col("round").cast(pl.String))
    latest = _latest(summary)
    replaced = rounds.join(latest.select("round", "unit"), on=["round", "unit"], how="anti")

    def totals(frame: pl.DataFrame) -> dict[str, int]:
        return {c: int(frame[c].fill_null(0).sum()) for c in COUNT_COLUMNS}

    units = [
        {"unit": r["unit"], "round": str(r["round"]), **{c: int(r[c] or 0) for c in COUNT_COLUMNS}}
        for r in latest.iter_rows(named=True)
    ]
    return {
        "latest": totals(latest),
        "replaced": totals(replaced),
        "units": units,
        "n_latest": latest.height,
        "n_replaced": replaced.height,
    }


def _rules(summary: pl.DataFrame | None) -> tuple[list[dict[str, Any]], list[str]]:
    """Per quality rule with any count: its Swedish name, what it does, counts per round."""
    if summary is None or summary.height == 0:
        return [], []
    rounds = sorted({str(r) for r in summary["round"].to_list()})
    per_round = (
        summary.with_columns(pl.col("round").cast(pl.String))
        .group_by("round")
        .agg(pl.col(name).fill_null(0).sum() for name in RULES if name in summary.columns)
    )
    rows = []
    for name, rule in RULES.items():
        if name not in summary.columns:
            continue
        counts = {r: int(v) for r, v in per_round.select("round", name).iter_rows()}
        if sum(counts.values()):
            rows.append(
                {
                    "title": rule.title,
                    "outcome": OUTCOME_NAMES[rule.outcome],
                    "per_round": [counts.get(r, 0) for r in rounds],
                    "total": sum(counts.values()),
                }
            )
    return rows, rounds  # ISO dates: these head table columns


def method_context(summary: pl.DataFrame | None, facts: Mapping[str, Any], writer: Any) -> dict[str, Any]:
    """What Bilaga 3 shows: the accounting (``accounting``, with ``reconciled`` true when
    the latest exports' rows used equal the report's cases), the rules (``rules``,
    ``rounds``) and the families of comparisons (``families``)."""
    accounting = row_accounting(summary)
    rules, rounds = _rules(summary)
    cases = facts.get("cases_total")
    return {
        "accounting": accounting,
        "reconciled": cases is not None and accounting["latest"]["rows_used"] == cases,
        "rules": rules,
        "rounds": rounds,
        "families": writer.families(),
        "has_quality": summary is not None and summary.height > 0,
    }
