"""Shared inputs for the report tests (test_text.py, test_report_build.py).

``report_inputs()`` runs the national chain in process on the demo population:
simulate (final round) → derive → tables → stats → facts, plus a quality summary,
the participants list (report/deltagare-2021-2023.csv), the units that sent data
and a provenance dict. It is cached: both test modules share one run.
``variant_inputs(name)`` runs the same chain on the demo cases changed so that the
answers differ from the demo's (``VARIANTS``: men the majority and the oldest group the
largest; few interventions, most born outside Europe, worsened situations; every
variable shuffled on its own so that nothing differs between groups; two units only,
so that every base is small).
``write_figures(inputs, folder)`` draws all diagrams (PNG only, for speed).
"""

from __future__ import annotations

import copy
import datetime as dt
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import yaml

import kvinnofrid
from kvinnofrid.demo import simulate
from kvinnofrid.disclosure import area_tables, size_results
from kvinnofrid.reporting import figures
from kvinnofrid.spec import diagrams, municipalities
from kvinnofrid.spec.names import slug as slugify
from kvinnofrid.stages import derive, quality
from kvinnofrid.statistics import facts, participants, stats, tables
from support.paths import ROOT

REPORT_SRC = ROOT / "report"
PARTICIPANTS_CSV = REPORT_SRC / "deltagare-2021-2023.csv"
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
SIZE_CLASSES = CONFIG["size_classes"]


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
def _final_round() -> simulate.RoundSnapshot:
    return simulate.simulate_rounds(simulate.SimulationSettings())[-1]


def _swap(column: str, a: int, b: int) -> pl.Expr:
    return pl.when(pl.col(column) == a).then(b).when(pl.col(column) == b).then(a).otherwise(pl.col(column))


def _men_and_old(cases: pl.DataFrame) -> pl.DataFrame:
    """Men the majority, ages mirrored (the oldest group the largest), HRV flipped to most cases."""
    return cases.with_columns(
        _swap("sex", 1, 2).cast(pl.Int8).alias("sex"),
        pl.when(pl.col("age") >= 18).then(110 - pl.col("age")).otherwise(pl.col("age")).cast(pl.Int16).alias("age"),
        _swap("honour_violence", 1, 2).cast(pl.Int8).alias("honour_violence"),
    )


def _few_interventions(cases: pl.DataFrame) -> pl.DataFrame:
    """Interventions in about one case of seven; most clients born outside Europe; the
    survey's answers turned round (worsened much the most common)."""
    keep = (pl.int_range(pl.len()) % 7) == 0
    return cases.with_columns(
        pl.when(keep).then(pl.col("interventions")).otherwise(None).alias("interventions"),
        pl.when(keep).then(pl.col("implementation")).otherwise(None).alias("implementation"),
        _swap("origin", 1, 4).cast(pl.Int8).alias("origin"),
        (6 - pl.col("survey_change")).clip(1, 5).cast(pl.Int8).alias("survey_change"),
    )


SHUFFLED = [
    "sex",
    "age",
    "impairment",
    "origin",
    "initiative",
    "perpetrator",
    "honour_violence",
    "violence_severity",
    "interventions",
    "decision_type",
    "collaboration",
    "implementation",
    "goal_followup",
    "closing_reason",
    "survey_change",
    "survey_importance",
    "survey_influence",
]


def _shuffled(cases: pl.DataFrame) -> pl.DataFrame:
    """Every variable shuffled on its own: no variable says anything about another."""
    return cases.with_columns(pl.col(c).shuffle(seed=100 + i) for i, c in enumerate(SHUFFLED))


def _two_units(cases: pl.DataFrame) -> pl.DataFrame:
    """Only the two smallest units: every base is small."""
    units = cases.group_by("unit").len().sort(["len", "unit"]).head(2)["unit"]
    return cases.filter(pl.col("unit").is_in(units.to_list()))


VARIANTS = {
    "men-and-old": _men_and_old,
    "few-interventions": _few_interventions,
    "shuffled": _shuffled,
    "two-units": _two_units,
}


@cache
def report_inputs() -> SimpleNamespace:
    return _inputs(lambda cases: cases)


@cache
def variant_inputs(name: str) -> SimpleNamespace:
    return _inputs(VARIANTS[name])


def _inputs(change) -> SimpleNamespace:
    settings = simulate.SimulationSettings()
    final = _final_round()
    key = pl.concat_str([pl.col("unit"), pl.col("client"), pl.col("opened").cast(pl.String)], separator="|")
    cases = change(final.cases).with_columns(key.alias("case_id"), pl.lit(final.round).alias("round"))
    risk = final.risk.with_columns(key.alias("case_id")).join(cases.select("case_id"), on="case_id", how="semi")
    units = final.units.filter(pl.col("unit").is_in(cases["unit"].unique().to_list()))
    derived = derive.derive_cases(cases, risk)
    national = tables.build_all_tables(derived, risk)
    comparisons = stats.build_stats(derived, derive.risk_change(risk))
    matched = participants.match_participants(pl.read_csv(PARTICIPANTS_CSV), units)
    fact_values = facts.build_facts(
        national, comparisons, derived, participants=(matched, units.select("unit", "kommun"))
    )
    provenance = {
        "generated": "2026-01-15",
        "code_version": f"{kvinnofrid.__version__} (test)",
        "code": {"version": kvinnofrid.__version__, "commit": "test", "modified": False},
        "config_sha256": "0" * 64,
        "inputs": [
            {"file": f"{final.round.isoformat()}/{u}.xlsx", "sha256": f"{i:064x}"}
            for i, u in enumerate(units["unit"].to_list())
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
        quality_summary=_quality_summary(cases, final.round, units),
        participants=matched,
        units=units,
        provenance=provenance,
    )


_PROTECTED: dict[tuple, tuple] = {}


def protected_groups(inputs, groups: dict[str, str] | None = None, with_classes: bool = True):
    """The protected tables of the country and every published class (or group), as
    rule unit_tables writes them (area_tables.protect; the country alone with fewer than
    three units), and the areas as areas.json holds them: the input of the national
    report's results by municipality size.

    Protecting takes seconds, and many tests read the same data set's protection: it is
    computed once per inputs object (the cached ``report_inputs``/``variant_inputs``),
    groups and classes. The frames are immutable; the areas are a fresh copy each call."""
    key = (id(inputs), tuple(sorted(groups.items())) if groups else None, with_classes)
    if key not in _PROTECTED or _PROTECTED[key][0] is not inputs:
        _PROTECTED[key] = (inputs, _protect_groups(inputs, groups, with_classes))
    published, info = _PROTECTED[key][1]
    return published, copy.deepcopy(info)


def _protect_groups(inputs, groups: dict[str, str] | None, with_classes: bool):
    placed = municipalities.unit_municipalities(
        inputs.units.select("unit", "municipality").unique(), municipalities.load_register(None), CONFIG["districts"]
    )
    classes = municipalities.size_classes(placed, SIZE_CLASSES) if with_classes else {}
    meta = placed.select("unit", "lan").with_columns(
        pl.col("unit").map_elements(slugify, return_dtype=pl.String).alias("unit_slug")
    )
    areas = area_tables.areas_of(meta, classes, [c["label"] for c in SIZE_CLASSES], groups)
    if sum(a.kind == "enhet" for a in areas) < area_tables.MIN_UNITS:  # as rule unit_tables: the country alone
        areas = [a for a in areas if a.kind == "riket"]
    registry = diagrams.load_registry()
    measure_tables = [registry.by_id(m.diagram).number for m in registry.size_measures]
    tables = area_tables.area_tables(inputs.derived, areas, measure_tables)
    published = area_tables.protect({"final": tables}, areas, 5)["final"]
    info = [{"kind": a.kind, "name": a.name, "units": list(a.units)} for a in areas]
    return area_tables.group_tables(published), info


def with_size_comparisons(inputs: SimpleNamespace, published: pl.DataFrame) -> SimpleNamespace:
    """The inputs with the size section's comparison rows added to ``stats`` (what the
    book's writer reads), so that the claim checks find every claim's row."""
    registry = diagrams.load_registry()
    rows = size_results.comparison_rows(
        size_results.measure_rows(published, registry), registry.labels["comparison_groups"]["rest"]
    )
    return SimpleNamespace(**{**vars(inputs), "stats": pl.concat([inputs.stats, rows], how="vertical_relaxed")})


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
