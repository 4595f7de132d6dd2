"""Shared inputs for the report tests (test_text.py, test_report_build.py).

``report_inputs()`` runs the national chain in process on the demo population:
simulate (final round) → derive → tables → stats → facts, plus a quality summary,
the participants list (report/deltagare-2021-2023.csv), the units that sent data
and a provenance dict. It is cached: both test modules share one run.
``write_figures(inputs, folder)`` draws all diagrams (PNG only, for speed).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import polars as pl

from kvinnofrid.demo import simulate
from kvinnofrid.reporting import figures
from kvinnofrid.spec import diagrams
from kvinnofrid.stages import derive, quality
from kvinnofrid.statistics import facts, participants, stats, tables

ROOT = Path(__file__).resolve().parents[1]
REPORT_SRC = ROOT / "report"
PARTICIPANTS_CSV = REPORT_SRC / "deltagare-2021-2023.csv"


def _quality_summary(cases: pl.DataFrame, rnd: dt.date, units: pl.DataFrame) -> pl.DataFrame:
    schema = quality.summary_schema()
    per_unit = cases.group_by("unit").agg(pl.len().alias("rows_used")).sort("unit")
    rows = []
    for i, (unit, used) in enumerate(per_unit.iter_rows()):
        excluded, quarantined = i % 3, i % 2
        row = dict.fromkeys(schema.names(), 0)
        row.update(
            round=rnd,
            unit=unit,
            rows_used=used,
            rows_excluded=excluded,
            rows_quarantined=quarantined,
            rows_read=used + excluded + quarantined,
        )
        for name in ("opened_outside_period", "case_key_missing", "unknown_value"):
            if name in row:
                row[name] = {
                    "opened_outside_period": excluded,
                    "case_key_missing": quarantined,
                    "unknown_value": i % 4,
                }[name]
        rows.append(row)
    return pl.DataFrame(rows, schema=schema)


@cache
def report_inputs() -> SimpleNamespace:
    settings = simulate.SimulationSettings()
    final = simulate.simulate_rounds(settings)[-1]
    key = pl.concat_str([pl.col("unit"), pl.col("client"), pl.col("opened").cast(pl.String)], separator="|")
    cases = final.cases.with_columns(key.alias("case_id"), pl.lit(final.round).alias("round"))
    risk = final.risk.with_columns(key.alias("case_id"))
    derived = derive.derive_cases(cases, risk)
    change = derive.risk_change(risk)
    national = tables.build_all_tables(derived, risk)
    comparisons = stats.build_stats(derived, change)
    matched = participants.match_participants(pl.read_csv(PARTICIPANTS_CSV), final.units)
    fact_values = facts.build_facts(national, comparisons, derived, participants=matched)
    provenance = {
        "generated": "2026-01-15",
        "code_version": "0.1.0 (test)",
        "code": {"version": "0.1.0", "commit": "test", "modified": False},
        "config_sha256": "0" * 64,
        "inputs": [
            {"file": f"{final.round.isoformat()}/{u}.xlsx", "sha256": f"{i:064x}"}
            for i, u in enumerate(final.units["unit"].to_list())
        ],
        "rounds": [final.round.isoformat()],
        "period": [settings.period_start.isoformat(), settings.period_end.isoformat()],
        "cutoff": settings.period_end.isoformat(),
        "demo": True,
        "population_source": "demo",
    }
    return SimpleNamespace(
        derived=derived,
        tables=national,
        stats=comparisons,
        facts=fact_values,
        registry=diagrams.load_registry(),
        quality_summary=_quality_summary(cases, final.round, final.units),
        participants=matched,
        units=final.units,
        provenance=provenance,
    )


def write_figures(inputs: SimpleNamespace, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for d in inputs.registry.diagrams:
        figures.save_figure(figures.draw_diagram(d, inputs.tables[d.number]), folder / f"{d.slug}.png")
    return folder


def book_kwargs(inputs: SimpleNamespace, **overrides) -> dict:
    """Keyword arguments of text.build_book (figures/tables folders default to None)."""
    kwargs = dict(
        facts=inputs.facts,
        tables=inputs.tables,
        stats=inputs.stats,
        registry=inputs.registry,
        figures_dir=None,
        tables_dir=None,
        quality_summary=inputs.quality_summary,
        participants=inputs.participants,
        provenance=inputs.provenance,
        report_src=REPORT_SRC,
    )
    kwargs.update(overrides)
    return kwargs
